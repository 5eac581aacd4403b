"""The TurboJPEG 3 API (libjpeg-turbo >= 3.0): declarations and per-handle state,
implementing the contract in ``_backend``.

Every C function is declared once, in ``Tj3Api.__init__``. Status codes are
checked inline (``if rc: raise ...``) rather than with a ctypes ``errcheck``:
the hot path makes several calls per image, and an errcheck costs a Python
call on each.

The six calls every decode makes (see ``Tj3Api.hot``) go through undeclared
function objects: ctypes then converts each argument by its Python type, which
costs about 0.1 us a call less than ``argtypes``. Only this module calls them,
and only with the types C expects: a ``Tjhandle``, ``bytes`` or ``c_void_p``
for pointers, ``c_size_t`` for sizes, and Python ints for C ints.
"""

from __future__ import annotations

import ctypes as C

from . import _markers
from ._cdecl import OwnedHandle, Region, ScalingFactor, TjTransform, declarer, transform_outputs
from .errors import TJERR_WARNING, TurbojpegError, UnsupportedFeatureError, error_code
from .formats import JpegInfo
from .formats import colorspace_or_none as _colorspace
from .formats import subsampling_or_none as _subsampling

TJINIT_COMPRESS = 0
TJINIT_DECOMPRESS = 1
TJINIT_TRANSFORM = 2

# enum TJPARAM, in declaration order.
STOPONWARNING = 0
BOTTOMUP = 1
NOREALLOC = 2
QUALITY = 3
SUBSAMP = 4
JPEGWIDTH = 5
JPEGHEIGHT = 6
PRECISION = 7
COLORSPACE = 8
FASTUPSAMPLE = 9
FASTDCT = 10
OPTIMIZE = 11
PROGRESSIVE = 12
SCANLIMIT = 13
ARITHMETIC = 14
LOSSLESS = 15
LOSSLESSPSV = 16
LOSSLESSPT = 17
SAVEMARKERS = 25

TJSAMP_UNKNOWN = -1

# TJPARAM_SAVEMARKERS (3.1+) on a transformer: which markers a transform
# copies. Its values are transupp's JCOPY_OPTION: 0 none, 1 comments only,
# 2 all (the default), 3 all but ICC (APP2), 4 ICC (APP2) only. "none" is
# TJXOPT_COPYNONE instead, which is per transform.
COPY_MARKERS = {"all": 2, "comments": 1, "icc": 4}


# What a new handle holds, so renew() sends only the parameters that differ.
_FRESH = {
    STOPONWARNING: 0,
    FASTUPSAMPLE: 0,
    FASTDCT: 0,
    SCANLIMIT: 0,
    PRECISION: 8,
    LOSSLESS: 0,
    LOSSLESSPSV: 1,
    LOSSLESSPT: 0,
    SAVEMARKERS: 2,
}

UNSCALED = ScalingFactor(1, 1)
UNCROPPED = Region(0, 0, 0, 0)

_vp = C.c_void_p
_int = C.c_int
_size = C.c_size_t


class Tjhandle(C.c_void_p):
    """What ``tj3Init`` returns: as a ``c_void_p`` subclass, ctypes hands it back
    as this object rather than an int, so an undeclared function receives it as
    a pointer."""


class _Hot:
    """Undeclared twins of the decode path's functions (see the module's docstring).

    ``cdll[name]`` makes a function object apart from the declared one, so the
    two never share ``argtypes``.
    """

    __slots__ = ("decompress8", "decompress_header", "destroy", "get", "init", "set")

    def __init__(self, cdll: C.CDLL) -> None:
        self.init = cdll["tj3Init"]
        self.init.restype = Tjhandle
        self.destroy = cdll["tj3Destroy"]
        self.destroy.restype = None
        for name, symbol in (
            ("set", "tj3Set"),
            ("get", "tj3Get"),
            ("decompress_header", "tj3DecompressHeader"),
            ("decompress8", "tj3Decompress8"),
        ):
            setattr(self, name, cdll[symbol])  # restype int, the default


