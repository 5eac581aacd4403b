"""The recipes' platform selectors. Our runner builds linux-64 only, but it renders
with conda-build's selector names, so here it renders every recipe for osx-64 and
osx-arm64 too (the names conda-build gives those platforms) and checks what each
selects: conda-forge's clang and macosx_deployment_target, and tests without ELF
tools (ldd, .so names, --whole-archive, sha256sum). On linux-64 the same files must
select none of the macOS lines."""

import re
from pathlib import Path

import pytest

from tools.offline_build import render
from tools.offline_build.render import load_variant_values, recipe_variants, render_recipe
from tools.offline_build.testing import check_commands

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted(p for p in (ROOT / "recipes").iterdir() if (p / "meta.yaml").is_file())
# conda-build's selector names (metadata.py, ns_cfg) on each platform.
MACOS = {
    "osx-64": {"linux": False, "unix": True, "x86_64": True, "linux64": False, "x86": True,
               "osx": True, "win": False, "aarch64": False, "arm64": False, "ppc64le": False,
               "target_platform": "osx-64"},
    "osx-arm64": {"linux": False, "unix": True, "x86_64": False, "linux64": False, "x86": False,
                  "osx": True, "win": False, "aarch64": False, "arm64": True, "ppc64le": False,
                  "target_platform": "osx-arm64"},
}  # fmt: skip
DEPLOYMENT_TARGET = {"osx-64": "11.0", "osx-arm64": "11.0"}  # as conda-forge builds FFmpeg
# test_cv2.py and test_av.py read /proc/self/maps and ELF files.
ELF_ONLY = re.compile(
    r"\bldd\b|\.so\b|\.so\.|--whole-archive|\bsha256sum\b|/proc/|test_cv2\.py \w"
    r"|test_av\.py"
)
HEADER_ONLY = {"ffnvcodec-headers"}  # no compiler in build, as conda-forge's recipe
MACOS_ONLY = re.compile(r"\botool\b|\.dylib\b|-force_load|\bshasum\b")


def rendered(platform_names=None, subdir="linux-64", monkeypatch=None):
    if platform_names is not None:
        monkeypatch.setattr(render, "PLATFORM_NAMES", platform_names)
        monkeypatch.setattr(render, "TARGET_PLATFORM", subdir)
    values = load_variant_values(ROOT / "conda_build_config.yaml", {})
    found = [render_recipe(recipe, variant) for recipe in RECIPES
             for variant in recipe_variants(recipe, values)]  # fmt: skip
    return [r for r in found if not r.skip]  # conda-build builds nothing for these


def commands_of(r) -> list[str]:
    """The test commands of every package the recipe makes (each output's)."""
    return [str(c) for p in r.packages for c in (p.meta.get("test") or {}).get("commands") or []]


def build_requirements(r) -> list[str]:
    return [str(s) for s in (r.meta.get("requirements") or {}).get("build") or []]


@pytest.mark.parametrize("subdir", sorted(MACOS))
def test_macos_selects_clang_the_deployment_target_and_no_elf_tools(subdir, monkeypatch):
    recipes = rendered(MACOS[subdir], subdir, monkeypatch)
    assert {r.name for r in recipes} == {"libjpeg-turbo", "jpeg", "ffmpeg", "av", "opencv",
                                         "accelerated-codecs"}  # fmt: skip
    for r in recipes:
        if r.noarch:  # built once, on linux-64, for every platform
            assert not build_requirements(r), (r.name, build_requirements(r))
            continue
        build = build_requirements(r)
        assert f"clang_{subdir} 18.*" in build, (r.name, build)
        assert f"macosx_deployment_target_{subdir} {DEPLOYMENT_TARGET[subdir]}.*" in build
        assert not [s for s in build if re.match(r"(gcc|gxx|sysroot)_", s)], build
        assert ("nasm" in build) is (subdir == "osx-64" and r.name in ("libjpeg-turbo", "ffmpeg"))
        commands = commands_of(r)
        assert not [c for c in commands if ELF_ONLY.search(c)], (r.name, r.build_string)
        for package in r.packages:
            check_commands(package)  # every line can still fail under set -e
    turbo = [r for r in recipes if r.name == "libjpeg-turbo"]
    assert {r.build_string.split("_")[0] for r in turbo} == {"standard", "prefixed"}
    for r in turbo:
        assert any("libturbojpeg.0.dylib" in c for c in commands_of(r))
        assert any("-Wl,-force_load," in c for c in commands_of(r))
    lgpl = next(r for r in recipes if r.name == "ffmpeg" and r.variant["license_family"] == "lgpl")
    assert any(c.startswith("if otool -L ") for c in commands_of(lgpl))


def test_nvidias_headers_are_built_for_linux_only(monkeypatch):
    assert "ffnvcodec-headers" in {r.name for r in rendered()}
    for subdir, names in MACOS.items():
        assert "ffnvcodec-headers" not in {r.name for r in rendered(names, subdir, monkeypatch)}


def test_linux_selects_none_of_the_macos_lines():
    for r in rendered():
        if r.noarch or r.name in HEADER_ONLY:
            continue
        build = build_requirements(r)
        assert "gcc_linux-64 12.*" in build, (r.name, build)
        assert "sysroot_linux-64 2.17.*" in build, (r.name, build)
        assert not [c for c in commands_of(r) if MACOS_ONLY.search(c)], (r.name, r.build_string)
    lgpl = next(
        r for r in rendered() if r.name == "ffmpeg" and r.variant["license_family"] == "lgpl"
    )
    assert any(c.startswith("if ldd ") for c in commands_of(lgpl))


def test_opencv_hides_the_static_libjpeg_with_gnu_ld_only():
    script = (ROOT / "recipes" / "opencv" / "build.sh").read_text()
    assert 'if [[ "${target_platform}" == linux-* ]]; then' in script
    # conda's LDFLAGS first, ours appended: setting the CMake variable replaces them.
    assert 'linker_flags="${LDFLAGS:-}${jpeg_hiding:+ ${jpeg_hiding}}"' in script
    assert '-DCMAKE_SHARED_LINKER_FLAGS="${linker_flags}"' in script
    assert script.count("-Wl,--exclude-libs") == 1


# A compiler in a test command is the one conda's compiler packages activate: ${CC},
# ${CXX}. A bare cc, gcc or c++ is the machine's, which a conda test environment may
# not have at all.
BARE_COMPILER = re.compile(r"(?:^|[;&|(]\s*|\$\(\s*)(cc|gcc|g\+\+|c\+\+|clang|clang\+\+)\s")


@pytest.mark.parametrize("platform", ["linux-64", *sorted(MACOS)])
def test_no_test_command_calls_a_bare_compiler(platform, monkeypatch):
    names = MACOS.get(platform)
    for r in rendered(names, platform, monkeypatch) if names else rendered():
        for command in commands_of(r):
            found = BARE_COMPILER.search(command)
            assert not found, (
                f"{r.name}: {command!r} calls {found.group(1)}; use ${{CC}} or ${{CXX}}"
            )


def test_the_bare_compiler_check_can_fail():
    assert BARE_COMPILER.search("cc -shared -o x.so y.a")
    assert BARE_COMPILER.search("test -f x && g++ -o a a.cpp")
    assert not BARE_COMPILER.search("${CC} -shared -o x.so y.a")
    assert not BARE_COMPILER.search("ffmpeg -c:v libx264 -y out.mp4")
