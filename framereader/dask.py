"""Videos as Dask arrays: exact frames, in keyframe-aligned chunks, on any scheduler.

>>> from framereader.dask import from_video
>>> video = from_video("mouse-042.mp4")            # (frames, height, width, 3) uint8, lazy
>>> brightness = video.mean(axis=(1, 2, 3)).compute()

Each chunk is a run of whole GOPs: it starts on a keyframe, so its task decodes
straight through from there, never seeks backwards, and gets exactly the frames a
sequential decode gives (``VideoReader.get_batch``). The index is built (or loaded
from its cache) once, here; the graph carries it with the path and the reader's
options, never a decoded frame, so a worker opens the video with that index and
never scans it. Each task opens its own reader, so the threaded scheduler (the
default: the decoders release the GIL) and ``distributed`` clusters run the same
graph. Needs ``pip install accelerated-codecs[video,dask]``.
"""

from __future__ import annotations

import itertools
import operator
import os
from collections.abc import Sequence

import numpy as np

from framereader.reader import PixelFormat, VideoReader

CHUNK_BYTES = 128 << 20  # the default chunk: about 128 MB of decoded frames


def _dask():
    try:
        import dask.array as da
        from dask.base import tokenize
        from dask.highlevelgraph import HighLevelGraph
    except ImportError as exc:
        raise ImportError(
            "framereader.dask needs Dask: pip install accelerated-codecs[dask]"
        ) from exc
    return da, tokenize, HighLevelGraph


def chunk_bounds(keyframes: np.ndarray, frames_per_chunk: int) -> list[int]:
    """Where chunks start, then the frame count: each start but the first is the
    keyframe nearest to a multiple of ``frames_per_chunk``, strictly increasing, so a
    chunk is about that long where keyframes allow; one keyframe gives one chunk.
    ``keyframes`` says, per frame in presentation order, whether it is a keyframe."""
    if frames_per_chunk < 1:
        raise ValueError(f"frames_per_chunk must be 1 or more, not {frames_per_chunk}")
    n = len(keyframes)
    starts = np.flatnonzero(keyframes)
    bounds = [0]
    for want in range(frames_per_chunk, n, frames_per_chunk):
        at = int(np.searchsorted(starts, want))
        near = [int(starts[k]) for k in (at - 1, at) if 0 <= k < len(starts)]
        if not near:
            continue
        best = min(near, key=lambda s: (abs(s - want), s))
        if best > bounds[-1]:
            bounds.append(best)
    return [*bounds, n] if n else [0]


def _read_chunk(state: dict, start: int, stop: int) -> np.ndarray:
    """A task: frames [start, stop) from a reader of its own, made from the graph's
    state (path, options, index), and closed again."""
    reader = VideoReader.__new__(VideoReader)
    reader.__setstate__(state)
    try:
        return reader.get_batch(np.arange(start, stop))
    finally:
        reader.close()


def from_video(
    path: str | os.PathLike[str],
    *,
    frames_per_chunk: int | None = None,
    pixel_format: PixelFormat = "BGR",
    **reader_options,
):
    """The video as a lazy ``(frames, height, width, channels)`` uint8 Dask array.

    ``frames_per_chunk`` is a target (default: about 128 MB of frames per chunk);
    every boundary moves to a nearby keyframe. ``reader_options`` go to
    ``VideoReader`` (``index``, ``cache_dir``, ``threads``, ``decoders``, ...);
    ``threads=1`` suits a cluster with a task per core.
    """
    da, tokenize, graph_of = _dask()
    with VideoReader(path, pixel_format=pixel_format, **reader_options) as reader:
        state = reader.__getstate__()
        shape = reader.shape
        keyframes = reader.index.frame_keyframe
    if not shape[0]:
        return da.zeros(shape, dtype=np.uint8)
    if frames_per_chunk is None:
        frames_per_chunk = max(1, CHUNK_BYTES // int(np.prod(shape[1:])))
    bounds = chunk_bounds(keyframes, operator.index(frames_per_chunk))
    token = tokenize(os.path.abspath(os.fspath(path)), state["index"].stamp, state["options"],
                     bounds)  # fmt: skip
    name = f"framereader-{token}"
    state_key = f"framereader-state-{token}"
    layer: dict = {state_key: state}
    for k, (start, stop) in enumerate(itertools.pairwise(bounds)):
        layer[(name, k, 0, 0, 0)] = (_read_chunk, state_key, start, stop)
    sizes = tuple(b - a for a, b in itertools.pairwise(bounds))
    graph = graph_of.from_collections(name, layer, dependencies=())
    chunks = (sizes, (shape[1],), (shape[2],), (shape[3],))
    return da.Array(graph, name, chunks, meta=np.empty((0, 0, 0, 0), np.uint8))


def from_videos(paths: Sequence[str | os.PathLike[str]], **options):
    """Several videos, one after another along the frame axis; each file's start is a
    chunk boundary. The frames must all have one size and pixel format."""
    da, _, _ = _dask()
    arrays = [from_video(p, **options) for p in paths]
    if not arrays:
        raise ValueError("from_videos needs at least one video")
    first = arrays[0].shape[1:]
    for path, array in zip(paths, arrays, strict=True):
        if array.shape[1:] != first:
            raise ValueError(f"the videos differ in frame size: {os.fspath(paths[0])} has "
                             f"{first}, {os.fspath(path)} has {array.shape[1:]}")  # fmt: skip
    return da.concatenate(arrays, axis=0)
