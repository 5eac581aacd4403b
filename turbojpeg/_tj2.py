"""The TurboJPEG 2 API (libjpeg-turbo 2.x, e.g. Debian 12 and Ubuntu 24.04).

The same contract as ``_tj3`` (``_backend``). Differences, handled here:
- options are per-call flags (TJFLAG_*), not handle parameters;
- scaling is asked for by passing the scaled width and height;
- there is no cropping region (``supports_crop = False``: the codec emulates
  a crop exactly, by decoding the whole image and copying the region), and
  no 12- or 16-bit functions (``set_crop`` and ``decompress_samples`` of
  other than 8 bits raise ``UnsupportedFeatureError``);
- there is no Huffman-optimisation switch for baseline JPEGs
  (``supports_optimize = False``);
- the header does not report precision, progressive, lossless or arithmetic:
  they are read from the frame header in Python (``_markers.Frame``);
- there are no 12-bit, 16-bit or lossless JPEGs: the header read refuses them
  (the codec then raises ``UnsupportedFeatureError``), so any JPEG that gets
  past it has 8-bit lossy samples;
- there is no tj3SetICCProfile: a profile is inserted into the JPEG by
  ``_markers.with_icc``, exactly where libjpeg would write it.
"""

from __future__ import annotations

import ctypes as C

from . import _markers
from ._cdecl import (
    TJXOPT_PROGRESSIVE,
    OwnedHandle,
    ScalingFactor,
    TjTransform,
    declarer,
    transform_outputs,
)
from .errors import TJERR_WARNING, TurbojpegError, UnsupportedFeatureError, error_code
from .formats import JpegInfo
from .formats import colorspace_or_none as _colorspace
from .formats import subsampling_or_none as _subsampling

FASTUPSAMPLE = 256
NOREALLOC = 1024
FASTDCT = 2048
ACCURATEDCT = 4096
STOPONWARNING = 8192
PROGRESSIVE = 16384
LIMITSCANS = 32768

TJSAMP_UNKNOWN = -1

_vp = C.c_void_p
_int = C.c_int
_ulong = C.c_ulong
_pint = C.POINTER(C.c_int)


class Tj2Api:
    generation = 2

    def __init__(self, cdll: C.CDLL) -> None:
        fn = declarer(cdll)
        self.init_decompress = fn("tjInitDecompress", _vp)
        self.init_compress = fn("tjInitCompress", _vp)
        self.destroy = fn("tjDestroy", _int, _vp)
        self.error_str = fn("tjGetErrorStr2", C.c_char_p, _vp)
        self.error_code = fn("tjGetErrorCode", _int, _vp)
        self.alloc = fn("tjAlloc", _vp, _int)
        self.free = fn("tjFree", None, _vp)
        self.buf_size = fn("tjBufSize", _ulong, _int, _int, _int)
        self.decompress_header3 = fn(
            "tjDecompressHeader3", _int, _vp, _vp, _ulong, _pint, _pint, _pint, _pint
        )
        self.decompress2 = fn(
            "tjDecompress2", _int, _vp, _vp, _ulong, _vp, _int, _int, _int, _int, _int
        )
        self.decompress_to_planes = fn(
            "tjDecompressToYUVPlanes",
            _int,
            _vp,
            _vp,
            _ulong,
            C.POINTER(_vp),
            _int,
            _pint,
            _int,
            _int,
        )
        self.compress2 = fn(
            "tjCompress2",
            _int,
            _vp,
            _vp,
            _int,
            _int,
            _int,
            _int,
            C.POINTER(_vp),
            C.POINTER(_ulong),
            _int,
            _int,
            _int,
        )
        self.compress_from_planes = fn(
            "tjCompressFromYUVPlanes",
            _int,
            _vp,
            C.POINTER(_vp),
            _int,
            _pint,
            _int,
            _int,
            C.POINTER(_vp),
            C.POINTER(_ulong),
            _int,
            _int,
        )
        self.get_scaling_factors = fn("tjGetScalingFactors", C.POINTER(ScalingFactor), _pint)
        self.plane_width = fn("tjPlaneWidth", _int, _int, _int, _int)
        self.plane_height = fn("tjPlaneHeight", _int, _int, _int, _int)
        self.init_transform = fn("tjInitTransform", _vp)
        self.transform = fn(
            "tjTransform",
            *(_int, _vp, _vp, _ulong, _int, C.POINTER(_vp), C.POINTER(_ulong)),
            *(C.POINTER(TjTransform), _int),
        )

    def _global_error(self) -> TurbojpegError:
        return TurbojpegError(self.error_str(None).decode(errors="replace"))

    def scaling_factors(self) -> list[tuple[int, int]]:
        count = _int()
        table = self.get_scaling_factors(C.byref(count))
        if not table:
            raise self._global_error()
        return [(table[i].num, table[i].denom) for i in range(count.value)]

    def plane_shape(self, component: int, width: int, height: int, subsamp: int) -> tuple[int, int]:
        w = self.plane_width(component, width, subsamp)
        h = self.plane_height(component, height, subsamp)
        if w < 0 or h < 0:
            raise self._global_error()
        return h, w

    def decompressor(self) -> Tj2Decompressor:
        return Tj2Decompressor(self)

    def compressor(self) -> Tj2Compressor:
        return Tj2Compressor(self)

    def transformer(self) -> Tj2Transformer:
        return Tj2Transformer(self)


