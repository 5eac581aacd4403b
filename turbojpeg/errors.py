"""The package's own exception and warning types. A leaf module: every other module
may import it, the loader included, and it imports none of them."""

from __future__ import annotations

# libjpeg-turbo's TJERR_* error codes.
TJERR_WARNING = 0
TJERR_FATAL = 1


# libjpeg's warning messages (the JWRN_* entries of jerror.h). libjpeg-turbo
# reports TJERR_WARNING for a fatal error too when a warning came first (its
# error exit never clears the flag), so a "warning" whose text is not one of
# these is treated as fatal: the image was not finished.
_WARNING_TEXTS = (
    "Corrupt JPEG data",
    "Premature end of JPEG file",
    "Unknown Adobe color transform code",
    "Inconsistent progression sequence",
    "Warning: unknown JFIF revision",
    "Invalid SOS parameters for sequential JPEG",
    "Application transferred too many scanlines",
)


def error_code(library_code: int, message: str) -> int:
    """The library's code, corrected for the fatal-after-warning case."""
    if library_code == TJERR_WARNING and not any(t in message for t in _WARNING_TEXTS):
        return TJERR_FATAL
    return library_code


class TurbojpegError(Exception):
    """libjpeg-turbo refused the data or the request.

    ``code`` is libjpeg-turbo's error code (``TJERR_WARNING`` or ``TJERR_FATAL``)
    or ``None`` when the error was raised before calling the library.
    """

    def __init__(self, message: str, code: int | None = TJERR_FATAL) -> None:
        super().__init__(message)
        self.code = code


class TurbojpegWarning(UserWarning):
    """libjpeg-turbo recovered from a problem in the data (e.g. a truncated file).

    The decoded image is complete but may contain gray or garbled areas. Pass
    ``strict=True`` to ``Turbojpeg`` to get a ``TurbojpegError`` instead.
    """


class LibraryNotFoundError(TurbojpegError, OSError):
    """No usable libturbojpeg was found; the message lists every place tried.

    A ``TurbojpegError`` like every error of this package (``except TurbojpegError``
    catches it), and an ``OSError``, as a missing shared library is one."""

    def __init__(self, message: str) -> None:
        super().__init__(message, None)


class ImageTooLargeError(TurbojpegError, ValueError):
    """The JPEG declares more pixels than ``max_pixels`` allows (decompression bomb guard)."""


class UnsupportedFeatureError(TurbojpegError, NotImplementedError):
    """The loaded library cannot do what was asked, and says which feature: its
    API generation lacks it (12-bit JPEG on the TurboJPEG 2 API), or
    libjpeg-turbo offers it for no JPEG of this kind (DCT scaling of a
    lossless JPEG, YUV planes of a 12-bit one)."""


__all__ = [
    "TJERR_FATAL",
    "TJERR_WARNING",
    "ImageTooLargeError",
    "LibraryNotFoundError",
    "TurbojpegError",
    "TurbojpegWarning",
    "UnsupportedFeatureError",
]
