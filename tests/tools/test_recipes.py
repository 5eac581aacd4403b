"""The real recipes, rendered only (never built here): every variant's tests can
fail under conda-build's `set -ex`, and the LGPL FFmpeg's proofs really fail on a
build that has GPL code."""

import re
import subprocess
from pathlib import Path

import pytest

from tools.offline_build.render import load_variant_values, recipe_variants, render_recipe
from tools.offline_build.testing import check_commands, negated_pipelines

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "conda_build_config.yaml"
RECIPES = sorted(p for p in (ROOT / "recipes").iterdir() if (p / "meta.yaml").is_file())


def variants(recipe):
    return recipe_variants(recipe, load_variant_values(CONFIG, {}))


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_no_recipe_test_line_is_refused(recipe):
    for variant in variants(recipe):
        check_commands(render_recipe(recipe, variant))


def lgpl_commands():
    variant = {k: v[0] for k, v in load_variant_values(CONFIG, {"license_family": "lgpl"}).items()}
    r = render_recipe(ROOT / "recipes" / "ffmpeg", variant)
    return [str(c) for c in r.meta["test"]["commands"]]


def the_line(words):
    (line,) = [c for c in lgpl_commands() if all(w in c for w in words)]
    assert not negated_pipelines(line)
    return line


def run(line, cwd, env=None):
    """The line as conda-build runs it: in a bash script under set -ex."""
    script = f"set -ex\n{line}\necho the-script-went-on\n"
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    return proc.returncode == 0 and "the-script-went-on" in proc.stdout


ENCODERS_GPL = """\
Encoders:
 V....D ffv1                 FFmpeg video codec #1
 V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
"""
ENCODERS_LGPL = """\
Encoders:
 V....D ffv1                 FFmpeg video codec #1
 V....D mjpeg                MJPEG (Motion JPEG)
"""


@pytest.mark.parametrize(("encoders", "passes"), [(ENCODERS_GPL, False), (ENCODERS_LGPL, True)])
def test_the_lgpl_encoder_proof_fails_when_libx264_is_listed(encoders, passes, tmp_path):
    line = the_line(["encoders.txt", "libx264"])
    (tmp_path / "encoders.txt").write_text(encoders)
    assert run(line, tmp_path) is passes


LDD_GPL = "\tlibx264.so.164 => /usr/lib/x86_64-linux-gnu/libx264.so.164 (0x00007f)\n"
LDD_LGPL = "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n"


@pytest.mark.parametrize(("linked", "passes"), [(LDD_GPL, False), (LDD_LGPL, True)])
def test_the_lgpl_link_proof_fails_when_a_gpl_library_is_linked(linked, passes, tmp_path):
    """The ldd line, with a stand-in ldd that prints what a GPL or an LGPL build links."""
    line = the_line(["ldd", "x264"])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ldd").write_text(f"#!/bin/sh\ntest -n \"$1\" && cat <<'EOF'\n{linked}EOF\n")
    (bin_dir / "ldd").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "PREFIX": str(tmp_path)}
    assert run(line, tmp_path, env) is passes


def test_the_old_negated_forms_could_not_fail(tmp_path):
    """What the recipe had: with libx264 listed, bash -e goes on regardless."""
    (tmp_path / "encoders.txt").write_text(ENCODERS_GPL)
    old = "! grep -q -E 'libx264|libx265' encoders.txt"
    assert negated_pipelines(old)
    assert run(old, tmp_path)


