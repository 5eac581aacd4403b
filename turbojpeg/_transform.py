"""Lossless transforms: ``tj3Transform`` (TurboJPEG 3) and ``tjTransform`` (TurboJPEG 2).

JPEG in, JPEG out: libjpeg-turbo moves the quantized DCT coefficients, so
nothing is decoded or re-encoded. This module turns ``Turbojpeg.transform``'s
keywords into ``tjtransform`` records, checks what libjpeg-turbo would refuse
or silently change, runs the call on a per-thread handle and frees every
buffer the library allocated.

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

import ctypes as C
import struct
import threading
from dataclasses import dataclass, fields

import numpy as np

from . import _exif, _tj2, _tj3, _warn
from ._cdecl import declarer
from .errors import TJERR_WARNING, TurbojpegError, UnsupportedFeatureError
from .formats import Colorspace, Subsampling

# enum TJXOP (the same in TurboJPEG 2.1 and 3.1).
NONE, HFLIP, VFLIP, TRANSPOSE, TRANSVERSE, ROT90, ROT180, ROT270 = range(8)
# TJXOPT_* bits of libjpeg-turbo 3.1's turbojpeg.h. 2.1 has the first seven;
# ARITHMETIC and OPTIMIZE came with 3.0 (2.1 ignores those bits).
PERFECT = 1 << 0
TRIM = 1 << 1
CROP = 1 << 2
GRAY = 1 << 3
NOOUTPUT = 1 << 4  # never set here: every transform writes a JPEG
PROGRESSIVE = 1 << 5
COPYNONE = 1 << 6
ARITHMETIC = 1 << 7
OPTIMIZE = 1 << 8

TJINIT_TRANSFORM = 2
# TJPARAM_SAVEMARKERS (3.1+), a handle parameter: which markers a transform
# copies. Its values are transupp's JCOPY_OPTION: 0 none, 1 comments only,
# 2 all (the default), 3 all but ICC (APP2), 4 ICC (APP2) only. "none" is
# TJXOPT_COPYNONE instead, which is per transform.
SAVEMARKERS = 25
COPY_MODES = {"all": 2, "comments": 1, "icc": 4, "none": 0}

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


class Region(C.Structure):
    _fields_ = (("x", C.c_int), ("y", C.c_int), ("w", C.c_int), ("h", C.c_int))


class TjTransform(C.Structure):
    """tjtransform: the same layout in TurboJPEG 2 and 3."""

    _fields_ = (
        ("r", Region),
        ("op", C.c_int),
        ("options", C.c_int),
        ("data", C.c_void_p),
        ("customFilter", C.c_void_p),  # always NULL
    )


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
class Header:
    """What a transform needs from the source's header."""

    width: int
    height: int
    subsampling: Subsampling | None
    colorspace: Colorspace | None
    orientation: int | None  # read only when some transform asks for it


@dataclass(frozen=True)
class Plan:
    """One checked transform: the tjtransform fields and what to do afterwards."""

    op: int
    options: int
    crop: tuple[int, int, int, int] | None
    copy_mode: int
    upright_tag: bool  # patch the copied EXIF orientation to 1


