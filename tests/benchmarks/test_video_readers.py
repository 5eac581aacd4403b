"""The reader adapters and the frame checker, on small videos made here.

Every test video comes from ``testsrc2`` plus temporal noise, so each frame is
distinct; the ground truth is a full sequential PyAV decode (a hash per
frame, BGR). The ``indexed`` adapter (``framereader``, tested on its own in
tests/framereader) must return exactly frame ``i`` for every ``i`` of every
file; the other readers are only required to run: their accuracy is what the
suite measures.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from benchmarks import environments
from benchmarks.__main__ import _video_left_out
from benchmarks.video import readers
from framereader import index_path

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg CLI")

FRAMES = 90
SIZE = (108, 192)  # height, width
SOURCE = [
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=192x108:rate=30,noise=alls=12:allf=t",
    "-frames:v",
    str(FRAMES),
]
X264 = ["-c:v", "libx264", "-crf", "18", "-bf", "3", "-g", "30"]
ENCODINGS = {
    "ffv1.mkv": ["-c:v", "ffv1"],
    "ffvhuff.mkv": ["-c:v", "ffvhuff"],
    "mjpeg.avi": ["-c:v", "mjpeg", "-q:v", "3"],
    "x264-lossless.mp4": ["-c:v", "libx264", "-qp", "0", "-g", "30"],
    "x264-bframes.mp4": X264,
    "x264-opengop.mkv": [
        "-c:v",
        "libx264",
        "-crf",
        "18",
        "-bf",
        "3",
        "-x264-params",
        "open-gop=1:keyint=30:min-keyint=30:scenecut=0",
    ],
    "h264.ts": [*X264, "-f", "mpegts"],
    "vfr.mkv": ["-vf", r"select='not(eq(mod(n\,7)\,3))'", "-fps_mode", "vfr", *X264],
    "shifted.mp4": [*X264, "-output_ts_offset", "5"],
}
# Made from the files above: an MPEG-TS cut at an open-GOP keyframe (its leading
# B-frame cannot be decoded), and an MP4 cut with -c copy (an edit list discards
# the packets before the cut point).
DERIVED = ("opengop-cut.ts", "editlist-cut.mp4")
FILES = (*ENCODINGS, *DERIVED)
EXACT = tuple(name for name in FILES if name != "mjpeg.avi")  # TurboJPEG is not FFmpeg's IDCT


def ffmpeg(*args: str | os.PathLike[str]) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *map(str, args)], check=True)


def cut_at_second_keyframe(source: Path, out: Path) -> None:
    """The bytes of an MPEG-TS from the TS packet holding its second keyframe on."""
    with av.open(str(source)) as container:
        keys = [p.pos for p in container.demux(video=0) if p.is_keyframe and p.size]
    data = source.read_bytes()
    out.write_bytes(data[keys[1] - keys[1] % 188 :])


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    paths = {name: folder / name for name in FILES}
    for name, args in ENCODINGS.items():
        ffmpeg(*SOURCE, *args, paths[name])
    ffmpeg(*SOURCE, *ENCODINGS["x264-opengop.mkv"], "-f", "mpegts", folder / "opengop.ts")
    cut_at_second_keyframe(folder / "opengop.ts", paths["opengop-cut.ts"])
    ffmpeg("-ss", "1.1", "-i", paths["x264-bframes.mp4"], "-c", "copy", paths["editlist-cut.mp4"])
    return paths


@pytest.fixture(scope="session")
def truth(videos) -> dict[str, list[str]]:
    hashes = {name: readers.sequential_hashes(path) for name, path in videos.items()}
    for name, frames in hashes.items():
        assert len(set(frames)) == len(frames), f"{name}: the test frames must be distinct"
    return hashes


def pyav_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def nearest(image: np.ndarray, frames: list[np.ndarray]) -> tuple[int, float]:
    distances = [np.abs(image.astype(np.int16) - f).mean() for f in frames]
    best = int(np.argmin(distances))
    return best, float(distances[best])


# -- the indexed reader -----------------------------------------------------------


def orders(count: int) -> dict[str, list[int]]:
    shuffled = list(range(count))
    random.Random(20240607).shuffle(shuffled)
    return {
        "random": shuffled,
        "forward": list(range(count)),
        "backward": list(range(count - 1, -1, -1)),
    }


@pytest.mark.parametrize("name", EXACT)
def test_the_indexed_reader_returns_every_frame_exactly(name, videos, truth):
    expected = truth[name]
    with readers.make_reader("indexed-pyav-wheel").open(videos[name]) as handle:
        assert handle.frame_count() == len(expected)
        for order, indices in orders(len(expected)).items():
            assert readers.check_frames(handle, expected, indices) == [], order


@pytest.mark.parametrize("name", ["ffv1.mkv", "h264.ts", "mjpeg.avi"])
def test_the_indexed_adapter_refuses_out_of_range_indices(name, videos):
    """Indices run from 0 to len - 1: -1 is out of range, not the last frame."""
    with readers.make_reader("indexed-pyav-wheel").open(videos[name]) as handle:
        n = handle.frame_count()
        for bad in (n, n + 10, -1, -n):
            with pytest.raises(IndexError, match="out of range"):
                handle.read(bad)
        with pytest.raises(TypeError):
            handle.read(1.0)
        assert handle.read(n - 1).shape == (*SIZE, 3)


def test_gray_video_comes_back_as_three_channels(tmp_path):
    video = tmp_path / "gray.mkv"
    ffmpeg(*SOURCE[:-2], "-frames:v", "10", "-pix_fmt", "gray", "-c:v", "ffv1", video)
    with readers.make_reader("indexed-pyav-wheel").open(video) as handle:
        image = handle.read(3)
    assert image.shape == (*SIZE, 3)
    assert image.dtype == np.uint8
    assert np.array_equal(image[:, :, 0], image[:, :, 2])


# -- the other adapters and the checker ----------------------------------------------


class OffByOne(readers.Reader):
    """A deliberately wrong reader: frame i + 1 for frame i."""

    def __init__(self, inner: readers.Reader):
        self.inner = inner

    def read(self, i):
        return self.inner.read(i + 1)


def test_check_frames_catches_a_reader_that_is_one_frame_off(videos, truth):
    expected = truth["ffv1.mkv"]
    last = len(expected) - 1
    with readers.make_reader("indexed-pyav-wheel").open(videos["ffv1.mkv"]) as inner:
        mismatches = readers.check_frames(OffByOne(inner), expected, [0, 10, last])
        assert readers.check_frames(inner, expected, [0, 10, last]) == []
    assert [(m.index, m.matched) for m in mismatches] == [(0, 1), (10, 11), (last, -1)]
    assert mismatches[-1].error.startswith("IndexError")
    assert mismatches[0].error is None


def test_check_frames_names_no_index_for_a_foreign_frame(truth):
    class Black(readers.Reader):
        def read(self, i):
            return np.zeros((*SIZE, 3), np.uint8)

    assert readers.check_frames(Black("-"), truth["ffv1.mkv"], [4]) == [readers.Mismatch(4, -1)]


@pytest.mark.parametrize("reader_name", ["opencv-wheel", "pyav-wheel"])
def test_the_common_readers_run_on_every_file(reader_name, videos, truth):
    """Their accuracy is measured by the suite, not asserted; they must not crash."""
    for name in FILES:
        expected = truth[name]
        indices = [0, len(expected) - 1, *random.Random(name).sample(range(len(expected)), 4)]
        with readers.make_reader(reader_name).open(videos[name]) as handle:
            assert handle.frame_count() > 0
            mismatches = readers.check_frames(handle, expected, indices)
            assert all(-1 <= m.matched < len(expected) for m in mismatches)


def test_pyav_naive_is_right_on_a_plain_file_and_wrong_on_a_shifted_one(videos, truth):
    with readers.make_reader("pyav-wheel").open(videos["ffv1.mkv"]) as handle:
        assert readers.check_frames(handle, truth["ffv1.mkv"], [0, 1, 44, 89, 7]) == []
    with readers.make_reader("pyav-wheel").open(videos["shifted.mp4"]) as handle:
        # it seeks to i / fps seconds, before the 5 s start, and gets frame 0 back
        mismatches = readers.check_frames(handle, truth["shifted.mp4"], [1, 44, 89])
    assert [(m.index, m.matched) for m in mismatches] == [(1, 0), (44, 0), (89, 0)]


def test_sequential_gives_every_frame_in_order(videos, truth):
    for reader_name in ("opencv-wheel", "pyav-wheel", "indexed-pyav-wheel"):
        with readers.make_reader(reader_name).open(videos["x264-bframes.mp4"]) as handle:
            assert readers.frame_hashes(handle.sequential()) == truth["x264-bframes.mp4"]


def test_the_exploded_jpeg_reader(videos, tmp_path):
    from turbojpeg import Turbojpeg

    tj = Turbojpeg()
    source = pyav_frames(videos["ffv1.mkv"])[:20]
    folder = tmp_path / "exploded"
    folder.mkdir()
    for i, image in enumerate(source):
        (folder / f"frame_{i:06d}.jpg").write_bytes(tj.encode(image, quality=92))
    gray = tmp_path / "gray"
    gray.mkdir()
    (gray / "frame_000000.jpg").write_bytes(
        tj.encode(np.ascontiguousarray(source[0][:, :, 1]), quality=92)
    )

    with readers.make_reader("exploded-jpeg").open(folder) as handle:
        assert handle.frame_count() == 20
        for i in (7, 0, 19):
            image = handle.read(i)
            assert image.shape == (*SIZE, 3)
            assert nearest(image, source)[0] == i
        for bad in (20, -1):
            with pytest.raises(IndexError):
                handle.read(bad)
        assert len(list(handle.sequential())) == 20
    with readers.make_reader("exploded-jpeg").open(gray) as handle:
        assert handle.read(0).shape == (*SIZE, 3)


def test_the_registry(videos):
    assert set(readers.READERS) == {
        "indexed",
        "opencv-wheel",
        "opencv-frame",
        "opencv-slice",
        "opencv-1thread",
        "pyav-naive",
        "pyav-wheel",
        "indexed-pyav-wheel",
        "indexed-1-decoder",
        "indexed-1-decoder-pyav-wheel",
        "decord",
        "torchcodec",
        "torchcodec-approximate",
        "video-reader-rs",
        "exploded-jpeg",
    }
    with pytest.raises(KeyError, match="known: indexed"):
        readers.make_reader("nope")
    for name, reader in readers.READERS.items():
        assert reader.name == name
        assert reader.description
        why = reader.unavailable()
        if why is None:
            assert readers.make_reader(name) is reader
        else:  # the reason names what is missing: the library, or the environment
            assert (reader.environment or name.split("-")[0]) in why, why
            with pytest.raises(readers.ReaderUnavailable):
                readers.make_reader(name)


def test_a_reader_says_what_input_it_takes(videos, tmp_path):
    folder = tmp_path / "exploded"
    folder.mkdir()
    video = videos["ffv1.mkv"]
    assert readers.ExplodedJpegReader.accepts(folder)
    assert not readers.ExplodedJpegReader.accepts(video)
    for name, reader in readers.READERS.items():
        if name != "exploded-jpeg":
            assert reader.accepts(video), name
            assert not reader.accepts(folder), name


def test_the_indexed_reader_forgets_its_cached_index_and_reports_its_build(videos, tmp_path):
    video = tmp_path / "clip.mkv"
    shutil.copy(videos["ffv1.mkv"], video)
    reader = readers.make_reader("indexed-pyav-wheel")
    reader.forget(video)  # nothing to forget yet
    with reader.open(video) as handle:
        built = handle.stats()
    assert set(built) == {"index_seconds"}
    assert built["index_seconds"] > 0
    assert index_path(video).exists()
    reader.forget(video)
    assert not index_path(video).exists()
    assert video.exists()
    with reader.open(video) as handle:
        assert not handle.reader.index_loaded  # a cold open builds the index again
        assert handle.stats()["index_seconds"] > 0


def test_readers_without_a_cache_forget_nothing_and_report_no_stats(videos, tmp_path):
    video = tmp_path / "clip.mkv"
    shutil.copy(videos["ffv1.mkv"], video)
    before = sorted(tmp_path.iterdir())
    for name in ("opencv-wheel", "pyav-wheel"):
        reader = readers.make_reader(name)
        reader.forget(video)
        with reader.open(video) as handle:
            assert handle.stats() == {}
    assert sorted(tmp_path.iterdir()) == before


# Only the optional readers installed here; a missing one's reason is checked above.
INSTALLED_OPTIONAL = [
    n
    for n in ("decord", "torchcodec", "torchcodec-approximate", "video-reader-rs")
    if readers.READERS[n].unavailable() is None
]


def test_channel_readers_run_in_the_bench_environment_with_their_thread_type():
    kinds = {n: readers.READERS[n] for n in ("opencv-frame", "opencv-slice", "opencv-1thread")}
    assert {r.environment for r in kinds.values()} == {"bench"}
    assert [r.thread_type for r in kinds.values()] == ["frame", "slice", "frame"]
    assert kinds["opencv-1thread"].threads == 1
    assert readers.READERS["opencv-wheel"].environment is None


@pytest.mark.parametrize("reader_name", INSTALLED_OPTIONAL)
def test_optional_readers_when_installed(reader_name, videos):
    """The right frame, by nearest neighbour: these libraries convert YUV to RGB with
    their own scaler settings, so pixels may differ from PyAV's by a few levels."""
    reader = readers.READERS[reader_name]
    path = videos["x264-bframes.mp4"]
    expected = pyav_frames(path)
    with reader.open(path) as handle:
        assert handle.frame_count() == FRAMES
        for i in (0, 45, 89, 3):
            found, distance = nearest(handle.read(i), expected)
            assert (found, distance < 3.0) == (i, True), (i, found, distance)
        with pytest.raises(IndexError):
            handle.read(-1)
        with pytest.raises(IndexError):
            handle.read(FRAMES)
        assert isinstance(handle.stats(), dict)
        _batch_equals_single_reads(handle)
        if "RGB" in reader.pixel_formats:  # the library's own RGB, which BGR reverses
            with reader.open(path, "RGB") as rgb:
                assert rgb.pixel_format == "RGB"
                assert np.array_equal(rgb.read(45), handle.read(45)[:, :, ::-1])
                batch = handle.read_many([3, 45])
                assert np.array_equal(rgb.read_many([3, 45]), batch[..., ::-1])


