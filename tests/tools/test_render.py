import hashlib
import json
import re

import pytest

from tools.offline_build import BuildError
from tools.offline_build.__main__ import main
from tools.offline_build.render import (
    apply_selectors,
    build_id,
    load_variant,
    render_recipe,
    selector_names,
)

from .conftest import GCC_MAJOR


def variant_of(recipe, **overrides):
    return load_variant(recipe.parents[1] / "conda_build_config.yaml", overrides)


def test_selectors_keep_true_lines_and_drop_false_ones():
    text = (
        "a: 1  # [linux]\n"
        "b: 2  # [win]\n"
        "c: 3  # [not win and x86_64]\n"
        "d: 4  # [osx or aarch64]\n"
        "e: 5  # [unix and flavor == 'plain']\n"
        "f: 6  # [flavor == 'fancy']\n"
        "g: 7  # [py >= 311]\n"
        "h: 8\n"
    )
    names = selector_names({"flavor": "plain", "python": "3.11"})
    assert apply_selectors(text, names, "t") == "a: 1\nc: 3\ne: 5\ng: 7\nh: 8\n"


def test_selector_with_unknown_name_is_a_clear_error():
    with pytest.raises(BuildError, match=r"t:2: cannot evaluate selector \[bogus\]"):
        apply_selectors("a: 1\nb: 2  # [bogus]\n", selector_names({}), "t")


def test_variant_takes_first_values_and_overrides(recipe):
    variant = variant_of(recipe, flavor="fancy", extra="x")
    assert variant == {
        "flavor": "fancy",
        "c_compiler": "gcc",
        "c_compiler_version": GCC_MAJOR,
        "unused_key": "1",
        "extra": "x",
    }


def test_jinja_functions_render_like_conda_build(recipe, monkeypatch):
    monkeypatch.setenv("OFFLINE_BUILD_TEST_VAR", "from-environ")
    meta = recipe / "meta.yaml"
    meta.write_text(
        meta.read_text()
        + "extra:\n"
        + "  pins:\n"
        + "    - {{ pin_subpackage('hello', max_pin='x') }}\n"
        + "    - {{ pin_subpackage('hello', max_pin='x.x') }}\n"
        + "    - {{ pin_subpackage('hello', exact=True) }}\n"
        + "    - {{ pin_compatible('numpy') }}\n"
        + "    - {{ pin_compatible('numpy', max_pin='x.x') }}\n"
        + "  env: {{ environ.get('OFFLINE_BUILD_TEST_VAR', 'unset') }}\n"
        + "  names: {{ PKG_NAME }}-{{ PKG_VERSION }}-{{ PKG_BUILDNUM }}\n"
    )
    r = render_recipe(recipe, variant_of(recipe, numpy="2.1"))
    assert r.meta["requirements"]["build"] == [f"gcc_linux-64 {GCC_MAJOR}.*"]
    assert r.build_string == f"plain_{r.pkg_hash}_0"
    assert r.meta["extra"]["pins"] == [
        "hello >=1.2.3,<2.0a0",
        "hello >=1.2.3,<1.3.0a0",
        f"hello 1.2.3 {r.build_string}",
        "numpy >=2.1,<3.0a0",
        "numpy >=2.1,<2.2.0a0",
    ]
    assert r.meta["extra"]["env"] == "from-environ"
    assert r.meta["extra"]["names"] == "hello-1.2.3-0"


def test_stdlib_renders_like_conda_build(recipe):
    """stdlib('c') is {c_stdlib}_<target> {c_stdlib_version}.*, as conda-forge's sysroot;
    its variant keys are used keys (they change PKG_HASH)."""
    meta = recipe / "meta.yaml"
    meta.write_text(meta.read_text().replace(
        "    - {{ compiler('c') }}\n", "    - {{ compiler('c') }}\n    - {{ stdlib('c') }}\n"))  # fmt: skip
    plain = render_recipe(recipe, variant_of(recipe))
    assert plain.meta["requirements"]["build"] == [f"gcc_linux-64 {GCC_MAJOR}.*", "c_linux-64"]
    r = render_recipe(recipe, variant_of(recipe, c_stdlib="sysroot", c_stdlib_version="2.17"))
    assert r.meta["requirements"]["build"] == [
        f"gcc_linux-64 {GCC_MAJOR}.*",
        "sysroot_linux-64 2.17.*",
    ]
    assert {"c_stdlib", "c_stdlib_version"} <= set(r.used_keys)
    assert r.pkg_hash != plain.pkg_hash
    ranged = render_recipe(
        recipe, variant_of(recipe, c_stdlib="sysroot", c_stdlib_version=">=2.17")
    )
    assert ranged.meta["requirements"]["build"][1] == "sysroot_linux-64 >=2.17"


def test_pkg_hash_covers_only_the_variant_keys_the_recipe_uses(recipe):
    r = render_recipe(recipe, variant_of(recipe))
    assert r.used_keys == ["c_compiler", "c_compiler_version", "flavor"]
    used = {"c_compiler": "gcc", "c_compiler_version": GCC_MAJOR, "flavor": "plain"}
    expected = "h" + hashlib.sha1(json.dumps(used, sort_keys=True).encode()).hexdigest()[:7]
    assert r.pkg_hash == expected
    assert render_recipe(recipe, variant_of(recipe, unused_key="2")).pkg_hash == expected
    assert render_recipe(recipe, variant_of(recipe, flavor="fancy")).pkg_hash != expected


