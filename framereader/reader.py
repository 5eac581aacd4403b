"""``VideoReader``: exact frames of a video by number, one at a time or in batches."""

from __future__ import annotations

import operator
import os
import weakref
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from time import perf_counter
from typing import Any, Literal, Self, get_args

import numpy as np

from framereader import cache
from framereader._gop import Costs, GopDecoder, GopPool
from framereader._packets import PacketDecoder
from framereader._source import Converter, FrameSource, PixelFormat, Video
from framereader.errors import StaleIndexError
from framereader.index import FrameIndex
from framereader.torchcodec_json import from_frame_mappings

ThreadType = Literal["auto", "frame", "slice", "none"]
IndexSource = Literal["auto"] | FrameIndex | str | os.PathLike[str] | None
# What stats() counts, each key always present.
STATS = (
    *("decoded", "fed", "seeks", "retries", "continued", "decoders"),
    *("pread", "demuxed", "batched", "cheap_opens", "full_probes", "bare_opens"),
    "packet_searches",
)


# The choices, listed once at import: typing's get_args on each open costs a fresh
# process the first touch of typing's objects.
_PIXEL_FORMATS = get_args(PixelFormat)
_THREAD_TYPES = get_args(ThreadType)


@dataclass(frozen=True)
class FrameInfo:
    """What the index knows about a frame without decoding it."""

    index: int
    pts: int  # in the stream's time base
    time: float  # seconds: pts * time base (the stream's clock, not always 0 at frame 0)
    keyframe: bool  # decoding can start at this frame's packet


# Readers alive in this process, whose decoders are closed before a fork: a child
# must never touch (nor free) decoder threads that only exist in its parent.
_LIVE: weakref.WeakSet[VideoReader] = weakref.WeakSet()


def _release_before_fork() -> None:
    for reader in list(_LIVE):
        reader._release()


os.register_at_fork(before=_release_before_fork)
_ORPHANS: list[Any] = []  # decoders a child inherited anyway (a fork that ran no hooks)


