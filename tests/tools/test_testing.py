"""The tests run as conda-build runs them: test/commands as one bash script under
`set -ex` after the recipe's own run_test.sh, run_test.py (with test/imports) first;
and a command that cannot fail under `set -e` is refused, by name, before building."""

import json
import shutil
import subprocess

import pytest

from tools.offline_build import BuildError
from tools.offline_build.__main__ import main
from tools.offline_build.render import load_variant, render_recipe
from tools.offline_build.testing import COMMANDS_HEADER, negated_pipelines, scripts_for

pytestmark = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("patchelf")),
    reason="needs gcc and patchelf (apt-get install -y gcc patchelf)",
)


def with_commands(recipe, commands):
    """The tiny recipe with its test/commands replaced (test: is its last section)."""
    meta = recipe / "meta.yaml"
    head = meta.read_text().split("  commands:\n")[0]
    meta.write_text(head + "  commands:\n" + "".join(f"    - {json.dumps(c)}\n" for c in commands))
    return recipe


def run_build(recipe):
    config = recipe.parents[1] / "conda_build_config.yaml"
    return main(["build", str(recipe), "-m", str(config), "--root", str(recipe.parents[1] / "b")])


def built_anything(recipe):
    return (recipe.parent / "build-runs.log").exists()


def test_the_commands_share_one_shell(recipe, capsys):
    """A cd and a variable carry over to the next line, as in conda-build's run_test.sh."""
    with_commands(recipe, ["cd test", "test -f expected.txt", "MARK=earlier",
                           'test "$MARK" = earlier', "cd .. && hello > out.txt",
                           "diff out.txt test/expected.txt"])  # fmt: skip
    assert run_build(recipe) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "$ /bin/bash -e run_test.sh\n" in out
    assert "+ cd test\n+ test -f expected.txt\n+ MARK=earlier\n" in out  # -x traces
    assert "test: 6 commands passed (one run_test.sh under set -ex)" in out


def test_a_failing_middle_line_fails_the_test_and_stops_it(recipe, tmp_path, capsys):
    after = tmp_path / "after-the-failure"
    with_commands(recipe, ["hello > out.txt", 'grep -q "no such greeting" out.txt',
                           f"touch {after}"])  # fmt: skip
    assert run_build(recipe) == 1
    err = capsys.readouterr().err
    assert 'error: test command failed (exit 1): grep -q "no such greeting" out.txt\n' in err
    assert not after.exists()  # set -e: the script stopped at the failure


def test_a_failing_line_inside_a_multiline_command_names_that_command(recipe, capsys):
    with_commands(recipe, ["true", "hello > out.txt\ngrep -q nothing out.txt\ntrue", "true"])
    assert run_build(recipe) == 1
    assert "test command failed (exit 1): hello > out.txt\ngrep -q nothing" in (
        capsys.readouterr().err
    )


def test_an_explicit_exit_names_its_command(recipe, capsys):
    with_commands(recipe, ["hello > out.txt", "if grep -q greet out.txt; then exit 3; fi", "true"])
    assert run_build(recipe) == 1
    assert "error: test command failed (exit 3): if grep -q greet out.txt; then exit 3; fi\n" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "line",
    [
        "! grep -q -E 'libx264|libx265' encoders.txt",
        "! (ldd ${PREFIX}/bin/hello | grep -E -i 'x264|x265')",
        "hello > out.txt && ! grep -q greet out.txt",
        "true; ! grep -q greet out.txt",
        "if true; then ! grep -q greet out.txt; fi",
        "echo a multi-line command\n  ! grep -q greet out.txt",
    ],
)
def test_a_line_that_cannot_fail_is_refused_by_name_before_building(recipe, line, capsys):
    with_commands(recipe, ["hello > out.txt", line])
    assert run_build(recipe) == 1
    err = capsys.readouterr().err
    assert f"error: hello: test command cannot fail: {line.strip()}\n" in err
    assert "conda-build runs test/commands as one script under `set -ex`" in err
    assert "if CMD; then exit 1; fi" in err or f"`if {line[1:].strip()}; then exit 1; fi`" in err
    assert not built_anything(recipe)


