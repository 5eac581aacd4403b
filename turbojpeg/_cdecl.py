"""What both API generations' declarations share: the factory, the structs, a
handle's lifetime, and the outputs of a transform call."""

from __future__ import annotations

import contextlib
import ctypes as C
from collections.abc import Callable

from .errors import TJERR_WARNING, TurbojpegError


def declarer(cdll: C.CDLL) -> Callable[..., C._CFuncPtr]:
    """``declare(name, restype, *argtypes)``: one C function, typed once."""

    def declare(name: str, restype, *argtypes):
        fn = getattr(cdll, name)
        fn.restype = restype
        fn.argtypes = argtypes
        return fn

    return declare


class ScalingFactor(C.Structure):
    """tjscalingfactor: the same layout in the TurboJPEG 2 and 3 APIs."""

    _fields_ = (("num", C.c_int), ("denom", C.c_int))


class Region(C.Structure):
    """tjregion: the same layout in the TurboJPEG 2 and 3 APIs."""

    _fields_ = (("x", C.c_int), ("y", C.c_int), ("w", C.c_int), ("h", C.c_int))


# tjtransform.options: the TJXOPT_* bits of libjpeg-turbo 3.1's turbojpeg.h.
# 2.1 has the first seven; ARITHMETIC and OPTIMIZE came with 3.0 (2.1 ignores
# those bits).
TJXOPT_PERFECT = 1 << 0
TJXOPT_TRIM = 1 << 1
TJXOPT_CROP = 1 << 2
TJXOPT_GRAY = 1 << 3
TJXOPT_NOOUTPUT = 1 << 4  # never set here: every transform writes a JPEG
TJXOPT_PROGRESSIVE = 1 << 5
TJXOPT_COPYNONE = 1 << 6
TJXOPT_ARITHMETIC = 1 << 7
TJXOPT_OPTIMIZE = 1 << 8


class TjTransform(C.Structure):
    """tjtransform: the same layout in TurboJPEG 2 and 3."""

    _fields_ = (
        ("r", Region),
        ("op", C.c_int),
        ("options", C.c_int),
        ("data", C.c_void_p),
        ("customFilter", C.c_void_p),  # always NULL
    )


def transform_outputs(free, bufs, sizes, failure: TurbojpegError | None) -> list[bytes]:
    """The JPEGs a transform call wrote; then every buffer libjpeg-turbo allocated
    is freed with ``free``, on any path.

    After a warning (corrupt data that libjpeg-turbo got past) each output is
    whole; after an error none is used.
    """
    n = len(bufs)
    try:
        if failure is not None and (failure.code != TJERR_WARNING or not all(bufs)):
            raise failure
        return [C.string_at(bufs[i], sizes[i]) for i in range(n)]
    finally:
        for i in range(n):
            if bufs[i]:
                free(bufs[i])
                bufs[i] = None


class OwnedHandle:
    """A tjhandle this object frees: ``api.destroy(handle)`` once, at close or collection."""

    __slots__ = ()

    def close(self) -> None:
        if self.handle:
            self.api.destroy(self.handle)
            self.handle = None

    def __del__(self) -> None:
        # At interpreter exit the library may already be gone; nothing to free then.
        with contextlib.suppress(Exception):
            self.close()
