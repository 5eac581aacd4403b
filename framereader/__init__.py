"""Exact random access to the frames of a video, by frame number.

>>> from framereader import VideoReader
>>> with VideoReader("behaviour.mp4") as video:      # scans once, then a cached index
...     frame = video[1234]                          # (height, width, 3) uint8, BGR
...     clip = video.get_batch([10, 11, 12, 400])    # (4, height, width, 3)

Frame ``i`` is the ``i``-th frame a full sequential decode outputs, also on
variable frame rate files, MPEG-TS, open GOPs, edit lists and wrong header
counts. It needs PyAV (``pip install accelerated-codecs[video]``); MJPEG is
decoded by this project's ``turbojpeg`` when libjpeg-turbo is found.
"""

from framereader.cache import default_cache_dir, index_path, remove_cached_index
from framereader.errors import (
    CorruptFrameError,
    CorruptVideoError,
    FrameReaderError,
    IndexFileError,
    StaleIndexError,
    UnsupportedVideoError,
)
from framereader.index import FileStamp, FrameIndex
from framereader.reader import FrameInfo, VideoReader
from framereader.torchcodec_json import (
    frame_mappings,
    from_frame_mappings,
    to_frame_mappings_json,
)

__all__ = [
    "CorruptFrameError",
    "CorruptVideoError",
    "FileStamp",
    "FrameIndex",
    "FrameInfo",
    "FrameReaderError",
    "IndexFileError",
    "StaleIndexError",
    "UnsupportedVideoError",
    "VideoReader",
    "default_cache_dir",
    "frame_mappings",
    "from_frame_mappings",
    "index_path",
    "remove_cached_index",
    "to_frame_mappings_json",
]
