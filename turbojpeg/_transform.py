"""Lossless transforms: ``tj3Transform`` (TurboJPEG 3) and ``tjTransform`` (TurboJPEG 2).

JPEG in, JPEG out: libjpeg-turbo moves the quantized DCT coefficients, so
nothing is decoded or re-encoded. This module turns ``Turbojpeg.transform``'s
keywords into ``tjtransform`` records, checks what libjpeg-turbo would refuse
or silently change, and runs the call on the per-thread transformer handle of
either backend (``_tj3.Tj3Transformer``, ``_tj2.Tj2Transformer``).

Geometry. Every combination of mirrors and rotations is one of the eight
symmetries of a rectangle, and TurboJPEG has one operation (TJXOP_*) for each,
so any combination is done in a single lossless pass. The order is the EXIF
one ("mirror horizontal and rotate 90 CW" is orientation 7): first the EXIF
correction (when asked), then ``hflip``, ``vflip``, ``transpose``,
``transverse``, then ``rotate`` degrees clockwise.

iMCUs. Coefficients move in whole iMCUs (8x8 pixels for gray and 4:4:4, 16x16
for 4:2:0, ...). A partial iMCU on the right or bottom edge cannot move to the
left or top: an operation that needs that is imperfect. libjpeg-turbo then
leaves those pixels where they were (a strip on the right or bottom edge);
TJXOPT_TRIM drops them instead, and TJXOPT_PERFECT refuses the transform.
A crop's origin must lie on the output's iMCU grid.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, fields

import numpy as np

from . import _exif, _warn
from ._backend import Transformer
from ._cdecl import (
    TJXOPT_ARITHMETIC,
    TJXOPT_COPYNONE,
    TJXOPT_CROP,
    TJXOPT_GRAY,
    TJXOPT_OPTIMIZE,
    TJXOPT_PERFECT,
    TJXOPT_PROGRESSIVE,
    TJXOPT_TRIM,
    Region,
    TjTransform,
)
from .errors import UnsupportedFeatureError
from .formats import Colorspace, JpegInfo, Subsampling

# enum TJXOP (the same in TurboJPEG 2.1 and 3.1).
NONE, HFLIP, VFLIP, TRANSPOSE, TRANSVERSE, ROT90, ROT180, ROT270 = range(8)
# copy_markers: "none" is an option bit of each transform (TJXOPT_COPYNONE);
# the others a parameter of the whole call (TJPARAM_SAVEMARKERS, 3.1+).
COPY_MARKERS = ("all", "comments", "icc", "none")

OP_NAMES = {
    NONE: "no turn",
    HFLIP: "hflip",
    VFLIP: "vflip",
    TRANSPOSE: "transpose",
    TRANSVERSE: "transverse",
    ROT90: "rotate=90",
    ROT180: "rotate=180",
    ROT270: "rotate=270",
}
# The operation that turns a stored image upright, per EXIF orientation.
EXIF_UNDO = {
    1: NONE,
    2: HFLIP,
    3: ROT180,
    4: VFLIP,
    5: TRANSPOSE,
    6: ROT90,
    7: TRANSVERSE,
    8: ROT270,
}
SWAPS_AXES = frozenset((TRANSPOSE, TRANSVERSE, ROT90, ROT270))
# Operations that are imperfect with a partial iMCU on the source's right
# edge, or on its bottom edge (transupp's jtransform_perfect_transform).
NEEDS_WHOLE_WIDTH = frozenset((HFLIP, ROT270, TRANSVERSE, ROT180))
NEEDS_WHOLE_HEIGHT = frozenset((VFLIP, ROT90, TRANSVERSE, ROT180))
# What a transposing operation makes of each subsampling.
_TRANSPOSED = {
    Subsampling.S422: Subsampling.S440,
    Subsampling.S440: Subsampling.S422,
    Subsampling.S411: Subsampling.S441,
    Subsampling.S441: Subsampling.S411,
}

# Each operation as numpy does it to a (rows, columns) array; composing them
# on a small asymmetric probe and looking the result up gives the single
# operation that a sequence amounts to.
_NUMPY = {
    NONE: lambda a: a,
    HFLIP: lambda a: a[:, ::-1],
    VFLIP: lambda a: a[::-1],
    TRANSPOSE: lambda a: a.T,
    TRANSVERSE: lambda a: a[::-1, ::-1].T,
    ROT90: lambda a: np.rot90(a, -1),
    ROT180: lambda a: a[::-1, ::-1],
    ROT270: lambda a: np.rot90(a, 1),
}
_PROBE = np.arange(6).reshape(2, 3)
_BY_RESULT = {(f(_PROBE).shape, f(_PROBE).tobytes()): op for op, f in _NUMPY.items()}


def compose(*ops: int) -> int:
    """The one operation that does ``ops`` one after the other."""
    probe = _PROBE
    for op in ops:
        probe = _NUMPY[op](probe)
    return _BY_RESULT[probe.shape, probe.tobytes()]


@dataclass(frozen=True)
class Options:
    """``Turbojpeg.transform``'s keywords, one transform of ``transform_many``."""

    crop: tuple[int, int, int, int] | None = None
    rotate: int = 0
    hflip: bool = False
    vflip: bool = False
    transpose: bool = False
    transverse: bool = False
    grayscale: bool = False
    progressive: bool = False
    optimize: bool = False
    arithmetic: bool = False
    copy_markers: str = "all"
    perfect: bool = False
    trim: bool = False
    apply_exif_orientation: bool = False

    @classmethod
    def from_mapping(cls, item, index: int) -> Options:
        names = [f.name for f in fields(cls)]
        if not hasattr(item, "keys"):
            raise TypeError(
                f"transform_many: item {index} must be a dict of transform's keywords, "
                f"not {type(item).__name__}"
            )
        unknown = [k for k in item if k not in names]
        if unknown:
            raise TypeError(
                f"transform_many: item {index} has unknown option(s) {unknown}; "
                f"transform takes {', '.join(names)}"
            )
        return cls(**item)


