"""End-to-end builds of the tiny recipe from conftest: real gcc, real patchelf."""

import json
import os
import shutil
import subprocess

import pytest

from tools.offline_build import BuildError, ccache
from tools.offline_build.__main__ import main
from tools.offline_build.build import extract
from tools.offline_build.relocate import relocate

from .conftest import GCC_MAJOR, glibc_needed_by_readelf, make_tarball

pytestmark = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("patchelf") and shutil.which("patch")),
    reason="needs gcc, patch and patchelf (apt-get install -y gcc patch patchelf)",
)

CONTRACT = [
    "PREFIX", "BUILD_PREFIX", "SRC_DIR", "RECIPE_DIR", "CPU_COUNT", "PKG_NAME", "PKG_VERSION",
    "PKG_BUILDNUM", "PKG_HASH", "PKG_BUILD_STRING", "target_platform", "build_platform",
    "SHLIB_EXT", "HOST", "CONDA_BUILD", "CONDA_BUILD_CROSS_COMPILATION", "CMAKE_ARGS",
]  # fmt: skip


def run_build(recipe, *extra):
    root = recipe.parents[1] / ".build"
    config = recipe.parents[1] / "conda_build_config.yaml"
    code = main(["build", str(recipe), "-m", str(config), "--root", str(root), *extra])
    return code, root / "hello"


