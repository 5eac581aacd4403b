"""The compressor settings of an encode call, made and checked in one place.

``EncodeSettings.build`` checks ``encode``'s and ``encode_yuv``'s arguments
and makes the settings; ``EncodeSettings.apply`` gives them to a compressor
that does not hold them yet. ``encode`` finds the settings of an 8-bit lossy
JPEG in ``LOSSY`` by its arguments, so that a call like an earlier one makes
and checks nothing again (``lossy`` fills it).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from ._backend import Compressor
from ._validate import UINT8, UINT16, check_int, check_quality, describe, function_bits
from .errors import UnsupportedFeatureError
from .formats import PixelFormat, Subsampling

# From this quality on, encoding ignores fast_dct: libjpeg-turbo's fast DCT is
# slower and worse there, and its TurboJPEG 2 API already switches at 96.
FAST_DCT_MAX_QUALITY = 96
DEFAULT_QUALITY = 95
SUBSAMPLINGS: dict[object, Subsampling] = {}
for _s in Subsampling:
    _name = _s.name.removeprefix("S")
    SUBSAMPLINGS.update({_s: _s, _name: _s, _name.lower(): _s})
SUBSAMPLINGS[None] = Subsampling.S420  # encode's default for lossy JPEG
# Where the colour samples sit in 4-channel formats whose fourth channel
# (alpha or padding) libjpeg-turbo does not encode.
COLOR_CHANNELS = {
    **dict.fromkeys(
        (PixelFormat.RGBX, PixelFormat.BGRX, PixelFormat.RGBA, PixelFormat.BGRA), slice(0, 3)
    ),
    **dict.fromkeys(
        (PixelFormat.XRGB, PixelFormat.XBGR, PixelFormat.ARGB, PixelFormat.ABGR), slice(1, 4)
    ),
}


@dataclass(frozen=True, slots=True)
class EncodeSettings:
    """What a compressor is configured with, checked, and the bits per sample.

    A lossless JPEG has no ``quality`` or ``subsampling`` (``None``), and its
    ``predictor`` and ``point_transform`` apply; a lossy one has ``precision``
    8 or 12.
    """

    quality: int | None
    subsampling: Subsampling | None
    fast_dct: bool = False
    progressive: bool = False
    optimize: bool = False
    precision: int = 8
    lossless: bool = False
    predictor: int = 1
    point_transform: int = 0

    @classmethod
    def build(
        cls,
        quality=None,
        subsampling=None,
        fast_dct=False,
        progressive=False,
        optimize=False,
        *,
        gray: bool = False,
        precision=None,
        lossless=False,
        predictor=None,
        point_transform=None,
        wide: bool = False,
    ) -> EncodeSettings:
        """The settings of ``encode``'s keywords, or a ValueError or TypeError
        that names what is wrong. ``gray``: the image has one channel;
        ``wide``: its samples are uint16, whose default precision is 12 (16
        when lossless) rather than 8."""
        if precision is None:
            precision = (16 if lossless else 12) if wide else 8
        elif isinstance(precision, bool) or not isinstance(precision, (int, np.integer)):
            raise TypeError(f"precision must be an int, not {precision!r}")
        precision = int(precision)
        if lossless:
            if not 2 <= precision <= 16:
                raise ValueError(
                    f"lossless JPEG has 2 to 16 bits per sample, not precision={precision}"
                )
            given = [
                name
                for name, value in (
                    ("quality", quality),
                    ("subsampling", subsampling),
                    ("fast_dct", fast_dct or None),
                    ("progressive", progressive or None),
                    ("optimize", optimize or None),
                )
                if value is not None
            ]
            if given:
                raise ValueError(
                    f"{', '.join(given)} do not apply to lossless JPEG: it has no quantization "
                    "or DCT, and libjpeg-turbo stores every component at full resolution "
                    "(4:4:4, RGB or gray) with one scan"
                )
            return cls(
                None,
                None,
                precision=precision,
                lossless=True,
                predictor=1 if predictor is None else check_int("predictor", predictor, 1, 7),
                point_transform=(
                    0
                    if point_transform is None
                    else check_int("point_transform", point_transform, 0, precision - 1)
                ),
            )
        if predictor is not None or point_transform is not None:
            raise ValueError(
                "predictor and point_transform apply to lossless JPEG only: pass lossless=True"
            )
        if precision not in (8, 12):
            raise ValueError(
                f"lossy JPEG has 8 or 12 bits per sample, not precision={precision}; "
                "lossless=True takes 2 to 16"
            )
        if gray:
            subsamp = Subsampling.GRAY
        else:
            subsamp = SUBSAMPLINGS.get(subsampling) or Subsampling.parse(subsampling)
        quality = DEFAULT_QUALITY if quality is None else check_quality(quality)
        # 12-bit fast DCT: the same switch at 96 as for 8 bits.
        fast = bool(fast_dct) and quality < FAST_DCT_MAX_QUALITY
        return cls(quality, subsamp, fast, bool(progressive), bool(optimize), precision)

    @property
    def bits(self) -> int:
        """The sample size of the compress function: 8, 12 or 16."""
        return function_bits(self.precision)

    def apply(self, c: Compressor) -> None:
        """Configure ``c`` with these settings unless it holds equal ones, or an
        ``UnsupportedFeatureError`` when its library cannot write them."""
        if c.settings == self:
            return
        if (self.lossless or self.precision != 8) and not c.supports_lossless:
            raise UnsupportedFeatureError(
                f"{describe(self.precision, self.lossless)} needs libjpeg-turbo >= 3 "
                "(the TurboJPEG 2 API writes 8-bit lossy JPEGs only)",
                None,
            )
        if self.optimize and not self.progressive and not c.supports_optimize:
            raise UnsupportedFeatureError(
                "optimize=True needs libjpeg-turbo >= 3 (the TurboJPEG 2 API has no switch "
                "for Huffman optimisation); use progressive=True, which always optimises",
                None,
            )
        c.configure(
            self.quality,
            self.subsampling,
            self.fast_dct,
            self.progressive,
            self.optimize,
            (self.precision, self.predictor, self.point_transform) if self.lossless else None,
        )
        c.settings = self


# encode's 8-bit lossy settings by its arguments: (pixel format, quality,
# subsampling, fast_dct, progressive, optimize). Only an int or None quality
# is a key: 90.0 and True, which encode refuses, equal 90 and 1.
LOSSY: dict[tuple, EncodeSettings] = {}
_LOSSY_KEPT = 4096  # a bound on the arguments kept; later ones are checked each call


def lossy(pf, quality, subsampling, fast_dct, progressive, optimize) -> EncodeSettings:
    """The settings of an 8-bit lossy JPEG, kept in ``LOSSY`` under these arguments."""
    settings = EncodeSettings.build(
        quality, subsampling, fast_dct, progressive, optimize, gray=pf is PixelFormat.GRAY
    )
    if (quality is None or type(quality) is int) and len(LOSSY) < _LOSSY_KEPT:
        with contextlib.suppress(TypeError):  # an argument that is not hashable
            LOSSY[pf, quality, subsampling, fast_dct, progressive, optimize] = settings
    return settings


def check_samples(image: np.ndarray, pf: PixelFormat, precision: int) -> None:
    """A TypeError when ``image``'s dtype does not hold ``precision``-bit
    samples, a ValueError when its values do not fit them."""
    needed = UINT8 if precision <= 8 else UINT16
    if image.dtype != needed:
        raise TypeError(
            f"precision={precision} takes a {needed} image, not {image.dtype} "
            f"({'2 to 8' if needed is UINT8 else '9 to 16'} bits per sample are {needed})"
        )
    if precision not in (8, 16):
        colors = COLOR_CHANNELS.get(pf)
        samples = image if colors is None or image.ndim == 2 else image[:, :, colors]
        largest = int(samples.max())
        if largest >> precision:
            raise ValueError(
                f"image values go up to {largest}, more than {precision}-bit samples hold "
                f"(0 to {(1 << precision) - 1})"
            )
