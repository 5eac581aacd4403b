"""Fixtures for tools/offline_build: every test runs with a private source cache
and with the Debian route replaced, so nothing reaches the network or apt."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `tools` is a plain directory package at the repo root
    sys.path.insert(0, str(REPO))

from tools.offline_build import fetch


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """Private XDG cache; the Debian route records calls instead of running apt."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    calls = []

    def no_debian(package, version, dest):
        calls.append((package, version))
        raise fetch.Unavailable("disabled in tests")

    monkeypatch.setattr(fetch, "_debian_route", no_debian)
    return calls


HELLO_C = """\
#include <stdio.h>
const char *greeting(void);
int main(void) { puts(greeting()); return 0; }
"""
GREET_C = 'const char *greeting(void) { return "hello from greet"; }\n'

# Compiles a program into $PREFIX/bin against a shared library in $PREFIX/lib
# without any rpath, so the test commands only pass after relocation.
BUILD_SH = """\
set -x
echo run >> "$RECIPE_DIR/../build-runs.log"
env | sort > "$PREFIX/build-env.txt"
mkdir -p "$PREFIX/bin" "$PREFIX/lib"
"${CC:-cc}" -c -fPIC -o greet.o greet.c
"${CC:-cc}" -c -o hello.o hello.c
"${CC:-cc}" -shared -o "$PREFIX/lib/libgreet$SHLIB_EXT" greet.o
"${CC:-cc}" -o "$PREFIX/bin/hello" hello.o -L"$PREFIX/lib" -lgreet
"""

META = """\
{% set version = "1.2.3" %}
package:
  name: hello
  version: {{ version }}
source:
  url: URL
  sha256: SHA256
build:
  number: 0
  string: {{ flavor }}_h{{ PKG_HASH }}_{{ PKG_BUILDNUM }}
requirements:
  build:
    - {{ compiler('c') }}
test:
  files:
    - test/expected.txt
  commands:
    - hello > out.txt
    - diff out.txt test/expected.txt
    - test -z "${LD_LIBRARY_PATH:-}"
    - test -f ${PREFIX}/lib/libgreet${SHLIB_EXT}
"""


def _gcc_major() -> str:
    """The machine's gcc major version: the tiny recipe's c_compiler_version (the
    runner refuses a machine compiler newer than the one configured)."""
    if not shutil.which("gcc"):
        return "12"
    return subprocess.run(["gcc", "-dumpversion"], capture_output=True, text=True,
                          check=True).stdout.strip().split(".")[0]  # fmt: skip


GCC_MAJOR = _gcc_major()
CONFIG = f"""\
flavor:
  - plain
  - fancy
c_compiler:
  - gcc
c_compiler_version:
  - "{GCC_MAJOR}"
unused_key:
  - "1"
"""


def glibc_needed_by_readelf(*paths) -> str:
    """The highest GLIBC_x.y that binutils' readelf lists in the files' version needs:
    a reading independent of the runner's own ELF parser."""
    found = []
    for path in paths:
        out = subprocess.run(["readelf", "-V", "-W", str(path)], capture_output=True,
                             text=True, check=True).stdout  # fmt: skip
        needs = out.split("Version needs section", 1)[-1] if "Version needs section" in out else ""
        found += [tuple(map(int, v.split("."))) for v in re.findall(r"Name: GLIBC_([\d.]+)", needs)]
    return ".".join(map(str, max(found)))


def make_tarball(path: Path, files: dict[str, str], top: str = "hello-1.2.3") -> str:
    """Write a tar.gz with files under one top-level directory; return its sha256."""
    import hashlib
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def recipe(tmp_path):
    """A tiny recipe in tmp_path/recipes/hello with its source tarball and variant file."""
    tarball = tmp_path / "upstream" / "hello-1.2.3.tar.gz"
    tarball.parent.mkdir()
    sha256 = make_tarball(tarball, {"hello.c": HELLO_C, "greet.c": GREET_C})
    recipe_dir = tmp_path / "recipes" / "hello"
    (recipe_dir / "test").mkdir(parents=True)
    meta = META.replace("URL", tarball.as_uri()).replace("SHA256", sha256)
    (recipe_dir / "meta.yaml").write_text(meta)
    (recipe_dir / "build.sh").write_text(BUILD_SH)
    (recipe_dir / "test" / "expected.txt").write_text("hello from greet\n")
    (tmp_path / "conda_build_config.yaml").write_text(CONFIG)
    return recipe_dir
