"""Damaged files: every call returns the right frame or raises the package's error, and
none hangs. Hypothesis truncates small files and flips or overwrites their bytes.

The oracle is a sequential decode of the damaged file on one thread that records
which GOPs FFmpeg complained about (an error logged or raised, or a frame flagged
corrupt). A frame of a GOP decoded without complaint must come back exactly, or
the call must raise; a frame of a GOP FFmpeg complained about may come back as
FFmpeg makes it from its keyframe (its concealment depends on where decoding
started, so it need not be what the sequential decode shows) or raise; a frame
the sequential decode never output must raise. Each example runs in a forked
child with a time limit.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import traceback
from pathlib import Path

import av
import av.logging
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framereader import CorruptFrameError, FrameIndex, FrameReaderError, VideoReader, _packets
from tests.framereader.media import DAMAGED, ffmpeg, frame_hash

TINY = ["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=30,noise=alls=12:allf=t", "-frames:v", "24"]
GOP = ["-c:v", "libx264", "-g", "8", "-bf", "2"]
BASES = {
    "h264.mkv": GOP,
    "h264.mp4": GOP,
    "h264.ts": [*GOP, "-f", "mpegts"],
    "mpeg2.mkv": ["-c:v", "mpeg2video", "-bf", "2", "-g", "8"],
    "mjpeg.avi": ["-c:v", "mjpeg", "-q:v", "4"],
    "ffv1-g1.mkv": ["-c:v", "ffv1", "-level", "3", "-slices", "4", "-slicecrc", "1", "-g", "1"],
    "ffv1-g6.mkv": ["-c:v", "ffv1", "-level", "3", "-g", "6"],
}
TIME_LIMIT = 60.0  # seconds per damaged file, reading it five ways; a hang fails


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("damaged")
    made = {}
    for name, args in BASES.items():
        made[name] = folder / name
        ffmpeg(*TINY, *args, made[name])
    return made


# -- the oracle ------------------------------------------------------------------


def sequential_truth(path: Path) -> tuple[dict, dict] | None:
    """``(frames, damaged)`` by pts from a one-thread sequential decode, None when the file
    does not open. ``frames[pts]`` is the BGR frame; ``damaged[pts]`` says FFmpeg
    complained in the frame's GOP before the frame was in (or about its leading frames'
    previous GOP)."""
    av.logging.set_level(av.logging.ERROR)  # this is a child process: its own logging
    try:
        with av.logging.Capture() as logs:
            try:
                container = av.open(str(path))
            except av.FFmpegError:
                return None
            with container:
                if not container.streams.video or container.streams.video[0].codec_context is None:
                    return None
                return _decode_with_complaints(container, logs)
    finally:
        av.logging.set_level(None)


def _decode_with_complaints(container, logs: list) -> tuple[dict, dict]:
    stream = container.streams.video[0]
    context = stream.codec_context
    context.thread_count = 1  # FFmpeg conceals errors on one thread (not with slice threads)
    jpeg = _packets._turbojpeg() if context.name == "mjpeg" else None
    frames: dict[int, np.ndarray] = {}
    fed: list[tuple[int | None, bool]] = []  # (pts, keyframe) of each packet, in feeding order
    complaints: set[int] = set()  # places in `fed` where FFmpeg complained
    place_of: dict[int, int] = {}
    packets = container.demux(stream)

    def output(decoded) -> None:
        for frame in decoded:
            frames[frame.pts] = frame.to_ndarray(format="bgr24")
            if frame.is_corrupt:
                complaints.add(place_of.get(frame.pts, len(fed) - 1))

    while True:
        seen = len(logs)
        try:
            packet = next(packets, None)
        except av.FFmpegError:
            packet = None
        if packet is None:
            break
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is not None:
            place_of[ts] = len(fed)
        fed.append((ts, packet.is_keyframe and packet.size > 0))
        bad = len(logs) > seen  # the demuxer complained on its way to this packet
        if jpeg is not None:  # the reader decodes MJPEG with TurboJPEG: so does the truth
            if packet.size and ts is not None:
                try:
                    frames[ts] = jpeg.decode(bytes(packet), "BGR")
                except Exception:  # noqa: BLE001 - a JPEG TurboJPEG refuses is damage
                    bad = True
        else:
            try:
                output(context.decode(packet))
            except av.FFmpegError:
                bad = True
            bad = bad or len(logs) > seen
        if bad:
            complaints.add(len(fed) - 1)
    if jpeg is None:
        with contextlib.suppress(av.FFmpegError):
            output(context.decode(None))
    return frames, _damaged_frames(fed, complaints)


def _damaged_frames(fed: list[tuple[int | None, bool]], complaints: set[int]) -> dict:
    """A packet is damaged when FFmpeg complained anywhere in its GOP (keyframe to keyframe,
    in feeding order: a missing reference only shows when a later picture needs it), or
    when it leads a keyframe (shown before it) after a damaged GOP."""
    gops: list[list[tuple[int, int | None]]] = [[]]
    for place, (ts, keyframe) in enumerate(fed):
        if keyframe and gops[-1]:
            gops.append([])
        gops[-1].append((place, ts))
    damaged: dict[int, bool] = {}
    previous_bad = False
    for gop in gops:
        bad = any(place in complaints for place, _ in gop)
        key_pts = gop[0][1]
        for _, ts in gop:
            if ts is not None:
                leading = previous_bad and key_pts is not None and ts < key_pts
                damaged[ts] = bad or leading
        previous_bad = bad
    return damaged


def check_damaged_file(path: Path) -> list[str]:
    """What the reader did wrong on ``path`` (empty: nothing)."""
    truth = sequential_truth(path)
    try:
        reader = VideoReader(path, index=None)
    except FrameReaderError:
        return []  # a clear error is a right answer
    except Exception as exc:  # noqa: BLE001 - anything else is what this test looks for
        return [f"open raised {type(exc).__name__}: {exc}"]
    if truth is None:
        return ["the reader opened a file PyAV cannot open"]
    frames, damaged = truth
    problems: list[str] = []

    def judge(i: int, image: np.ndarray) -> None:
        pts = reader.frame_info(i).pts
        if damaged.get(pts):
            return
        if pts not in frames:
            problems.append(f"frame {i} (pts {pts}) came back; a sequential decode never shows it")
        elif not np.array_equal(image, frames[pts]):
            problems.append(f"frame {i} (pts {pts}) differs from the sequential decode")

    def read(label: str, call) -> None:
        try:
            call()
        except FrameReaderError:
            pass
        except Exception as exc:  # noqa: BLE001 - anything else is what this test looks for
            problems.append(f"{label} raised {type(exc).__name__}: {exc}\n{traceback.format_exc()}")

    n = len(reader)
    shuffled = random.Random(n).sample(range(n), n)
    for i in [*range(n), *shuffled, *range(n - 1, -1, -1)]:
        read(f"reader[{i}]", lambda i=i: judge(i, reader[i]))
    for asked in (shuffled, list(range(0, n, 3))):
        read("get_batch", lambda asked=asked: [judge(i, im) for i, im in zip(asked, reader.get_batch(asked), strict=True)])  # fmt: skip
    read("iteration", lambda: [judge(i, image) for i, image in enumerate(reader)])
    reader.close()
    return problems


def in_child(path: Path) -> list[str]:
    """``check_damaged_file(path)`` in a forked child with a time limit."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(check_damaged_file(path))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            send.send([f"the check itself failed: {type(exc).__name__}: {exc}"])

    process = context.Process(target=child)
    process.start()
    try:
        if not receive.poll(TIME_LIMIT):
            return [f"no answer within {TIME_LIMIT:.0f} s: a hang"]
        return receive.recv()
    finally:
        process.kill()
        process.join(10)


