"""framereader against its targets, side by side in one run, every reader on one
decoder thread: random single frames against torchcodec's exact mode on H.264
with GOPs, random against sequential per-frame time on intra-only codecs, MJPEG
against exploded JPEGs, ``get_batch`` against single reads and torchcodec's
``get_frames_at``, and a cached index against a fresh scan of a 10-minute
recording.

The videos are encoded here, by the bench environment's ffmpeg (our channel's
GPL build) when it is there: the suite's synthetic arena (480x270, colour) and
OpenCV's ``vtest.avi`` footage, each frame carrying its burned-in index, which
every reader's answers are checked against before anything is timed. Each
timed call reads the next index of one seeded list, the same for every reader
(``benchmark.pedantic`` with a fixed number of rounds). A group whose name ends
in a file or encoding compares readers on that file only. The sequential
entries time a whole pass and carry ``frames_per_call``; the report divides by it.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import numpy as np
import pytest

from benchmarks import datasets, loaded
from benchmarks.micro.common import describe
from benchmarks.micro.targets import GOP_FILES, INTRA_FILES
from benchmarks.video import codecs, frames

FRAMES = 150  # per encoded recording: five GOPs of keyint 30
READS = 60  # timed random reads per (reader, file)
BATCHES = 12  # timed get_batch calls of BATCH indices
BATCH = 32
LONG_SECONDS = 600  # the "10-minute recording" of the open target
SEED = 11


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    """Every file the targets need, keyed ``<recording>.<encoding>``, plus ``arena.jpg``
    (a folder of exploded JPEGs) and ``long`` (10 minutes of x264 at 30 fps)."""
    folder = tmp_path_factory.mktemp("framereader")
    ffmpeg = codecs.default_ffmpeg()
    info = codecs.ffmpeg_info(ffmpeg)
    footage = datasets.opencv_samples((datasets.OPENCV_FOOTAGE,))[datasets.OPENCV_FOOTAGE]
    recordings = {
        "arena": frames.Recording("arena-color-480x270", 480, 270, True, FRAMES, seed=frames.SEED),
        "vtest": frames.footage(footage, FRAMES, "vtest"),
    }
    made: dict[str, Path] = {}
    for key in dict.fromkeys(GOP_FILES + INTRA_FILES):
        which, encoding_name = key.split(".", 1)
        encoding = codecs.ENCODINGS_BY_NAME[encoding_name]
        missing = codecs.unavailable_reason(encoding, info)
        if missing:
            continue  # the test that needs it skips, with the reason
        path = folder / f"{key}{encoding.extension}"
        codecs.encode_ffmpeg(recordings[which], encoding, path, threads=0, ffmpeg=ffmpeg)
        made[key] = path
    made["arena.jpg"] = folder / "arena-jpg"
    codecs.encode_exploded_jpeg(recordings["arena"], made["arena.jpg"], threads=0)
    if "libx264" in info["encoders"]:
        made["long"] = folder / "long.mkv"
        subprocess.run(
            [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
             "-i", f"testsrc2=size=320x240:rate=30:duration={LONG_SECONDS}",
             "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-threads", "0",
             str(made["long"])],
            check=True, timeout=900,
        )  # fmt: skip
    codecs.discard_raw_frames()
    return made


def _file(videos: dict[str, Path], key: str) -> Path:
    if key not in videos:
        pytest.skip(f"{key}: the encoding ffmpeg ({codecs.default_ffmpeg()}) cannot make it")
    return videos[key]


def _indices(count: int, reads: int, seed: int) -> list[int]:
    return random.Random(seed).choices(range(count), k=reads)


def _timed_reads(benchmark, read, indices: list[int]) -> None:
    """One round per index, in the list's order, the reader kept warm between rounds."""
    feed = iter(indices)
    benchmark.pedantic(read, setup=lambda: ((next(feed),), {}), rounds=len(indices), iterations=1)


def _framereader(path: Path, pixel_format: str = "RGB", **options):
    from framereader import VideoReader

    return VideoReader(path, threads=1, pixel_format=pixel_format, **options)


def _torchcodec(path: Path):
    pytest.importorskip("torchcodec", reason="torchcodec is not installed (it needs PyTorch)")
    from torchcodec.decoders import VideoDecoder

    return VideoDecoder(str(path), seek_mode="exact", num_ffmpeg_threads=1,
                        dimension_order="NHWC")  # fmt: skip


def _check_identity(who: str, read, indices: list[int]) -> None:
    """Untimed: the frame each index returns carries that index in its burned-in code."""
    for i in indices:
        image = np.asarray(read(i))
        assert frames.read_code(image) == i, f"{who} returned the wrong frame for {i}"