class Tj3Api:
    """The library's tj3* functions, declared once per loaded library."""

    generation = 3

    def __init__(self, cdll: C.CDLL) -> None:
        fn = declarer(cdll)
        self.hot = _Hot(cdll)
        self.init = fn("tj3Init", Tjhandle, _int)
        self.destroy = fn("tj3Destroy", None, _vp)
        self.error_str = fn("tj3GetErrorStr", C.c_char_p, _vp)
        self.error_code = fn("tj3GetErrorCode", _int, _vp)
        self.set = fn("tj3Set", _int, _vp, _int, _int)
        self.get = fn("tj3Get", _int, _vp, _int)
        self.free = fn("tj3Free", None, _vp)
        self.decompress_header = fn("tj3DecompressHeader", _int, _vp, _vp, _size)
        self.set_scaling_factor = fn("tj3SetScalingFactor", _int, _vp, ScalingFactor)
        self.set_cropping_region = fn("tj3SetCroppingRegion", _int, _vp, Region)
        self.decompress8 = fn("tj3Decompress8", _int, _vp, _vp, _size, _vp, _int, _int)
        # The 12- and 16-bit functions take the same arguments (samples of 2 bytes).
        self.decompress_bits = {
            8: self.decompress8,
            12: fn("tj3Decompress12", _int, _vp, _vp, _size, _vp, _int, _int),
            16: fn("tj3Decompress16", _int, _vp, _vp, _size, _vp, _int, _int),
        }
        self.decompress_to_planes8 = fn(
            "tj3DecompressToYUVPlanes8", _int, _vp, _vp, _size, C.POINTER(_vp), C.POINTER(_int)
        )
        self.compress_bits = {
            bits: fn(
                f"tj3Compress{bits}",
                *(_int, _vp, _vp, _int, _int, _int, _int, C.POINTER(_vp), C.POINTER(_size)),
            )
            for bits in (8, 12, 16)
        }
        self.compress8 = self.compress_bits[8]
        # libjpeg-turbo 3.1 and later; on 3.0 the profile is inserted in Python.
        try:
            self.set_icc_profile = fn("tj3SetICCProfile", _int, _vp, _vp, _size)
        except AttributeError:
            self.set_icc_profile = None
        self.compress_from_planes8 = fn(
            "tj3CompressFromYUVPlanes8",
            _int,
            _vp,
            C.POINTER(_vp),
            _int,
            C.POINTER(_int),
            _int,
            C.POINTER(_vp),
            C.POINTER(_size),
        )
        self.get_scaling_factors = fn(
            "tj3GetScalingFactors", C.POINTER(ScalingFactor), C.POINTER(_int)
        )
        self.plane_width = fn("tj3YUVPlaneWidth", _int, _int, _int, _int)
        self.plane_height = fn("tj3YUVPlaneHeight", _int, _int, _int, _int)
        self.transform = fn(
            "tj3Transform",
            *(_int, _vp, _vp, _size, _int, C.POINTER(_vp), C.POINTER(_size)),
            C.POINTER(TjTransform),
        )

    def scaling_factors(self) -> list[tuple[int, int]]:
        count = _int()
        table = self.get_scaling_factors(C.byref(count))
        if not table:
            raise TurbojpegError(self.error_str(None).decode(errors="replace"))
        return [(table[i].num, table[i].denom) for i in range(count.value)]

    def plane_shape(self, component: int, width: int, height: int, subsamp: int) -> tuple[int, int]:
        w = self.plane_width(component, width, subsamp)
        h = self.plane_height(component, height, subsamp)
        if w < 0 or h < 0:
            raise TurbojpegError(self.error_str(None).decode(errors="replace"))
        return h, w

    def decompressor(self) -> Tj3Decompressor:
        return Tj3Decompressor(self)

    def compressor(self) -> Tj3Compressor:
        return Tj3Compressor(self)

    def transformer(self) -> Tj3Transformer:
        return Tj3Transformer(self)


class _Handle(OwnedHandle):
    """A tjhandle owned by one thread; parameters are sent only when they change."""

    __slots__ = ("api", "handle", "params", "sticky")
    init_type = -1

    def __init__(self, api: Tj3Api) -> None:
        self.api = api
        self.handle = api.init(self.init_type)
        if not self.handle:
            raise TurbojpegError("tj3Init failed: " + api.error_str(None).decode(errors="replace"))
        self.params: dict[int, int] = dict(_FRESH)
        self.sticky: tuple[tuple[int, int], ...] = ()

    def error(self) -> TurbojpegError:
        """The pending error or warning, as libjpeg-turbo words it."""
        message = self.api.error_str(self.handle).decode(errors="replace")
        return TurbojpegError(message, error_code(self.api.error_code(self.handle), message))

    def fail(self) -> TurbojpegError:
        """The pending error; the handle is replaced, as a failed call can leave it
        half-way through a header (the next header read would then "succeed" with
        the previous image's dimensions)."""
        exc = self.error()
        self.renew()
        return exc

    def renew(self) -> None:
        """Replace the handle by a new one with the same parameters."""
        hot = self.api.hot
        hot.destroy(self.handle)
        handle = self.handle = hot.init(self.init_type)
        if not handle:
            raise MemoryError("tj3Init failed")
        for param, value in self.sticky:
            if hot.set(handle, param, value):
                raise self.fail()

    def set(self, param: int, value: int) -> None:
        if self.params.get(param) != value:
            if self.api.set(self.handle, param, value):
                raise self.fail()
            self.params[param] = value
            # The parameters a new handle must be given to match this one.
            self.sticky = tuple((p, v) for p, v in self.params.items() if v != _FRESH.get(p, -1))