class _Handle(OwnedHandle):
    __slots__ = ("api", "flags", "handle", "new_handle")

    def __init__(self, api: Tj2Api, handle: int | None) -> None:
        self.api = api
        self.handle = handle
        if not handle:
            raise api._global_error()
        self.flags = 0

    def error(self) -> TurbojpegError:
        """The pending error or warning, as libjpeg-turbo words it."""
        message = self.api.error_str(self.handle).decode(errors="replace")
        return TurbojpegError(message, error_code(self.api.error_code(self.handle), message))

    def fail(self) -> TurbojpegError:
        """The pending error; the handle is replaced (see _tj3._Handle.fail)."""
        exc = self.error()
        self.renew()
        return exc

    def renew(self) -> None:
        """Replace the handle by a new one (2.x keeps no parameters in it)."""
        self.api.destroy(self.handle)
        self.handle = self.new_handle()
        if not self.handle:
            raise MemoryError("tjInit failed")


class Tj2Decompressor(_Handle):
    __slots__ = ("_info", "_limits", "_scaled", "mode")
    supports_crop = False

    def __init__(self, api: Tj2Api) -> None:
        super().__init__(api, api.init_decompress())
        self.new_handle = api.init_decompress
        self._info = (_int(), _int(), _int(), _int())
        self._scaled = (0, 0)
        self._limits = 0
        self.mode = None

    def set_limits(self, stop_on_warning: bool, scan_limit: int) -> None:
        # 2.x only offers a fixed limit (500 scans) behind one flag.
        self._limits = (STOPONWARNING if stop_on_warning else 0) | (LIMITSCANS if scan_limit else 0)
        self.flags = self._limits

    def set_mode(self, mode: tuple[bool, bool]) -> None:
        fast_dct, fast_upsample = mode
        self.flags = (
            self._limits
            | (FASTDCT if fast_dct else ACCURATEDCT)
            | (FASTUPSAMPLE if fast_upsample else 0)
        )
        self.mode = mode

    def read_header(
        self, buf, size: int, data: bytes | None = None
    ) -> tuple[int, int, TurbojpegError | None]:
        """(width, height, warning): see _tj3.Tj3Decompressor.read_header. This
        backend never keeps a handle, so ``data`` is not needed."""
        self.renew()  # a new handle per image, for the same reason
        w, h, s, c = self._info
        if self.api.decompress_header3(
            self.handle, buf, size, C.byref(w), C.byref(h), C.byref(s), C.byref(c)
        ):
            exc = self.error()
            # After a mere warning 2.x has read the whole header and written every
            # field; a warning it stopped at (strict) left them unwritten.
            if exc.code != TJERR_WARNING or self._limits & STOPONWARNING:
                self.renew()
                raise exc
            return w.value, h.value, exc
        return w.value, h.value, None

    def subsampling(self) -> int:
        return self._info[2].value

    def sample_format(self) -> tuple[int, bool]:
        """(precision, lossless) of a header 2.x could read: always 8-bit lossy."""
        return 8, False

    def header_fields(self, buf, size: int) -> tuple[int, int, bool]:
        """(colorspace, -1 if unreadable; precision; lossless): see _tj3's."""
        self.renew()
        w, h, s, c = self._info
        c.value = -1
        if self.api.decompress_header3(
            self.handle, buf, size, C.byref(w), C.byref(h), C.byref(s), C.byref(c)
        ):
            self.renew()
        return c.value, 8, False

    def info(
        self,
        width: int,
        height: int,
        orientation: int | None = None,
        icc_profile: bytes | None = None,
        frame: _markers.Frame | None = None,
    ) -> JpegInfo:
        """The header just read; precision and the coding process from ``frame``."""
        subsamp, colorspace = self._info[2].value, self._info[3].value
        return JpegInfo(
            width=width,
            height=height,
            subsampling=_subsampling(subsamp),
            colorspace=_colorspace(colorspace),
            precision=None if frame is None else frame.precision,
            progressive=None if frame is None else frame.progressive,
            lossless=None if frame is None else frame.lossless,
            arithmetic=None if frame is None else frame.arithmetic,
            orientation=orientation,
            icc_profile=icc_profile,
        )

    def set_scale(self, num: int, denom: int) -> None:
        w, h = self._info[0].value, self._info[1].value
        self._scaled = ((w * num + denom - 1) // denom, (h * num + denom - 1) // denom)

    def reset_scale_and_crop(self) -> None:
        self._scaled = (0, 0)

    def decompress(self, buf, size: int, dst: int, pitch: int, pixel_format: int) -> None:
        width, height = self._scaled
        if self.api.decompress2(
            self.handle, buf, size, dst, width, pitch, height, pixel_format, self.flags
        ):
            raise self.fail()

    def decompress_samples(
        self, bits: int, buf, size: int, dst: int, pitch: int, pixel_format: int
    ) -> None:
        """``decompress``: 2.x has 8-bit samples only (its header read refuses the
        JPEGs that have more)."""
        if bits != 8:
            raise UnsupportedFeatureError(
                f"{bits}-bit samples need libjpeg-turbo >= 3 (the TurboJPEG 2 API "
                "decodes 8-bit lossy JPEGs only)",
                None,
            )
        self.decompress(buf, size, dst, pitch, pixel_format)

    def set_crop(self, x: int, y: int, w: int, h: int) -> None:
        """2.x has no cropping region (``supports_crop = False``: the codec decodes
        the whole image and cuts the region out)."""
        raise UnsupportedFeatureError(
            "a cropping region needs libjpeg-turbo >= 3 (tj3SetCroppingRegion)", None
        )

    def decompress_to_planes(self, buf, size: int, planes, strides) -> None:
        width, height = self._scaled
        if self.api.decompress_to_planes(
            self.handle, buf, size, planes, width, strides, height, self.flags
        ):
            raise self.fail()


class Tj2Transformer(Tj2Decompressor):
    """A tjInitTransform handle: reads headers like a decompressor, then transforms."""

    __slots__ = ()

    def __init__(self, api: Tj2Api) -> None:
        super().__init__(api)
        self.new_handle = api.init_transform
        self.renew()  # from the decompressor's handle to a transformer's

    def run(
        self, buf, size: int, records, copy_markers: str
    ) -> tuple[list[bytes], TurbojpegError | None]:
        """See _tj3.Tj3Transformer.run. 2.x copies all markers or none (TJXOPT_COPYNONE,
        in the records): ``copy_markers`` is "all" here."""
        # In 2.x a progressive transform leaves its scan script behind for the
        # next ones of the same call, whose entropy-coded data is then corrupt.
        # Run the others first (the order is restored below).
        n = len(records)
        order = sorted(range(n), key=lambda i: bool(records[i].options & TJXOPT_PROGRESSIVE))
        ordered = (TjTransform * n)(*(records[i] for i in order))
        bufs = (C.c_void_p * n)()
        sizes = (C.c_ulong * n)()
        failure = None
        if self.api.transform(self.handle, buf, size, n, bufs, sizes, ordered, self._limits):
            failure = self.fail()
        outputs = transform_outputs(self.api.free, bufs, sizes, failure)
        restored = [b""] * n
        for position, i in enumerate(order):
            restored[i] = outputs[position]
        return restored, failure


class Tj2Compressor(_Handle):
    __slots__ = ("capacity", "jpeg_buf", "quality", "settings", "subsamp")
    supports_optimize = False
    supports_lossless = False  # nor any precision but 8

    def __init__(self, api: Tj2Api) -> None:
        super().__init__(api, api.init_compress())
        self.new_handle = api.init_compress
        self.jpeg_buf = C.c_void_p()
        self.capacity = 0
        self.quality = 95
        self.subsamp = 2
        self.settings = None  # what configure() last sent; the codec skips repeats

    def configure(
        self,
        quality: int,
        subsamp: int,
        fast_dct: bool,
        progressive: bool,
        optimize: bool,
        lossless: None = None,
    ) -> None:
        self.quality, self.subsamp = quality, subsamp
        if self.flags & PROGRESSIVE and not progressive:
            # 2.x keeps the progression script in the handle: the next baseline
            # JPEG from it would be corrupt. A fresh handle has none.
            self.renew()
        self.flags = (FASTDCT if fast_dct else ACCURATEDCT) | (PROGRESSIVE if progressive else 0)

    def _reserve(self, width: int, height: int) -> C.c_ulong:
        # 2.x cannot be trusted to track a reused buffer's size, so we keep a
        # worst-case buffer ourselves and forbid reallocation.
        need = self.api.buf_size(width, height, self.subsamp)
        if need > self.capacity:
            if self.jpeg_buf:
                self.api.free(self.jpeg_buf)
            self.jpeg_buf = C.c_void_p(self.api.alloc(need))
            if not self.jpeg_buf:
                raise MemoryError(f"tjAlloc({need}) failed")
            self.capacity = need
        return C.c_ulong(self.capacity)

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
        """An 8-bit JPEG (the codec never asks 2.x for other ``bits``), with ``icc``."""
        size = self._reserve(width, height)
        if self.api.compress2(
            self.handle,
            src,
            width,
            pitch,
            height,
            pixel_format,
            C.byref(self.jpeg_buf),
            C.byref(size),
            self.subsamp,
            self.quality,
            self.flags | NOREALLOC,
        ):
            raise self.fail()
        jpeg = C.string_at(self.jpeg_buf.value, size.value)
        return jpeg if icc is None else _markers.with_icc(jpeg, icc)

    def compress_from_planes(self, planes, width: int, strides, height: int) -> bytes:
        size = self._reserve(width, height)
        if self.api.compress_from_planes(
            self.handle,
            planes,
            width,
            strides,
            height,
            self.subsamp,
            C.byref(self.jpeg_buf),
            C.byref(size),
            self.quality,
            self.flags | NOREALLOC,
        ):
            raise self.fail()
        return C.string_at(self.jpeg_buf.value, size.value)

    def close(self) -> None:
        if self.jpeg_buf:
            self.api.free(self.jpeg_buf)
            self.jpeg_buf = C.c_void_p()
        super().close()