@dataclass(frozen=True)
class Plan:
    """One checked transform: the tjtransform fields and what to do afterwards."""

    op: int
    options: int
    crop: tuple[int, int, int, int] | None
    copy_markers: str
    upright_tag: bool  # patch the copied EXIF orientation to 1


def plan(o: Options, header: JpegInfo, generation: int) -> Plan:
    """Check one transform's options against the source; raise a clear error or plan it.

    ``header.orientation`` is read only when some transform asks for it.
    """
    if o.rotate not in (0, 90, 180, 270) or isinstance(o.rotate, bool):
        raise ValueError(f"rotate must be 0, 90, 180 or 270 (degrees clockwise), not {o.rotate!r}")
    if not isinstance(o.copy_markers, str) or o.copy_markers not in COPY_MARKERS:
        raise ValueError(
            f"copy_markers must be one of {', '.join(map(repr, COPY_MARKERS))}, "
            f"not {o.copy_markers!r}"
        )
    exif = EXIF_UNDO.get(header.orientation, NONE) if o.apply_exif_orientation else NONE
    op = compose(
        exif,
        HFLIP if o.hflip else NONE,
        VFLIP if o.vflip else NONE,
        TRANSPOSE if o.transpose else NONE,
        TRANSVERSE if o.transverse else NONE,
        {0: NONE, 90: ROT90, 180: ROT180, 270: ROT270}[o.rotate],
    )
    trim = bool(o.trim) or (o.apply_exif_orientation and not o.perfect)
    options = (
        (TJXOPT_PERFECT if o.perfect else 0)
        | (TJXOPT_TRIM if trim else 0)
        | (TJXOPT_GRAY if o.grayscale else 0)
        | (TJXOPT_PROGRESSIVE if o.progressive else 0)
        | (TJXOPT_ARITHMETIC if o.arithmetic else 0)
        | (TJXOPT_OPTIMIZE if o.optimize else 0)
        | (TJXOPT_COPYNONE if o.copy_markers == "none" else 0)
    )
    if generation == 2:
        _check_tj2(o)
    sub = header.subsampling
    if o.grayscale and header.colorspace not in (Colorspace.YCbCr, Colorspace.GRAY):
        # transupp reduces only YCbCr to gray; it would silently keep the colour.
        name = "unknown" if header.colorspace is None else header.colorspace.name
        raise ValueError(
            f"grayscale=True needs a YCbCr or gray JPEG; this one's colorspace is {name}"
        )
    one_component = o.grayscale or header.colorspace == Colorspace.GRAY
    # The iMCU in the source, as transupp sizes it: 8x8 when one component is kept.
    source_mcu = (8, 8) if one_component else None if sub is None else sub.mcu_size
    if source_mcu is not None and op != NONE:
        _check_edges(op, o, header, source_mcu, trim)
    crop = None
    if o.crop is not None:
        out_w, out_h = (
            (header.height, header.width) if op in SWAPS_AXES else (header.width, header.height)
        )
        crop = _check_crop(o.crop, out_w, out_h)
        if one_component:
            out_mcu = (8, 8)
        elif sub is None:
            out_mcu = None  # libjpeg-turbo refuses the crop itself, naming the reason
        else:
            out_mcu = (_TRANSPOSED.get(sub, sub) if op in SWAPS_AXES else sub).mcu_size
        if out_mcu is not None:
            _check_crop_origin(crop, out_mcu, "")
        if generation == 2 and sub is not None:
            # tjTransform checks the origin against the *source's* iMCU (an old
            # oversight), while transupp aligns it to the output's; aligned to
            # both, the two agree.
            _check_crop_origin(crop, sub.mcu_size, "the TurboJPEG 2 API also needs ", tj2=True)
        options |= TJXOPT_CROP
    return Plan(
        op=op,
        options=options,
        crop=crop,
        copy_markers=o.copy_markers,
        upright_tag=o.apply_exif_orientation and exif != NONE,
    )