# How many leading bytes two JPEGs must share before the second one's header is
# walked, to learn whether the decompressor may be kept for a third.
_SAME_SOURCE = 64


class Tj3Decompressor(_Handle):
    """Keeps its handle from one whole-image decode to the next when that is exact.

    libjpeg keeps tables across images, so each image normally starts on a new
    handle. But when a JPEG begins with exactly the header of the last one
    decoded here, and ``_markers.self_contained_header`` found that header to
    define every table its single scan uses, the same bytes set the same
    tables and the same size: the handle is kept, and ``read_header`` makes no
    call at all. A decode then takes one library call (``tj3Decompress8``)
    instead of eight (destroy, init, the two parameters a new handle needs,
    the header and its two dimensions, the decode). That is the case for a
    stream of JPEGs from one source (video frames, tiles, a camera at one size
    and quality). To keep the walk off other streams, a header is only walked
    when the JPEG's first ``_SAME_SOURCE`` bytes and its size match the last
    one's.
    """

    __slots__ = ("answer", "head", "header", "kept_for", "learning", "mode")
    init_type = TJINIT_DECOMPRESS
    supports_crop = True

    def __init__(self, api: Tj3Api) -> None:
        super().__init__(api)
        self.mode = None
        self.head = None  # the first bytes and the size of the last whole-image decode
        self.header = b""  # a self-contained header, as _markers found one
        self.kept_for = None  # the header the handle may be kept for, or None
        self.learning = None  # the current whole-image decode's JPEG, or its header
        self.answer = (0, 0, None)  # read_header's answer for the last header it read
        # libjpeg-turbo 3.1 (the version that brought tj3SetICCProfile) saves
        # APP2 markers by default, for its ICC reader; libjpeg copies a saved
        # marker byte by byte, twice per decode. _markers reads ICC instead.
        if api.set_icc_profile is not None:
            self.set(SAVEMARKERS, 0)

    def set_limits(self, stop_on_warning: bool, scan_limit: int) -> None:
        self.set(STOPONWARNING, stop_on_warning)
        self.set(SCANLIMIT, scan_limit)

    def set_mode(self, mode: tuple[bool, bool]) -> None:
        """mode = (fast_dct, fast_upsample); callers skip this when it is unchanged."""
        self.set(FASTDCT, mode[0])
        self.set(FASTUPSAMPLE, mode[1])
        self.mode = mode

    def read_header(
        self, buf, size: int, data: bytes | None = None
    ) -> tuple[int, int, TurbojpegError | None]:
        """(width, height, warning); the other header fields are then available to
        ``info``. ``warning`` is libjpeg-turbo's TJERR_WARNING when it got past a
        problem in the header (junk between segments, say), else None; an error
        raises.

        The image starts on a new handle: libjpeg keeps quantization and
        Huffman tables from one image to the next (for abbreviated streams), so
        on a reused handle a JPEG that lacks a table, such as an MJPEG frame
        without DHT, would silently be decoded with the previous image's. The
        one exception is a whole-image decode, which passes the JPEG as
        ``data``: see the class's docstring.
        """
        kept_for = self.kept_for
        self.kept_for = self.learning = None
        if kept_for is not None and data is not None and data.startswith(kept_for):
            # The very header of the last decode: the same size, and no call
            # (tj3Decompress8 reads the header itself).
            self.learning = kept_for
            return self.answer
        self.renew()
        hot, handle = self.api.hot, self.handle
        if hot.decompress_header(handle, buf, _size(size)):
            return self._header_warning()
        self.learning = data
        answer = self.answer = (hot.get(handle, JPEGWIDTH), hot.get(handle, JPEGHEIGHT), None)
        return answer

    def _learn(self, learning: bytes) -> None:
        """After a whole-image decode on a new handle succeeded: whether to keep
        the handle for the next JPEG."""
        # The same source as the last JPEG (its first bytes) at the same size: walk
        # this header once. Photos of different sizes from one encoder share their
        # first bytes (the APP0 and DQT segments), but never a header.
        head = (learning[:_SAME_SOURCE], self.answer)
        if head == self.head:
            end = _markers.self_contained_header(learning)
            if end:
                self.kept_for = self.header = learning[:end]
        self.head = head

    def _header_warning(self) -> tuple[int, int, TurbojpegError]:
        """After a header read that did not succeed: (width, height, warning) when
        libjpeg-turbo only warned, for it then read the whole header and the handle
        holds it as after a success. Otherwise (an error, or a warning it stopped
        at) the handle is replaced and the error raised."""
        exc = self.error()
        if exc.code != TJERR_WARNING or self.params[STOPONWARNING]:
            self.renew()
            raise exc
        api, handle = self.api, self.handle
        return api.get(handle, JPEGWIDTH), api.get(handle, JPEGHEIGHT), exc

    def subsampling(self) -> int:
        return self.api.get(self.handle, SUBSAMP)

    def sample_format(self) -> tuple[int, bool]:
        """(precision in bits, lossless) of the header just read."""
        get, handle = self.api.get, self.handle
        return get(handle, PRECISION), bool(get(handle, LOSSLESS))

    def header_fields(self, buf, size: int) -> tuple[int, int, bool]:
        """(colorspace (TJCS_*, -1 if unknown), precision, lossless) of the header.

        For the rare call that needs them after a failed decode. A warning
        (junk between segments, say) does not hide them: the header was read
        whole. The handle is left as ``read_header`` leaves it, or renewed.
        """
        self.renew()
        api, handle = self.api, self.handle
        failed = api.decompress_header(handle, buf, size)
        fields = (api.get(handle, COLORSPACE), *self.sample_format())
        if failed:
            self.renew()
        return fields

    def info(
        self,
        width: int,
        height: int,
        orientation: int | None = None,
        icc_profile: bytes | None = None,
        frame: _markers.Frame | None = None,
    ) -> JpegInfo:
        """The header just read as a JpegInfo (``frame`` is for the TJ2 backend)."""
        get, handle = self.api.get, self.handle
        subsamp = get(handle, SUBSAMP)
        return JpegInfo(
            width=width,
            height=height,
            subsampling=_subsampling(subsamp),
            colorspace=_colorspace(get(handle, COLORSPACE)),
            precision=get(handle, PRECISION),
            progressive=bool(get(handle, PROGRESSIVE)),
            lossless=bool(get(handle, LOSSLESS)),
            arithmetic=bool(get(handle, ARITHMETIC)),
            orientation=orientation,
            icc_profile=icc_profile,
        )

    def decompress(self, buf, size: int, dst: int, pitch: int, pixel_format: int) -> None:
        if self.api.hot.decompress8(self.handle, buf, _size(size), _vp(dst), pitch, pixel_format):
            self.learning = None
            raise self.fail()
        learning = self.learning
        if learning is not None:
            self.learning = None
            if learning is self.header:  # it was kept, and stays so
                self.kept_for = learning
            else:
                self._learn(learning)

    def decompress_samples(
        self, bits: int, buf, size: int, dst: int, pitch: int, pixel_format: int
    ) -> None:
        """``decompress`` with ``tj3Decompress{bits}``; ``pitch`` counts samples."""
        if self.api.decompress_bits[bits](self.handle, buf, size, dst, pitch, pixel_format):
            raise self.fail()

    def set_scale(self, num: int, denom: int) -> None:
        if self.api.set_scaling_factor(self.handle, ScalingFactor(num, denom)):
            raise self.fail()

    def set_crop(self, x: int, y: int, w: int, h: int) -> None:
        if self.api.set_cropping_region(self.handle, Region(x, y, w, h)):
            raise self.fail()

    def reset_scale_and_crop(self) -> None:
        # Order matters: the cropping region is validated against the scale.
        self.api.set_cropping_region(self.handle, UNCROPPED)
        self.api.set_scaling_factor(self.handle, UNSCALED)

    def decompress_to_planes(self, buf, size: int, planes, strides) -> None:
        if self.api.decompress_to_planes8(self.handle, buf, size, planes, strides):
            raise self.fail()


