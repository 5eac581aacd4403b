"""The hermetic host: a build sees, through pkg-config, only what its recipe's host
declares (and what those packages bring, as conda-forge ships them), and a library
it links without declaring is a build error that names it."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tools.offline_build.__main__ import main
from tools.offline_build.hermetic import closure, standin_pkgconfig, standin_text
from tools.offline_build.machine import PcModule
from tools.offline_build.render import load_variant, render_recipe

from .conftest import GCC_MAJOR, make_tarball

pytestmark = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("patchelf") and shutil.which("pkg-config")),
    reason="needs gcc, patchelf and pkg-config",
)

META = """\
package:
  name: linker
  version: 1.0.0
source:
  url: URL
  sha256: SHA256
build:
  number: 0
requirements:
  build:
    - {{ compiler('c') }}
  host:
HOST
"""
LINKS_ZLIB = """\
set -ex
mkdir -p "$PREFIX/lib"
"$CC" -shared -fPIC -o "$PREFIX/lib/libuseszlib.so" uses.c -lz
"""
USES_C = "#include <zlib.h>\nconst char *which(void) { return zlibVersion(); }\n"
ASKS_PKG_CONFIG = """\
set -ex
mkdir -p "$PREFIX/share"
pkg-config --exists --print-errors fontconfig
pkg-config --cflags fontconfig > "$PREFIX/share/cflags.txt"
if pkg-config --exists libpng16; then echo "libpng16.pc is visible but undeclared"; exit 1; fi
"""


def recipe(tmp_path, host: list[str], build_sh: str):
    tarball = tmp_path / "upstream" / "linker-1.0.0.tar.gz"
    tarball.parent.mkdir(exist_ok=True)
    sha256 = make_tarball(tarball, {"uses.c": USES_C}, top="linker-1.0.0")
    folder = tmp_path / "recipes" / "linker"
    folder.mkdir(parents=True, exist_ok=True)
    lines = "\n".join(f"    - {h}" for h in host) or "    []"
    meta = META.replace("URL", tarball.as_uri()).replace("SHA256", sha256)
    (folder / "meta.yaml").write_text(
        meta.replace("HOST", lines).replace("  host:\n    []", "  host: []")
    )
    (folder / "build.sh").write_text(build_sh)
    config = tmp_path / "conda_build_config.yaml"
    config.write_text(f'c_compiler:\n  - gcc\nc_compiler_version:\n  - "{GCC_MAJOR}"\n')
    return ["build", str(folder), "-m", str(config), "--root", str(tmp_path / ".build")]


def test_a_library_linked_but_not_declared_is_a_build_error(tmp_path, capsys):
    assert main(recipe(tmp_path, [], LINKS_ZLIB)) == 1
    err = capsys.readouterr().err
    assert "lib/libuseszlib.so links libz.so.1" in err, err
    assert "from the machine's zlib1g" in err, err
    assert "declare zlib in requirements/host" in err, err


def test_the_same_library_declared_builds(tmp_path, capsys):
    assert main(recipe(tmp_path, ["zlib"], LINKS_ZLIB)) == 0
    out = capsys.readouterr().out
    assert "host: pkg-config sees" in out
    assert "zlib (zlib)" in out
    assert "NEEDED entries checked" in out


def test_fontconfig_without_expat_fails_as_under_conda_build(tmp_path, capsys):
    """conda-forge's fontconfig.pc requires expat, which only the expat package ships:
    pkg-config refuses fontconfig until expat is declared too."""
    assert main(recipe(tmp_path, ["fontconfig", "freetype"], ASKS_PKG_CONFIG)) == 1
    out = capsys.readouterr().out
    assert "fontconfig.pc (fontconfig) requires expat" in out
    assert "conda-forge's expat ships it" in out
    assert "'expat', required by 'fontconfig', not found" in out


def test_fontconfig_with_expat_is_found_and_nothing_else_is(tmp_path):
    assert main(recipe(tmp_path, ["fontconfig", "freetype", "expat"], ASKS_PKG_CONFIG)) == 0


def test_the_stand_ins_carry_conda_forges_requires(tmp_path):
    report = standin_pkgconfig(["fontconfig"], tmp_path / "pc")
    text = (tmp_path / "pc" / "fontconfig.pc").read_text()
    assert "\nRequires: freetype2 >= 21.0.15\n" in text
    assert "\nRequires.private: expat\n" in text
    assert text.count("Requires:") == 1
    assert report.modules == {"fontconfig": "fontconfig"}
    assert any("requires freetype2" in u for u in report.unresolved)
    env = {"PKG_CONFIG_LIBDIR": str(tmp_path / "pc"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(["pkg-config", "--exists", "zlib"], env=env, check=False)
    assert proc.returncode != 0  # the machine has zlib.pc; the folder does not


def test_harfbuzz_resolves_through_what_its_packages_bring(tmp_path):
    """harfbuzz (a metapackage) brings libharfbuzz-devel (harfbuzz.pc), which brings
    libharfbuzz and freetype; libharfbuzz brings glib and graphite2; libglib pcre2."""
    names = closure(["harfbuzz"])
    assert {"libharfbuzz-devel", "libharfbuzz", "libglib", "graphite2", "pcre2", "freetype"} <= set(
        names
    )
    report = standin_pkgconfig(["harfbuzz"], tmp_path / "pc")
    assert not report.unresolved, report.unresolved
    env = {"PKG_CONFIG_LIBDIR": str(tmp_path / "pc"), "PATH": "/usr/bin:/bin"}
    assert (
        subprocess.run(["pkg-config", "--exists", "harfbuzz"], env=env, check=False).returncode == 0
    )


def test_standin_text_replaces_both_requires_lines():
    debian = "prefix=/usr\nName: x\nRequires: a\nRequires.private: b, c >= 2\nLibs: -lx\n"
    text = standin_text(debian, PcModule("x", "q", "r >= 1"))
    assert "Requires: a" not in text
    assert "b, c" not in text
    assert text.endswith("Requires: q\nRequires.private: r >= 1\n")
    assert "Libs: -lx" in text


def test_a_module_the_machine_lacks_is_named_with_its_debian_package(tmp_path, monkeypatch):
    from tools.offline_build import hermetic

    monkeypatch.setattr(hermetic, "_machine_pc", lambda module: None)
    report = standin_pkgconfig(["expat"], tmp_path / "pc")
    assert report.modules == {}
    assert report.unresolved == [
        "the machine has no expat.pc to stand in for expat's (apt-get install libexpat1-dev)"
    ]


def _exists(folder, module):
    env = {"PKG_CONFIG_LIBDIR": str(folder), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(["pkg-config", "--exists", "--print-errors", module], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    return proc.returncode == 0, proc.stderr


def test_libass_alone_lacks_harfbuzz_pc_as_under_conda_build(tmp_path):
    """libass brings libharfbuzz (the library) but not libharfbuzz-devel (harfbuzz.pc),
    and its fontconfig requires expat: libass.pc resolves only once both are declared."""
    report = standin_pkgconfig(["libass"], tmp_path / "alone")
    assert any(u.startswith("libass.pc (libass) requires harfbuzz") and "libharfbuzz-devel" in u
               for u in report.unresolved), report.unresolved  # fmt: skip
    assert any("fontconfig.pc (fontconfig) requires expat" in u for u in report.unresolved)
    found, errors = _exists(tmp_path / "alone", "libass")
    assert not found
    assert "harfbuzz" in errors
    report = standin_pkgconfig(["libass", "harfbuzz", "expat"], tmp_path / "declared")
    assert not report.unresolved, report.unresolved
    assert _exists(tmp_path / "declared", "libass")[0]


def test_ffmpegs_host_list_resolves_every_module_configure_asks_for(tmp_path):
    """The recipe's Linux host list, rendered: each module FFmpeg's configure asks
    pkg-config for is found through the stand-ins, with nothing left unresolved."""
    root = Path(__file__).resolve().parents[2]
    variant = load_variant(root / "conda_build_config.yaml", {"license_family": "gpl"})
    rendered = render_recipe(root / "recipes" / "ffmpeg", variant)
    host = [s.split()[0] for s in rendered.meta["requirements"]["host"]]
    ours = {"ffnvcodec-headers"}  # from our channel, not a stand-in
    report = standin_pkgconfig([h for h in host if h not in ours], tmp_path / "pc",
                               channel_pc=["ffnvcodec"])  # fmt: skip
    assert not report.unresolved, report.unresolved
    for module in ["libxml-2.0", "openssl", "libass", "vorbis", "vorbisenc", "libwebp",
                   "libwebpmux", "libjxl", "libjxl_threads", "SvtAv1Enc", "libva", "libva-drm",
                   "fontconfig", "harfbuzz", "dav1d", "x264", "x265"]:  # fmt: skip
        found, errors = _exists(tmp_path / "pc", module)
        assert found, errors