# Each: a line, and what f holds. CANNOT_FAIL lines negate a command that succeeds on
# that f, so the line returns non-zero, yet bash -e goes on. CAN_FAIL lines return
# non-zero on that f, and bash -e stops.
CANNOT_FAIL = [
    ("! grep -q x f", "x"),
    ("! (grep -q x f)", "x"),
    ("!(grep -q x f)", "x"),
    ("true && ! grep -q x f", "x"),
    ("false || ! grep -q x f", "x"),
    ("true; ! grep -q x f", "x"),
    ("true & ! grep -q x f", "x"),
    ("{ ! grep -q x f; }", "x"),
    ("if true; then ! grep -q x f; fi", "x"),
    ("if false; then :; else ! grep -q x f; fi", "x"),
    ("echo first\n! grep -q x f", "x"),
    ("echo '! quoted' ; ! grep -q x f  # a comment", "x"),
]
CAN_FAIL = [
    ("if grep -q x f; then exit 1; fi", "x"),
    ("grep -q x f && exit 1 || true", "x"),
    ("if ! grep -q x f; then exit 1; fi", "y"),
    ("while ! grep -q x f; do exit 3; done", "y"),
    ("( ! grep -q x f )", "x"),
    ("test ! -e f", "x"),
    ("[ ! -e f ]", "x"),
    ("[[ ! -e f ]]", "x"),
    ('test "$(cat f)" != x', "x"),
    ("echo '! not a command' | grep -q x", "x"),
    ('echo "a; ! b" | grep -q x', "x"),
    ("echo ${!BASH_VERSI*} | grep -q x", "x"),
    ("echo '#' ! ; false", "x"),
    ("echo then ! x | grep -q y", "x"),
    ("echo { ! x | grep -q y", "x"),
]


def bash_goes_on(line, content, tmp_path):
    (tmp_path / "f").write_text(content + "\n")
    proc = subprocess.run(["bash", "-e", "-c", line + "\necho went-on"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)  # fmt: skip
    return proc.returncode == 0 and proc.stdout.endswith("went-on\n")


@pytest.mark.parametrize(("line", "content"), CANNOT_FAIL)
def test_refused_lines_really_cannot_fail_under_bash_e(line, content, tmp_path):
    assert negated_pipelines(line)
    assert bash_goes_on(line, content, tmp_path)


@pytest.mark.parametrize(("line", "content"), CAN_FAIL)
def test_accepted_lines_with_a_negation_can_fail_under_bash_e(line, content, tmp_path):
    assert not negated_pipelines(line)
    assert not bash_goes_on(line, content, tmp_path)


def test_own_run_test_scripts_and_imports_run_as_conda_build_runs_them(recipe, capsys):
    """run_test.py (the recipe's, then test/imports) runs first; then one run_test.sh:
    the recipe's own, then set -ex and the commands, in the same test directory."""
    (recipe / "run_test.py").write_text("open('from-run_test.py', 'w').close()\n")
    (recipe / "run_test.sh").write_text("test -f from-run_test.py\nOWN=own-script\n")
    meta = recipe / "meta.yaml"
    meta.write_text(meta.read_text().replace("test:\n", "test:\n  imports:\n    - json\n"))
    with_commands(recipe, ['test "$OWN" = own-script', "case $- in *x*) ;; *) exit 9;; esac"])
    assert run_build(recipe) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "test/imports: json" in out
    assert out.index(" -s run_test.py\n") < out.index("$ /bin/bash -e run_test.sh\n")
    r = render_recipe(recipe, load_variant(recipe.parents[1] / "conda_build_config.yaml", {}))
    scripts = scripts_for(r)
    assert scripts.files["run_test.sh"] == (
        "test -f from-run_test.py\nOWN=own-script\n" + COMMANDS_HEADER
        + 'test "$OWN" = own-script\ncase $- in *x*) ;; *) exit 9;; esac\nexit 0\n'
    )  # fmt: skip
    assert scripts.files["run_test.py"].endswith(
        "open('from-run_test.py', 'w').close()\nprint('test/imports: json')\nimport json\n"
    )


def test_a_failure_in_the_own_run_test_sh_is_named_as_such(recipe, capsys):
    (recipe / "run_test.sh").write_text("true\nfalse\n")
    assert run_build(recipe) == 1
    assert "error: line 2 of the recipe's own run_test.sh failed (exit 1)" in (
        capsys.readouterr().err
    )


def test_a_failing_import_fails_the_test(recipe, capsys):
    meta = recipe / "meta.yaml"
    meta.write_text(meta.read_text().replace("test:\n", "test:\n  imports:\n    - no_such_mod\n"))
    assert run_build(recipe) == 1
    err = capsys.readouterr().err
    assert "error: run_test.py (the recipe's run_test.py and test/imports) failed (exit 1)" in err
    assert "No module named 'no_such_mod'" in err


def test_check_names_the_recipe_line_in_an_installed_prefix_too(recipe):
    """run_tests refuses too (channel installs run it on an installed prefix)."""
    from tools.offline_build.testing import run_tests

    with_commands(recipe, ["! false"])
    r = render_recipe(recipe, load_variant(recipe.parents[1] / "conda_build_config.yaml", {}))
    with pytest.raises(BuildError, match=r"test command cannot fail: ! false"):
        run_tests(r, recipe, recipe / "log")
