"""Hour-long recordings: no read may cost work in proportion to the recording's
length, and reading one straight through holds the decoder's bookkeeping to its
window. Counted (bytes allocated, entries kept), never timed: the same encoding at
two lengths, 40 times apart."""

from __future__ import annotations

import random
import tracemalloc

import numpy as np
import pytest

from framereader import VideoReader
from tests.framereader.media import ffmpeg, sequential_frames

SHORT, LONG = 300, 12_000  # 10 s and 400 s at 30 fps
TINY = ["-f", "lavfi", "-i", "testsrc2=size=32x32:rate=30"]
ENCODINGS = {
    # decoded through FFmpeg, frame by frame (MJPEG would go to libjpeg-turbo)
    "intra": ("ffv1.mkv", ["-c:v", "ffv1", "-g", "1"]),
    "gop": ("gop.mkv", ["-c:v", "libx264", "-preset", "ultrafast", "-g", "250", "-bf", "2"]),
}


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("long-recordings")
    made = {}
    for kind, (name, args) in ENCODINGS.items():
        for frames in (SHORT, LONG):
            path = folder / f"{frames}-{name}"
            ffmpeg(*TINY, "-frames:v", str(frames), *args, path)
            made[kind, frames] = path
    return made


def _allocated_per_read(path, indices) -> float:
    """Peak bytes allocated (numpy included) by one read, the median over ``indices``,
    after the reader, its index and its decoder exist."""
    reader = VideoReader(path, index=None, threads=1, decoders=1)
    reader[indices[0]]  # the decoder and every derived table of the index, made once
    peaks = []
    for i in indices:
        tracemalloc.start()
        reader[i]
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    reader.close()
    return sorted(peaks)[len(peaks) // 2]


@pytest.mark.parametrize("kind", sorted(ENCODINGS))
def test_a_read_allocates_no_more_on_a_40_times_longer_recording(recordings, kind):
    """Before the fix, the pts of every frame were copied on each read: 8 bytes per
    frame, 96 kB on the long file against 2.4 kB on the short one."""
    # The same spots: the same frames' neighbourhoods, read cold from a keyframe.
    short = _allocated_per_read(recordings[kind, SHORT], [10, 150, 260, 40, 200])
    long = _allocated_per_read(recordings[kind, LONG], [10, 150, 260, 40, 200])
    assert long <= short * 1.5 + 16_384, (kind, short, long)


def test_reading_through_keeps_the_bookkeeping_to_the_window(recordings):
    """Iterating a long GOP recording frame by frame: what the decoder keeps about
    packets fed since its seek stays bounded, whatever the length."""
    reader = VideoReader(recordings["gop", LONG], index=None, threads=1, decoders=1)
    largest = {"fed_at": 0, "keys_fed": 0, "awaited": 0}
    for i in range(LONG):
        reader[i]
        if i % 500 == 0 or i == LONG - 1:
            pool = next(iter(reader._decoders.values()))
            for decoder in pool._decoders:
                largest["fed_at"] = max(largest["fed_at"], len(decoder._seek.damage.fed_at))
                largest["keys_fed"] = max(largest["keys_fed"], len(decoder._seek.damage.keys_fed))
                largest["awaited"] = max(largest["awaited"], len(decoder._seek.damage.awaited))
    reader.close()
    assert largest["fed_at"] <= 64, largest
    assert largest["keys_fed"] <= 4, largest
    assert largest["awaited"] <= 64, largest


def test_the_index_derives_its_tables_once_and_they_are_read_only(recordings):
    reader = VideoReader(recordings["intra", SHORT], index=None)
    index = reader.index
    assert index.frame_pts is index.frame_pts
    assert index.frame_keyframe is index.frame_keyframe
    with pytest.raises(ValueError, match="read-only"):
        index.frame_pts[0] = 1
    assert [index.packet_with_pts(int(ts)) for ts in index.frame_pts] == index.order.tolist()
    assert index.packet_with_pts(int(index.pts.max()) + 1) is None
    assert index.packet_with_pts(int(index.pts.min()) - 1) is None
    reader.close()


def test_packets_sharing_a_pts_resolve_to_the_last_in_file_order():
    from framereader.index import FileStamp, FrameIndex

    n = 5
    pts = np.array([0, 10, 10, 20, 30])
    index = FrameIndex(FileStamp(0, 0, ""), "h264", 1, 2, 2, False, pts=pts, dts=pts,
                       duration=np.zeros(n), keyframe=np.ones(n, bool), size=np.ones(n),
                       pos=np.zeros(n), shown=np.array([1, 0, 1, 1, 1], bool),
                       payload_offset=np.full(n, -1))  # fmt: skip
    assert [index.packet_with_pts(t) for t in (0, 10, 20, 30, 5)] == [0, 2, 3, 4, None]


def test_reads_find_their_packets_by_stepping_not_searching(recordings):
    """A demuxer returns packets in file order and a seek lands on its keyframe, so a
    GOP decoder names each packet by stepping on from the last: random reads over a
    long mkv search the index for none of them."""
    truth = sequential_frames(recordings["gop", LONG])
    reader = VideoReader(recordings["gop", LONG], index=None, threads=1, decoders=1)
    for i in random.Random(5).sample(range(LONG), 20):
        assert np.array_equal(reader[i], truth[i]), i
    assert reader.stats()["packet_searches"] == 0
    assert reader.stats()["seeks"] > 0
    reader.close()


def test_a_pickled_index_carries_no_derived_table(recordings):
    import pickle

    reader = VideoReader(recordings["gop", LONG], index=None)
    index = reader.index
    index.packet_with_pts(int(index.pts[100]))  # the tables exist now
    assert len(index.frame_pts) == LONG
    state = pickle.dumps(index)
    assert b"_pts_sorted" not in state
    assert b"frame_pts" not in state
    back = pickle.loads(state)
    assert back.frame_pts.tolist() == index.frame_pts.tolist()
    assert back.packet_with_pts(int(index.pts[100])) == 100
    reader.close()


def _calls(path, batches) -> int:
    """Python function calls made by ``get_batch`` over ``batches`` (cProfile's count),
    after the reader, its index and its decoder exist."""
    import cProfile
    import pstats

    reader = VideoReader(path, index=None, threads=1, decoders=1)
    reader.get_batch(batches[0])
    profile = cProfile.Profile()
    profile.enable()
    for batch in batches:
        reader.get_batch(batch)
    profile.disable()
    reader.close()
    return pstats.Stats(profile).total_calls


@pytest.mark.parametrize("kind", sorted(ENCODINGS))
def test_a_batch_makes_the_same_calls_on_a_40_times_longer_recording(recordings, kind):
    """Counted, not timed: the same batches over the same frames make exactly as many
    Python calls on the long recording as on the short one. The frames lie in the
    first GOP of both, away from the short file's end (where draining at its end
    of file makes calls of its own)."""
    rng = random.Random(7)
    batches = [sorted(rng.sample(range(200), 32)) for _ in range(4)]
    assert _calls(recordings[kind, LONG], batches) == _calls(recordings[kind, SHORT], batches)


@pytest.mark.parametrize("kind", sorted(ENCODINGS))
def test_reading_through_takes_the_frame_numbers_as_it_goes(recordings, kind):
    """Iteration asks for frame numbers a few at a time: it never lists all of them
    up front (a million for 10 hours at 30 fps)."""
    from framereader._packets import CHUNK

    taken = []

    def numbers():
        for i in range(LONG):
            taken.append(i)
            yield i

    reader = VideoReader(recordings[kind, LONG], index=None, threads=1)
    frames = reader._decoder("batch").frames(numbers())
    first = next(frames)
    assert np.array_equal(first, reader[0])
    assert len(taken) <= CHUNK
    frames.close()
    reader.close()