# framereader as it comes (its default of parked decoders), with one, and torchcodec.
FRAMEREADER_OPTIONS = {"framereader": {}, "framereader-1-decoder": {"decoders": 1}}
READERS = (*FRAMEREADER_OPTIONS, "torchcodec-exact")


@pytest.mark.parametrize("key", GOP_FILES)
@pytest.mark.parametrize("name", READERS)
def test_random_frame_gop(benchmark, videos, key, name):
    path = _file(videos, key)
    if name in FRAMEREADER_OPTIONS:
        reader = _framereader(path, **FRAMEREADER_OPTIONS[name])
        read, count = reader.__getitem__, len(reader)
    else:
        decoder = _torchcodec(path)
        read, count = (lambda i: decoder[i].numpy()), len(decoder)
    indices = _indices(count, READS, SEED)
    _check_identity(name, read, indices[:8])
    describe(benchmark, f"frame-random-{key}", "read", name, file=key, frames=count,
             libavcodec=", ".join(loaded.mapped("libavcodec") or ["unknown"]))  # fmt: skip
    _timed_reads(benchmark, read, indices)


def _sequential_pass(path: Path) -> int:
    """Every frame, in order, as BGR arrays: PyAV on one thread, what a reader that
    only reads straight through would do."""
    import av

    count = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        for frame in container.decode(stream):
            frame.to_ndarray(format="bgr24")
            count += 1
    return count


@pytest.mark.parametrize("key", INTRA_FILES)
@pytest.mark.parametrize("name", ["framereader", "sequential"])
def test_random_frame_intra(benchmark, videos, key, name):
    path = _file(videos, key)
    if name == "sequential":
        count = _sequential_pass(path)
        describe(benchmark, f"frame-intra-{key}", "read", name, file=key,
                 frames_per_call=count)  # fmt: skip
        benchmark.pedantic(_sequential_pass, args=(path,), rounds=5, iterations=1)
        return
    reader = _framereader(path, "BGR")
    indices = _indices(len(reader), READS, SEED)
    _check_identity(name, reader.__getitem__, indices[:8])
    describe(benchmark, f"frame-intra-{key}", "read", name, file=key, frames=len(reader))
    _timed_reads(benchmark, reader.__getitem__, indices)


@pytest.mark.parametrize("name", ["framereader", "exploded-jpeg"])
def test_random_frame_mjpeg(benchmark, videos, name):
    if name == "framereader":
        reader = _framereader(_file(videos, "arena.mjpeg"), "BGR")
        read, count = reader.__getitem__, len(reader)
    else:
        from turbojpeg import Turbojpeg

        tj, folder = Turbojpeg(), videos["arena.jpg"]
        count = len(list(folder.glob("frame_*.jpg")))

        def read(i):
            return tj.decode((folder / f"frame_{i:06d}.jpg").read_bytes())

    indices = _indices(count, READS, SEED)
    _check_identity(name, read, indices[:8])
    describe(benchmark, "frame-mjpeg", "read", name, frames=count)
    _timed_reads(benchmark, read, indices)


@pytest.mark.parametrize("name", ["get_batch", "single-reads", "torchcodec-get_frames_at"])
def test_batch(benchmark, videos, name):
    path = _file(videos, "arena.x264-lossless-k30")
    if name == "torchcodec-get_frames_at":
        decoder = _torchcodec(path)
        count = len(decoder)

        def read(batch):
            return decoder.get_frames_at(indices=batch).data.numpy()
    else:
        reader = _framereader(path)
        count = len(reader)
        if name == "get_batch":
            read = reader.get_batch
        else:

            def read(batch):
                return [reader[i] for i in batch]

    rng = random.Random(SEED)
    batches = [rng.sample(range(count), BATCH) for _ in range(BATCHES + 1)]
    got = read(batches[-1])  # untimed: every frame of a batch is the one asked for
    assert [frames.read_code(np.asarray(f)) for f in got] == batches[-1], name
    describe(benchmark, f"frame-batch-{BATCH}", "read", name, frames=count, batch=BATCH)
    _timed_reads(benchmark, read, batches[:BATCHES])


@pytest.mark.parametrize("name", ["cached-index", "fresh-scan"])
def test_open_long_recording(benchmark, videos, name):
    from framereader import VideoReader

    path = _file(videos, "long")
    with VideoReader(path) as first:  # writes the cache beside the video
        count = len(first)
    assert count == LONG_SECONDS * 30

    def open_close():
        with VideoReader(path, index="auto" if name == "cached-index" else None) as reader:
            assert len(reader) == count
            assert reader.index_loaded == (name == "cached-index")

    describe(benchmark, "frame-open-10min", "open", name, frames=count)
    benchmark.pedantic(open_close, rounds=5 if name == "fresh-scan" else 30, iterations=1)
