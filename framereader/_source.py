"""What the decoders share: the ``FrameSource`` a reader reads from, the ``Video``
they open a container of, and converting frames to arrays.

Two kinds of ``FrameSource``, each exact on its own: ``_packets.PacketDecoder``
for intra-only streams and ``_gop.GopPool`` for everything else.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from framereader.errors import CorruptVideoError, FrameReaderError
from framereader.index import FrameIndex, StreamParams

ThreadType = Literal["frame", "slice", "none"]
PixelFormat = Literal["BGR", "RGB", "GRAY"]
_AV_FORMATS = {"BGR": ("bgr24", 3), "RGB": ("rgb24", 3), "GRAY": ("gray", 1)}
_THREAD_TYPES = {"frame": "FRAME", "slice": "SLICE", "none": "SLICE"}  # "none": one thread
# Container options for an open whose stream the index knows: avformat_find_stream_info
# reads and decodes one packet, not as many as settle the stream (up to 5 MB or 5 s;
# 8 packets, 1.5 MB, on a lossless H.264 Matroska file).
CHEAP_PROBE = {"probesize": "32", "analyzeduration": "0"}


class FrameSource(Protocol):
    """Exact frames of one index by number, or a ``CorruptFrameError``."""

    def read(self, i: int, out: np.ndarray | None = None) -> np.ndarray:
        """Frame ``i``, into ``out`` when given."""

    def read_many(self, indices: list[int], out: Sequence[np.ndarray]) -> None:
        """Frames ``indices`` (sorted, distinct) into ``out[0], out[1], ...``."""

    def frames(self, indices: Iterable[int]) -> Iterator[np.ndarray]:
        """Frames ``indices`` (increasing), one array each."""

    def close(self) -> None:
        """Close its files and decoders; a later read opens them again."""


@dataclass(frozen=True, eq=False)
class Video:
    """The video a decoder reads, and how it opens a container of its own: the
    path, the index that describes it, the thread setting, and the counts
    ``VideoReader.stats()`` reports.

    The index knows what FFmpeg's full probe found of the stream, so a container
    is opened with ``CHEAP_PROBE`` first (the probe reads next to nothing), kept
    when the demuxer reports that same stream, else closed and opened again with
    the full probe. Either way the decoder's context holds what a full probe
    finds in every field the index keeps."""

    path: str
    index: FrameIndex
    thread_type: ThreadType
    threads: int
    counts: Counter[str]

    def open(self):
        """``(container, stream)`` with the first video stream's decoder threads set."""
        opened = self._cheap_open() if self.index.params is not None else None
        if opened is None:
            opened = self._open(None)
            self.counts["full_probes"] += 1
        else:
            self.counts["cheap_opens"] += 1
        container, stream = opened
        context = stream.codec_context
        context.thread_type = _THREAD_TYPES[self.thread_type]
        context.thread_count = 1 if self.thread_type == "none" else self.threads
        return container, stream

    def _open(self, options: dict[str, str] | None):
        try:
            container = av.open(self.path, container_options=options)
        except av.FFmpegError as exc:
            raise CorruptVideoError(f"{self.path} cannot be opened as a video: {exc}") from exc
        if not container.streams.video or container.streams.video[0].codec_context is None:
            container.close()
            raise CorruptVideoError(f"{self.path} has no decodable video stream any more")
        return container, container.streams.video[0]

    def _cheap_open(self):
        """``_open(CHEAP_PROBE)`` when the demuxer reports the stream as the index
        does, in full, with the index's extradata where it found none; else None."""
        try:
            container, stream = self._open(CHEAP_PROBE)
        except CorruptVideoError:
            return None
        index, context = self.index, stream.codec_context
        found = StreamParams.of(stream)
        if not found.extradata:  # the one packet it read held none: the full probe's
            found = dataclasses.replace(found, extradata=index.params.extradata)
        seen = (context.name, stream.time_base, context.width, context.height, found)
        known = (index.codec, index.time_base, index.width, index.height, index.params)
        if seen != known or found.pixel_format is None or not context.width * context.height:
            container.close()
            return None
        if found.extradata != (context.extradata or b""):
            context.extradata = found.extradata
        return container, stream


class Converter:
    """Decoded frames to ``(height, width, channels)`` uint8 arrays in one pixel format."""

    def __init__(self, pixel_format: PixelFormat, threads: int) -> None:
        self.pixel_format = pixel_format
        self.av_format, self.channels = _AV_FORMATS[pixel_format]
        self.threads = threads
        self._reformatter = VideoReformatter()  # keeps its scaler between frames

    def __call__(self, frame: av.VideoFrame, out: np.ndarray | None = None) -> np.ndarray:
        converted = self._reformatter.reformat(frame, format=self.av_format, threads=self.threads)
        image = converted.to_ndarray().reshape(frame.height, frame.width, self.channels)
        if out is None:
            return np.ascontiguousarray(image)
        if out.shape != image.shape:
            raise FrameReaderError(
                f"a frame of {frame.width}x{frame.height} does not fit the batch's "
                f"{out.shape[1]}x{out.shape[0]}: the stream changes size mid-way"
            )
        out[...] = image
        return out