def configure_args(tmp_path, **env):
    """The arguments recipes/ffmpeg/build.sh gives configure, with stand-ins for
    configure and make."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "configure").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > configure.args\n')
    (work / "configure").chmod(0o755)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "make").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "make").chmod(0o755)
    base = {
        "PATH": f"{bin_dir}:/usr/bin:/bin", "PREFIX": str(tmp_path / "prefix"), "CPU_COUNT": "2",
        "CC": "x86_64-conda-linux-gnu-cc", "CXX": "x86_64-conda-linux-gnu-c++",
        "NM": "x86_64-conda-linux-gnu-nm", "AR": "x86_64-conda-linux-gnu-ar",
        "RANLIB": "x86_64-conda-linux-gnu-ranlib", "target_platform": "linux-64",
        "license_family": "lgpl",
    }  # fmt: skip
    subprocess.run(["bash", str(ROOT / "recipes" / "ffmpeg" / "build.sh")], cwd=work,
                   env={**base, **env}, check=True, capture_output=True)  # fmt: skip
    return (work / "configure.args").read_text().splitlines()


def test_ffmpeg_configure_gets_condas_toolchain(tmp_path):
    args = configure_args(tmp_path)
    for flag in ("--cc=x86_64-conda-linux-gnu-cc", "--cxx=x86_64-conda-linux-gnu-c++",
                 "--nm=x86_64-conda-linux-gnu-nm", "--ar=x86_64-conda-linux-gnu-ar",
                 "--ranlib=x86_64-conda-linux-gnu-ranlib", "--disable-autodetect",
                 "--enable-libopenh264", "--enable-libdav1d", "--disable-gpl"):  # fmt: skip
        assert flag in args
    assert any(a.startswith("--pkg-config=/") for a in args)
    assert not [a for a in args if "cross" in a or "x264" in a]


def test_ffmpeg_cross_build_names_ffmpegs_arch(tmp_path):
    args = configure_args(tmp_path, CONDA_BUILD_CROSS_COMPILATION="1", target_platform="osx-arm64",
                          HOST="arm64-apple-darwin20.0.0", CC_FOR_BUILD="clang",
                          license_family="gpl")  # fmt: skip
    for flag in ("--enable-cross-compile", "--target-os=darwin", "--arch=aarch64",
                 "--cross-prefix=arm64-apple-darwin20.0.0-", "--host-cc=clang",
                 "--enable-gpl", "--enable-libx264"):  # fmt: skip
        assert flag in args


def test_ffmpeg_hardware_paths_are_linux_only(tmp_path):
    (tmp_path / "linux").mkdir()
    linux = configure_args(tmp_path / "linux")
    for flag in ("--enable-vaapi", "--enable-ffnvcodec", "--enable-nvenc", "--enable-nvdec",
                 "--enable-cuvid", "--enable-version3", "--enable-openssl", "--enable-gmp"):  # fmt: skip
        assert flag in linux
    (tmp_path / "osx").mkdir()
    osx = configure_args(tmp_path / "osx", target_platform="osx-64")
    assert not [a for a in osx if re.search(r"vaapi|nvenc|nvdec|cuvid|ffnvcodec|cuda", a)]
    assert "--enable-version3" in osx


def test_every_ffmpeg_library_flag_has_a_host_requirement():
    """Each --enable-lib<x> in build.sh is backed by a host requirement in meta.yaml
    (the hermetic host would fail the build otherwise; this says which, earlier)."""
    meta = (ROOT / "recipes" / "ffmpeg" / "meta.yaml").read_text()
    host = re.search(r"^  host:\n((?:    .*\n|\s*#.*\n)+)", meta, re.MULTILINE).group(1)
    declared = set(re.findall(r"^    - ([\w.-]+)", host, re.MULTILINE))
    flags = re.findall(r"--enable-(lib\w+)", (ROOT / "recipes" / "ffmpeg" / "build.sh").read_text())
    # FFmpeg's flag -> conda-forge's host name where they differ
    package = {"libopenh264": "openh264", "libdav1d": "dav1d-dev", "libaom": "aom",
               "libmp3lame": "lame", "libfreetype": "freetype", "libfontconfig": "fontconfig",
               "libharfbuzz": "harfbuzz", "libxml2": "libxml2-devel", "libwebp": "libwebp-base",
               "libsvtav1": "svt-av1", "libx264": "x264", "libx265": "x265"}  # fmt: skip
    missing = sorted({package.get(f, f) for f in flags} - declared)
    assert not missing, f"build.sh enables {missing} without a host requirement"
    assert {"openssl", "gmp", "libva", "ffnvcodec-headers"} <= declared
