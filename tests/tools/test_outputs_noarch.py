"""Split packages (conda-build's ``outputs:``) and ``noarch: python`` packages, built,
packed, indexed and installed by the runner, as conda-build and conda would.

- outputs: one build.sh, then each output takes its files by glob (``include`` and
  ``exclude``), its own run_exports and tests; ``pin_subpackage(exact=True)`` names a
  sibling's final build string; an output without files is a metapackage;
- noarch: python: a ``source: path:`` project installed with ``$PYTHON -m pip install .``
  lands in the package as site-packages/ (no byte code), in noarch/ with link.json and
  no weak run_exports; installed, it sits in the prefix's lib/pythonX.Y/site-packages.
"""

import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from conda_package_handling import api as cph

from tools.offline_build import BuildError
from tools.offline_build.__main__ import main
from tools.offline_build.environment import install_environment
from tools.offline_build.render import load_variant, render_recipe

from .conftest import GCC_MAJOR, GREET_C, HELLO_C, make_tarball

pytestmark = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("patchelf")),
    reason="needs gcc and patchelf (apt-get install -y gcc patchelf)",
)
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"

SPLIT_BUILD_SH = """\
set -ex
mkdir -p "$PREFIX/lib" "$PREFIX/include" "$SP_DIR/greet"
"$CC" -shared -fPIC -o "$PREFIX/lib/libgreet$SHLIB_EXT" greet.c
echo 'const char *greeting(void);' > "$PREFIX/include/greet.h"
echo 'WORD = "hello"' > "$SP_DIR/greet/__init__.py"
mkdir -p "$PREFIX/share/stray" && echo left > "$PREFIX/share/stray/file.txt"
"""

SPLIT_META = """\
package:
  name: greet-split
  version: 2.0.1
source:
  url: URL
  sha256: SHA256
build:
  number: 7
  string: {{ flavor }}_h{{ PKG_HASH }}_{{ PKG_BUILDNUM }}
requirements:
  build:
    - {{ compiler('c') }}
  host:
    - python
outputs:
  - name: libgreet
    build:
      string: {{ flavor }}_h{{ PKG_HASH }}_{{ PKG_BUILDNUM }}
      run_exports:
        - {{ pin_subpackage('libgreet', max_pin='x.x') }}
    files:
      include:
        - lib/**
        - include/**
      exclude:
        - lib/python*/**
    requirements:
      build:
        - {{ compiler('c') }}
      run_constrained:
        - py-greet {{ PKG_VERSION }} {{ flavor }}_*
    test:
      commands:
        - test -f ${PREFIX}/lib/libgreet${SHLIB_EXT}
        - test -f ${PREFIX}/include/greet.h
  - name: py-greet
    build:
      string: {{ flavor }}_h{{ PKG_HASH }}_{{ PKG_BUILDNUM }}
    files:
      - lib/python*/site-packages/greet/**
    requirements:
      host:
        - python
      run:
        - {{ pin_subpackage('libgreet', exact=True) }}
    test:
      imports:
        - greet
  - name: greet
    build:
      string: {{ flavor }}_h{{ PKG_HASH }}_{{ PKG_BUILDNUM }}
    requirements:
      run:
        - {{ pin_subpackage('libgreet', exact=True) }}
        - {{ pin_subpackage('py-greet', exact=True) }}
    test:
      commands:
        - python -c "import greet; assert greet.WORD == 'hello'"
"""


class _open:
    """info/index.json and the payload's paths of a .conda, read by extracting it."""

    def __init__(self, conda):
        self.conda = conda

    def __enter__(self):
        self.tmp = tempfile.TemporaryDirectory()
        cph.extract(str(self.conda), dest_dir=self.tmp.name)
        root = Path(self.tmp.name)
        paths = json.loads((root / "info" / "paths.json").read_text())["paths"]
        link = root / "info" / "link.json"
        return {
            "index": json.loads((root / "info" / "index.json").read_text()),
            "paths": [p["_path"] for p in paths],
            "link": json.loads(link.read_text()) if link.is_file() else None,
        }

    def __exit__(self, *exc):
        self.tmp.cleanup()


