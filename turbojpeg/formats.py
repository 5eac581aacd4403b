"""Pixel formats, chroma subsampling, colorspaces and the header record.

The integer values are libjpeg-turbo's own (TJPF_*, TJSAMP_*, TJCS_*), which are
the same in the TurboJPEG 2 and 3 APIs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class PixelFormat(enum.IntEnum):
    RGB = 0
    BGR = 1
    RGBX = 2
    BGRX = 3
    XBGR = 4
    XRGB = 5
    GRAY = 6
    RGBA = 7
    BGRA = 8
    ABGR = 9
    ARGB = 10
    CMYK = 11

    @property
    def channels(self) -> int:
        return _CHANNELS[self]

    @classmethod
    def parse(cls, value: PixelFormat | str) -> PixelFormat:
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            try:
                return cls[value.upper()]
            except KeyError:
                pass
        raise ValueError(
            f"unknown pixel_format {value!r}; expected one of {', '.join(m.name for m in cls)}"
        )


_CHANNELS = {
    pf: (1 if pf is PixelFormat.GRAY else 3 if pf.name in ("RGB", "BGR") else 4)
    for pf in PixelFormat
}


class Subsampling(enum.IntEnum):
    S444 = 0
    S422 = 1
    S420 = 2
    GRAY = 3
    S440 = 4
    S411 = 5
    S441 = 6

    @property
    def mcu_size(self) -> tuple[int, int]:
        """(width, height) of one iMCU in pixels: crops are aligned to it."""
        return _MCU[self]

    @classmethod
    def parse(cls, value: Subsampling | str | int) -> Subsampling:
        if isinstance(value, cls):
            return value
        key = str(value).upper()
        if key in cls.__members__:
            return cls[key]
        if "S" + key in cls.__members__:
            return cls["S" + key]
        for sep in (":", "X"):
            if sep in key and "S" + key.replace(sep, "") in cls.__members__:
                return cls["S" + key.replace(sep, "")]
        raise ValueError(
            f"unknown subsampling {value!r}; expected one of "
            "'444', '422', '420', '440', '411', '441' or 'gray'"
        )


_MCU = {
    Subsampling.S444: (8, 8),
    Subsampling.S422: (16, 8),
    Subsampling.S420: (16, 16),
    Subsampling.GRAY: (8, 8),
    Subsampling.S440: (8, 16),
    Subsampling.S411: (32, 8),
    Subsampling.S441: (8, 32),
}


class Colorspace(enum.IntEnum):
    RGB = 0
    YCbCr = 1
    GRAY = 2
    CMYK = 3
    YCCK = 4


def subsampling_or_none(value: int) -> Subsampling | None:
    """libjpeg-turbo reports -1 for sampling layouts outside its list."""
    return Subsampling(value) if value in Subsampling._value2member_map_ else None


def colorspace_or_none(value: int) -> Colorspace | None:
    """-1 (or an unknown value) when the header leaves the colorspace undetermined."""
    return Colorspace(value) if value in Colorspace._value2member_map_ else None


@dataclass(frozen=True)
class JpegInfo:
    """What the JPEG header says.

    ``subsampling`` is ``None`` for unusual sampling layouts that libjpeg-turbo
    decodes but cannot crop or decode to YUV planes; ``colorspace`` is ``None``
    when the header leaves it undetermined. ``precision``,
    ``progressive``, ``lossless`` and ``arithmetic`` come from libjpeg-turbo 3;
    with the TurboJPEG 2 API, which does not report them, they are read from
    the frame header in Python (``None`` if that read meets a malformed
    segment first).
    ``orientation`` is the EXIF Orientation tag (1 to 8; 1 is upright), or
    ``None`` when the JPEG has no EXIF, no such tag, or a malformed one: see
    ``Turbojpeg.decode(apply_exif_orientation=True)``. ``width`` and
    ``height`` are always the stored image's.

    ``precision`` is the bits per sample: 8, or 12 for a 12-bit JPEG, or 2 to
    16 for a lossless one. ``decode`` returns uint8 samples up to 8 bits and
    uint16 above (see ``dtype``). ``icc_profile`` is the embedded ICC profile's
    bytes, or ``None`` when there is none or its chunks are inconsistent.
    """

    width: int
    height: int
    subsampling: Subsampling | None
    colorspace: Colorspace | None
    precision: int | None = None
    progressive: bool | None = None
    lossless: bool | None = None
    arithmetic: bool | None = None
    orientation: int | None = None
    icc_profile: bytes | None = field(default=None, repr=False)

    @property
    def dtype(self) -> str | None:
        """``"uint8"`` or ``"uint16"``: the samples ``decode`` returns (``None`` if unknown)."""
        if self.precision is None:
            return None
        return "uint8" if self.precision <= 8 else "uint16"

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def mcu_size(self) -> tuple[int, int] | None:
        return None if self.subsampling is None else self.subsampling.mcu_size