# -- damage -----------------------------------------------------------------------


@st.composite
def damage(draw) -> tuple[str, str, list]:
    """A base file and what to do to it, with positions as fractions of its size."""
    base = draw(st.sampled_from(sorted(BASES)))
    kind = draw(st.sampled_from(["truncate", "flip", "overwrite"]))
    if kind == "truncate":
        steps = [draw(st.floats(0.02, 0.999))]
    elif kind == "flip":
        steps = draw(
            st.lists(st.tuples(st.floats(0, 0.999), st.integers(0, 7)), min_size=1, max_size=8)
        )
    else:
        steps = [(draw(st.floats(0, 0.999)), draw(st.binary(min_size=1, max_size=512)))]
    return base, kind, steps


def damaged_bytes(data: bytes, kind: str, steps: list) -> bytes:
    if kind == "truncate":
        return data[: max(1, int(len(data) * steps[0]))]
    out = bytearray(data)
    if kind == "flip":
        for where, bit in steps:
            out[int(len(out) * where)] ^= 1 << bit
    else:
        where, fill = steps[0]
        at = int(len(out) * where)
        out[at : at + len(fill)] = fill[: len(out) - at]
    return bytes(out)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=damage())
def test_damaged_files_give_right_frames_or_the_packages_errors(case, bases, tmp_path):
    base, kind, steps = case
    path = tmp_path / f"damaged-{base}"
    path.write_bytes(damaged_bytes(bases[base].read_bytes(), kind, steps))
    assert in_child(path) == []


@pytest.mark.parametrize("name", DAMAGED)
def test_the_suites_damaged_files_pass_the_same_check(name, videos):
    """The video suite's truncated and corrupt files: each frame exact, or the package's
    error for a frame of a GOP FFmpeg complained about. (x264 on another number of cores
    puts the corrupt bytes elsewhere; the check holds wherever they land.)"""
    assert in_child(videos[name]) == []


def test_the_undamaged_bases_pass_the_same_check(bases, tmp_path):
    """The oracle sees no damage in the files themselves, and the reader matches it."""
    for name, path in bases.items():
        frames, damaged = sequential_truth(path)
        assert len(frames) == 24
        assert not any(damaged.values()), name
        assert in_child(path) == [], name


def test_frames_after_a_damaged_keyframe_raise_and_the_other_gop_is_exact(videos, truth, tmp_path):
    """The second keyframe's bytes overwritten: FFmpeg conceals what it cannot decode from
    whatever it decoded before, which differs between a sequential decode and one that
    starts at that keyframe; so its GOP raises, and the first GOP stays exact."""
    name = "x264-bframes.mp4"  # keyframes at frames 0 and 30
    index = FrameIndex.scan(videos[name])
    key = int(np.flatnonzero(index.keyframe)[1])
    at, size = int(index.pos[key]), int(index.size[key])
    data = bytearray(videos[name].read_bytes())
    data[at + size // 4 : at + size // 2] = random.Random(3).randbytes(size // 2 - size // 4)
    path = tmp_path / name
    path.write_bytes(bytes(data))
    expected = truth(name)
    with VideoReader(path, index=None) as reader:
        for i in range(30, len(reader)):
            with pytest.raises(CorruptFrameError) as caught:
                reader[i]
            assert caught.value.index == i
        got = [frame_hash(image) for image in reader.get_batch(range(30))]
        assert got == expected[:30]
