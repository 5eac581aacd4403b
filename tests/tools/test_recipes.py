"""The real recipes, rendered only (never built here): every variant's tests can
fail under conda-build's `set -ex`, and the LGPL FFmpeg's proofs really fail on a
build that has GPL code."""

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
