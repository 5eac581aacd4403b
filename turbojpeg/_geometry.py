"""Where the pixels of a decode come from and go: the scaling factor, the
scaled and cropped sizes, a crop widened to libjpeg-turbo's iMCU grid, and
decode_many's split of a batch between threads.

Sizes round up as libjpeg-turbo's do (``TJSCALED``). ``factors`` is the
library's list of scaling factors, smallest first.
"""

from __future__ import annotations

import math
from fractions import Fraction

from . import _orientation
from ._validate import check_crop, parse_scale
from .errors import UnsupportedFeatureError


def scaled(dimension: int, factor: Fraction) -> int:
    return -(-dimension * factor.numerator // factor.denominator)


def decode_geometry(
    factors: list[Fraction],
    width: int,
    height: int,
    scale,
    min_size,
    crop,
    orientation,
    lossless=False,
):
    """(factor, stored (width, height) once scaled, stored crop or None, output (h, w)).

    ``min_size`` and ``crop`` are in the upright image when ``orientation``
    swaps the axes. A lossless JPEG has one scaling factor: 1.
    """
    swap = _orientation.swaps_axes(orientation)
    if scale is None and min_size is None:
        factor = Fraction(1)
    elif swap:
        factor = pick_scale(factors, height, width, scale, min_size, lossless)
    else:
        factor = pick_scale(factors, width, height, scale, min_size, lossless)
    stored_w, stored_h = scaled(width, factor), scaled(height, factor)
    out_w, out_h = (stored_h, stored_w) if swap else (stored_w, stored_h)
    if crop is None:
        return factor, (stored_w, stored_h), None, (out_h, out_w)
    x, y, w, h = check_crop(crop, out_w, out_h)
    rect = _orientation.stored_rect(orientation, (x, y, w, h), (stored_w, stored_h))
    return factor, (stored_w, stored_h), rect, (h, w)


def pick_scale(
    factors: list[Fraction], width: int, height: int, scale, min_size, lossless=False
) -> Fraction:
    """``scale`` checked against ``factors``, or the smallest factor not above 1
    whose output is at least ``min_size``."""
    if scale is not None and min_size is not None:
        raise ValueError("pass either scale or min_size, not both")
    if scale is not None:
        factor = parse_scale(scale)
        if factor not in factors:
            offered = ", ".join(str(f) for f in factors)
            raise ValueError(
                f"scale {factor} is not a TurboJPEG scaling factor; use one of {offered}"
            )
        if lossless and factor != 1:
            raise UnsupportedFeatureError(
                f"scale {factor}: a lossless JPEG cannot be scaled while decoding "
                "(libjpeg-turbo scales in the DCT, which lossless JPEG does not use); "
                "decode it at full size",
                None,
            )
        return factor
    if isinstance(min_size, int):
        min_w = min_h = min_size
    else:
        try:
            min_w, min_h = (int(v) for v in min_size)
        except (TypeError, ValueError):
            raise TypeError(
                f"min_size must be an int or a (width, height) pair, not {min_size!r}"
            ) from None
    for factor in () if lossless else factors:
        if factor <= 1 and scaled(width, factor) >= min_w and scaled(height, factor) >= min_h:
            return factor
    return Fraction(1)


def crop_columns(x: int, w: int, width: int, mcu_width: int) -> tuple[int, int]:
    """(first, end) columns of the cropping region to decode for columns ``x`` to
    ``x + w`` of an image ``width`` wide, ``mcu_width`` its scaled iMCU width.

    The TJ3 cropping region must start on an iMCU column. Fancy upsampling
    treats the region's first and last columns as image edges, which changes
    them whenever a chroma pair straddles the border. So the region starts on
    the iMCU column strictly before x (unless x is the image's edge) and ends
    one pixel past x + w when there is one; the caller drops the extras, and
    the result is then bit-identical to slicing a full decode.
    """
    first = (x - 1) // mcu_width * mcu_width if x else 0
    return first, min(x + w + 1, width)


def chunks(count: int, threads: int) -> list[range]:
    """Contiguous index ranges, a few per thread so a slow image doesn't stall one worker."""
    if count == 0:
        return []
    pieces = min(count, threads * 4)
    step = math.ceil(count / pieces)
    return [range(start, min(start + step, count)) for start in range(0, count, step)]
