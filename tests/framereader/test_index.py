"""The frame index: what the scan counts, and its cache file on disk."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framereader import (
    FrameIndex,
    IndexFileError,
    StaleIndexError,
    VideoReader,
    index_path,
    remove_cached_index,
)
from framereader import cache as index_cache
from tests.framereader.media import DERIVED, EVERY_FILE, FRAMES, SUITE_FRAMES, frame_hash

# -- the scan ------------------------------------------------------------------


@pytest.mark.parametrize("name", EVERY_FILE)
def test_the_index_counts_what_a_sequential_decode_outputs(name, videos, truth):
    index = FrameIndex.scan(videos[name])
    assert len(index) == len(truth(name))
    assert np.all(np.diff(index.frame_pts) > 0)
    assert index.start_pts == index.frame_pts[0]


def test_frames_a_decode_drops_are_not_in_the_index(videos, truth):
    """The open-GOP cut starts with an undecodable leading B-frame; the edit-list cut
    has packets flagged discard. Both are packets, neither is a frame."""
    for name in (*DERIVED, "wrong-frame-count.mp4"):
        index = FrameIndex.scan(videos[name])
        assert len(index) == len(truth(name)) < len(index.pts), name
        assert not index.shown.all()


def test_the_index_knows_intra_only_streams_and_their_payloads(videos):
    for name in ("ffvhuff-color.mkv", "mjpeg.avi", "ffv1-g1-gray.mkv", "truncated.mkv"):
        index = FrameIndex.scan(videos[name])
        assert index.intra_only, name
        assert np.all(index.payload_offset >= 0), name
        data = videos[name].read_bytes()
        for p in (0, len(index.pts) - 1):  # the offsets hold the packet's own bytes
            at = int(index.payload_offset[p])
            assert len(data[at : at + int(index.size[p])]) == index.size[p]
    for name in ("ffv1-color.mkv", "x264-bframes.mp4"):  # GOPs: each keyframe's offset
        index = FrameIndex.scan(videos[name])
        assert not index.intra_only
        assert np.all(index.payload_offset[~index.keyframe] == -1), name
        assert np.all(index.payload_offset[index.keyframe] >= 0), name
        data = videos[name].read_bytes()
        with av.open(videos[name]) as container:
            packets = [p for p in container.demux(video=0) if p.size]  # as the scan keeps them
        assert len(packets) == len(index.pts)
        for packet, at in zip(packets, index.payload_offset, strict=True):
            if at >= 0:
                assert data[at : at + packet.size] == bytes(packet), name
    index = FrameIndex.scan(videos["h264.ts"])  # its packets are split across TS packets
    assert not index.intra_only
    assert np.all(index.payload_offset == -1)


def test_the_truncated_file_is_indexed_up_to_its_cut(videos):
    index = FrameIndex.scan(videos["truncated.mkv"])
    assert 0 < len(index) < FRAMES


# -- the cache file ------------------------------------------------------------------


def test_the_cache_file_is_written_reused_and_rebuilt_when_the_video_changes(copy_of, videos):
    video = copy_of("x264-bframes.mp4", "clip.mp4")
    cached = index_path(video)
    assert cached.name == "clip.mp4.frameindex"

    with VideoReader(video) as reader:
        assert not reader.index_loaded
        assert reader.index_file == cached
    assert cached.exists()
    with VideoReader(video) as reader:
        assert reader.index_loaded
        assert len(reader) == FRAMES

    stat = video.stat()
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched
    with VideoReader(video) as reader:
        assert not reader.index_loaded
    with VideoReader(video) as reader:
        assert reader.index_loaded

    shutil.copy(videos["editlist-bframes.mp4"], video)  # another video under the same name
    with VideoReader(video) as reader:
        assert not reader.index_loaded
        assert len(reader) == len(FrameIndex.scan(videos["editlist-bframes.mp4"]))


def test_a_rewrite_with_the_same_size_and_mtime_is_caught_by_the_head_hash(copy_of):
    video = copy_of("ffv1-color.mkv", "clip.mkv")
    VideoReader(video).close()
    stat = video.stat()
    data = bytearray(video.read_bytes())
    data[100] ^= 0xFF  # inside the first 64 KiB
    video.write_bytes(bytes(data))
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert video.stat().st_size == stat.st_size
    assert not index_cache.cached_index(video, index_path(video))


def damaged_copies(data: bytes) -> dict[str, bytes]:
    """Ways a cache file goes bad: truncated, bits flipped anywhere, garbage, empty."""
    flips = {}
    for at in (0, 9, 14, len(data) // 2, len(data) - 1):
        flipped = bytearray(data)
        flipped[at] ^= 0x10
        flips[f"flip@{at}"] = bytes(flipped)
    return {
        **flips,
        "truncated": data[: len(data) // 2],
        "header only": data[:40],
        "empty": b"",
        "garbage": b"not an index" * 50,
    }


def test_a_damaged_cache_file_is_never_trusted_and_never_raises(copy_of, truth):
    video = copy_of("x264-bframes.mp4", "clip.mp4")
    VideoReader(video).close()
    cached = index_path(video)
    good = cached.read_bytes()
    for what, data in damaged_copies(good).items():
        cached.write_bytes(data)
        with pytest.raises(IndexFileError):
            index_cache.load_index(cached)
        with VideoReader(video) as reader:
            assert not reader.index_loaded, what
            assert len(reader) == FRAMES
            assert frame_hash(reader[40]) == truth("x264-bframes.mp4")[40]
        assert cached.read_bytes() == good, what  # rebuilt: the same bytes again


@pytest.mark.parametrize("name", EVERY_FILE)
def test_an_index_loaded_is_the_index_scanned_field_for_field(name, videos, tmp_path):
    """A cache file restores what the scan made, its frame order included (read, not
    derived again), and nothing else."""
    index = FrameIndex.scan(videos[name])
    place = tmp_path / "index"
    index_cache.save_index(index, place)
    loaded = index_cache.load_index(place)
    fields = {f.name for f in dataclasses.fields(FrameIndex)}
    assert set(vars(loaded)) == fields == set(vars(index)) & fields
    for field in sorted(fields):
        ours, theirs = getattr(loaded, field), getattr(index, field)
        if isinstance(theirs, np.ndarray):
            assert ours.dtype == theirs.dtype, (name, field)
            assert np.array_equal(ours, theirs), (name, field)
        else:
            assert type(ours) is type(theirs), (name, field)
            assert ours == theirs, (name, field)
    assert len(loaded) == len(index)
    assert np.array_equal(loaded.frame_pts, index.frame_pts)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.sampled_from(["packets", "frames", "time_base", "width", "arrays", "stamp"]),
    value=st.one_of(
        st.integers(-3, 1 << 40),
        st.lists(st.integers(-2, 1 << 20), max_size=3),
        st.text(max_size=8),
        st.none(),
        st.lists(st.lists(st.text(max_size=4), max_size=2), max_size=3),
    ),
)
def test_a_header_changed_and_sealed_again_is_an_index_file_error_or_an_index(
    key, value, copy_of_index
):
    """The digest holds, so only the parser's own checks stand between a header edited by
    hand and the reader: either a whole index or ``IndexFileError``, nothing else."""
    place = copy_of_index()
    rewrite_header(place, lambda header: header.__setitem__(key, value))
    try:
        loaded = index_cache.load_index(place)
    except IndexFileError:
        return
    assert len(loaded.order) <= len(loaded.pts)


@pytest.fixture
def copy_of_index(copy_of, tmp_path):
    """``copy_of_index()``: a fresh copy of a B-frame video's cache file."""
    good = tmp_path / "good.frameindex"
    index_cache.save_index(FrameIndex.scan(copy_of("x264-bframes.mp4")), good)
    data = good.read_bytes()

    def copy():
        place = tmp_path / "edited.frameindex"
        place.write_bytes(data)
        return place

    return copy