def build_runs(recipe):
    log = recipe.parent / "build-runs.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_build_relocates_tests_and_writes_manifest(recipe, monkeypatch, capsys):
    monkeypatch.setenv("LD_LIBRARY_PATH", "/nonexistent")  # must not reach the tests
    monkeypatch.setenv("CXX", "/nonexistent/c++")  # the caller's toolchain must not leak in
    monkeypatch.setenv("CFLAGS", "-DCALLER_LEAK")
    code, base = run_build(recipe)
    assert code == 0, capsys.readouterr().err
    out = base / os.readlink(base / "current")
    prefix = (out / "prefix").resolve()
    assert (out / "DONE").is_file()
    assert len(out.name) == 12
    # Padded like conda-build's host prefix, so installs may replace it in binaries.
    assert len(str(prefix)) == 255
    assert prefix.name.startswith("prefix_placehold_placehold")

    env = dict(line.split("=", 1) for line in (prefix / "build-env.txt").read_text().splitlines()
               if "=" in line)  # fmt: skip
    assert all(key in env for key in CONTRACT), set(CONTRACT) - set(env)
    assert env["PREFIX"] == str(prefix)
    assert env["SRC_DIR"] == str(out / "work")
    assert env["RECIPE_DIR"] == str(recipe)
    assert env["PATH"].startswith(f"{prefix}/bin:")
    assert env["PKG_BUILD_STRING"] == f"plain_{env['PKG_HASH']}_0"
    assert env["SHLIB_EXT"] == ".so"
    assert env["CONDA_BUILD_CROSS_COMPILATION"] == "0"
    assert f"-DCMAKE_INSTALL_PREFIX={prefix} " in env["CMAKE_ARGS"]
    assert env["flavor"] == "plain"  # variant values are exported too
    # compiler('c')'s activation, naming the machine's programs; no C++ compiler asked for
    assert (env["CC"], env["AR"], env["NM"], env["RANLIB"]) == ("gcc", "ar", "nm", "ranlib")
    assert "CXX" not in env
    # ... and the flags that activation sets under conda-build, for this prefix
    assert env["CFLAGS"].startswith("-march=nocona -mtune=haswell -ftree-vectorize -fPIC ")
    assert f" -isystem {prefix}/include " in env["CFLAGS"]
    assert f" -fdebug-prefix-map={out / 'work'}=/usr/local/src/conda/hello-1.2.3 " in env["CFLAGS"]
    assert "CALLER_LEAK" not in env["CFLAGS"]
    assert env["CPPFLAGS"] == f"-DNDEBUG -D_FORTIFY_SOURCE=2 -O2 -isystem {prefix}/include"
    assert env["LDFLAGS"].endswith(f" -Wl,-rpath,{prefix}/lib -Wl,-rpath-link,{prefix}/lib "
                                   f"-L{prefix}/lib")  # fmt: skip
    assert "-Wl,--as-needed" in env["LDFLAGS"].split()
    assert "CXXFLAGS" not in env
    assert env["PKG_CONFIG_PATH"] == f"{prefix}/lib/pkgconfig"
    assert env["CPU_COUNT"] == str(os.cpu_count())

    def rpath(path):
        return subprocess.run(["patchelf", "--print-rpath", str(path)], capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip

    assert rpath(prefix / "bin" / "hello") == "$ORIGIN/../lib"
    assert rpath(prefix / "lib" / "libgreet.so") == "$ORIGIN"

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["name"] == "hello"
    assert manifest["version"] == "1.2.3"
    assert manifest["build_string"] == env["PKG_BUILD_STRING"]
    assert manifest["cache_key"] == out.name
    assert manifest["source"]["route"] == "url"
    # compiler('c') is gcc_linux-64, whose run_export is libgcc; the ELF files need glibc
    glibc = glibc_needed_by_readelf(prefix / "bin" / "hello", prefix / "lib" / "libgreet.so")
    assert manifest["requirements"] == {
        "build": [f"gcc_linux-64 {GCC_MAJOR}.*"],
        "run": [f"__glibc >={glibc},<3.0.a0", f"libgcc >={GCC_MAJOR}"],
    }
    files = {f["path"]: f for f in manifest["files"]}
    assert files["bin/hello"]["size"] == (prefix / "bin" / "hello").stat().st_size
    assert len(files["lib/libgreet.so"]["sha256"]) == 64
    assert manifest["has_prefix"]["text"] == ["build-env.txt"]

    assert "\n+ hello\n+ diff out.txt test/expected.txt\n" in (out / "test.log").read_text()
    assert "gcc -shared" in (out / "build.log").read_text()


def test_second_run_is_cached(recipe, capsys):
    assert run_build(recipe)[0] == 0
    capsys.readouterr()
    code, base = run_build(recipe)
    assert code == 0
    assert "cached:" in capsys.readouterr().out
    assert build_runs(recipe) == 1
    # another variant is another key; switching back is cached again
    assert run_build(recipe, "--variant", "flavor=fancy")[0] == 0
    assert build_runs(recipe) == 2
    assert len([p for p in base.iterdir() if not p.is_symlink()]) == 2
    assert run_build(recipe)[0] == 0
    assert build_runs(recipe) == 2


@pytest.mark.skipif(not ccache.wanted(), reason="needs Debian's ccache (apt-get install ccache)")
def test_second_variant_compiles_from_the_cache(recipe, capsys):
    # Both flavors compile the same two files with the same flags: the first build
    # fills <root>/ccache, the second, in another key directory, takes both from it.
    assert run_build(recipe)[0] == 0
    assert "compile cache: 0 of 2 compiles from the cache" in capsys.readouterr().out
    code, base = run_build(recipe, "--variant", "flavor=fancy")
    assert code == 0
    assert "compile cache: 2 of 2 compiles from the cache" in capsys.readouterr().out
    out = base / os.readlink(base / "current")
    env = (out / "prefix" / "build-env.txt").read_text()
    assert f"CCACHE_DIR={recipe.parents[1] / '.build' / 'ccache'}\n" in env
    # The objects from the cache make the same program.
    assert subprocess.run([out / "prefix" / "bin" / "hello"], capture_output=True, text=True,
                          check=True).stdout == "hello from greet\n"  # fmt: skip


def test_without_the_cache_ccache_is_disabled(recipe, monkeypatch, capsys):
    monkeypatch.setenv("OFFLINE_BUILD_CCACHE", "0")
    code, base = run_build(recipe)
    assert code == 0
    assert "compile cache:" not in capsys.readouterr().out
    env = (base / "current" / "prefix" / "build-env.txt").read_text().splitlines()
    assert "CCACHE_DISABLE=1" in env  # so that no build system uses a ccache of its own
    assert not any(line.startswith("CCACHE_DIR=") for line in env)


def test_failing_test_command_fails_and_keeps_current(recipe, capsys):
    code, base = run_build(recipe)
    assert code == 0
    good = os.readlink(base / "current")
    stamp = (base / good / "DONE").read_text()
    meta = recipe / "meta.yaml"
    original = meta.read_text()
    meta.write_text(original + '    - test "$(hello)" = "something else"\n')
    capsys.readouterr()
    code, _ = run_build(recipe)
    captured = capsys.readouterr()
    assert code == 1
    assert 'error: test command failed (exit 1): test "$(hello)" = "something else"' in captured.err
    assert "Traceback" not in captured.err
    # Only the tests changed: the same build was tested again, not rebuilt.
    assert "(BUILT); the tests changed" in captured.out
    assert build_runs(recipe) == 1
    assert os.readlink(base / "current") == good
    assert (base / good / "DONE").read_text() == stamp  # still the last tests that passed
    assert "something else" in (base / good / "test.log").read_text()
    meta.write_text(original)
    assert run_build(recipe)[0] == 0
    assert "cached:" in capsys.readouterr().out
    assert build_runs(recipe) == 1


def test_test_changes_rerun_tests_and_build_changes_rebuild(recipe, capsys):
    code, base = run_build(recipe)
    assert code == 0
    first = os.readlink(base / "current")
    (recipe / "test" / "expected.txt").write_text("hello from somewhere else\n")
    capsys.readouterr()
    assert run_build(recipe)[0] == 1  # the changed expectation is checked ...
    assert build_runs(recipe) == 1  # ... without building again
    (recipe / "test" / "expected.txt").write_text("hello from greet\n")
    meta = recipe / "meta.yaml"
    meta.write_text(meta.read_text() + "    - test -x ${PREFIX}/bin/hello\n")
    assert run_build(recipe)[0] == 0
    assert "test: 5 commands passed" in capsys.readouterr().out
    assert build_runs(recipe) == 1
    assert os.readlink(base / "current") == first
    with open(recipe / "build.sh", "a") as fh:
        fh.write("true  # any change to the build script\n")
    assert run_build(recipe)[0] == 0
    assert build_runs(recipe) == 2
    assert os.readlink(base / "current") != first


def test_failing_build_script_is_reported(recipe, capsys):
    (recipe / "build.sh").write_text("echo about to fail\nfalse\necho not reached\n")
    code, base = run_build(recipe)
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: build.sh failed with exit code 1")
    assert not (base / "current").exists()


def test_patches_are_applied(recipe):
    (recipe / "fix-greeting.patch").write_text(
        "--- a/greet.c\n"
        "+++ b/greet.c\n"
        "@@ -1 +1 @@\n"
        '-const char *greeting(void) { return "hello from greet"; }\n'
        '+const char *greeting(void) { return "hello from a patch"; }\n'
    )
    meta = recipe / "meta.yaml"
    meta.write_text(
        meta.read_text().replace("build:\n", "  patches:\n    - fix-greeting.patch\nbuild:\n", 1)
    )
    (recipe / "test" / "expected.txt").write_text("hello from a patch\n")
    assert run_build(recipe)[0] == 0


def test_extract_can_take_a_nested_tree(tmp_path):
    archive = tmp_path / "sdist.tar.gz"
    make_tarball(archive, {"setup.py": "", "upstream/CMakeLists.txt": "project(x)\n"},
                 top="sdist-1.0")  # fmt: skip
    extract(archive, tmp_path / "work", "upstream")
    assert [p.name for p in (tmp_path / "work").iterdir()] == ["CMakeLists.txt"]
    with pytest.raises(BuildError, match=r"sdist\.tar\.gz has no missing/ directory"):
        extract(archive, tmp_path / "other", "missing")
    assert not (tmp_path / "other").exists()
    assert not (tmp_path / "other.unpack").exists()


def test_relocation_turns_an_rpath_into_the_prefix_into_one_origin_entry(tmp_path):
    # conda's LDFLAGS link with -Wl,-rpath,$PREFIX/lib; relocation makes that entry
    # $ORIGIN-relative, where it is the entry relocation adds anyway: one remains.
    prefix = tmp_path / "prefix"
    (prefix / "lib").mkdir(parents=True)
    (prefix / "bin").mkdir()
    (tmp_path / "f.c").write_text("int f(void) { return 1; }\n")
    (tmp_path / "main.c").write_text("int f(void);\nint main(void) { return f() - 1; }\n")
    rpath = f"-Wl,-rpath,{prefix}/lib"
    subprocess.run(["gcc", "-shared", "-fPIC", rpath, "-o", prefix / "lib" / "libf.so",
                    tmp_path / "f.c"], check=True)  # fmt: skip
    subprocess.run(["gcc", rpath, "-o", prefix / "bin" / "main", tmp_path / "main.c",
                    f"-L{prefix}/lib", "-lf"], check=True)  # fmt: skip
    relocate(prefix)

    def read(path):
        return subprocess.run(["patchelf", "--print-rpath", str(path)], capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip

    assert read(prefix / "lib" / "libf.so") == "$ORIGIN"
    assert read(prefix / "bin" / "main") == "$ORIGIN/../lib"
    moved = tmp_path / "moved"
    prefix.rename(moved)
    assert subprocess.run([moved / "bin" / "main"], check=False).returncode == 0
