"""The general decode route: scaled, cropped, turned upright, of more than 8
bits, or converted from CMYK; and what follows when libjpeg-turbo refuses
``Turbojpeg.decode``'s plain one-call decode.

``codec.Turbojpeg`` keeps the plain decode and comes here for the rest,
passing itself in (``Codec``: what this module uses of it) with the
decompressor that has just read the header.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Protocol

import numpy as np

from . import _cmyk, _markers, _orientation
from ._backend import Decompressor
from ._geometry import crop_columns, decode_geometry, scaled
from ._validate import CHANNELS, UINT8, UINT16, array_address, check_out, describe, function_bits
from .errors import TJERR_FATAL, TurbojpegError, UnsupportedFeatureError
from .formats import Colorspace, PixelFormat, Subsampling

# JPEG colorspaces libjpeg-turbo decodes to CMYK pixels only; we convert the rest.
CMYK_SOURCES = (Colorspace.CMYK, Colorspace.YCCK)


class Codec(Protocol):
    """What this module uses of ``codec.Turbojpeg``."""

    _scaling_factors: list[Fraction]

    def _recover(self, exc: TurbojpegError) -> None:
        """A warning lets the call's result stand unless the codec is strict."""
        ...


def after_refusal(
    tj: Codec, exc, d: Decompressor, buf, size, pf, width, height, out, target
) -> np.ndarray:
    """The plain decode after ``tj3Decompress8`` failed: a JPEG of more than
    8 bits ("Unsupported JPEG data precision"), a CMYK or YCCK JPEG asked
    for another pixel format ("Unsupported color conversion request"), or
    a true error or warning.

    The header is asked for its fields here, after the failure, so that
    decoding any other JPEG costs no extra call.
    """
    if exc.code == TJERR_FATAL:
        colorspace, precision, lossless = d.header_fields(buf, size)
        whole = (tj, d, buf, size, pf, width, height, None, None, None)
        samples = (precision, lossless)
        if precision > 8:
            return decode(*whole, out, None, samples=samples)
        if pf is not PixelFormat.CMYK and colorspace in CMYK_SOURCES:
            return decode(*whole, target, None, cmyk=True, samples=samples)
    tj._recover(exc)
    return target


def _is_cmyk_refusal(exc: TurbojpegError, d: Decompressor, buf, size: int, pf) -> bool:
    """Whether libjpeg-turbo refused a CMYK or YCCK JPEG a pixel format other than CMYK.

    It only converts them to CMYK ("Unsupported color conversion request").
    """
    return (
        pf is not PixelFormat.CMYK
        and exc.code == TJERR_FATAL
        and d.header_fields(buf, size)[0] in CMYK_SOURCES
    )


def decode(
    tj: Codec,
    d: Decompressor,
    buf,
    size,
    pf,
    width,
    height,
    scale,
    min_size,
    crop,
    out,
    orientation,
    cmyk=False,
    samples=None,
) -> np.ndarray:
    """Any decode: scaled, cropped, turned upright, of more than 8 bits, or
    converted from CMYK. ``samples`` is (precision, lossless) if known."""
    precision, lossless = d.sample_format() if samples is None else samples
    bits = function_bits(precision)
    factor, stored_size, rect, (h, w) = decode_geometry(
        tj._scaling_factors, width, height, scale, min_size, crop, orientation, lossless
    )
    shape = (h, w, CHANNELS[pf])
    if out is not None:
        check_out(out, shape, UINT8 if bits == 8 else UINT16, precision)
    direct = orientation is None or orientation == 1
    if not cmyk:
        try:
            into = out if direct else None
            pixels = _decode_region(
                tj, d, buf, size, pf, factor, stored_size, rect, into, bits, lossless
            )
        except TurbojpegError as exc:
            if not _is_cmyk_refusal(exc, d, buf, size, pf):
                raise
            cmyk = True
    if cmyk:
        if bits != 8:
            raise UnsupportedFeatureError(
                f"a {precision}-bit CMYK or YCCK JPEG decodes to pixel_format='CMYK' only "
                "(the conversion to RGB and the others is for 8-bit samples)",
                None,
            )
        raw = _decode_region(
            tj, d, buf, size, PixelFormat.CMYK, factor, stored_size, rect, None, 8, lossless
        )
        pixels = _cmyk.convert(raw, pf)
    pixels = _orientation.upright(pixels, orientation)
    if out is None:
        return np.ascontiguousarray(pixels)
    if pixels is not out:
        out.reshape(shape)[...] = pixels
    return out


def _decode_region(
    tj: Codec, d: Decompressor, buf, size, pf, factor, stored_size, rect, out, bits, lossless
):
    """The stored image at ``factor``, or its region ``rect = (x, y, w, h)``.

    Written into ``out`` when given (already checked: C-contiguous, of the
    region's shape and dtype); otherwise a new array, or a view of one.
    ``bits`` picks ``tj3Decompress{bits}``. libjpeg-turbo cannot crop a
    lossless JPEG, so that crop is emulated as on the TurboJPEG 2 API.
    """
    out_w, out_h = stored_size
    channels = CHANNELS[pf]
    dtype = UINT8 if bits == 8 else UINT16
    if rect is None:
        x = y = 0
        w, h = out_w, out_h
    else:
        x, y, w, h = rect
    # The TJ3 cropping region decodes columns x0 to x1, wider than the crop.
    x0, x1, emulate = x, x + w, rect is not None and (lossless or not d.supports_crop)
    if rect is not None and not emulate:
        subsamp = d.subsampling()
        if subsamp < 0:
            emulate = True
        else:
            mcu_w = scaled(Subsampling(subsamp).mcu_size[0], factor)
            x0, x1 = crop_columns(x, w, out_w, mcu_w)
    shape = (h, w, channels)
    try:
        if factor != 1:
            d.set_scale(factor.numerator, factor.denominator)
        if emulate:
            full = np.empty((out_h, out_w, channels), dtype=dtype)
            _decompress(tj, d, buf, size, array_address(full), pf, bits)
            region = full[y : y + h, x : x + w]
        else:
            if rect is not None:
                d.set_crop(x0, y, x1 - x0, h)
            if rect is None or (x0 == x and x1 == x + w):
                target = np.empty(shape, dtype=dtype) if out is None else out
                _decompress(tj, d, buf, size, array_address(target), pf, bits)
                return target
            wide = np.empty((h, x1 - x0, channels), dtype=dtype)
            _decompress(tj, d, buf, size, array_address(wide), pf, bits)
            region = wide[:, x - x0 : x - x0 + w]
    finally:
        d.reset_scale_and_crop()
    if out is None:
        return region
    out.reshape(shape)[...] = region
    return out


def _decompress(tj: Codec, d: Decompressor, buf, size, dst, pf, bits) -> None:
    try:
        if bits == 8:
            d.decompress(buf, size, dst, 0, pf)
        else:
            d.decompress_samples(bits, buf, size, dst, 0, pf)
    except TurbojpegError as exc:
        tj._recover(exc)


def refuse_on_tj2(exc: TurbojpegError, data) -> None:
    """``UnsupportedFeatureError`` when the TurboJPEG 2 API refused a header for
    its precision or its lossless coding, which 2.x cannot decode."""
    frame = _markers.frame(data)
    if frame is not None and (frame.lossless or frame.precision != 8):
        raise UnsupportedFeatureError(
            f"{describe(frame.precision, frame.lossless)} needs libjpeg-turbo >= 3 "
            f"(the TurboJPEG 2 API decodes 8-bit lossy JPEGs only; it said: {exc})",
            exc.code,
        ) from exc
