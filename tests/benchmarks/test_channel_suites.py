"""The suites on our channel's packages: the two OpenCV builds in the JPEG suite and
our OpenCV's thread types in the video suite. Slow: they need the whole channel and
the benchmark environments (bash tools/run.sh test-slow installs them)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks import datasets, environments
from benchmarks.jpeg import contenders, runners
from benchmarks.jpeg import report as jpeg_report
from benchmarks.jpeg import suite as jpeg_suite
from benchmarks.video import frames, readers
from benchmarks.video import report as video_report
from benchmarks.video import suite as video_suite

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def photo_bgr():
    photo = datasets.embedded_photos(1)[0]
    return datasets.sixteen_by_nine(photo, (480, 270))[0]


def ppm_pixels(data: bytes) -> np.ndarray:
    """A binary PPM's pixels (the header ends at one whitespace byte after maxval)."""
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
    assert header, data[:20]
    width, height = int(header[1]), int(header[2])
    return np.frombuffer(data[header.end() :], np.uint8).reshape(height, width, 3)


def test_the_ijg_opencv_names_libjpeg_9f_and_decodes_as_its_djpeg(photo_bgr, tmp_path):
    """Our OpenCV built on IJG libjpeg: its build line names 9f, and imdecode gives the
    pixels of IJG's own djpeg from the same environment, bit for bit."""
    runner = runners.start("opencv-ijg")
    try:
        described = runner.describe()
        assert "IJG libjpeg 9f" in described.extra["jpeg"]
        assert described.extra["build"].startswith("ijg_")
        assert str(environments.get("bench-ijg").site_packages) in described.process
        jpeg = contenders.make("turbojpeg").encode(photo_bgr, 90)
        runner.load([(("p", "s"), photo_bgr, {90: jpeg})])
        _, decoded = runner.roundtrip(("p", "s"), 90)  # its own encode, then its decode
        assert decoded.shape == photo_bgr.shape
        djpeg = environments.get("bench-ijg").executable("djpeg")
        source = tmp_path / "in.jpg"
        source.write_bytes(runner.encode(("p", "s"), 90))
        reference = ppm_pixels(subprocess.run([djpeg, "-ppm", source], capture_output=True,
                                              check=True).stdout)  # fmt: skip
        assert np.array_equal(reference[:, :, ::-1], decoded)
    finally:
        runner.close()


def test_the_turbo_opencv_is_ours_and_not_the_wheel():
    runner = runners.start("opencv-turbo")
    try:
        described = runner.describe()
        assert "libjpeg-turbo 3.1.3" in described.extra["jpeg"]
        assert described.extra["build"].startswith("turbo_")
        assert str(environments.get("bench").site_packages) in described.extra["cv2"]
    finally:
        runner.close()


def test_a_tiny_jpeg_run_with_both_opencv_builds_and_the_wheel(tmp_path):
    config = jpeg_suite.Config(
        photos=datasets.embedded_photos(1),
        sizes={"320x180": (320, 180)},
        qualities=(95,),  # the photo is textured: q80 at 320x180 is below the SSIM flag
        contenders=("turbojpeg", "opencv-turbo", "opencv-ijg", "opencv-wheel"),
        rounds=2,
        out=tmp_path / "jpeg",
        command=["test"],
    )
    folder = jpeg_suite.run(config)
    text = jpeg_report.write([folder]).read_text()
    rounds = pd.read_csv(folder / "rounds.csv")
    assert set(rounds["contender"]) == set(config.contenders)
    provenance = json.loads((folder / "provenance.json").read_text())
    assert provenance["skipped"] == {}
    described = provenance["contenders"]
    processes = {n: c["process"] for n, c in described.items()}
    assert processes["opencv-wheel"] == processes["turbojpeg"] == "its own"
    assert processes["opencv-turbo"] != processes["opencv-ijg"]
    # Each process mapped its own JPEG codec: each build's imgcodecs (its libjpeg is
    # linked in) from its own environment, and nothing else with one.
    for name, role in (("opencv-turbo", "bench"), ("opencv-ijg", "bench-ijg")):
        files, prefix = described[name]["mapped"], os.path.realpath(environments.get(role).prefix)
        assert any(Path(f).name.startswith("libopencv_imgcodecs") for f in files), files
        assert all(os.path.realpath(f).startswith(prefix + os.sep) for f in files), files
    assert not any(
        "imgcodecs" in f or "turbojpeg" in f for f in described["opencv-wheel"]["mapped"]
    )
    claim = next(line for line in text.splitlines() if "opencv-turbo vs opencv-ijg" in line)
    assert "not measured" not in claim
    quality = pd.read_csv(folder / "quality.csv")
    assert not quality["flagged"].any()


def tiny_video_run(tmp_path, names: tuple[str, ...]):
    """The video suite on a tiny colour recording, encoded by the bench environment's
    ffmpeg, with these readers; returns the run's folder."""
    config = video_suite.Config(
        recordings=[frames.Recording("tiny", 320, 180, True, frames=24)],
        ffmpeg=str(environments.get("bench").executable("ffmpeg")),
        readers=names,
        random_frames=6,
        cold_frames=1,
        adversarial_set=False,
        timeout=120,
        out=tmp_path / "video",
        command=["test"],
    )
    return video_suite.run(config)


def test_a_tiny_video_run_with_the_thread_type_readers(tmp_path):
    names = ("indexed", "opencv-frame", "opencv-slice", "opencv-1thread", "opencv-wheel")
    folder = tiny_video_run(tmp_path, names)
    text = video_report.write([folder]).read_text()
    assert (folder / "thread_type.png").stat().st_size > 0
    assert "## Our OpenCV's decoder thread type" in text
    accuracy = pd.read_csv(folder / "accuracy.csv")
    assert set(accuracy["reader"]) == set(names)
    ours = accuracy[
        accuracy["reader"].str.startswith("opencv-") & (accuracy["reader"] != "opencv-wheel")
    ]
    assert (ours["checked"] > 0).all()
    assert (ours["sequential_fps"] > 0).all()
    # FFmpeg's own report of the thread type in use: 0 with one thread, never slice on frame.
    active = ours.groupby("reader")["active_thread_type"].agg(set)
    assert active["opencv-1thread"] == {0}
    assert 2 not in active["opencv-frame"]
    provenance = json.loads((folder / "provenance.json").read_text())
    assert provenance["ffmpeg"]["path"].startswith(str(environments.get("bench").prefix))
    assert readers.READERS["opencv-frame"].unavailable() is None


def test_pyav_and_framereader_run_on_our_ffmpeg_beside_the_wheels(tmp_path):
    """pyav-naive and indexed load the bench environment's libavcodec (our PyAV on our
    FFmpeg); pyav-wheel and indexed-pyav-wheel the one PyAV's wheel bundles. Both are
    recorded per cell, and the report sets the pairs side by side."""
    names = ("indexed", "indexed-pyav-wheel", "pyav-naive", "pyav-wheel")
    folder = tiny_video_run(tmp_path, names)
    accuracy = pd.read_csv(folder / "accuracy.csv")
    assert set(accuracy["reader"]) == set(names)
    assert (accuracy["wrong"] == 0).all()
    ours = str(environments.get("bench").prefix.resolve())
    for reader, loaded in accuracy.groupby("reader")["libavcodec"].agg(set).items():
        (library,) = loaded
        on_ours = os.path.realpath(library).startswith(ours)
        assert on_ours is (reader in ("indexed", "pyav-naive")), (reader, library)
    text = video_report.write([folder]).read_text()
    assert "## Our FFmpeg against the PyAV wheel's" in text
    assert "- indexed loaded: libavcodec " in text