@pytest.fixture
def split(tmp_path):
    tarball = tmp_path / "upstream" / "greet-2.0.1.tar.gz"
    tarball.parent.mkdir()
    sha256 = make_tarball(tarball, {"greet.c": GREET_C, "hello.c": HELLO_C}, top="greet-2.0.1")
    recipe = tmp_path / "recipes" / "greet-split"
    recipe.mkdir(parents=True)
    (recipe / "meta.yaml").write_text(
        SPLIT_META.replace("URL", tarball.as_uri()).replace("SHA256", sha256)
    )
    (recipe / "build.sh").write_text(SPLIT_BUILD_SH)
    config = tmp_path / "conda_build_config.yaml"
    config.write_text(
        f'flavor:\n  - plain\nc_compiler:\n  - gcc\nc_compiler_version:\n  - "{GCC_MAJOR}"\n'
    )
    return recipe, config, tmp_path / ".build"


def test_outputs_render_as_packages_of_their_own(split):
    recipe, config, _ = split
    r = render_recipe(recipe, load_variant(config, {}))
    assert [p.name for p in r.packages] == ["libgreet", "py-greet", "greet"]
    strings = {p.build_string for p in r.packages}
    assert len(strings) == 1, strings
    (string,) = strings
    assert string.startswith("plain_h"), string
    assert string.endswith("_7"), string
    py = r.package("py-greet")
    assert f"libgreet 2.0.1 {string}" in py.meta["requirements"]["run"]
    with pytest.raises(BuildError, match="makes no package named nope"):
        r.package("nope")


