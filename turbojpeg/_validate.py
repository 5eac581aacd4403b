"""Argument checks and parsing for ``Turbojpeg``: each raises a TypeError or
ValueError that names the argument and what it takes.

Also the small conversions that come with them: a bytes-like object to a
pointer argument, a pixel format or scale from the user's spelling. (An
encode call's settings are ``_settings``'.)
"""

from __future__ import annotations

import ctypes as C
import os
from fractions import Fraction

import numpy as np

from .formats import PixelFormat

PIXEL_FORMATS: dict[object, PixelFormat] = {}
for _pf in PixelFormat:
    PIXEL_FORMATS.update({_pf: _pf, _pf.name: _pf, _pf.name.lower(): _pf})
CHANNELS = tuple(pf.channels for pf in PixelFormat)
UINT8 = np.dtype(np.uint8)
UINT16 = np.dtype(np.uint16)


def parse_pixel_format(value) -> PixelFormat:
    pf = PIXEL_FORMATS.get(value)
    return pf if pf is not None else PixelFormat.parse(value)


def input_buffer(data) -> tuple[bytes | C.c_void_p | None, int, object]:
    """(pointer argument, size, keep-alive) for any bytes-like object.

    The pointer is ``bytes``, a ``c_void_p`` or None, never an int: the
    backends' undeclared hot-path functions would pass an int as a C int.
    """
    if type(data) is bytes:
        return data, len(data), data
    if isinstance(data, str):
        raise TypeError(
            "data must be the JPEG's bytes, not a str; read the file first: open(path, 'rb').read()"
        )
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(
            f"data must be a bytes-like object (bytes, bytearray, memoryview, numpy array), "
            f"not {type(data).__name__}"
        ) from None
    if not view.c_contiguous:
        raise ValueError("data must be a contiguous buffer; pass bytes(data) or a contiguous copy")
    if view.readonly:
        arr = np.frombuffer(view, dtype=np.uint8) if view.nbytes else None
        return (C.c_void_p(arr.ctypes.data) if arr is not None else None), view.nbytes, (view, arr)
    if not view.nbytes:
        return None, 0, view
    return C.c_void_p(C.addressof(C.c_char.from_buffer(view))), view.nbytes, view


def array_address(arr: np.ndarray) -> int:
    try:
        return C.addressof(C.c_char.from_buffer(arr))
    except (TypeError, ValueError):  # read-only or non-contiguous: the slower generic route
        return arr.ctypes.data


def parse_scale(scale) -> Fraction:
    if isinstance(scale, tuple) and len(scale) == 2:
        return Fraction(int(scale[0]), int(scale[1]))
    if isinstance(scale, (int, float, Fraction)):
        return Fraction(scale).limit_denominator(16)
    raise TypeError(f"scale must be a (num, denom) tuple, a Fraction or a number, not {scale!r}")


def function_bits(precision: int) -> int:
    """The sample size of the libjpeg-turbo functions for ``precision``: tj3Decompress8
    for 2..8 bits, tj3Decompress12 for 9..12 and tj3Decompress16 for 13..16."""
    return 8 if precision <= 8 else 12 if precision <= 12 else 16


def describe(precision: int, lossless: bool) -> str:
    """'a 12-bit JPEG', 'a lossless 16-bit JPEG', ... for error messages."""
    return f"a lossless {precision}-bit JPEG" if lossless else f"a {precision}-bit JPEG"


def check_out(out, shape: tuple[int, int, int], dtype=UINT8, precision: int = 8) -> int:
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, not {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(
            f"out must have dtype {dtype} for this {precision}-bit JPEG, not {out.dtype}"
        )
    if out.shape != shape and not (shape[2] == 1 and out.shape == shape[:2]):
        raise ValueError(f"out has shape {out.shape}, but the decoded image is {shape}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    return array_address(out)


def check_batch_out(out, count: int) -> None:
    """decode_many's ``out``: one array for the ``count`` images."""
    if not isinstance(out, np.ndarray) or out.ndim != 4 or out.shape[0] != count:
        raise ValueError(
            f"out must be an (N, height, width, channels) array with N={count}, "
            f"not {getattr(out, 'shape', type(out).__name__)}"
        )


def check_crop(crop, width: int, height: int) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (int(v) for v in crop)
    except (TypeError, ValueError):
        raise TypeError(f"crop must be (x, y, width, height), not {crop!r}") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width or y + h > height:
        raise ValueError(
            f"crop (x={x}, y={y}, w={w}, h={h}) does not fit in the {width}x{height} output"
        )
    return x, y, w, h


def check_image(image) -> tuple[int, int, int, int]:
    """(height, width, channels, row pitch in samples) of an encodable array."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array, not {type(image).__name__}")
    if image.dtype is not UINT8 and image.dtype != UINT8 and image.dtype != UINT16:
        raise TypeError(
            f"image must have dtype uint8 or uint16 (12- to 16-bit JPEG), not {image.dtype}"
        )
    item = image.dtype.itemsize
    original_strides = image.strides
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3:
        raise ValueError(f"image must be (height, width[, channels]), not shape {image.shape}")
    height, width, channels = image.shape
    if height == 0 or width == 0:
        raise ValueError(f"image is empty: shape {image.shape}")
    if channels not in (1, 3, 4):
        raise ValueError(f"image must have 1, 3 or 4 channels, not {channels}")
    pitch = image.strides[0]
    if (
        (channels > 1 and image.strides[2] != item)
        or image.strides[1] != channels * item
        or pitch < width * channels * item
        or pitch % item
    ):
        raise ValueError(
            f"image pixels must be contiguous within each row (strides {original_strides}); "
            "use np.ascontiguousarray(image)"
        )
    return height, width, channels, pitch // item


def check_planes(planes) -> list[np.ndarray]:
    """encode_yuv's planes as a list: 1 (gray) or 3, uint8, rows contiguous."""
    planes = list(planes)
    if len(planes) not in (1, 3):
        raise ValueError(f"expected 1 (gray) or 3 (Y, Cb, Cr) planes, got {len(planes)}")
    for i, p in enumerate(planes):
        if not isinstance(p, np.ndarray) or p.dtype != np.uint8 or p.ndim != 2:
            raise TypeError(f"plane {i} must be a 2-D uint8 numpy array")
        if p.strides[1] != 1 or p.strides[0] < p.shape[1]:
            raise ValueError(f"plane {i} rows must be contiguous; use np.ascontiguousarray")
    return planes


def check_int(name: str, value, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not low <= value <= high
    ):
        raise ValueError(f"{name} must be an int from {low} to {high}, not {value!r}")
    return int(value)


def check_quality(quality) -> int:
    if (
        isinstance(quality, bool)
        or not isinstance(quality, (int, np.integer))
        or not 1 <= quality <= 100
    ):
        raise ValueError(f"quality must be an int from 1 to 100, not {quality!r}")
    return int(quality)


def thread_count(threads: int | None) -> int:
    if threads is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:
            return os.cpu_count() or 1
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int or None, not {threads!r}")
    return threads
