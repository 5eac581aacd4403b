"""The package's errors: every failure it can name is a ``FrameReaderError``.

Out-of-range frame numbers raise the built-in ``IndexError``, and a missing
file ``FileNotFoundError``, as any Python sequence or file API would.
"""

from __future__ import annotations


class FrameReaderError(Exception):
    """The base of every error this package raises on purpose."""


class UnsupportedVideoError(FrameReaderError):
    """A file this package cannot index exactly: no video stream, or two frames
    with the same timestamp (nothing would tell them apart)."""


class CorruptVideoError(FrameReaderError):
    """The file is damaged: it cannot be opened or demuxed as indexed."""


class CorruptFrameError(CorruptVideoError):
    """One frame cannot be decoded exactly; other frames of the file may be fine.

    ``index`` is the frame asked for. Raised when the decoder never outputs the
    frame (its packet is damaged or missing) and when FFmpeg or libjpeg-turbo
    flags the decoded frame as corrupt (error concealment, truncated data).
    """

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


class StaleIndexError(FrameReaderError):
    """An index given explicitly describes another file, or this file before it changed."""


class IndexFileError(FrameReaderError):
    """An index file (ours, or torchcodec's frame mappings JSON) cannot be read.

    The on-disk cache never raises it: a cache file that fails to load is rebuilt.
    """
