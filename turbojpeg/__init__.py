"""A fast ctypes wrapper over libjpeg-turbo's TurboJPEG API.

>>> from turbojpeg import Turbojpeg
>>> tj = Turbojpeg()
>>> image = tj.decode(open("photo.jpg", "rb").read())   # (h, w, 3) uint8, BGR
>>> data = tj.encode(image, quality=90)
"""

from ._loader import load_library
from .codec import DEFAULT_MAX_PIXELS, Turbojpeg
from .errors import (
    ImageTooLargeError,
    LibraryNotFoundError,
    TurbojpegError,
    TurbojpegWarning,
    UnsupportedFeatureError,
)
from .formats import Colorspace, JpegInfo, PixelFormat, Subsampling

__version__ = "0.1.0"


def version(lib_path=None) -> str:
    """libjpeg-turbo's version, e.g. ``"3.1.3"``, of the library ``Turbojpeg(lib_path)`` loads."""
    return load_library(lib_path).version


__all__ = [
    "DEFAULT_MAX_PIXELS",
    "Colorspace",
    "ImageTooLargeError",
    "JpegInfo",
    "LibraryNotFoundError",
    "PixelFormat",
    "Subsampling",
    "Turbojpeg",
    "TurbojpegError",
    "TurbojpegWarning",
    "UnsupportedFeatureError",
    "version",
]