class VideoReader:
    """Frame ``i`` of ``path`` is the ``i``-th frame a full sequential decode outputs;
    this returns exactly that frame, or raises.

    ``reader[i]`` is one ``(height, width, channels)`` uint8 array (``channels`` 3 for
    BGR and RGB, 1 for GRAY); ``reader[a:b:c]``, ``reader[[i, j]]`` and
    ``reader.get_batch(indices)`` one ``(N, height, width, channels)`` array; ``for
    frame in reader`` decodes straight through. Indices count from the end when
    negative, as in a list, and raise ``IndexError`` out of range.

    ``index`` says where the frame index comes from:

    * ``"auto"`` (default): a cache file, ``<video>.frameindex`` beside the video (in
      ``default_cache_dir()`` when that folder is read-only) or in ``cache_dir``; used
      when it matches the video (size, mtime, a hash of its head), else scanned again
      and rewritten;
    * ``None``: scan the video and keep nothing on disk;
    * a ``FrameIndex``: used as it is (``StaleIndexError`` if the video changed since);
    * a path (a ``str`` other than ``"auto"``, or a ``Path``): an index file, used when
      current, else scanned and written there; a path ending in ``.json`` is read as
      torchcodec's ``custom_frame_mappings`` instead.

    ``threads`` is the decoder's thread count (0: FFmpeg's choice, one per core; 1: no
    threading; in DataLoader workers 1 is usually best). ``thread_type`` is how they
    split the work. ``"auto"``: frame threading for batches and iteration; for single
    frames, slice threading on intra-only streams and one thread on the others (frame
    threading would add a frame of latency per thread, most such streams have one slice
    per frame, and FFmpeg's H.264 and MPEG decoders only flag the frames whose errors
    they concealed when not slice-threaded). ``"frame"``, ``"slice"`` or ``"none"``
    force one.
    ``decoders`` is how many decoders a stream with GOPs may keep open for reads
    that are not frame-threaded (default 3), each left where its last read ended.
    A read goes to the one that reaches its frame by decoding forward soonest.
    When none does, one seeks, or a new one opens (up to ``decoders``) once reads
    have come back behind places decoders left often enough that keeping places
    would have saved more decoding than an open costs, both measured on this
    file's reads. Back and forth between a few places then decodes a few frames
    a read, and reads that never come back open nothing. Each decoder costs a
    file handle and its reference frames (a few frames' memory); ``decoders=1``
    keeps one.

    Safe after ``fork`` (decoders are closed before a fork and reopened lazily) and
    picklable (the path, options and index travel; the open files do not). One reader
    serves one thread at a time.
    """

    # Frames no other frame references, shown before a target, are skipped on the way
    # to it. Only the tests turn this off (on one reader), to count what it saves.
    _skip_nonref = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        index: IndexSource = "auto",
        cache_dir: str | os.PathLike[str] | None = None,
        threads: int = 0,
        thread_type: ThreadType = "auto",
        pixel_format: PixelFormat = "BGR",
        decoders: int = 3,
    ) -> None:
        if pixel_format not in _PIXEL_FORMATS:
            raise ValueError(f"pixel_format must be one of {_PIXEL_FORMATS}, not {pixel_format!r}")
        if thread_type not in _THREAD_TYPES:
            raise ValueError(f"thread_type must be one of {_THREAD_TYPES}, not {thread_type!r}")
        if operator.index(threads) < 0:
            raise ValueError(f"threads must be 0 (FFmpeg's choice) or more, not {threads}")
        if operator.index(decoders) < 1:
            raise ValueError(f"decoders must be 1 or more, not {decoders}")
        self.path = os.fspath(path)
        self.pixel_format: PixelFormat = pixel_format
        self.threads = operator.index(threads)
        self.thread_type: ThreadType = thread_type
        self.decoders = operator.index(decoders)
        self.cache_dir = None if cache_dir is None else os.fspath(cache_dir)
        self._index_source = index
        self._counts: Counter[str] = Counter()  # which paths served the reads: stats()
        self._resolve_index(index)
        self._open_state()

    def _open_state(self) -> None:
        self._decoders: dict[str, FrameSource] = {}
        self._pid = os.getpid()
        self._closed = False
        index = self.index
        self._intra = bool(len(index) and index.intra_only)
        _LIVE.add(self)

    def _resolve_index(self, source: IndexSource) -> None:
        """Sets ``index``, ``index_file`` (the cache file, or None), ``index_loaded`` (it came
        from a file, not a scan) and ``index_seconds`` (what getting it took)."""
        started = perf_counter()
        self._index_file: str | os.PathLike[str] | None = None
        self.index_loaded = False
        if isinstance(source, FrameIndex):
            if not source.matches(self.path):
                raise StaleIndexError(f"the index does not describe {self.path} as it is now")
            self.index, self.index_loaded = source, True
        elif source is None:
            self.index = FrameIndex.scan(self.path)
        elif isinstance(source, str) and source == "auto":
            self.index, self._index_file, self.index_loaded = cache.load_or_scan(
                self.path, self.cache_dir
            )
        elif isinstance(source, str | os.PathLike):
            place = Path(source)
            if place.suffix.lower() == ".json":
                self.index, self.index_loaded = from_frame_mappings(place, self.path), True
            else:
                found = cache.cached_index(self.path, place)
                self.index_loaded = found is not None
                self.index = found if found is not None else FrameIndex.scan(self.path)
                if found is not None or cache.write_index(self.index, place):
                    self._index_file = place
        else:
            raise TypeError(f"index must be 'auto', None, a FrameIndex or a path, not {source!r}")
        self.index_seconds = perf_counter() - started

    @property
    def index_file(self) -> Path | None:
        """The cache file the index came from or went to; None when there is none."""
        return None if self._index_file is None else Path(self._index_file)

    # -- the sequence -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.index)

    @property
    def width(self) -> int:
        return self.index.width

    @property
    def height(self) -> int:
        return self.index.height

    @property
    def channels(self) -> int:
        return 1 if self.pixel_format == "GRAY" else 3

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(frames, height, width, channels)``, as the whole video in one array would be."""
        return len(self), self.height, self.width, self.channels

    @property
    def time_base(self) -> Fraction:
        return self.index.time_base

    @property
    def codec(self) -> str:
        return self.index.codec

    @property
    def average_fps(self) -> float | None:
        """Frames per second over the whole video, from its timestamps (None for < 2 frames)."""
        pts = self.index.frame_pts
        if len(pts) < 2:
            return None
        return float((len(pts) - 1) / ((int(pts[-1]) - int(pts[0])) * self.index.time_base))

    def _check_index(self, i: Any) -> int:
        i = operator.index(i)
        n = len(self)
        if not -n <= i < n:
            raise IndexError(
                f"frame {i} is out of range: {self.path} has {n} frames "
                f"(valid indices {-n} to {n - 1})"
            )
        return i + n if i < 0 else i

    def frame_info(self, i: int) -> FrameInfo:
        i = self._check_index(i)
        packet = int(self.index.order[i])
        pts = int(self.index.pts[packet])
        return FrameInfo(
            i, pts, float(pts * self.index.time_base), bool(self.index.keyframe[packet])
        )

    def __getitem__(self, key):
        if isinstance(key, slice):
            return self.get_batch(range(*key.indices(len(self))))
        is_array = isinstance(key, np.ndarray) and key.ndim > 0
        if is_array or (isinstance(key, Sequence) and not isinstance(key, str | bytes)):
            return self.get_batch(key)
        i = self._check_index(key)
        return self._decoder("single").read(i)

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Frames ``indices`` (any order, repeats allowed) as one ``(N, height, width,
        channels)`` array, in the order asked. Each frame is decoded once, in
        increasing order, so the decoder never seeks backwards and a GOP holding
        several of them is decoded once."""
        asked = np.asarray(indices)
        if asked.size == 0:
            return np.empty((0, self.height, self.width, self.channels), np.uint8)
        if asked.ndim != 1 or asked.dtype.kind not in "iu":
            raise TypeError(
                f"indices must be a flat sequence of ints, not {asked.dtype} {asked.shape}"
            )
        n = len(self)
        bad = (asked < -n) | (asked >= n)
        if bad.any():
            raise IndexError(
                f"frame {int(asked[bad][0])} is out of range: {self.path} has {n} frames "
                f"(valid indices {-n} to {n - 1})"
            )
        asked = np.where(asked < 0, asked + n, asked).astype(np.int64)
        unique, first, inverse = np.unique(asked, return_index=True, return_inverse=True)
        out = np.empty((len(asked), self.height, self.width, self.channels), np.uint8)
        rows = [out[k] for k in first]
        self._decoder("batch").read_many([int(i) for i in unique], rows)
        repeats = np.flatnonzero(first[inverse] != np.arange(len(asked)))
        if repeats.size:
            out[repeats] = out[first[inverse[repeats]]]
        return out

    def __iter__(self) -> Iterator[np.ndarray]:
        """Every frame in order, decoded straight through (frame threading by default)."""
        yield from self._decoder("batch").frames(range(len(self)))

    # -- decoders, fork and pickling ----------------------------------------------

    def _decoder(self, use: Literal["single", "batch"]) -> FrameSource:
        if self._closed:
            raise ValueError(f"the VideoReader of {self.path} is closed")
        if os.getpid() != self._pid:  # forked without the hooks: leave the parent's alone
            _ORPHANS.extend(self._decoders.values())
            self._decoders = {}
            self._pid = os.getpid()
        kind = self.thread_type
        if self.threads == 1:
            kind = "none"
        elif kind == "auto" and use == "batch":
            kind = "frame"
        elif kind == "auto":
            # One frame of an intra-only stream: its slices in parallel (FFV1 has several).
            # One frame of a GOP: one thread. Those streams mostly have one slice per frame,
            # and FFmpeg's H.264 and MPEG decoders conceal errors (and flag the frames
            # they concealed) only when not slice-threaded.
            kind = "slice" if self._intra else "none"
        decoder = self._decoders.get(kind)
        if decoder is None:
            video = Video(self.path, self.index, kind, self.threads, self._counts)
            convert = Converter(self.pixel_format, self.threads)
            if self._intra:
                decoder = PacketDecoder(video, convert)
            else:
                # Frame-threaded decoders (a thread per core each) are not multiplied.
                costs = Costs()
                decoder = GopPool(
                    lambda: GopDecoder(video, convert, self._skip_nonref, costs),
                    1 if kind == "frame" else self.decoders,
                    costs,
                )
            self._decoders[kind] = decoder
        return decoder

    def _release(self) -> None:
        """Close the decoders (they reopen when next needed)."""
        decoders, self._decoders = self._decoders, {}
        for decoder in decoders.values():
            decoder.close()

    def close(self) -> None:
        self._release()
        self._closed = True
        _LIVE.discard(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_pid", None) == os.getpid() and getattr(self, "_decoders", None):
            self._release()

    def __getstate__(self) -> dict:
        given = isinstance(self._index_source, FrameIndex)
        return {
            "path": self.path,
            "options": {
                "cache_dir": self.cache_dir,
                "threads": self.threads,
                "thread_type": self.thread_type,
                "pixel_format": self.pixel_format,
                "decoders": self.decoders,
            },
            # how to get the index again if the video changes: "auto", None, a path
            # (an index given as an object has no way back: then it must still match)
            "index_source": None if given else self._index_source,
            "index_given": given,
            "index": self.index,
        }

    def __setstate__(self, state: dict) -> None:
        self.path = state["path"]
        options = state["options"]
        self.cache_dir = options["cache_dir"]
        self.threads = options["threads"]
        self.thread_type = options["thread_type"]
        self.pixel_format = options["pixel_format"]
        self.decoders = options["decoders"]
        self._counts = Counter()
        index: FrameIndex = state["index"]
        self._index_source = index if state["index_given"] else state["index_source"]
        if index.matches(self.path) or state["index_given"]:
            self._resolve_index(index)  # StaleIndexError when a given index no longer matches
        else:
            self._resolve_index(self._index_source)
        self._open_state()

    def stats(self) -> dict[str, int]:
        """What served the reads so far, by count: ``decoded`` (frames out of a decoder),
        ``fed`` (packets into one: a decoder holds frames back, so it may be fed more
        packets than it outputs frames), ``seeks`` (decoding started again at a
        keyframe, or at the file's start),
        ``retries`` (seeks that landed wrong and were redone), ``continued``
        (reads reached by decoding on, no seek), ``decoders`` (opened), ``pread``
        (packets read by their offset: an intra-only frame's, a keyframe's read
        alone), ``demuxed`` (intra-only packets read through the demuxer),
        ``batched`` (batch passes), ``cheap_opens`` and ``full_probes`` (containers
        opened with what the index knows of the stream, or with FFmpeg's full probe:
        the index has no stream parameters, or the file disagrees with them),
        ``bare_opens`` (decoders made from the index alone, no container opened, to
        decode keyframes read by their offset),
        ``packet_searches`` (packets the demuxer returned out of file order, or where a
        seek landed off its keyframe, looked up in the index by pts). For
        diagnostics; a copy, so it never changes under you, with every key present.
        Not carried by pickling: a copy of the reader starts at zero."""
        return {key: self._counts[key] for key in STATS}

    def __repr__(self) -> str:
        return (
            f"VideoReader({self.path!r}, frames={len(self)}, {self.width}x{self.height}, "
            f"codec={self.codec!r}, pixel_format={self.pixel_format!r})"
        )
