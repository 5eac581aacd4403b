"""framereader against its targets, side by side in one run, every reader on one
decoder thread: random single frames against torchcodec's exact mode on H.264
with GOPs, random against sequential per-frame time on intra-only codecs, MJPEG
against exploded JPEGs, ``get_batch`` against single reads and torchcodec's
``get_frames_at``, and a cached index against a fresh scan of a 10-minute
recording.

Every reader is an adapter of ``benchmarks/video/readers.py``, made by its name in
the registry (``readers.make_reader``), as the video suite makes it: its construction
(one decoder thread, its options) lives there, and a reader whose library is missing
skips with the adapter's reason. framereader's adapters are those of the PyAV this
process imports (``readers.framereader_in_this_process``): the bench environment's
under ``bash tools/run.sh bench``, else PyAV's wheel's. The contender names the
report and its targets use (``targets.py``) are this module's, each with its adapter
in ``extra_info["reader"]``.

The videos are encoded here, by the bench environment's ffmpeg (our channel's
GPL build) when it is there: the suite's synthetic arena (480x270, colour) and
OpenCV's ``vtest.avi`` footage, each frame carrying its burned-in index, which
every reader's answers are checked against before anything is timed, with their
colours against the source frame's in the group's pixel format. Each timed call
reads the next index of one seeded list, the same for every reader
(``benchmark.pedantic`` with a fixed number of rounds). A group whose name ends in
a file or encoding compares readers on that file only. The sequential entries time
a whole pass and carry ``frames_per_call``; the report divides by it.

What one timed call includes, the same work for every reader of a group:

* ``frame-random-<file>``: ``handle.read(i)``, the adapter's range check and frame
  ``i`` as an RGB array: torchcodec's own frame (its adapter converts nothing in
  RGB), framereader's converted to RGB by its FFmpeg scaler, as torchcodec's is.
* ``frame-intra-<file>``: framereader's ``handle.read(i)`` as BGR; ``sequential``,
  a whole pass of PyAV on one thread: open, decode, and every frame to a BGR array.
* ``frame-mjpeg``: ``handle.read(i)`` as BGR: framereader on the MJPEG file,
  ``exploded-jpeg`` reading ``frame_{i:06d}.jpg`` and decoding it with our turbojpeg.
* ``frame-batch-32``: 32 frames as RGB: ``handle.read_many`` (framereader's
  ``get_batch``, torchcodec's ``get_frames_at``), or 32 ``handle.read`` calls.
* ``frame-open-10min``: an open of ``framereader.VideoReader`` and its close:
  ``cached-index`` loads the index cached beside the video, ``fresh-scan``
  (``index=None``) scans the video and writes nothing. This group alone makes its
  reader itself: it compares framereader's index sources, which no adapter takes.
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
from benchmarks.video import codecs, frames, readers

FRAMES = 150  # per encoded recording: five GOPs of keyint 30
READS = 60  # timed random reads per (reader, file)
BATCHES = 12  # timed get_batch calls of BATCH indices
BATCH = 32
LONG_SECONDS = 600  # the "10-minute recording" of the open target
SEED = 11
CHECKED = 8  # reads checked, untimed, before the timed ones
# The mean absolute error, in levels, of a checked frame against its source frame: far
# above what lossy coding costs here (3.4 at most, x264 at CRF 18), far below what
# swapped red and blue cost (20 or more, on either recording).
TOLERANCE = 6.0

# Each group's pixel format, the same for every reader in it: RGB where torchcodec
# takes part (its frames are RGB), else BGR (OpenCV's order, and our turbojpeg's).
RANDOM_FORMAT = BATCH_FORMAT = "RGB"
INTRA_FORMAT = MJPEG_FORMAT = "BGR"


def _reader_name(contender: str) -> str:
    """The registry name of the adapter that reads for ``contender``: framereader's are
    those of the PyAV this process imports."""
    ours, one_decoder = readers.framereader_in_this_process()
    return {
        "framereader": ours,
        "framereader-1-decoder": one_decoder,
        "torchcodec-exact": "torchcodec",
        "exploded-jpeg": "exploded-jpeg",
        "get_batch": ours,
        "single-reads": ours,
        "torchcodec-get_frames_at": "torchcodec",
    }[contender]


@pytest.fixture(scope="module")
def recordings() -> dict[str, frames.Recording]:
    """The sources, by the first part of a file's key: ``arena``, ``vtest``."""
    footage = datasets.opencv_samples((datasets.OPENCV_FOOTAGE,))[datasets.OPENCV_FOOTAGE]
    return {
        "arena": frames.Recording("arena-color-480x270", 480, 270, True, FRAMES, seed=frames.SEED),
        "vtest": frames.footage(footage, FRAMES, "vtest"),
    }