def _check_tj2(o: Options) -> None:
    if o.arithmetic:
        raise UnsupportedFeatureError(
            "arithmetic=True needs libjpeg-turbo >= 3 (TJXOPT_ARITHMETIC); the TurboJPEG 2 "
            "API writes Huffman-coded JPEGs only",
            None,
        )
    if o.optimize and not o.progressive:
        raise UnsupportedFeatureError(
            "optimize=True needs libjpeg-turbo >= 3 (TJXOPT_OPTIMIZE); with the TurboJPEG 2 "
            "API use progressive=True, which always optimises",
            None,
        )
    if o.copy_markers in ("icc", "comments"):
        raise UnsupportedFeatureError(
            f"copy_markers={o.copy_markers!r} needs libjpeg-turbo >= 3.1 (TJPARAM_SAVEMARKERS); "
            "the TurboJPEG 2 API copies all markers or none",
            None,
        )


def _check_edges(op: int, o: Options, header: JpegInfo, mcu: tuple[int, int], trim: bool) -> None:
    """Refuse what ``perfect`` refuses (with the reason), and an EXIF turn trim cannot finish."""
    mw, mh = mcu
    partial = []
    if op in NEEDS_WHOLE_WIDTH and header.width % mw:
        partial.append(("width", header.width, mw, "right edge's partial iMCU column"))
    if op in NEEDS_WHOLE_HEIGHT and header.height % mh:
        partial.append(("height", header.height, mh, "bottom edge's partial iMCU row"))
    if not partial:
        return
    why = "; ".join(
        f"its {name} {size} is not a multiple of the {m}-pixel iMCU, so the {edge} "
        f"cannot move (trim=True would drop {size % m} pixels)"
        for name, size, m, edge in partial
    )
    if o.perfect:
        raise ValueError(f"{OP_NAMES[op]} cannot be perfect on this {_describe(header)}: {why}")
    if o.apply_exif_orientation and trim and any(size < m for _n, size, m, _e in partial):
        # transupp never trims an image down to nothing: it would leave the strip.
        raise ValueError(
            f"cannot turn this {_describe(header)} upright losslessly: {why}, and it is "
            "smaller than one iMCU there, so trimming cannot remove it either"
        )


