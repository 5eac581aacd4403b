"""torchcodec's custom_frame_mappings JSON: out of our index, back in, and into torchcodec."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import warnings

import numpy as np
import pytest

from framereader import (
    FrameIndex,
    IndexFileError,
    VideoReader,
    frame_mappings,
    from_frame_mappings,
    to_frame_mappings_json,
)
from tests.framereader.media import frame_hash, orders

ROUND_TRIP = (
    "x264-bframes.mp4",
    "h264.ts",
    "bframes-open-gop.mp4",
    "vfr-dropped.mkv",
    "wrong-frame-count.mp4",
    "opengop-cut.ts",
    "mjpeg.avi",
    "ffv1-color.mkv",
)


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_the_json_round_trips_and_the_imported_index_reads_exact_frames(name, videos, truth):
    index = FrameIndex.scan(videos[name])
    text = to_frame_mappings_json(index)
    frames = json.loads(text)["frames"]
    assert [f["pts"] for f in frames] == index.frame_pts.tolist()
    assert [bool(f["key_frame"]) for f in frames] == index.frame_keyframe.tolist()
    assert all(f["duration"] > 0 for f in frames)

    imported = from_frame_mappings(text, videos[name])
    assert np.array_equal(imported.frame_pts, index.frame_pts)
    assert np.array_equal(imported.frame_keyframe, index.frame_keyframe)
    assert (imported.codec, imported.time_base) == (index.codec, index.time_base)
    assert frame_mappings(imported) == json.loads(text)

    expected = truth(name)
    indices = orders(len(expected))["random"][:20]
    with VideoReader(videos[name], index=imported) as reader:
        assert [frame_hash(reader[i]) for i in indices] == [expected[i] for i in indices]
        assert [frame_hash(frame) for frame in reader] == expected
        if imported.intra_only:  # no file offsets in the JSON: packets come from the demuxer
            assert reader.stats()["demuxed"]
            assert not reader.stats()["pread"]


def test_the_mappings_come_as_text_bytes_dict_file_or_path(videos, tmp_path):
    video = videos["x264-bframes.mp4"]
    text = to_frame_mappings_json(FrameIndex.scan(video))
    path = tmp_path / "mappings.json"
    path.write_text(text)
    sources = [text, text.encode(), json.loads(text), io.StringIO(text), path]
    pts = [from_frame_mappings(source, video).frame_pts.tolist() for source in sources]
    assert all(p == pts[0] for p in pts)
    with VideoReader(video, index=path) as reader:  # a .json path is torchcodec's format
        assert reader.index_loaded
        assert reader.index_file is None
        assert len(reader) == len(pts[0])


def test_ffprobe_frames_are_imported_too(videos, truth):
    """What torchcodec's documentation suggests making them with: ffprobe -show_frames."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        pytest.fail("ffprobe comes with the ffmpeg CLI the other tests need")
    name = "wrong-frame-count.mp4"  # its frame 0 is no keyframe: the cut kept the P-frames
    command = [ffprobe, "-v", "error", "-show_frames", "-of", "json", str(videos[name])]
    probe = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    index = from_frame_mappings(probe.stdout, videos[name])  # pts, pkt_duration, key_frame
    expected = truth(name)
    assert len(index) == len(expected)
    with VideoReader(videos[name], index=index) as reader:
        indices = orders(len(expected))["backward"][:10]
        assert [frame_hash(reader[i]) for i in indices] == [expected[i] for i in indices]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "cannot read"),
        ('{"frames": []}', "non-empty"),
        ('{"streams": []}', "non-empty"),
        ('{"frames": [{"pts": 0, "key_frame": 1}]}', "duration"),
        ('{"frames": [{"duration": 1, "key_frame": 1}]}', "pts"),
        (
            '{"frames": [{"pts": 0, "duration": 1, "key_frame": 1, "media_type": "audio"}]}',
            "no frame",
        ),
        ('{"frames": [3]}', "not an object"),
    ],
)
def test_what_is_not_frame_mappings_raises_index_file_error(text, message, videos):
    with pytest.raises(IndexFileError, match=message):
        from_frame_mappings(text, videos["x264-bframes.mp4"])


def test_torchcodec_accepts_our_json_and_returns_our_frames(videos):
    """torchcodec reads the same frame at each index from our mappings, without its own
    scan. (MPEG-TS is left out: torchcodec fails on it, with or without mappings.)"""
    pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's import-time warnings are not ours
        from torchcodec.decoders import VideoDecoder
    for name in ("bframes-open-gop.mp4", "vfr-dropped.mkv", "wrong-frame-count.mp4"):
        with VideoReader(videos[name], index=None, pixel_format="RGB") as reader:
            ours = list(reader)
            text = to_frame_mappings_json(reader.index)
        decoder = VideoDecoder(
            str(videos[name]),
            custom_frame_mappings=text,
            dimension_order="NHWC",
            num_ffmpeg_threads=1,
        )
        for i in (0, 7, len(ours) // 2, len(ours) - 1):
            theirs = decoder[i].numpy().astype(np.int16)
            distances = [np.abs(theirs - frame).mean() for frame in ours]
            assert int(np.argmin(distances)) == i, (name, i)
            assert distances[i] < 1.0, (name, i, distances[i])