class Tj3Transformer(Tj3Decompressor):
    """A TJINIT_TRANSFORM handle: reads headers like a decompressor, then transforms."""

    __slots__ = ()
    init_type = TJINIT_TRANSFORM

    def run(
        self, buf, size: int, records, copy_markers: str
    ) -> tuple[list[bytes], TurbojpegError | None]:
        """The JPEGs of ``records`` (a tjtransform array) from one ``tj3Transform``
        call, and libjpeg-turbo's warning if it gave one."""
        copy_mode = COPY_MARKERS[copy_markers]
        if self.params.get(SAVEMARKERS, 2) != copy_mode:
            try:
                self.set(SAVEMARKERS, copy_mode)
            except TurbojpegError as exc:
                raise UnsupportedFeatureError(
                    f"copy_markers={copy_markers!r} needs libjpeg-turbo >= 3.1 "
                    "(TJPARAM_SAVEMARKERS)",
                    None,
                ) from exc
        # Reading the header set these two from the source, and tj3Transform
        # ORs them into every transform's options: a progressive or arithmetic
        # source would stay so. Cleared, the output is what the options say,
        # as with jpegtran and the TurboJPEG 2 API.
        for param in (PROGRESSIVE, ARITHMETIC):
            if self.api.set(self.handle, param, 0):
                raise self.fail()
        n = len(records)
        bufs = (C.c_void_p * n)()
        sizes = (C.c_size_t * n)()
        failure = None
        if self.api.transform(self.handle, buf, size, n, bufs, sizes, records):
            failure = self.fail()
        return transform_outputs(self.api.free, bufs, sizes, failure), failure


