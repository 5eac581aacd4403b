"""CMYK pixels to the other pixel formats, in numpy.

libjpeg-turbo decodes CMYK and YCCK JPEGs to CMYK only (it turns YCCK into
CMYK itself) and refuses any other output. ``convert`` does the rest, with
the naive formula that Pillow, ImageMagick and web browsers use (no colour
management; a CMYK JPEG's ICC profile is not applied).

The samples are read in Adobe's inverted convention: 0 is full ink and 255 no
ink. Photoshop writes CMYK JPEGs that way, libjpeg(-turbo) writes them with
Adobe's APP14 marker, and every common reader (Pillow, ImageMagick, browsers)
assumes it for all CMYK JPEGs, marker or not. With inverted samples c and k
(0..255), ``R = round(c * k / 255)``; in the usual non-inverted convention
that is ``255 * (1 - C) * (1 - K)``. Pillow computes the same rounded value,
bit for bit. GRAY is then the luma of that RGB with the weights and rounding
libjpeg uses for RGB to gray (0.299, 0.587, 0.114 in 16-bit fixed point),
which are also Pillow's.
"""

from __future__ import annotations

import numpy as np

from .formats import PixelFormat

# Where R, G and B go in each output format: the three always sit side by
# side, in RGB or BGR order. The fourth channel of a 4-channel format (alpha or
# padding) is 255, as libjpeg-turbo writes it.
_RGB_FIRST = slice(0, 3)
_BGR_FIRST = slice(2, None, -1)
_RGB_LAST = slice(1, 4)
_BGR_LAST = slice(3, 0, -1)
_PLACES = {
    PixelFormat.RGB: (_RGB_FIRST, None),
    PixelFormat.BGR: (_BGR_FIRST, None),
    PixelFormat.RGBX: (_RGB_FIRST, 3),
    PixelFormat.RGBA: (_RGB_FIRST, 3),
    PixelFormat.BGRX: (_BGR_FIRST, 3),
    PixelFormat.BGRA: (_BGR_FIRST, 3),
    PixelFormat.XRGB: (_RGB_LAST, 0),
    PixelFormat.ARGB: (_RGB_LAST, 0),
    PixelFormat.XBGR: (_BGR_LAST, 0),
    PixelFormat.ABGR: (_BGR_LAST, 0),
}
# libjpeg's FIX(0.299), FIX(0.587), FIX(0.114) with 16 fractional bits, and one half.
_LUMA = (19595, 38470, 7471)
_HALF = 1 << 15


def rgb_from_cmyk(cmyk: np.ndarray) -> np.ndarray:
    """``(h, w, 3)`` RGB from ``(h, w, 4)`` inverted CMYK, both uint8."""
    product = cmyk[:, :, :3] * cmyk[:, :, 3:].astype(np.uint16)  # at most 255 * 255
    # round(t / 255) for 0 <= t <= 255 * 255, without a division.
    product += 128
    product += product >> 8
    product >>= 8
    return product.astype(np.uint8)


def convert(cmyk: np.ndarray, pixel_format: PixelFormat) -> np.ndarray:
    """The ``(h, w, channels)`` pixels of ``pixel_format`` for inverted CMYK pixels."""
    if pixel_format is PixelFormat.CMYK:
        return cmyk
    rgb = rgb_from_cmyk(cmyk)
    if pixel_format is PixelFormat.GRAY:
        luma = rgb[:, :, 0].astype(np.uint32) * _LUMA[0]
        luma += rgb[:, :, 1].astype(np.uint32) * _LUMA[1]
        luma += rgb[:, :, 2].astype(np.uint32) * _LUMA[2]
        luma += _HALF
        luma >>= 16
        return luma.astype(np.uint8)[:, :, None]
    if pixel_format is PixelFormat.RGB:
        return rgb
    colour, fill = _PLACES[pixel_format]
    out = np.empty((*rgb.shape[:2], pixel_format.channels), dtype=np.uint8)
    out[:, :, colour] = rgb
    if fill is not None:
        out[:, :, fill] = 255
    return out
