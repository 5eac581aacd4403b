"""Run a recipe's tests against a prefix, as conda-build runs them.

What conda-build does (conda_build/create_test.py and conda_build/build.py):
- ``create_shell_files`` copies the recipe's own ``run_test.sh`` into the test
  directory, then appends ``set -ex`` and every ``test/commands`` entry, one per
  line, then ``exit 0``: all the commands are ONE bash script.
- ``create_py_files`` writes ``run_test.py``: the recipe's own ``run_test.py``, then
  an ``import`` statement for each ``test/imports`` entry.
- ``_write_test_run_script`` writes a runner under ``set -e`` that runs
  ``python -s run_test.py`` first, then ``/bin/bash -e run_test.sh``; ``test()``
  runs it in the test directory, which holds the ``test/files``. The first failure
  ends the test.

So the commands share one shell (a ``cd`` or a variable carries over to the next
line), and ``set -e`` decides what fails: a pipeline negated with ``!`` never stops
the script, whatever it returns. Such a line proves nothing under conda-build, so
the runner refuses it (``check_commands``) and names it.

conda-build runs the tests in a fresh environment holding the package, its run
requirements and ``test/requires``. Here the prefix is used as it is, with no
LD_LIBRARY_PATH (rpaths must do), and the machine's Python stands in for the
environment's: its directory goes on PATH and the prefix's site-packages on
PYTHONPATH. A ``compiler()`` in ``test/requires`` is the machine's compiler, named
by the variable conda's compiler activation sets (``CC``, ``CXX``), with the flags
that activation sets for the test prefix (``CFLAGS``, ``LDFLAGS``, ...: see
machine.py). Other ``test/requires`` are the machine's, with a note.

``test/source_files`` are copied from the build's source tree (SRC_DIR) into the
test directory, as conda-build copies them (also into the package's info/test/,
which is where a test of the installed package finds them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import BuildError
from .hermetic import standin_pkgconfig
from .machine import ACTIVATION_VARIABLES, MACHINE_COMPILERS, activation, compilers_in
from .render import DEFAULT_COMPILERS, TARGET_PLATFORM, Rendered
from .specs import spec_names

PY_VER = f"{sys.version_info.major}.{sys.version_info.minor}"
SHELL = "/bin/bash"  # conda-build's shell_path on Linux
# The part create_shell_files writes between the recipe's own run_test.sh and the
# commands, and after them.
COMMANDS_HEADER = "\n\nset -ex\n\n\n\n"
COMMANDS_FOOTER = "exit 0\n"
# Read by bash before the script (BASH_ENV), then dropped from the environment so
# that no child shell reads it. It only reports: when set -e stops the script (the
# ERR trap) or an `exit` leaves it non-zero (a function in front of the builtin),
# one line names the script line. The script itself is conda-build's, unchanged.
_REPORT = 'printf "offline_build: run_test.sh line %s failed (exit %s)\\n"'
_ERR_TRAP = (
    f"trap '{{ _offline_build_status=$?; set +x; }} 2>/dev/null; {_REPORT} "
    '"$LINENO" "$_offline_build_status" >&2\' ERR\n'
    "exit() {\n"
    "  { _offline_build_status=${1-$?}; set +x; } 2>/dev/null\n"
    f'  [ "$_offline_build_status" = 0 ] || {_REPORT} "${{BASH_LINENO[0]}}" '
    '"$_offline_build_status" >&2\n'
    '  builtin exit "$_offline_build_status"\n'
    "}\n"
    "unset BASH_ENV\n"
)
_FAILED_LINE = re.compile(r"^offline_build: run_test\.sh line (\d+) failed", re.MULTILINE)


def site_packages(prefix: Path) -> Path:
    """Where a conda environment keeps Python packages (conda-build's SP_DIR)."""
    return Path(prefix) / "lib" / f"python{PY_VER}" / "site-packages"


def python_env(prefix: Path) -> dict[str, str]:
    """conda-build's Python names, pointing at the machine's interpreter."""
    return {"PYTHON": sys.executable, "PY_VER": PY_VER, "SP_DIR": str(site_packages(prefix))}


# The variable conda's activation of each compiler package sets to its program.
COMPILER_VARIABLES = {"c": "CC", "cxx": "CXX", "fortran": "FC"}


def test_compilers(r: Rendered) -> dict[str, str]:
    """CC/CXX for each compiler() in test/requires: the machine's program."""
    found = {}
    for lang, compiler, package in compilers_in(r, (r.meta.get("test") or {}).get("requires")):
        program = MACHINE_COMPILERS.get(compiler)
        path = shutil.which(program) if program else None
        if path is None:
            raise BuildError(f"{r.name}: test/requires names {package}; "
                             f"the machine has no {program or compiler} to stand in for it")  # fmt: skip
        found[COMPILER_VARIABLES[lang]] = path
    return found


def test_env(r: Rendered, prefix: Path, test_dir: Path) -> dict[str, str]:
    """The test commands' environment. A compiler() in test/requires is activated as
    conda-build activates it (machine.activation, with the test prefix), its program
    named by full path; without one, none of those variables is set."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "BASH_ENV")}
    for variable in {*COMPILER_VARIABLES.values(), *ACTIVATION_VARIABLES}:
        env.pop(variable, None)
    tested = compilers_in(r, (r.meta.get("test") or {}).get("requires"))
    env.update(activation([c for _, c, _ in tested], prefix, test_dir, r.name, r.version))
    env.update(test_compilers(r))
    path = f"{prefix}/bin:{Path(sys.executable).parent}:{env.get('PATH', '')}"
    # conda-build runs the tests in the activated test environment: CONDA_PREFIX is it.
    env.update(python_env(prefix), PREFIX=str(prefix), CONDA_PREFIX=str(prefix),
               SHLIB_EXT=".so", PKG_NAME=r.name,
               PKG_VERSION=r.version, target_platform=TARGET_PLATFORM, PATH=path)  # fmt: skip
    if site_packages(prefix).is_dir():
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(site_packages(prefix)), env.get("PYTHONPATH")) if p
        )
    # pkg-config sees the environment's .pc files and stand-ins for those of the
    # machine's test/requires, nothing else of the machine (hermetic.py).
    declared = spec_names((r.meta.get("test") or {}).get("requires"))
    standin_pkgconfig(declared, test_dir / ".pkgconfig-test-requires")
    env["PKG_CONFIG_LIBDIR"] = os.pathsep.join([str(prefix / "lib" / "pkgconfig"),
                                                str(test_dir / ".pkgconfig-test-requires")])  # fmt: skip
    env.pop("PKG_CONFIG_PATH", None)
    return env


# --- lines that cannot fail under set -e ---------------------------------------------

_QUOTED = re.compile(r"'[^']*'|\"(?:\\.|[^\"\\])*\"|\$\{[^}]*\}")
_TOKEN = re.compile(r"&&|\|\||[;&|(){}\n]|[^\s;&|(){}]+")
_CONDITION = {"if", "elif", "while", "until"}
_BODY = {"then", "do", "else"}


def negated_pipelines(command: str) -> bool:
    """True when the command runs a pipeline negated with ``!`` as a statement of the
    script's own shell, where set -e never acts on it: at the start of the command, of
    a line, after ``;``, ``&``, ``&&``, ``||``, ``{``, ``then``, ``do`` or ``else``.

    Lexical, over words (quotes, ``${...}`` and comments removed first). Not flagged,
    because there the status does count: ``if ! ...; then``, ``while ! ...; do``
    (conditions), ``( ! ... )`` and ``$( ! ... )`` (a subshell's status is its last
    command's), ``test ! -e``, ``[ ! ... ]`` and ``[[ ! ... ]]`` (an argument)."""
    text = _QUOTED.sub("_", command)
    text = re.sub(r"(^|\s)#[^\n]*", r"\1", text)
    at_start, condition, subshells = True, False, 0
    for token in _TOKEN.findall(text):
        if token == "!" and at_start and not condition and not subshells:
            return True
        if token == "(":
            subshells += 1
        elif token == ")":
            subshells = max(subshells - 1, 0)
        keyword = at_start and token in _CONDITION | _BODY | {"{", "!"}  # not as an argument
        if keyword and token in _CONDITION:
            condition = True
        elif keyword and token in _BODY:
            condition = False
        at_start = keyword or token in {";", "&", "&&", "||", "|", "\n", "("}
    return False


def check_commands(r: Rendered) -> None:
    """Refuse test/commands entries that cannot fail under conda-build's set -e."""
    for command in [str(c) for c in (r.meta.get("test") or {}).get("commands") or []]:
        if negated_pipelines(command):
            body = command.strip()
            hint = (f"if {body[1:].strip()}; then exit 1; fi" if body.startswith("!")
                    else "if CMD; then exit 1; fi")  # fmt: skip
            raise BuildError(
                f"{r.recipe_dir.name}: test command cannot fail: {body}\n"
                "conda-build runs test/commands as one script under `set -ex`, where a "
                "pipeline negated with `!` never stops the script. Write it so that it "
                f"can fail, e.g. `{hint}` or `CMD && exit 1 || true`."
            )


# --- the scripts -----------------------------------------------------------------------


@dataclass
class Scripts:
    """What conda-build writes into the test directory (and the package's info/test/)."""

    files: dict[str, str] = field(default_factory=dict)  # run_test.py, run_test.sh
    commands: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    first_lines: list[int] = field(default_factory=list)  # run_test.sh line of each command


def scripts_for(r: Rendered) -> Scripts:
    test = r.meta.get("test") or {}
    scripts = Scripts(
        commands=[str(c) for c in test.get("commands") or []],
        imports=[str(i) for i in test.get("imports") or []],
    )
    own_py, own_sh = r.recipe_dir / "run_test.py", r.recipe_dir / "run_test.sh"
    if own_py.is_file() or scripts.imports:
        text = f"# {r.name} {r.version} {r.build_string}: the recipe's run_test.py, then test/imports\n"
        if own_py.is_file():
            text += own_py.read_text().rstrip("\n") + "\n"
        for name in scripts.imports:
            text += f"print('test/imports: {name}')\nimport {name}\n"
        scripts.files["run_test.py"] = text
    text = own_sh.read_text() if own_sh.is_file() else ""
    if scripts.commands:
        text += COMMANDS_HEADER
        for command in scripts.commands:
            scripts.first_lines.append(text.count("\n") + 1)
            text += command + "\n"
        text += COMMANDS_FOOTER
    if text:
        scripts.files["run_test.sh"] = text
    return scripts


def _copy_in(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)


def write_test_dir(r: Rendered, dest: Path, src_dir: Path | None = None) -> Scripts:
    """The test directory: test/files (from the recipe), test/source_files (from
    src_dir, the build's source tree), run_test.py and run_test.sh. Without src_dir,
    source_files must already be in dest (an installed package's info/test/)."""
    test = r.meta.get("test") or {}
    for name in test.get("files") or []:
        src = r.recipe_dir / name
        if not src.exists():
            raise BuildError(f"test file {name} not found in {r.recipe_dir}")
        _copy_in(src, dest / name)
    for name in test.get("source_files") or []:
        if src_dir is None:
            if not (dest / name).exists():
                raise BuildError(f"test source file {name}: no source tree to copy it from")
            continue
        src = Path(src_dir) / name
        if not src.exists():
            raise BuildError(f"test/source_files: {name} not found in the source tree {src_dir}")
        _copy_in(src, dest / name)
    scripts = scripts_for(r)
    for name, text in scripts.files.items():
        (dest / name).write_text(text)
    return scripts


def _run(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[int, str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, text=True, errors="replace",
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)  # fmt: skip
    report = f"$ {' '.join(cmd)}\n{proc.stdout}"
    sys.stdout.write(report)
    with open(log, "a") as fh:
        fh.write(report)
    return proc.returncode, proc.stdout


def _tail(output: str, lines: int = 20) -> str:
    return "\n".join(output.rstrip().splitlines()[-lines:])


def _failed_command(scripts: Scripts, output: str, code: int) -> str:
    """Which command of run_test.sh failed, from the line _ERR_TRAP reported last."""
    found = _FAILED_LINE.findall(output)
    if not found:  # the script was not ours to report on (e.g. it replaced `exit`)
        return f"run_test.sh exited with {code}"
    line = int(found[-1])
    if not scripts.first_lines or line < scripts.first_lines[0]:
        return f"line {line} of the recipe's own run_test.sh failed (exit {code})"
    index = max(i for i, first in enumerate(scripts.first_lines) if first <= line)
    return f"test command failed (exit {code}): {scripts.commands[index]}"


def run_tests(r: Rendered, prefix: Path, log: Path, src_dir: Path | None = None,
              test_files: Path | None = None) -> None:  # fmt: skip
    """Run r's tests against prefix. source_files come from src_dir (the build's
    source tree) or, for an installed package, from test_files (its info/test/)."""
    check_commands(r)
    test = r.meta.get("test") or {}
    compilers = {f"{r.variant.get(f'{lang}_compiler', d)}_{TARGET_PLATFORM}"
                 for lang, d in DEFAULT_COMPILERS.items()}  # fmt: skip
    others = [str(s) for s, name in zip(test.get("requires") or [],
                                        spec_names(test.get("requires")), strict=True)
              if name not in compilers]  # fmt: skip
    if others:
        print(f"test: note: test/requires {', '.join(others)}: the machine's tools are used")
    with (
        tempfile.TemporaryDirectory(prefix=f"offline-build-test-{r.name}-") as tmp,
        tempfile.TemporaryDirectory(prefix="offline-build-trap-") as trap_dir,
    ):
        test_dir = Path(tmp)
        env = test_env(r, prefix, test_dir)
        for variable in COMPILER_VARIABLES.values():
            if variable in env:
                print(f"test: {variable}={env[variable]} (the machine's, for test/requires)")
        if test_files is not None and Path(test_files).is_dir():
            shutil.copytree(test_files, test_dir, symlinks=True, dirs_exist_ok=True)
        scripts = write_test_dir(r, test_dir, src_dir)
        if "run_test.py" in scripts.files:
            code, output = _run([sys.executable, "-s", "run_test.py"], test_dir, env, log)
            if code != 0:
                raise BuildError(f"run_test.py (the recipe's run_test.py and test/imports) "
                                 f"failed (exit {code})\n{_tail(output)}")  # fmt: skip
        if "run_test.sh" in scripts.files:
            trap = Path(trap_dir) / "err-trap.sh"
            trap.write_text(_ERR_TRAP)
            code, output = _run([SHELL, "-e", "run_test.sh"], test_dir,
                                {**env, "BASH_ENV": str(trap)}, log)  # fmt: skip
            if code != 0:
                raise BuildError(f"{_failed_command(scripts, output, code)}\n{_tail(output)}")
    parts = [f"{len(scripts.commands)} commands passed (one run_test.sh under set -ex)"]
    if scripts.imports:
        parts.append(f"{len(scripts.imports)} imports")
    if (r.recipe_dir / "run_test.sh").is_file() or (r.recipe_dir / "run_test.py").is_file():
        parts.append("the recipe's own run_test scripts")
    print(f"test: {', '.join(parts)}")
