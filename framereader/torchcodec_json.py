"""torchcodec's ``custom_frame_mappings`` JSON, to and from a ``FrameIndex``.

torchcodec's ``VideoDecoder(path, custom_frame_mappings=...)`` takes the frames
of the stream it decodes as ``{"frames": [{"pts": ..., "duration": ...,
"key_frame": 0 or 1}, ...]}``, timestamps in the stream's time base; it reads
``pkt_pts`` and ``pkt_duration`` too, as older ``ffprobe -show_frames`` wrote
them. It sorts the frames by pts and seeks to the key frames it is given, so
one scan of ours serves both libraries:

    >>> text = to_frame_mappings_json(reader.index)
    >>> decoder = torchcodec.decoders.VideoDecoder(path, custom_frame_mappings=text)

Frames go out in presentation order. A frame's duration is its packet's, or the
gap to the next frame when the container gave none.

Importing keeps what the JSON says (pts, duration, key frame) and takes the
codec, time base, size and stream parameters from the video; packet sizes, positions and decode
order are unknown, so such an index never reads by ``pread``. The JSON is
trusted to describe the video as it is now.
"""

from __future__ import annotations

import json
import os
from typing import IO, Any

import av
import numpy as np

from framereader.errors import CorruptVideoError, IndexFileError, UnsupportedVideoError
from framereader.index import NO_TS, FileStamp, FrameIndex, stream_fields


def frame_mappings(index: FrameIndex) -> dict[str, list[dict[str, int]]]:
    """The index as torchcodec's frame mappings (a JSON-ready dict), frame 0 first."""
    pts = index.frame_pts
    durations = index.duration[index.order].copy()
    gaps = np.diff(pts)
    if len(gaps):
        missing = durations[:-1] <= 0
        durations[:-1][missing] = gaps[missing]
        if durations[-1] <= 0:
            durations[-1] = gaps[-1]
    durations = np.maximum(durations, 0)
    keys = index.frame_keyframe
    return {
        "frames": [
            {"pts": int(p), "duration": int(d), "key_frame": int(k)}
            for p, d, k in zip(pts, durations, keys, strict=True)
        ]
    }


def to_frame_mappings_json(index: FrameIndex) -> str:
    """``frame_mappings(index)`` as JSON text, for ``custom_frame_mappings=``."""
    return json.dumps(frame_mappings(index))


def _parse(source: Any) -> dict:
    if isinstance(source, dict):
        return source
    try:
        if isinstance(source, os.PathLike):
            with open(source, "rb") as file:
                return json.load(file)
        if hasattr(source, "read"):
            return json.load(source)
        return json.loads(source)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexFileError(f"cannot read frame mappings: {exc}") from exc


def _field(frame: dict, *names: str) -> int:
    for name in names:
        if name in frame and frame[name] is not None:
            return int(frame[name])
    raise IndexFileError(f"a frame has none of {', '.join(names)}: {frame}")


def from_frame_mappings(
    source: dict | str | bytes | os.PathLike[str] | IO, video: str | os.PathLike[str]
) -> FrameIndex:
    """An index of ``video`` from torchcodec's frame mappings: a dict, JSON text, a
    path (``pathlib.Path``) or an open file. IndexFileError when it is not that format."""
    data = _parse(source)
    frames = data.get("frames") if isinstance(data, dict) else None
    if not isinstance(frames, list) or not frames:
        raise IndexFileError("frame mappings need a non-empty 'frames' list")
    path = os.fspath(video)
    stamp = FileStamp.of(path)
    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise UnsupportedVideoError(f"{path} has no video stream")
            stream = container.streams.video[0]
            fields, stream_index = stream_fields(path, stream), stream.index
    except av.FFmpegError as exc:
        raise CorruptVideoError(f"{path} cannot be opened as a video: {exc}") from exc
    rows = []
    for frame in frames:
        if not isinstance(frame, dict):
            raise IndexFileError(f"a frame is not an object: {frame!r}")
        if frame.get("media_type", "video") != "video":
            continue
        if frame.get("stream_index", stream_index) != stream_index:
            continue
        rows.append(
            (
                _field(frame, "pts", "pkt_pts"),
                _field(frame, "duration", "pkt_duration"),
                bool(_field(frame, "key_frame")),
            )
        )
    if not rows:
        raise IndexFileError(f"no frame of {path}'s first video stream in the mappings")
    rows.sort()
    pts, duration, keyframe = (np.array(column) for column in zip(*rows, strict=True))
    count = len(rows)
    return FrameIndex(
        stamp,
        **fields,
        intra_only=bool(keyframe.all()),
        pts=pts,
        dts=np.full(count, NO_TS, np.int64),
        duration=duration,
        keyframe=keyframe,
        size=np.full(count, -1, np.int64),
        pos=np.full(count, -1, np.int64),
        shown=np.ones(count, bool),
        payload_offset=np.full(count, -1, np.int64),
    )