@pytest.fixture(scope="module")
def videos(tmp_path_factory, recordings) -> dict[str, Path]:
    """Every file the targets need, keyed ``<recording>.<encoding>``, plus ``arena.jpg``
    (a folder of exploded JPEGs) and ``long`` (10 minutes of x264 at 30 fps)."""
    folder = tmp_path_factory.mktemp("framereader")
    ffmpeg = codecs.default_ffmpeg()
    info = codecs.ffmpeg_info(ffmpeg)
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


@pytest.fixture
def open_reader():
    """``open_reader(contender, pixel_format, *inputs)``: the name of the contender's
    adapter and a handle of it on the first of ``inputs`` it accepts (a file, or the
    folder of exploded JPEGs), closed after the test; skips where it is unavailable."""
    handles: list[readers.Reader] = []

    def open_(contender: str, pixel_format: str, *inputs: Path):
        name = _reader_name(contender)
        try:
            reader = readers.make_reader(name)
        except readers.ReaderUnavailable as exc:
            pytest.skip(f"{contender} ({name}): {exc}")
        reader.prepare()
        path = next((p for p in inputs if reader.accepts(p)), None)
        assert path is not None, f"{name} accepts none of {[str(p) for p in inputs]}"
        handle = reader.open(path, pixel_format)
        handles.append(handle)
        return name, handle

    yield open_
    for handle in handles:
        handle.close()


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


def _check_frame(who: str, image, i: int, source: frames.Recording, pixel_format: str) -> None:
    """Untimed: ``image`` carries index ``i`` in its burned-in code, and its colours are
    the source frame's in ``pixel_format`` (every reader of a group returns that one)."""
    image = np.asarray(image)
    assert frames.read_code(image) == i, f"{who} returned the wrong frame for {i}"
    expected = source.frame(i)  # BGR
    if pixel_format == "RGB":
        expected = expected[:, :, ::-1]
    assert image.shape == expected.shape, (who, image.shape, expected.shape)
    error = float(np.abs(image.astype(np.int16) - expected).mean())
    assert error < TOLERANCE, (
        f"{who}: frame {i} is {error:.1f} levels off its {pixel_format} source"
    )


def _check_reads(who: str, read, indices: list[int], source, pixel_format: str) -> None:
    for i in indices:
        _check_frame(who, read(i), i, source, pixel_format)


def _source(recordings: dict[str, frames.Recording], key: str) -> frames.Recording:
    return recordings[key.split(".", 1)[0]]


@pytest.mark.parametrize("key", GOP_FILES)
@pytest.mark.parametrize("name", ["framereader", "framereader-1-decoder", "torchcodec-exact"])
def test_random_frame_gop(benchmark, videos, recordings, open_reader, key, name):
    reader, handle = open_reader(name, RANDOM_FORMAT, _file(videos, key))
    count = handle.frame_count()
    indices = _indices(count, READS, SEED)
    _check_reads(name, handle.read, indices[:CHECKED], _source(recordings, key), RANDOM_FORMAT)
    describe(benchmark, f"frame-random-{key}", "read", name, reader=reader,
             library=handle.description, pixel_format=RANDOM_FORMAT, file=key, frames=count,
             libavcodec=", ".join(loaded.mapped("libavcodec") or ["unknown"]))  # fmt: skip
    _timed_reads(benchmark, handle.read, indices)