def set_build_string(recipe, line, extra=""):
    meta = recipe / "meta.yaml"
    text = meta.read_text()
    old = "  string: {{ flavor }}_h{{ PKG_HASH }}_{{ PKG_BUILDNUM }}\n"
    assert old in text
    meta.write_text(text.replace(old, line + extra))
    return render_recipe(recipe, variant_of(recipe))


def test_build_string_with_h_pkg_hash_gets_the_hash(recipe):
    """conda-forge's form: conda-build replaces the rendered h1234567 by the hash."""
    r = render_recipe(recipe, variant_of(recipe))
    assert re.fullmatch(r"h[0-9a-f]{7}", r.pkg_hash)
    assert r.build_string == f"plain_{r.pkg_hash}_0"
    assert r.meta["build"]["string"] == r.build_string
    assert f"  string: plain_{r.pkg_hash}_0\n" in r.text  # as info/recipe/meta.yaml says


def test_build_string_without_the_h_keeps_the_render_placeholder(recipe):
    """A manual string without h{{ PKG_HASH }} is kept as rendered, and PKG_HASH
    renders as conda-build's placeholder 1234567 while the recipe is not final."""
    r = set_build_string(recipe, "  string: {{ flavor }}_{{ PKG_HASH }}_{{ PKG_BUILDNUM }}\n")
    assert r.build_string == "plain_1234567_0"
    assert "  string: plain_1234567_0\n" in r.text


def test_h_pkg_hash_anywhere_before_requirements_puts_the_hash_in(recipe):
    """conda-build looks for h{{ PKG_HASH }} in the raw text before requirements:, and
    a string without h and 7 hex digits gets the hash before its last part."""
    comment = "  # the hash: h{{ PKG_HASH }}\n"
    r = set_build_string(recipe, "  string: {{ flavor }}_{{ PKG_BUILDNUM }}\n", comment)
    assert r.build_string == f"plain{r.pkg_hash}_0"
    meta = recipe / "meta.yaml"
    meta.write_text(meta.read_text().replace(comment, "") + "about:\n" + comment)
    assert render_recipe(recipe, variant_of(recipe)).build_string == "plain_0"


def test_without_a_build_string_the_hash_comes_first(recipe):
    r = set_build_string(recipe, "")
    assert r.build_string == f"{r.pkg_hash}_0"


def test_jinja_sees_the_render_time_values_of_pkg_hash_and_build_string(recipe):
    meta = recipe / "meta.yaml"
    meta.write_text(meta.read_text() + "extra:\n  seen: {{ PKG_HASH }} {{ PKG_BUILD_STRING }}\n")
    assert render_recipe(recipe, variant_of(recipe)).meta["extra"]["seen"] == "1234567 placeholder"


@pytest.mark.parametrize(
    ("string", "head", "pkg_hash", "expected"),
    [
        ("gpl_h1234567_100", "string: gpl_h{{ PKG_HASH }}_100", "h1a2b3c4", "gpl_h1a2b3c4_100"),
        ("gpl_1234567_100", "string: gpl_{{ PKG_HASH }}_100", "h1a2b3c4", "gpl_1234567_100"),
        (None, "", "h1a2b3c4", "h1a2b3c4_0"),
        (None, "", "", "0"),
        ("py311_0", "# h{{PKG_HASH}}", "h1a2b3c4", "py311h1a2b3c4_0"),
        ("gpl_h1234567_0", "string: h{{PKG_HASH}}", "", "gpl__0"),
    ],
)
def test_build_id_follows_conda_build(string, head, pkg_hash, expected):
    assert build_id(string, "0", head, pkg_hash) == expected


def test_a_bad_character_in_a_kept_build_string_is_an_error():
    with pytest.raises(BuildError, match=r"bad character\(s\) \(-\) in build/string: a-b"):
        build_id("a-b", "0", "string: a-b", "h1a2b3c4")


def test_versions_stay_strings(recipe):
    meta = recipe / "meta.yaml"
    meta.write_text(meta.read_text().replace('"1.2.3"', '"3.10"'))
    assert render_recipe(recipe, variant_of(recipe)).version == "3.10"


def test_unknown_variable_fails_with_its_name_and_line(recipe):
    meta = recipe / "meta.yaml"
    lines = meta.read_text().splitlines()
    lines[3] = "  version: {{ not_a_variant }}"
    meta.write_text("\n".join(lines) + "\n")
    with pytest.raises(BuildError, match=r"meta.yaml:4: 'not_a_variant' is undefined"):
        render_recipe(recipe, variant_of(recipe))


def test_render_command_prints_yaml(recipe, capsys):
    config = recipe.parents[1] / "conda_build_config.yaml"
    assert main(["render", str(recipe), "-m", str(config), "--variant", "flavor=fancy"]) == 0
    out = capsys.readouterr().out
    assert "  string: fancy_h" in out
    assert f"    - gcc_linux-64 {GCC_MAJOR}.*" in out


def test_cli_errors_are_one_line(recipe, capsys):
    (recipe / "meta.yaml").write_text("package: {{ nope }}\n")
    assert main(["render", str(recipe), "-m", str(recipe.parents[1] / "none.yaml")]) == 1
    assert capsys.readouterr().err.strip().count("\n") == 0
    assert main(["render", str(recipe), "--variant", "novalue"]) == 1
    assert main(["render", str(recipe)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --variant expects KEY=VALUE")
    assert "error: meta.yaml:1: 'nope' is undefined" in err
    assert "Traceback" not in err