def plan(o: Options, header: Header, generation: int) -> Plan:
    """Check one transform's options against the source; raise a clear error or plan it."""
    if o.rotate not in (0, 90, 180, 270) or isinstance(o.rotate, bool):
        raise ValueError(f"rotate must be 0, 90, 180 or 270 (degrees clockwise), not {o.rotate!r}")
    if not isinstance(o.copy_markers, str) or o.copy_markers not in COPY_MODES:
        raise ValueError(
            f"copy_markers must be one of {', '.join(map(repr, COPY_MODES))}, "
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
        (PERFECT if o.perfect else 0)
        | (TRIM if trim else 0)
        | (GRAY if o.grayscale else 0)
        | (PROGRESSIVE if o.progressive else 0)
        | (ARITHMETIC if o.arithmetic else 0)
        | (OPTIMIZE if o.optimize else 0)
        | (COPYNONE if o.copy_markers == "none" else 0)
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
        options |= CROP
    return Plan(
        op=op,
        options=options,
        crop=crop,
        copy_mode=COPY_MODES[o.copy_markers],
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


def _check_edges(op: int, o: Options, header: Header, mcu: tuple[int, int], trim: bool) -> None:
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


def _describe(header: Header) -> str:
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


# -- handles -------------------------------------------------------------------------


class _Functions:
    """The transform calls of one loaded library, declared once."""

    def __init__(self, library) -> None:
        fn = declarer(library.cdll)
        vp, pvp = C.c_void_p, C.POINTER(C.c_void_p)
        if library.api == 3:
            self.transform = fn(
                "tj3Transform",
                C.c_int,
                vp,
                vp,
                C.c_size_t,
                C.c_int,
                pvp,
                C.POINTER(C.c_size_t),
                C.POINTER(TjTransform),
            )
        else:
            self.init_transform = fn("tjInitTransform", vp)
            self.transform = fn(
                "tjTransform",
                C.c_int,
                vp,
                vp,
                C.c_ulong,
                C.c_int,
                pvp,
                C.POINTER(C.c_ulong),
                C.POINTER(TjTransform),
                C.c_int,
            )


_functions: dict[str, _Functions] = {}
_functions_lock = threading.Lock()


def transformer(library, api):
    """A new transform handle for this thread (``Turbojpeg._transformer`` keeps it)."""
    with _functions_lock:
        functions = _functions.get(library.path)
        if functions is None:
            functions = _functions[library.path] = _Functions(library)
    return (Tj3Transformer if library.api == 3 else Tj2Transformer)(api, functions)


def _collect(api, bufs, sizes, n: int, failure: TurbojpegError | None) -> list[bytes]:
    """The n outputs, then every buffer libjpeg-turbo allocated is freed, on any path.

    After a warning (corrupt data that libjpeg-turbo got past) each output is
    whole; after an error none is used.
    """
    try:
        if failure is not None and (failure.code != TJERR_WARNING or not all(bufs)):
            raise failure
        return [C.string_at(bufs[i], sizes[i]) for i in range(n)]
    finally:
        for i in range(n):
            if bufs[i]:
                api.free(bufs[i])
                bufs[i] = None


class Tj3Transformer(_tj3.Tj3Decompressor):
    """A TJINIT_TRANSFORM handle: reads headers like a decompressor, then transforms."""

    __slots__ = ("functions",)
    init_type = TJINIT_TRANSFORM

    def __init__(self, api, functions: _Functions) -> None:
        super().__init__(api)
        self.functions = functions

    def header(self, width: int, height: int, orientation: int | None) -> Header:
        get, handle = self.api.get, self.handle
        return Header(
            width,
            height,
            _subsampling(get(handle, _tj3.SUBSAMP)),
            _colorspace(get(handle, _tj3.COLORSPACE)),
            orientation,
        )

    def run(self, buf, size: int, records, copy_mode: int) -> tuple[list[bytes], object]:
        if self.params.get(SAVEMARKERS, 2) != copy_mode:
            try:
                self.set(SAVEMARKERS, copy_mode)
            except TurbojpegError as exc:
                name = next(k for k, v in COPY_MODES.items() if v == copy_mode)
                raise UnsupportedFeatureError(
                    f"copy_markers={name!r} needs libjpeg-turbo >= 3.1 (TJPARAM_SAVEMARKERS)",
                    None,
                ) from exc
        # Reading the header set these two from the source, and tj3Transform
        # ORs them into every transform's options: a progressive or arithmetic
        # source would stay so. Cleared, the output is what the options say,
        # as with jpegtran and the TurboJPEG 2 API.
        for param in (_tj3.PROGRESSIVE, _tj3.ARITHMETIC):
            if self.api.set(self.handle, param, 0):
                raise self.fail()
        n = len(records)
        bufs = (C.c_void_p * n)()
        sizes = (C.c_size_t * n)()
        failure = None
        if self.functions.transform(self.handle, buf, size, n, bufs, sizes, records):
            failure = self.fail()
        return _collect(self.api, bufs, sizes, n, failure), failure


class Tj2Transformer(_tj2.Tj2Decompressor):
    """A tjInitTransform handle (TurboJPEG 2): reads headers, then transforms."""

    __slots__ = ("functions",)

    def __init__(self, api, functions: _Functions) -> None:
        super().__init__(api)
        self.functions = functions
        self.new_handle = functions.init_transform
        self.renew()  # from the decompressor's handle to a transformer's

    def header(self, width: int, height: int, orientation: int | None) -> Header:
        return Header(
            width,
            height,
            _subsampling(self._info[2].value),
            _colorspace(self._info[3].value),
            orientation,
        )

    def run(self, buf, size: int, records, copy_mode: int) -> tuple[list[bytes], object]:
        # In 2.x a progressive transform leaves its scan script behind for the
        # next ones of the same call, whose entropy-coded data is then corrupt.
        # Run the others first (the order is restored below).
        n = len(records)
        order = sorted(range(n), key=lambda i: bool(records[i].options & PROGRESSIVE))
        ordered = (TjTransform * n)(*(records[i] for i in order))
        bufs = (C.c_void_p * n)()
        sizes = (C.c_ulong * n)()
        failure = None
        if self.functions.transform(self.handle, buf, size, n, bufs, sizes, ordered, self._limits):
            failure = self.fail()
        outputs = _collect(self.api, bufs, sizes, n, failure)
        restored = [b""] * n
        for position, i in enumerate(order):
            restored[i] = outputs[position]
        return restored, failure


def _subsampling(value: int) -> Subsampling | None:
    return Subsampling(value) if value in Subsampling._value2member_map_ else None


def _colorspace(value: int) -> Colorspace | None:
    return Colorspace(value) if value in Colorspace._value2member_map_ else None


# -- the call ------------------------------------------------------------------------


def run(codec, handle, data, buf, size: int, dims: tuple[int, int], items: list) -> list[bytes]:
    """Plan, check and run ``items`` (``Options``) on one source in one library call.

    ``handle`` has just read the header (``dims``).
    """
    orientation = _exif.orientation(data) if any(o.apply_exif_orientation for o in items) else None
    header = handle.header(*dims, orientation)
    plans = []
    for i, o in enumerate(items):
        try:
            plans.append(plan(o, header, handle.api.generation))
        except Exception as exc:
            if len(items) > 1:
                exc.add_note(f"in transform_many's item {i}")
            raise
    modes = {p.copy_mode for p in plans if p.copy_mode != COPY_MODES["none"]}
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
    outputs, failure = handle.run(buf, size, records, modes.pop() if modes else COPY_MODES["all"])
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