def test_split_build_packs_each_output_with_its_own_files_and_requirements(split, capsys):
    recipe, config, root = split
    assert main(["channel", str(recipe), "-m", str(config), "--root", str(root),
                 "--install", "greet"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "outputs: 1 installed files are in no output (first: share/stray/file.txt)" in out
    files = {p.name.split("-2.0.1-")[0]: p for p in (root / "channel" / "linux-64").glob("*.conda")}
    assert set(files) == {"libgreet", "py-greet", "greet"}
    with _open(files["libgreet"]) as lib:
        assert set(lib["paths"]) == {"lib/libgreet.so", "include/greet.h"}
        assert not any(d.startswith("python_abi") for d in lib["index"]["depends"])
        assert any(d.startswith("libgcc >=") for d in lib["index"]["depends"])
        assert lib["index"]["constrains"] == ["py-greet 2.0.1 plain_*"]
    with _open(files["py-greet"]) as py:
        assert py["paths"] == [f"lib/{PY}/site-packages/greet/__init__.py"]
        depends = py["index"]["depends"]
        assert f"libgreet 2.0.1 {py['index']['build']}" in depends
        assert any(d.startswith("python_abi") for d in depends)  # python in its host
    with _open(files["greet"]) as meta:
        assert meta["paths"] == []  # a metapackage
    # Installed from the channel: the three builds of one recipe run, and their tests ran.
    assert "test installed: greet plain_h" in out
    assert "test installed: py-greet plain_h" in out
    assert "test installed: libgreet plain_h" in out


def test_an_output_glob_that_matches_nothing_is_an_error(split):
    recipe, config, root = split
    meta = recipe / "meta.yaml"
    meta.write_text(meta.read_text().replace("- lib/python*/site-packages/greet/**",
                                             "- lib/python*/site-packages/nothere/**"))  # fmt: skip
    assert main(["build", str(recipe), "-m", str(config), "--root", str(root)]) == 1


def test_an_output_script_is_refused_with_a_reason(split):
    recipe, config, _ = split
    meta = recipe / "meta.yaml"
    meta.write_text(
        meta.read_text().replace("  - name: greet\n", "  - name: greet\n    script: x.sh\n")
    )
    with pytest.raises(BuildError, match="output script is not supported"):
        render_recipe(recipe, load_variant(config, {}))


NOARCH_META = """\
package:
  name: tinypy
  version: {{ load_file_regex(load_file="../../project/tinypy/__init__.py", regex_pattern='__version__ = "([^"]+)"', from_recipe_dir=True).group(1) }}
source:
  path: ../../project
build:
  noarch: python
  number: 0
  string: pyh{{ PKG_HASH }}_{{ PKG_BUILDNUM }}
requirements:
  host:
    - python
    - pip
  run:
    - python >=3.10
test:
  imports:
    - tinypy
  commands:
    - python -c "import tinypy, os; assert tinypy.__file__.startswith(os.environ['PREFIX'])"
"""


@pytest.fixture
def noarch(tmp_path):
    project = tmp_path / "project"
    (project / "tinypy").mkdir(parents=True)
    (project / "tinypy" / "__init__.py").write_text('__version__ = "0.3.1"\nANSWER = 42\n')
    (project / "pyproject.toml").write_text(textwrap.dedent("""\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "tinypy"
        dynamic = ["version"]
        [tool.setuptools.dynamic]
        version = { attr = "tinypy.__version__" }
        """))  # fmt: skip
    (project / "junk.log").write_text("ignored by git\n")
    (project / ".gitignore").write_text("*.log\n")
    recipe = tmp_path / "recipes" / "tinypy"
    recipe.mkdir(parents=True)
    (recipe / "meta.yaml").write_text(NOARCH_META)
    (recipe / "build.sh").write_text(
        'set -ex\n"$PYTHON" -m pip install . -vv --no-deps --no-build-isolation\n'
    )
    config = tmp_path / "conda_build_config.yaml"
    config.write_text("python:\n  - '3.11'\n")
    return recipe, config, tmp_path / ".build"


def test_a_noarch_python_package_is_packed_and_installed_as_conda_does(noarch, tmp_path):
    recipe, config, root = noarch
    assert main(["channel", str(recipe), "-m", str(config), "--root", str(root),
                 "--install", "tinypy"]) == 0  # fmt: skip
    (conda,) = (root / "channel" / "noarch").glob("tinypy-0.3.1-*.conda")
    assert not list((root / "channel" / "linux-64").glob("tinypy*"))
    with _open(conda) as package:
        index = package["index"]
        assert index["noarch"] == "python"
        assert index["subdir"] == "noarch"
        assert index.get("arch") is None, index
        assert index.get("platform") is None, index
        assert index["depends"] == ["python >=3.10"]  # python_abi is weak: not for noarch
        assert package["link"]["noarch"]["type"] == "python"
        assert "site-packages/tinypy/__init__.py" in package["paths"]
        assert all(p.startswith("site-packages/") for p in package["paths"]), package["paths"]
        assert not [p for p in package["paths"] if p.endswith(".pyc") or "__pycache__" in p]
    # With a Python of its own, the environment imports it from its site-packages.
    prefix = tmp_path / "env"
    install_environment(None, prefix, root / "channel", ["tinypy"])
    site = prefix / "lib" / PY / "site-packages"
    assert (site / "tinypy" / "__init__.py").is_file()
    out = subprocess.run([prefix / "bin" / "python", "-c",
                          "import tinypy, numpy, sys; print(tinypy.ANSWER, tinypy.__file__, sys.prefix)"],
                         capture_output=True, text=True, check=True, cwd=tmp_path).stdout.split()  # fmt: skip
    assert out[0] == "42"
    assert out[1].startswith(str(site))
    assert out[2] == str(prefix)


def test_a_path_source_takes_what_git_would_track(noarch, tmp_path):
    from tools.offline_build.fetch import local_files

    project = tmp_path / "project"
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    names = {p.as_posix() for p in local_files(project)}
    assert "tinypy/__init__.py" in names
    assert "junk.log" not in names  # .gitignore applies