def test_a_cache_file_of_another_format_version_is_rebuilt(copy_of, monkeypatch):
    video = copy_of("ffv1-color.mkv", "clip.mkv")
    monkeypatch.setattr(index_cache, "FORMAT_VERSION", index_cache.FORMAT_VERSION + 1)
    VideoReader(video).close()
    monkeypatch.undo()
    with pytest.raises(IndexFileError, match="format"):
        index_cache.load_index(index_path(video))
    with VideoReader(video) as reader:
        assert not reader.index_loaded
    with VideoReader(video) as reader:
        assert reader.index_loaded


def test_the_cache_dir_names_files_by_the_videos_absolute_path(copy_of, tmp_path, videos):
    one = copy_of("ffv1-color.mkv", "clip.mkv")
    other = tmp_path / "elsewhere" / "clip.mkv"
    other.parent.mkdir()
    shutil.copy(videos["x264-bframes.mp4"], other)
    cache_dir = tmp_path / "cache"
    for video in (one, other):
        with VideoReader(video, cache_dir=cache_dir) as reader:
            assert reader.index_file.parent == cache_dir
            assert reader.index_file.name.startswith("clip.mkv.")
    assert len(list(cache_dir.iterdir())) == 2
    assert not index_path(one).exists()  # nothing beside the videos
    with VideoReader(other, cache_dir=cache_dir) as reader:
        assert reader.index_loaded
        assert len(reader) == FRAMES
    remove_cached_index(other, cache_dir)
    assert len(list(cache_dir.iterdir())) == 1


