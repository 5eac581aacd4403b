"""What conda-build's run_exports would add, on the tiny recipe: __glibc from the
ELF files (and stdlib('c')), libgcc/libstdcxx from compiler(), and conda-forge's
run_exports of the host libraries the machine stands in for (x264 here)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.offline_build import BuildError, channel
from tools.offline_build.__main__ import main
from tools.offline_build.elf import glibc_needed, versions_needed
from tools.offline_build.machine import HOST_LIBRARIES, debian_upstream, host_library_version

from .conftest import GCC_MAJOR, glibc_needed_by_readelf

pytestmark = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("patchelf") and shutil.which("readelf")),
    reason="needs gcc, patchelf and readelf (apt-get install -y gcc patchelf binutils)",
)

X264_PC = "Name: x264\nDescription: stand-in\nVersion: 0.164.3095\nLibs:\nCflags:\n"


def edit(recipe, old, new):
    meta = recipe / "meta.yaml"
    text = meta.read_text()
    assert old in text, old
    meta.write_text(text.replace(old, new, 1))


def build(recipe, *extra):
    config = recipe.parents[1] / "conda_build_config.yaml"
    root = recipe.parents[1] / ".build"
    code = main(["build", str(recipe), "-m", str(config), "--root", str(root), *extra])
    out = (root / "hello" / "current").resolve()
    return code, out


def run_of(out):
    return json.loads((out / "manifest.json").read_text())["requirements"].get("run", [])


# --- the ELF reader --------------------------------------------------------------------


def readelf_needs(path):
    """(library, version) pairs of readelf's "Version needs section", in its order."""
    out = subprocess.run(["readelf", "-V", "-W", str(path)], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    if "Version needs section" not in out:
        return []
    needs, library = [], None
    for line in out.split("Version needs section", 1)[1].splitlines():
        if "File: " in line:
            library = line.split("File: ")[1].split()[0]
        elif "Name: " in line:
            needs.append((library, line.split("Name: ")[1].split()[0]))
    return needs


def test_the_elf_reader_agrees_with_readelf(recipe):
    assert build(recipe)[0] == 0
    prefix = (recipe.parents[1] / ".build" / "hello" / "current" / "prefix").resolve()
    for path in (prefix / "bin" / "hello", prefix / "lib" / "libgreet.so", "/bin/sh", "/bin/ls"):
        needs = versions_needed(path)
        assert needs == readelf_needs(path), path
    assert ("libc.so.6", "GLIBC_2.2.5") in versions_needed("/bin/sh")
    hello = prefix / "bin" / "hello"
    assert ".".join(map(str, glibc_needed(hello))) == glibc_needed_by_readelf(hello)
    assert versions_needed(recipe / "meta.yaml") == []  # not ELF


def test_a_damaged_elf_file_is_an_error_naming_it(tmp_path):
    data = Path("/bin/sh").read_bytes()
    damaged = tmp_path / "damaged"
    damaged.write_bytes(data[: len(data) // 3])  # the section headers are at the end
    with pytest.raises(BuildError, match=f"{damaged}: its ELF section headers lie outside"):
        versions_needed(damaged)


# --- __glibc and stdlib('c') ---------------------------------------------------------


def test_glibc_comes_from_the_elf_files(recipe, capsys):
    code, out = build(recipe)
    assert code == 0
    prefix = out / "prefix"
    glibc = glibc_needed_by_readelf(prefix / "bin" / "hello", prefix / "lib" / "libgreet.so")
    assert f"__glibc >={glibc},<3.0.a0" in run_of(out)
    printed = capsys.readouterr().out
    assert f"build: run_export of glibc: __glibc >={glibc},<3.0.a0 (GLIBC_{glibc} needed by " in (
        printed
    )
    assert f"__glibc >={glibc},<3.0.a0" in (out / "build.log").read_text()


@pytest.mark.parametrize(("stdlib_version", "floor_wins"), [("2.17", False), ("2.99", True)])
def test_stdlib_c_sets_a_floor_under_the_elf_files(recipe, stdlib_version, floor_wins):
    """stdlib('c') is conda-forge's sysroot at c_stdlib_version, whose run_export is
    __glibc >=that; the ELF files may need more (the machine's glibc is newer)."""
    edit(
        recipe,
        "    - {{ compiler('c') }}\n",
        "    - {{ compiler('c') }}\n    - {{ stdlib('c') }}\n",
    )
    code, out = build(recipe, "--variant", "c_stdlib=sysroot", "--variant",
                      f"c_stdlib_version={stdlib_version}")  # fmt: skip
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert f"sysroot_linux-64 {stdlib_version}.*" in manifest["requirements"]["build"]
    elf = glibc_needed_by_readelf(out / "prefix" / "bin" / "hello")
    assert [s for s in run_of(out) if s.startswith("__glibc")] == [
        f"__glibc >={stdlib_version if floor_wins else elf},<3.0.a0"
    ]


def test_without_elf_files_only_the_stdlib_floor_remains(recipe):
    (recipe / "build.sh").write_text('mkdir -p "$PREFIX/share"\necho data > "$PREFIX/share/d"\n')
    meta = recipe / "meta.yaml"
    head = meta.read_text().split("  commands:\n")[0]
    meta.write_text(head + "  commands:\n    - test -f $PREFIX/share/d\n")
    code, out = build(recipe)
    assert code == 0
    assert not [s for s in run_of(out) if s.startswith("__glibc")]
    edit(
        recipe,
        "    - {{ compiler('c') }}\n",
        "    - {{ compiler('c') }}\n    - {{ stdlib('c') }}\n",
    )
    code, out = build(recipe, "--variant", "c_stdlib=sysroot", "--variant", "c_stdlib_version=2.17")
    assert code == 0
    assert "__glibc >=2.17,<3.0.a0" in run_of(out)


# --- compiler runtimes ---------------------------------------------------------------


def test_compiler_c_exports_libgcc_and_cxx_adds_libstdcxx(recipe):
    code, out = build(recipe)
    assert code == 0
    assert [s for s in run_of(out) if s.startswith("lib")] == [f"libgcc >={GCC_MAJOR}"]
    edit(recipe, "    - {{ compiler('c') }}\n",
         "    - {{ compiler('c') }}\n    - {{ compiler('cxx') }}\n")  # fmt: skip
    code, out = build(recipe, "--variant", f"cxx_compiler_version={GCC_MAJOR}")
    assert code == 0
    assert [s for s in run_of(out) if s.startswith("lib")] == [
        f"libgcc >={GCC_MAJOR}",  # once, though both compilers export it
        f"libstdcxx >={GCC_MAJOR}",
    ]


def test_a_compiler_only_in_test_requires_exports_nothing(recipe):
    edit(recipe, "requirements:\n  build:\n    - {{ compiler('c') }}\n",
         "requirements:\n  build:\n    - make\n")  # fmt: skip
    edit(recipe, "test:\n", "test:\n  requires:\n    - {{ compiler('c') }}\n")
    code, out = build(recipe)
    assert code == 0
    assert not [s for s in run_of(out) if s.startswith("libgcc")]


def test_ignore_run_exports_drops_a_compiler_runtime(recipe, capsys):
    edit(recipe, "  number: 0\n", "  number: 0\n  ignore_run_exports:\n    - libgcc\n")
    code, out = build(recipe)
    assert code == 0
    assert not [s for s in run_of(out) if s.startswith("libgcc")]
    assert f"run_export libgcc >={GCC_MAJOR} of gcc_linux-64 ignored" in capsys.readouterr().out


def test_a_machine_compiler_newer_than_configured_is_refused(recipe, capsys):
    older = str(int(GCC_MAJOR) - 1)
    code, _ = build(recipe, "--variant", f"c_compiler_version={older}")
    assert code == 1
    err = capsys.readouterr().err
    assert f"the machine's gcc is version {GCC_MAJOR}, newer than c_compiler_version {older}" in err
    assert f"set c_compiler_version: {GCC_MAJOR}" in err
    assert not (recipe.parent / "build-runs.log").exists()


# --- host libraries from the machine -------------------------------------------------


@pytest.fixture
def fake_x264(tmp_path, monkeypatch):
    """pkg-config sees only an x264 0.164.3095 (Debian bookworm's) and nothing else."""
    if not shutil.which("pkg-config"):
        pytest.skip("needs pkg-config")
    pc = tmp_path / "pkgconfig"
    pc.mkdir()
    (pc / "x264.pc").write_text(X264_PC)
    monkeypatch.setenv("PKG_CONFIG_LIBDIR", str(pc))
    monkeypatch.delenv("PKG_CONFIG_PATH", raising=False)
    return pc


def test_x264_from_the_machine_becomes_conda_forges_versioned_depends(recipe, fake_x264, capsys,
                                                                      tmp_path):  # fmt: skip
    assert host_library_version(HOST_LIBRARIES["x264"]) == "1!164.3095"
    edit(recipe, "requirements:\n", "requirements:\n  host:\n    - x264\n")
    code, out = build(recipe)
    assert code == 0, capsys.readouterr().err
    assert "x264 >=1!164.3095,<1!165" in run_of(out)
    printed = capsys.readouterr().out
    assert ("host: run_export of x264: x264 >=1!164.3095,<1!165 (the machine's libx264-dev "
            "(pkg-config x264: 1!164.3095) stands in for x264 1!164.3095)") in printed  # fmt: skip
    assert "x264 >=1!164.3095,<1!165" in (out / "build.log").read_text()

    # Packed and installed offline: the solver is offered the machine's x264 ...
    config = recipe.parents[1] / "conda_build_config.yaml"
    root = recipe.parents[1] / ".build"
    assert main(["pack", str(recipe), "-m", str(config), "--root", str(root)]) == 0
    records = channel.install(root / "channel", ["hello"], tmp_path / "env")
    assert [r.name.normalized for r in records] == ["hello"]
    # ... and without it, nothing satisfies the package's x264 requirement.
    (fake_x264 / "x264.pc").unlink()
    with pytest.raises(BuildError, match=r"(?s)cannot satisfy hello.*x264"):
        channel.install(root / "channel", ["hello"], tmp_path / "env2")


def test_a_missing_machine_library_names_its_debian_package(recipe, fake_x264, capsys):
    (fake_x264 / "x264.pc").unlink()
    edit(recipe, "requirements:\n", "requirements:\n  host:\n    - x264\n")
    code, _ = build(recipe)
    assert code == 1
    err = capsys.readouterr().err
    assert "host requirement x264 comes from the machine offline, as Debian's libx264-dev" in err
    assert "apt-get install libx264-dev" in err
    assert not (recipe.parent / "build-runs.log").exists()
    assert main(["machine-deps"]) == 0
    missing = capsys.readouterr().out.split()
    # pkg-config finds nothing here: every library it versions is missing.
    assert {"libx264-dev", "libx265-dev", "libopenh264-dev", "zlib1g-dev"} <= set(missing)
    assert missing == [lib.debian for lib in HOST_LIBRARIES.values() if lib.debian in missing]


def test_ignore_run_exports_from_a_machine_library(recipe, fake_x264, capsys):
    edit(recipe, "requirements:\n", "requirements:\n  host:\n    - x264\n")
    edit(recipe, "  number: 0\n", "  number: 0\n  ignore_run_exports_from:\n    - x264\n")
    code, out = build(recipe)
    assert code == 0
    assert not [s for s in run_of(out) if s.startswith("x264")]
    assert (
        "run_export x264 >=1!164.3095,<1!165 of x264 ignored (build/ignore_run_exports_from)"
        in (capsys.readouterr().out)
    )


@pytest.mark.parametrize(
    ("debian", "upstream"),
    [
        ("2.12.1+dfsg-5+deb12u4", "2.12.1"),
        ("1.0.8-5+b1", "1.0.8"),
        ("3.100-6", "3.100"),
        ("1:9f-2", "9f"),
        ("2:0.164.3095+gitbaee400-3", "0.164.3095"),
        ("5.4.1", "5.4.1"),  # a native package: no revision
        ("1.2.3~rc1-1", "1.2.3"),
    ],
)
def test_debian_upstream_version(debian, upstream):
    assert debian_upstream(debian) == upstream


@pytest.fixture
def fake_dpkg(tmp_path, monkeypatch):
    """dpkg-query answers for libfreetype-dev from a file the test writes."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    answer = tmp_path / "dpkg-answer"
    (bin_dir / "dpkg-query").write_text(
        f'#!/bin/sh\ncase "$*" in *libfreetype-dev*) cat "{answer}" ;; *) exit 1 ;; esac\n'
    )
    (bin_dir / "dpkg-query").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return answer


def test_a_library_without_pkg_config_takes_the_debian_packages_version(fake_dpkg):
    freetype = HOST_LIBRARIES["freetype"]
    fake_dpkg.write_text("installed 2.12.1+dfsg-5+deb12u4")
    assert host_library_version(freetype) == "2.12.1"
    fake_dpkg.write_text("config-files 2.12.1+dfsg-5+deb12u4")  # removed, not purged
    assert host_library_version(freetype) is None
    fake_dpkg.unlink()
    assert host_library_version(freetype) is None


def test_run_exports_naming_other_packages_are_offered_by_the_machine(
    recipe, fake_x264, fake_dpkg, capsys, tmp_path
):
    """freetype's run_exports name libfreetype and libfreetype6, not freetype: the
    packed depends carry both, and the solver finds the machine's under those names."""
    fake_dpkg.write_text("installed 2.12.1+dfsg-5+deb12u4")
    edit(recipe, "requirements:\n", "requirements:\n  host:\n    - freetype\n")
    code, out = build(recipe)
    assert code == 0, capsys.readouterr().err
    assert {"libfreetype >=2.12.1", "libfreetype6 >=2.12.1"} <= set(run_of(out))
    assert "(dpkg libfreetype-dev: 2.12.1) stands in for freetype 2.12.1" in capsys.readouterr().out
    config = recipe.parents[1] / "conda_build_config.yaml"
    root = recipe.parents[1] / ".build"
    assert main(["pack", str(recipe), "-m", str(config), "--root", str(root)]) == 0
    records = channel.install(root / "channel", ["hello"], tmp_path / "env")
    assert [r.name.normalized for r in records] == ["hello"]
    fake_dpkg.unlink()  # no freetype on the machine: nothing provides libfreetype6
    with pytest.raises(BuildError, match=r"(?s)cannot satisfy hello.*libfreetype"):
        channel.install(root / "channel", ["hello"], tmp_path / "env2")


def test_dav1d_exports_the_runtime_named_after_its_soname(fake_x264, tmp_path):
    libdir = tmp_path / "lib"
    libdir.mkdir()
    (libdir / "libdav1d.so.6.6.0").write_bytes(b"")
    (libdir / "libdav1d.so").symlink_to("libdav1d.so.6.6.0")
    (fake_x264 / "dav1d.pc").write_text(
        f"libdir={libdir}\nName: dav1d\nDescription: stand-in\nVersion: 1.0.0\nLibs:\nCflags:\n"
    )
    dav1d = HOST_LIBRARIES["dav1d"]
    assert host_library_version(dav1d) == "1.0.0"
    assert dav1d.run_export("1.0.0") == ("libdav1d6 >=1.0.0,<2.0a0",)
    (libdir / "libdav1d.so").unlink()
    with pytest.raises(BuildError, match="soname"):
        dav1d.run_export("1.0.0")


def test_python_in_host_exports_its_abi_as_conda_forges_python_does(recipe, capsys, tmp_path):
    """python-feedstock's weak run_export: python_abi <major.minor>.* *_cp<XY>; the
    solver is offered the machine's, with the ABI tag in its build string."""
    abi = f"{sys.version_info.major}.{sys.version_info.minor}"
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    edit(recipe, "requirements:\n", "requirements:\n  host:\n    - python\n")
    code, out = build(recipe)
    assert code == 0, capsys.readouterr().err
    assert f"python_abi {abi}.* *_{tag}" in run_of(out)
    config = recipe.parents[1] / "conda_build_config.yaml"
    root = recipe.parents[1] / ".build"
    assert main(["pack", str(recipe), "-m", str(config), "--root", str(root)]) == 0
    records = channel.install(root / "channel", ["hello"], tmp_path / "env")
    assert [r.name.normalized for r in records] == ["hello"]
    abi_package = next(p for p in channel.machine_packages() if p.name.normalized == "python_abi")
    assert str(abi_package.build_string) == f"0_{tag}"
