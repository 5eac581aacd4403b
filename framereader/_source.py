"""What the decoders share: the ``FrameSource`` a reader reads from, the ``Video``
they open a container of, and converting frames to arrays.

Two kinds of ``FrameSource``, each exact on its own: ``_packets.PacketDecoder``
for intra-only streams and ``_gop.GopPool`` for everything else.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import av
import av.audio.stream  # see below
import av.subtitles.stream
import av.video.stream
import numpy as np
from av.video.reformatter import VideoReformatter

from framereader.errors import CorruptVideoError, FrameReaderError
from framereader.index import FrameIndex, StreamParams, adopt

# The three imports above: PyAV imports its stream classes when av.open first wraps a
# stream; imported with framereader, a process's first open pays no import (1.3 ms, more
# than all the rest of opening a 1-minute file with its index cached).

ThreadType = Literal["frame", "slice", "none"]
PixelFormat = Literal["BGR", "RGB", "GRAY"]
_AV_FORMATS = {"BGR": ("bgr24", 3), "RGB": ("rgb24", 3), "GRAY": ("gray", 1)}
_THREAD_TYPES = {"frame": "FRAME", "slice": "SLICE", "none": "SLICE"}  # "none": one thread
# Container options for an open whose stream the index knows: avformat_find_stream_info
# reads one packet, not as many as settle the stream (up to 5 MB or 5 s; 8 packets,
# 1.5 MB, on a lossless H.264 Matroska file).
CHEAP_PROBE = {"probesize": "32", "analyzeduration": "0"}
# And the probe's own decoder skips that packet: decoding it (a whole keyframe, as costly
# as the first read's) tells the pixel format, the reorder depth and the colour, which
# the index holds. Only for demuxers that store every packet's pts: elsewhere (MPEG-TS,
# AVI) FFmpeg fills missing timestamps from the reorder depth the probe decoded.
SKIM = {"skip_frame": "all"}
SKIMMED_CONTAINERS = frozenset({"matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2"})
_UNSPECIFIED_COLOR = (0, 2, 2, 2)  # FFmpeg's "unspecified" in each


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
    is opened with the index's demuxer (no probe of the file's head) and
    ``CHEAP_PROBE`` first (the probe reads one packet, and on
    ``SKIMMED_CONTAINERS`` decodes nothing), kept when the demuxer reports the
    stream as the index does in everything it reports, else closed and opened
    again with the full probe. What the short probe left unknown (what only
    decoding tells) is set from the index: either way the decoder's context holds
    what a full probe finds in every field the index keeps."""

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

    def bare_context(self):
        """A decoder's context made from the index alone, with no container (a keyframe
        read alone needs none: its bytes are at a checked offset), threads set as
        ``open`` sets them; None where the scan did not find that it decodes as the
        demuxer's context does (``StreamParams.bare``)."""
        try:
            context = self.index.bare_context()
        except (av.FFmpegError, AttributeError, TypeError, ValueError):  # this PyAV or FFmpeg
            return None
        if context is not None:
            context.thread_type = _THREAD_TYPES[self.thread_type]
            context.thread_count = 1 if self.thread_type == "none" else self.threads
            self.counts["bare_opens"] += 1
        return context

    def as_indexed(self, frame: av.VideoFrame) -> bool:
        """Whether a frame has the size and pixel format the index gives the stream."""
        index = self.index
        return (frame.width, frame.height, frame.format.name) == (
            index.width, index.height, index.params.pixel_format)  # fmt: skip

    def _open(self, options: dict[str, str] | None, demuxer: str | None = None, skim: bool = False):
        """The file opened with ``demuxer`` (None: the one FFmpeg's probe of its head finds)."""
        streams = [SKIM] * (self.index.params.number + 1) if skim else None
        try:
            container = av.open(self.path, format=demuxer, container_options=options,
                                stream_options=streams)  # fmt: skip
        except av.FFmpegError as exc:
            raise CorruptVideoError(f"{self.path} cannot be opened as a video: {exc}") from exc
        except ValueError as exc:  # PyAV: no such demuxer; per-stream options, yet no stream
            raise CorruptVideoError(f"{self.path} cannot be opened so: {exc}") from exc
        if not container.streams.video or container.streams.video[0].codec_context is None:
            container.close()
            raise CorruptVideoError(f"{self.path} has no decodable video stream any more")
        return container, container.streams.video[0]

    def _cheap_open(self):
        """``_open(CHEAP_PROBE)`` when the demuxer reports the stream as the index does,
        with what it left unknown set from the index; else None."""
        known = self.index.params
        try:
            skim = known.container in SKIMMED_CONTAINERS
            container, stream = self._open(CHEAP_PROBE, known.container, skim)
        except CorruptVideoError:
            return None
        if not (self._agrees(container, stream) and adopt(stream.codec_context, known)):
            container.close()
            return None
        return container, stream

    def _agrees(self, container, stream) -> bool:
        """Whether the stream the demuxer reports is the index's, in all it reports: what
        a short probe may leave unknown (no extradata, no pixel format, colour
        unspecified, a shallower reorder depth) agrees with anything."""
        index, known, context = self.index, self.index.params, stream.codec_context
        found = StreamParams.of(stream)
        seen = (container.format.name, context.name, stream.time_base, context.width,
                context.height, found.number)  # fmt: skip
        wanted = (known.container, index.codec, index.time_base, index.width, index.height,
                  known.number)  # fmt: skip
        colors = zip(found.color, known.color, _UNSPECIFIED_COLOR, strict=True)
        return (
            seen == wanted
            and known.pixel_format is not None
            and context.width * context.height > 0
            and found.extradata in (b"", known.extradata)
            and found.pixel_format in (None, known.pixel_format)
            and found.reorder_depth <= known.reorder_depth
            and all(got in (want, unspecified) for got, want, unspecified in colors)
        )


class Payloads:
    """Packets' bytes where the scan found them (``FrameIndex.payload_offset``), one
    ``pread`` each, through one file descriptor opened on first use."""

    def __init__(self, video: Video) -> None:
        self.path, self.index, self.counts = video.path, video.index, video.counts
        self._fd: int | None = None

    def read(self, packet: int) -> bytes | None:
        """Packet ``packet``'s bytes (fewer than its size where the file now ends
        before them); None where the index knows no offset for them."""
        offset = int(self.index.payload_offset[packet])
        if offset < 0:
            return None
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        self.counts["pread"] += 1
        return os.pread(self._fd, int(self.index.size[packet]), offset)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


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