def test_a_folder_that_cannot_be_written_falls_back_to_the_cache_dir(
    copy_of, tmp_path, monkeypatch
):
    """The beside-the-video place is taken by a directory, so writing there fails (the
    tests may run as root, for whom no folder is read-only)."""
    fallback = tmp_path / "user-cache"
    monkeypatch.setenv("FRAMEREADER_CACHE_DIR", str(fallback))
    video = copy_of("ffv1-color.mkv", "clip.mkv")
    index_path(video).mkdir()
    with VideoReader(video) as reader:
        assert not reader.index_loaded
        assert reader.index_file.parent == fallback
    with VideoReader(video) as reader:
        assert reader.index_loaded
    shutil.rmtree(fallback)
    fallback.write_text("a file where the cache folder should be")
    with VideoReader(video) as reader:  # nowhere to write: the index lives in memory only
        assert reader.index_file is None
        assert len(reader) == SUITE_FRAMES
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_index_file_path_and_an_index_object(copy_of, tmp_path):
    video = copy_of("h264.ts", "clip.ts")
    place = tmp_path / "indices" / "clip.idx"
    place.parent.mkdir()
    with VideoReader(video, index=place) as reader:
        assert not reader.index_loaded
        assert reader.index_file == place
        index = reader.index
    with VideoReader(video, index=str(place)) as reader:
        assert reader.index_loaded
    assert not index_path(video).exists()
    with VideoReader(video, index=index) as reader:
        assert reader.index is index
    with VideoReader(video, index=None) as reader:
        assert reader.index_file is None
        assert not reader.index_loaded
    assert not index_path(video).exists()
    video.write_bytes(video.read_bytes()[:-1000])
    with pytest.raises(StaleIndexError):
        VideoReader(video, index=index)


def test_writes_are_atomic_and_leave_no_temporary_files(copy_of, monkeypatch):
    video = copy_of("ffv1-color.mkv", "clip.mkv")
    index = FrameIndex.scan(video)
    place = index_path(video)

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    assert not index_cache.write_index(index, place)
    monkeypatch.undo()
    assert sorted(p.name for p in video.parent.iterdir()) == ["clip.mkv"]
    assert index_cache.write_index(index, place)
    assert sorted(p.name for p in video.parent.iterdir()) == ["clip.mkv", "clip.mkv.frameindex"]
    loaded = index_cache.load_index(place)
    for name in ("pts", "dts", "keyframe", "shown", "payload_offset", "order"):
        assert np.array_equal(getattr(loaded, name), getattr(index, name)), name
    assert (loaded.codec, loaded.time_base, loaded.stamp) == (
        index.codec,
        index.time_base,
        index.stamp,
    )


def rewrite_header(path, change) -> None:
    """Change the header of a cache file with ``change(header)`` and seal it again."""
    data = path.read_bytes()
    start = len(index_cache.MAGIC) + 4
    length = int.from_bytes(data[len(index_cache.MAGIC) : start], "little")
    header = json.loads(data[start : start + length])
    body = data[start + length + index_cache._DIGEST :]
    change(header)
    head = json.dumps(header, sort_keys=True).encode()
    digest = index_cache._seal(head, body)
    path.write_bytes(index_cache.MAGIC + len(head).to_bytes(4, "little") + head + digest + body)


def test_the_stream_params_survive_the_cache_file(copy_of):
    video = copy_of("h264.ts")
    VideoReader(video).close()
    loaded = index_cache.load_index(index_path(video))
    assert loaded.params == FrameIndex.scan(video).params
    assert loaded.params.extradata  # bytes, through the header's hex


def version_1(header):
    """Version 1 had the same layout without the stream params."""
    del header["params"]
    header["format"] = 1


def version_2(header):
    """Version 2's params had no container, and only whether the decoder reorders."""
    params = header["params"]
    del params["container"]
    params["has_b_frames"] = bool(params.pop("reorder_depth"))
    header["format"] = 2


@pytest.mark.parametrize("earlier", [version_1, version_2])
def test_a_cache_file_of_an_earlier_format_is_rescanned(earlier, copy_of):
    video = copy_of("x264-bframes.mp4")
    VideoReader(video).close()
    place = index_path(video)
    rewrite_header(place, earlier)
    with pytest.raises(
        IndexFileError, match=f"index format [12], not {index_cache.FORMAT_VERSION}"
    ):
        index_cache.load_index(place)
    with VideoReader(video) as reader:
        assert not reader.index_loaded  # scanned again, and written in this version
        assert reader.index.params is not None
    assert index_cache.load_index(place).params is not None
    with VideoReader(video) as reader:
        assert reader.index_loaded


SPOILED_PARAMS = {
    "colour of three": lambda params: params.update(color=[1, 2, 3]),
    "extradata not hex": lambda params: params.update(extradata="not hex"),
    "number not a number": lambda params: params.update(number="first"),
    "a key missing": lambda params: params.pop("reorder_depth"),
    "a negative reorder depth": lambda params: params.update(reorder_depth=-1),
    "no container": lambda params: params.pop("container"),
}


@pytest.mark.parametrize("spoil", SPOILED_PARAMS.values(), ids=SPOILED_PARAMS)
def test_a_cache_file_whose_params_are_bad_is_an_error_then_a_rescan(spoil, copy_of, truth):
    """Whole files (the digest holds) whose stream params are not what this version writes."""
    name = "h264.ts"
    video = copy_of(name)
    VideoReader(video).close()
    place = index_path(video)
    good = index_cache.load_index(place).params
    rewrite_header(place, lambda header: spoil(header["params"]))
    with pytest.raises(IndexFileError, match="not a valid index file"):
        index_cache.load_index(place)
    with VideoReader(video) as reader:
        assert not reader.index_loaded
        assert reader.index.params == good
        assert frame_hash(reader[7]) == truth(name)[7]