def _batch_equals_single_reads(handle) -> None:
    """A reader's batch call (the DataLoader benchmark's) gives what its reads give,
    in the order asked, repeats and backward steps included, and refuses what they refuse."""
    wanted = [45, 3, 46, 46, 89, 0]
    batch = handle.read_many(wanted)
    assert batch.shape[0] == len(wanted)
    for k, i in enumerate(wanted):
        assert np.array_equal(batch[k], handle.read(i)), (k, i)
    with pytest.raises(IndexError):
        handle.read_many([0, FRAMES])


def test_the_one_decoder_variant_is_framereader_with_one_decoder(videos, truth):
    name = "x264-bframes.mp4"
    indices = orders(FRAMES)["backward"] + [3, 80, 4, 81]  # back and forth between places
    with readers.make_reader("indexed-1-decoder-pyav-wheel").open(videos[name]) as handle:
        assert handle.reader.decoders == 1
        assert readers.check_frames(handle, truth[name], indices) == []
        assert readers.frame_hashes(handle.sequential()) == truth[name]
        assert handle.reader.stats()["decoders"] == 1  # never a second one opened
    with readers.make_reader("indexed-pyav-wheel").open(videos[name]) as handle:
        assert handle.reader.decoders > 1  # framereader's default: a pool


@pytest.mark.parametrize("reader_name", ["indexed-pyav-wheel", "indexed-1-decoder-pyav-wheel"])
def test_framereader_adapters_read_rgb_without_a_conversion_of_theirs(reader_name, videos):
    """RGB is framereader's own (``pixel_format="RGB"``): BGR's channels reversed."""
    path = videos["x264-bframes.mp4"]
    reader = readers.make_reader(reader_name)
    with reader.open(path) as bgr, reader.open(path, "RGB") as rgb:
        assert (bgr.pixel_format, rgb.pixel_format) == ("BGR", "RGB")
        assert rgb.reader.pixel_format == "RGB"
        for i in (45, 3):
            assert np.array_equal(rgb.read(i), bgr.read(i)[:, :, ::-1]), i
        assert np.array_equal(rgb.read_many([5, 2]), bgr.read_many([5, 2])[..., ::-1])
        assert np.array_equal(next(rgb.sequential()), next(bgr.sequential())[:, :, ::-1])


