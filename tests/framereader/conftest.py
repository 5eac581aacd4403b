"""Fixtures: the videos of ``media.py``, made once per session, and their ground truth."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.video import adversarial, codecs
from benchmarks.video.frames import Recording
from tests.framereader.media import (
    DERIVED_FROM,
    EVERY_FILE,
    EXTRA,
    FRAMES,
    HEIGHT,
    OPEN_GOP,
    SMALL,
    SUITE_FRAMES,
    WIDTH,
    cut_at_second_keyframe,
    ffmpeg,
    frame_hash,
    sequential_frames,
)


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, Path]:
    if shutil.which("ffmpeg") is None:
        pytest.fail("the framereader tests need the ffmpeg CLI to make their videos")
    folder = tmp_path_factory.mktemp("framereader-videos")
    made: dict[str, Path] = {}
    for kind in ("color", "gray"):
        recording = Recording(f"fr-{kind}", WIDTH, HEIGHT, kind == "color", SUITE_FRAMES, seed=5)
        for encoding in codecs.ENCODINGS:
            path = folder / f"{encoding.name}-{kind}{encoding.extension}"
            codecs.encode_ffmpeg(recording, encoding, path, threads=1)
            made[path.name] = path
    for item in adversarial.make_adversarial(
        folder / "adversarial", width=WIDTH, height=HEIGHT, frames=FRAMES
    ):
        made[item.name] = item.path
    for name, args in EXTRA.items():
        made[name] = folder / name
        ffmpeg(*SMALL, "-frames:v", str(FRAMES), *args, made[name])
    ffmpeg(*SMALL, "-frames:v", "60", *OPEN_GOP, "-f", "mpegts", folder / "opengop.ts")
    made["opengop-cut.ts"] = folder / "opengop-cut.ts"
    cut_at_second_keyframe(folder / "opengop.ts", made["opengop-cut.ts"])
    made["editlist-bframes.mp4"] = folder / "editlist-bframes.mp4"
    ffmpeg("-ss", "0.6", "-i", made[DERIVED_FROM], "-c", "copy", made["editlist-bframes.mp4"])
    assert set(made) == set(EVERY_FILE)
    return made


@pytest.fixture(scope="session")
def truth(videos) -> Callable[..., list[str]]:
    """``truth(name, pixel_format="BGR")``: the hashes of a sequential decode (cached)."""
    known: dict[tuple[str, str], list[str]] = {}

    def hashes(name: str, pixel_format: str = "BGR") -> list[str]:
        if (name, pixel_format) not in known:
            frames = sequential_frames(videos[name], pixel_format)
            known[name, pixel_format] = [frame_hash(f) for f in frames]
        return known[name, pixel_format]

    return hashes


@pytest.fixture
def copy_of(videos, tmp_path) -> Callable[[str], Path]:
    """``copy_of(name)``: the video copied into this test's own folder (for cache tests)."""

    def copy(name: str, as_name: str | None = None) -> Path:
        target = tmp_path / (as_name or name)
        shutil.copy(videos[name], target)
        return target

    return copy