class Tj3Compressor(_Handle):
    __slots__ = ("icc", "jpeg_buf", "jpeg_size", "settings")
    init_type = TJINIT_COMPRESS
    supports_optimize = True
    supports_lossless = True  # and precisions other than 8

    def __init__(self, api: Tj3Api) -> None:
        super().__init__(api)
        # Reused across calls: libjpeg-turbo grows it when an image needs more.
        self.jpeg_buf = C.c_void_p()
        self.jpeg_size = C.c_size_t()
        self.settings = None  # what configure() last sent; the codec skips repeats
        self.icc: bytes | None = None  # the profile the handle holds (tj3SetICCProfile)

    def renew(self) -> None:
        super().renew()
        self.icc = None

    def configure(
        self,
        quality: int,
        subsamp: int,
        fast_dct: bool,
        progressive: bool,
        optimize: bool,
        lossless: tuple[int, int, int] | None = None,
    ) -> None:
        """Lossy settings, or ``lossless = (precision, predictor, point transform)``,
        for which libjpeg-turbo ignores the others."""
        if lossless is None:
            self.set(LOSSLESS, 0)
            self.set(QUALITY, quality)
            self.set(SUBSAMP, subsamp)
            self.set(FASTDCT, fast_dct)
            self.set(PROGRESSIVE, progressive)
            self.set(OPTIMIZE, optimize)
        else:
            precision, predictor, point_transform = lossless
            self.set(LOSSLESS, 1)
            self.set(PRECISION, precision)
            self.set(LOSSLESSPSV, predictor)
            self.set(LOSSLESSPT, point_transform)

    def _use_icc(self, icc: bytes | None) -> None:
        api = self.api
        if api.set_icc_profile(self.handle, icc, 0 if icc is None else len(icc)):
            raise self.fail()
        self.icc = icc

    def compress(
        self,
        src: int,
        width: int,
        pitch: int,
        height: int,
        pixel_format: int,
        bits: int = 8,
        icc: bytes | None = None,
    ) -> bytes:
        """A JPEG from ``tj3Compress{bits}`` (``pitch`` counts samples), with
        ``icc`` embedded."""
        emulate_icc = icc is not None and self.api.set_icc_profile is None
        if icc is not self.icc and not emulate_icc and icc != self.icc:
            self._use_icc(icc)
        if self.api.compress_bits[bits](
            self.handle,
            src,
            width,
            pitch,
            height,
            pixel_format,
            C.byref(self.jpeg_buf),
            C.byref(self.jpeg_size),
        ):
            raise self.fail()
        jpeg = C.string_at(self.jpeg_buf.value, self.jpeg_size.value)
        return _markers.with_icc(jpeg, icc) if emulate_icc else jpeg

    def compress_from_planes(self, planes, width: int, strides, height: int) -> bytes:
        if self.icc is not None:
            self._use_icc(None)
        if self.api.compress_from_planes8(
            self.handle,
            planes,
            width,
            strides,
            height,
            C.byref(self.jpeg_buf),
            C.byref(self.jpeg_size),
        ):
            raise self.fail()
        return C.string_at(self.jpeg_buf.value, self.jpeg_size.value)

    def close(self) -> None:
        if self.jpeg_buf:
            self.api.free(self.jpeg_buf)
            self.jpeg_buf = C.c_void_p()
        super().close()
