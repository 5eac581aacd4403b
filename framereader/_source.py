"""What the decoders share: the ``FrameSource`` a reader reads from, the ``Video``
they open a container of, and converting frames to arrays.

Two kinds of ``FrameSource``, each exact on its own: ``_packets.PacketDecoder``
for intra-only streams and ``_gop.GopPool`` for everything else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from framereader.errors import CorruptVideoError, FrameReaderError
from framereader.index import FrameIndex

ThreadType = Literal["frame", "slice", "none"]
PixelFormat = Literal["BGR", "RGB", "GRAY"]
_AV_FORMATS = {"BGR": ("bgr24", 3), "RGB": ("rgb24", 3), "GRAY": ("gray", 1)}
_THREAD_TYPES = {"frame": "FRAME", "slice": "SLICE", "none": "SLICE"}  # "none": one thread


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
    ``VideoReader.stats()`` reports."""

    path: str
    index: FrameIndex
    thread_type: ThreadType
    threads: int
    counts: Counter[str]

    def open(self):
        """``(container, stream)`` with the first video stream's decoder threads set."""
        try:
            container = av.open(self.path)
        except av.FFmpegError as exc:
            raise CorruptVideoError(f"{self.path} cannot be opened as a video: {exc}") from exc
        if not container.streams.video or container.streams.video[0].codec_context is None:
            container.close()
            raise CorruptVideoError(f"{self.path} has no decodable video stream any more")
        stream = container.streams.video[0]
        context = stream.codec_context
        context.thread_type = _THREAD_TYPES[self.thread_type]
        context.thread_count = 1 if self.thread_type == "none" else self.threads
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
