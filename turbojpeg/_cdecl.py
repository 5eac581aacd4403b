"""What both API generations' declarations share: the factory and one struct."""

from __future__ import annotations

import contextlib
import ctypes as C
from collections.abc import Callable


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