def test_a_reader_refuses_a_pixel_format_it_does_not_list(videos):
    path = videos["ffv1.mkv"]
    for name in ("opencv-wheel", "pyav-wheel", "exploded-jpeg"):
        assert readers.READERS[name].pixel_formats == ("BGR",)
        with pytest.raises(ValueError, match=f"{name} reads BGR frames, not 'RGB'"):
            readers.READERS[name].open(path, "RGB")
    with pytest.raises(ValueError, match="reads BGR or RGB frames, not 'GRAY'"):
        readers.READERS["indexed-pyav-wheel"].open(path, "GRAY")
    with readers.make_reader("pyav-wheel").open(path, "BGR") as handle:
        assert handle.pixel_format == "BGR"


def test_framereader_in_this_process_follows_the_pyav_it_imports(tmp_path, monkeypatch):
    """The micro suite reads in its own process: framereader's adapters there are the
    bench environment's only when this process's PyAV is that environment's."""
    # the fast tests' bench environment does not exist: PyAV's wheel
    assert readers.framereader_in_this_process() == (
        "indexed-pyav-wheel",
        "indexed-1-decoder-pyav-wheel",
    )
    for name in readers.framereader_in_this_process():
        assert readers.make_reader(name).ffmpeg == "own"
    prefix = tmp_path / "bench"
    (prefix / "conda-meta").mkdir(parents=True)
    monkeypatch.setenv("BENCH_PREFIX", str(prefix))
    site = environments.get("bench").site_packages
    site.parent.mkdir(parents=True)
    site.mkdir()  # a bench environment, but this process's PyAV is not in it
    assert readers.framereader_in_this_process()[0] == "indexed-pyav-wheel"
    site.rmdir()
    site.symlink_to(Path(av.__file__).resolve().parents[1])  # now it is
    assert readers.framereader_in_this_process() == ("indexed", "indexed-1-decoder")
    for name in readers.framereader_in_this_process():
        assert readers.READERS[name].ffmpeg == "bench"


