"""framereader.dask: a video as a Dask array in keyframe-aligned chunks, exact frame
for frame against a sequential decode, on the threaded scheduler and on a
two-process distributed cluster, with no decoded frame in the graph and no scan on
a worker."""

from __future__ import annotations

import numpy as np
import pytest
from distributed import Client, LocalCluster

from framereader import VideoReader
from framereader.dask import chunk_bounds, from_video, from_videos
from framereader.index import FrameIndex
from tests.framereader import media
from tests.framereader.media import frame_hash, sequential_frames

# VFR, MPEG-TS with B-frames (H.264 and MPEG-2), open GOPs, and intra-only MJPEG.
FILES = ("vfr-dropped.mkv", "h264.ts", "mpeg2-bframes.ts", "bframes-open-gop.mp4", "mjpeg.avi")


@pytest.mark.parametrize(
    ("keyframes", "per_chunk", "bounds"),
    [
        ([1, 0, 0, 0, 0, 0, 0, 0], 2, [0, 8]),  # one keyframe: one chunk
        ([1, 0, 0, 1, 0, 0, 1, 0, 0, 1], 3, [0, 3, 6, 9, 10]),
        ([1, 0, 1, 0, 0, 0, 1, 1, 0, 0], 4, [0, 2, 7, 10]),  # 4 -> 2 (a tie goes earlier), 8 -> 7
        ([1, 1, 1, 1], 1, [0, 1, 2, 3, 4]),
        ([], 5, [0]),
    ],
)
def test_chunks_start_on_keyframes(keyframes, per_chunk, bounds):
    assert chunk_bounds(np.array(keyframes, bool), per_chunk) == bounds


def test_a_chunk_target_below_one_is_refused():
    with pytest.raises(ValueError, match="frames_per_chunk must be 1 or more, not 0"):
        chunk_bounds(np.ones(4, bool), 0)


@pytest.mark.parametrize("name", FILES)
def test_the_threaded_scheduler_gives_the_sequential_decode(videos, truth, name):
    array = from_video(videos[name], frames_per_chunk=7, index=None)
    with VideoReader(videos[name], index=None) as reader:
        keyframes = reader.index.frame_keyframe
        assert array.shape == reader.shape
    starts = np.cumsum((0, *array.chunks[0][:-1]))
    assert all(keyframes[s] for s in starts), "a chunk starts on a frame that is no keyframe"
    frames = array.compute(scheduler="threads")
    assert [frame_hash(f) for f in frames] == truth(name)


def test_the_graph_carries_the_index_and_no_frame(videos):
    array = from_video(videos["h264.ts"], frames_per_chunk=10, index=None)
    graph = dict(array.__dask_graph__())
    found = []

    def walk(value):
        if isinstance(value, np.ndarray):
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif isinstance(value, FrameIndex):
            walk(vars(value))

    for value in graph.values():
        walk(value)
    assert found, "the index's arrays should be in the graph"
    assert not [a for a in found if a.dtype == np.uint8 and a.ndim >= 2]
    states = [v for v in graph.values() if isinstance(v, dict) and "index" in v]
    assert len(states) == 1, "one copy of the reader's state, shared by every task"


def test_several_videos_keep_each_files_start_as_a_boundary(videos):
    paths = [videos["h264.ts"], videos["vfr-dropped.mkv"]]
    lengths = [len(VideoReader(p, index=None)) for p in paths]
    array = from_videos(paths, frames_per_chunk=100, index=None)
    assert array.shape[0] == sum(lengths)
    assert lengths[0] in np.cumsum(array.chunks[0])
    with pytest.raises(
        ValueError, match=r"differ in frame size: .*h264\.ts has .*x264-bframes\.mp4"
    ):
        from_videos([videos["h264.ts"], videos["x264-bframes.mp4"]], index=None)


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")  # fmt: skip
    with Client(cluster) as connected:
        yield connected
    cluster.close()


def test_a_two_process_cluster_reduces_exactly_and_never_scans(client, videos):
    before = client.run(media.count_scans)
    assert len(before) == 2
    for name in ("vfr-dropped.mkv", "h264.ts", "mjpeg.avi"):
        array = from_video(videos[name], frames_per_chunk=9, index=None, threads=1)
        means = client.compute(array.mean(axis=(1, 2, 3))).result()
        expected = [frame.mean() for frame in sequential_frames(videos[name])]
        if media.uses_turbojpeg(videos[name]):  # MJPEG: the reader decodes with turbojpeg
            with VideoReader(videos[name], index=None) as reader:
                expected = [frame.mean() for frame in reader]
        np.testing.assert_array_equal(means, expected, err_msg=name)
    after = client.run(media.count_scans)
    assert after == before, f"a worker scanned a video: {before} -> {after}"
    # The count does see a scan on a worker: a reader opened there without an index.
    path = str(videos["h264.ts"])
    assert client.submit(lambda: len(VideoReader(path, index=None))).result() > 0
    control = client.run(media.count_scans)
    assert sum(control.values()) == sum(after.values()) + 1