def _describe(header: JpegInfo) -> str:
    sub = "unusually subsampled" if header.subsampling is None else header.subsampling.name
    return f"{header.width}x{header.height} {sub.removeprefix('S')} JPEG"


def _check_crop(crop, width: int, height: int) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (v.__index__() for v in crop)
    except (TypeError, ValueError, AttributeError):
        raise TypeError(f"crop must be four ints (x, y, width, height), not {crop!r}") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width or y + h > height:
        raise ValueError(
            f"crop (x={x}, y={y}, w={w}, h={h}) does not fit in the transformed "
            f"{width}x{height} image"
        )
    return x, y, w, h


def _check_crop_origin(crop, mcu: tuple[int, int], prefix: str, tj2: bool = False) -> None:
    x, y, w, h = crop
    bad = [(name, v, m) for name, v, m in (("x", x, mcu[0]), ("y", y, mcu[1])) if v % m]
    if not bad:
        return
    hints = ", ".join(f"{name}={v - v % m} or {name}={v - v % m + m}" for name, v, m in bad)
    ax, ay = x - x % mcu[0], y - y % mcu[1]
    message = (
        f"{prefix}the crop origin (x={x}, y={y}) on the {mcu[0]}x{mcu[1]} iMCU grid of the "
        f"transformed image: lossless crops move whole iMCUs. Nearest aligned: {hints}; "
        f"crop=({ax}, {ay}, {w + x - ax}, {h + y - ay}) keeps the whole region"
    )
    if tj2:
        raise UnsupportedFeatureError(message.replace("transformed", "source"), None)
    raise ValueError("libjpeg-turbo needs " + message)


# -- the call ------------------------------------------------------------------------


def run(
    codec, handle: Transformer, data, buf, size: int, dims: tuple[int, int], items: list
) -> list[bytes]:
    """Plan, check and run ``items`` (``Options``) on one source in one library call.

    ``handle`` has just read the header (``dims``).
    """
    orientation = _exif.orientation(data) if any(o.apply_exif_orientation for o in items) else None
    header = handle.info(*dims, orientation)
    plans = []
    for i, o in enumerate(items):
        try:
            plans.append(plan(o, header, handle.api.generation))
        except Exception as exc:
            if len(items) > 1:
                exc.add_note(f"in transform_many's item {i}")
            raise
    modes = {p.copy_markers for p in plans if p.copy_markers != "none"}
    if len(modes) > 1:
        raise ValueError(
            "transform_many: one call copies markers one way (libjpeg-turbo's "
            "TJPARAM_SAVEMARKERS is per call): give every item the same copy_markers, "
            "or 'none'"
        )
    records = (TjTransform * len(plans))()
    for record, p in zip(records, plans, strict=True):
        record.op, record.options = p.op, p.options
        if p.crop is not None:
            record.r = Region(*p.crop)
    outputs, failure = handle.run(buf, size, records, modes.pop() if modes else "all")
    if failure is not None:  # a warning: the outputs are whole
        if codec.strict:
            raise failure
        _warn.warn(str(failure))
    for i, p in enumerate(plans):
        if p.upright_tag:
            outputs[i] = upright_tag(outputs[i])
    return outputs


def upright_tag(jpeg: bytes) -> bytes:
    """``jpeg`` with its EXIF orientation set to 1, when it has a well-formed one."""
    found = _exif.orientation_offset(jpeg)
    if found is None:
        return jpeg
    offset, order = found
    patched = bytearray(jpeg)
    struct.pack_into(order + "H", patched, offset, 1)
    return bytes(patched)