@pytest.mark.parametrize("reader_name", ["indexed-pyav-wheel", "pyav-wheel"])
def test_batch_reads_equal_single_reads(reader_name, videos):
    with readers.make_reader(reader_name).open(videos["x264-bframes.mp4"]) as handle:
        _batch_equals_single_reads(handle)


ONE_DECODER = {"indexed-1-decoder", "indexed-1-decoder-pyav-wheel"}


def test_quick_runs_leave_out_the_pytorch_readers_and_repeats_and_say_why():
    full, by_name = readers.default_readers(quick=False)
    assert set(by_name) == ONE_DECODER  # only run when named, in full runs too
    assert full == tuple(n for n in readers.READERS if n not in ONE_DECODER)
    quick, left_out = readers.default_readers(quick=True)
    pytorch = {"torchcodec", "torchcodec-approximate"}
    # the same library again: our OpenCV on every core, and PyAV's wheel under two recipes
    repeats = {"opencv-frame", "opencv-slice", "pyav-wheel", "indexed-pyav-wheel"}
    assert set(left_out) == pytorch | repeats | ONE_DECODER
    assert all("PyTorch" in left_out[name] for name in pytorch)
    assert all("full run measures it" in left_out[name] for name in repeats)
    assert set(quick) | set(left_out) == set(readers.READERS)
    # every library a user would weigh still runs in a quick run, ours on one thread
    assert {"indexed", "pyav-naive", "opencv-1thread", "opencv-wheel", "decord",
            "video-reader-rs", "exploded-jpeg"} <= set(quick)  # fmt: skip