def _pyav_frames(path: Path):
    """Every frame, in order, as BGR arrays: PyAV on one thread, what a reader that only
    reads straight through would do (no adapter's ``sequential`` is that: pyav-naive's
    leaves PyAV its default threads)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="bgr24")


def _sequential_pass(path: Path) -> int:
    """The frames of one whole pass of ``_pyav_frames``, each decoded and converted."""
    return sum(1 for _ in _pyav_frames(path))


@pytest.mark.parametrize("key", INTRA_FILES)
@pytest.mark.parametrize("name", ["framereader", "sequential"])
def test_random_frame_intra(benchmark, videos, recordings, open_reader, key, name):
    path, source = _file(videos, key), _source(recordings, key)
    if name == "sequential":
        count = 0  # untimed: the pass returns every frame, in order
        for i, image in enumerate(_pyav_frames(path)):
            if i < CHECKED:
                _check_frame(name, image, i, source, INTRA_FORMAT)
            assert frames.read_code(image) == i, f"the pass returned the wrong frame for {i}"
            count += 1
        describe(benchmark, f"frame-intra-{key}", "read", name, pixel_format=INTRA_FORMAT,
                 library="PyAV, one thread: every frame to bgr24", file=key,
                 frames_per_call=count)  # fmt: skip
        benchmark.pedantic(_sequential_pass, args=(path,), rounds=5, iterations=1)
        return
    reader, handle = open_reader(name, INTRA_FORMAT, path)
    count = handle.frame_count()
    indices = _indices(count, READS, SEED)
    _check_reads(name, handle.read, indices[:CHECKED], source, INTRA_FORMAT)
    describe(benchmark, f"frame-intra-{key}", "read", name, reader=reader,
             library=handle.description, pixel_format=INTRA_FORMAT, file=key,
             frames=count)  # fmt: skip
    _timed_reads(benchmark, handle.read, indices)


@pytest.mark.parametrize("name", ["framereader", "exploded-jpeg"])
def test_random_frame_mjpeg(benchmark, videos, recordings, open_reader, name):
    inputs = (_file(videos, "arena.mjpeg"), videos["arena.jpg"])
    reader, handle = open_reader(name, MJPEG_FORMAT, *inputs)
    count = handle.frame_count()
    indices = _indices(count, READS, SEED)
    _check_reads(name, handle.read, indices[:CHECKED], recordings["arena"], MJPEG_FORMAT)
    describe(benchmark, "frame-mjpeg", "read", name, reader=reader, library=handle.description,
             pixel_format=MJPEG_FORMAT, frames=count)  # fmt: skip
    _timed_reads(benchmark, handle.read, indices)


@pytest.mark.parametrize("name", ["get_batch", "single-reads", "torchcodec-get_frames_at"])
def test_batch(benchmark, videos, recordings, open_reader, name):
    key = "arena.x264-lossless-k30"
    reader, handle = open_reader(name, BATCH_FORMAT, _file(videos, key))
    count = handle.frame_count()
    if name == "single-reads":

        def read(batch):
            return [handle.read(i) for i in batch]
    else:
        read = handle.read_many

    rng = random.Random(SEED)
    batches = [rng.sample(range(count), BATCH) for _ in range(BATCHES + 1)]
    got = read(batches[-1])  # untimed: every frame of a batch is the one asked for
    assert len(got) == BATCH, name
    for image, i in zip(got, batches[-1], strict=True):
        _check_frame(name, image, i, _source(recordings, key), BATCH_FORMAT)
    describe(benchmark, f"frame-batch-{BATCH}", "read", name, reader=reader,
             library=handle.description, pixel_format=BATCH_FORMAT, frames=count,
             batch=BATCH)  # fmt: skip
    _timed_reads(benchmark, read, batches[:BATCHES])


@pytest.mark.parametrize("name", ["cached-index", "fresh-scan"])
def test_open_long_recording(benchmark, videos, name):
    """framereader's own index sources, not a reader against another: ``index="auto"``
    with the cache there, against ``index=None``, a scan that keeps nothing. No adapter
    takes an index source, and an adapter's cold open (``forget``, then ``open``) writes
    the cache again, which costs more than a tenth of the scan on top of it."""
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
