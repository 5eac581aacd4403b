"""What a library recipe needs from the runner, as conda-build provides it: every
about/license_file entry in the package's info/licenses/ (from the source tree, else
the recipe directory), a compiler() in test/requires (CC/CXX set for the tests), and
test/source_files copied from the source tree. On the tiny recipe from conftest."""

import shutil

import pytest
from conda_package_handling import api as cph

from tools.offline_build import BuildError
from tools.offline_build.__main__ import main
from tools.offline_build.pack import license_files, pack
from tools.offline_build.render import load_variant, render_recipe

pytestmark = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("patchelf")),
    reason="needs gcc and patchelf (apt-get install -y gcc patchelf)",
)

CONSUMER_C = """\
#include <stdio.h>
#include <string.h>
const char *greeting(void);
int main(void) { return strcmp(greeting(), "hello from greet") != 0; }
"""

# Licence files the build writes into SRC_DIR (as recipes/opencv's build.sh copies
# its host JPEG library's), a directory of them, and one kept in the recipe.
LICENSE_BUILD = """\
echo "hello licence" > "$SRC_DIR/LICENSE"
mkdir -p "$SRC_DIR/licenses/dep" "$SRC_DIR/third_party"
echo "dep licence" > "$SRC_DIR/licenses/dep/COPYING"
echo "a" > "$SRC_DIR/third_party/A.txt"
echo "b" > "$SRC_DIR/third_party/B.txt"
"""
ABOUT = """\
about:
  license: MIT
  license_file:
    - LICENSE
    - licenses/dep/COPYING
    - NOTICE-FROM-RECIPE
    - third_party/
    - ./LICENSE
"""


def library_recipe(recipe, about=ABOUT, test_extra=""):
    with open(recipe / "build.sh", "a") as fh:
        fh.write(LICENSE_BUILD)
    (recipe / "NOTICE-FROM-RECIPE").write_text("recipe notice\n")
    (recipe / "test" / "consumer.c").write_text(CONSUMER_C)
    meta = recipe / "meta.yaml"
    text = meta.read_text().replace(
        "test:\n  files:\n    - test/expected.txt\n",
        "test:\n  requires:\n    - {{ compiler('c') }}\n" + test_extra
        + "  source_files:\n    - greet.c\n"
        "  files:\n    - test/expected.txt\n    - test/consumer.c\n",
    )  # fmt: skip
    text += (
        '    - test -f greet.c\n'
        '    - test -z "${CXX:-}"\n'
        '    - test -z "${CXXFLAGS:-}"\n'
        # conda's activation: -isystem, -L and the rpath of the test prefix come from the flags
        '    - ${CC} ${CPPFLAGS} ${CFLAGS} -o consumer test/consumer.c ${LDFLAGS} -lgreet\n'
        "    - ./consumer\n"
    )  # fmt: skip
    meta.write_text(text + about)
    return recipe


def build(recipe):
    config = recipe.parents[1] / "conda_build_config.yaml"
    root = recipe.parents[1] / ".build"
    code = main(["build", str(recipe), "-m", str(config), "--root", str(root)])
    return code, root, render_recipe(recipe, load_variant(config, {}))


def test_licenses_land_in_info_licenses_and_a_test_compiles_against_the_package(
    recipe, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("CXX", "/nonexistent/c++")  # not asked for: the tests do not see it
    library_recipe(recipe)
    code, root, rendered = build(recipe)
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"test: CC={shutil.which('gcc')} (the machine's, for test/requires)" in out
    assert "test: CXX=" not in out
    assert "licenses: LICENSE, licenses/dep/COPYING, NOTICE-FROM-RECIPE, third_party, " \
           "LICENSE0.txt" in out  # fmt: skip

    conda = pack((root / "hello" / "current").resolve(), rendered)
    pkg = tmp_path / "unpacked"
    cph.extract(str(conda), dest_dir=str(pkg))
    licenses = pkg / "info" / "licenses"
    found = sorted(p.relative_to(licenses).as_posix() for p in licenses.rglob("*") if p.is_file())
    assert found == ["LICENSE", "LICENSE0.txt", "NOTICE-FROM-RECIPE", "licenses/dep/COPYING",
                     "third_party/A.txt", "third_party/B.txt"]  # fmt: skip
    assert (licenses / "LICENSE0.txt").read_text() == "hello licence\n"
    assert (licenses / "NOTICE-FROM-RECIPE").read_text() == "recipe notice\n"
    # the package's own files hold no licence: info/ only, as conda-build does
    assert not (pkg / "LICENSE").exists()
    # test/source_files travel in info/test/, as conda-build packs them
    assert (pkg / "info" / "test" / "greet.c").is_file()
    assert (pkg / "info" / "test" / "test" / "consumer.c").is_file()


def test_a_missing_license_file_fails_the_build_by_name(recipe, capsys):
    library_recipe(recipe, about=ABOUT.replace("    - ./LICENSE\n", "    - NO-SUCH-LICENSE\n"))
    code, _, _ = build(recipe)
    assert code == 1
    assert "about/license_file: NO-SUCH-LICENSE is neither in the source tree" in (
        capsys.readouterr().err
    )


def test_license_file_rules(tmp_path):
    src, recipe = tmp_path / "src", tmp_path / "recipe"
    (src / "docs").mkdir(parents=True)
    recipe.mkdir()
    (src / "COPYING").write_text("src")
    (recipe / "COPYING").write_text("recipe")
    (recipe / "ONLY-IN-RECIPE").write_text("recipe")
    found = license_files({"license_file": ["COPYING", "", "ONLY-IN-RECIPE", "docs/",
                                            "./COPYING", "./docs/"]}, src, recipe)  # fmt: skip
    assert [(p.parent.name, name) for p, name in found] == [
        ("src", "COPYING"), ("recipe", "ONLY-IN-RECIPE"), ("src", "docs"),
        ("src", "LICENSE0.txt"), ("src", "LICENSE1"),
    ]  # fmt: skip
    assert license_files({"license_file": "COPYING"}, src, recipe)[0][1] == "COPYING"
    with pytest.raises(BuildError, match="docs is a directory; write it as docs/"):
        license_files({"license_file": ["docs"]}, src, recipe)