def test_variants_for_one_comparison_run_only_when_named():
    for name in ONE_DECODER:
        assert "one comparison" in readers.READERS[name].only_by_name
    assert all(r.only_by_name is None for n, r in readers.READERS.items() if n not in ONE_DECODER)
    _, left_out = readers.default_readers(quick=True)
    # why they are left out, even where a quick_run reason is inherited (the wheel's)
    assert all("one comparison" in left_out[name] for name in ONE_DECODER)
    # A quick run's report names what the full run has and it has not: not these.
    said = " ".join(_video_left_out(argparse.Namespace(quick=True, random_frames=None), left_out))
    assert "reader torchcodec (" in said
    assert "reader indexed-pyav-wheel (" in said
    assert not any(name in said for name in ONE_DECODER)


def test_our_readers_load_libturbojpeg_before_any_clock():
    """framereader decodes MJPEG with libturbojpeg, loaded on the first MJPEG open: the
    adapter's prepare() loads it, as torchcodec loads its libraries on import, so that
    no timed open pays for it."""
    check = (
        "from turbojpeg import _loader\n"
        "from benchmarks.video import readers\n"
        "assert not _loader._cache\n"
        "readers.READERS['indexed-pyav-wheel'].prepare()\n"
        "assert _loader._cache, 'prepare() loaded no libturbojpeg'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], check=False, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
