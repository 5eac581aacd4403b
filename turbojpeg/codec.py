"""``Turbojpeg``: decode and encode JPEG with numpy arrays.

Each thread gets its own TurboJPEG handles (``_backend``'s Protocols), made on
first use. A compressor is reused, with settings (``_settings.EncodeSettings``)
sent only when they change; a decompressor is kept from one whole-image decode
to the next only when the JPEG repeats a header that carries every table it
uses (see ``_tj3.Tj3Decompressor``), and a crop or scale is reset right after
the call that used it. Arguments are checked in ``_validate``; sizes, scaling
factors and crops are worked out in ``_geometry``.

Here is the plain decode, one library call for nearly every JPEG; any other
decode, and the rest of one the library refused, is ``_general``'s.
``decode_many``'s pool of threads is ``_batch``'s.
"""

from __future__ import annotations

import ctypes as C
import os
import threading
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Self

import numpy as np

from . import _batch, _exif, _general, _loader, _markers, _transform, _warn
from ._backend import Api, Compressor, Decompressor, HeaderReader, Transformer
from ._geometry import pick_scale, scaled
from ._settings import LOSSY, EncodeSettings, check_samples, lossy
from ._tj2 import Tj2Api
from ._tj3 import Tj3Api
from ._validate import (
    CHANNELS,
    UINT8,
    UINT16,
    array_address,
    check_image,
    check_out,
    check_planes,
    describe,
    input_buffer,
    parse_pixel_format,
)
from .errors import TJERR_WARNING, ImageTooLargeError, TurbojpegError, UnsupportedFeatureError
from .formats import JpegInfo, PixelFormat, Subsampling

DEFAULT_MAX_PIXELS = 1 << 28  # ~268 MP: 805 MB as BGR, far above any camera.
DEFAULT_SCAN_LIMIT = 500  # progressive JPEGs have ~10 scans; thousands is an attack.

_apis: dict[str, Api] = {}
_apis_lock = threading.Lock()


def _api_for(library: _loader.LoadedLibrary) -> Api:
    with _apis_lock:
        api = _apis.get(library.path)
        if api is None:
            api = _apis[library.path] = (Tj3Api if library.api == 3 else Tj2Api)(library.cdll)
        return api


class Turbojpeg:
    """A JPEG codec on libjpeg-turbo's TurboJPEG API (generation 3, or 2 as a fallback).

    ``fast_dct`` and ``fast_upsample`` set the default decoding mode (each
    ``decode`` call may override them). ``max_pixels`` refuses JPEGs that
    declare more pixels (``None`` disables the guard). ``strict=True`` turns
    libjpeg-turbo's recoverable warnings (truncated or slightly corrupt data)
    into errors; otherwise they are ``TurbojpegWarning`` and the image is
    returned. ``scan_limit`` refuses progressive JPEGs with more scans than
    that (0 disables; the TurboJPEG 2 API only knows a fixed limit of 500).
    """

    def __init__(
        self,
        lib_path: str | os.PathLike[str] | None = None,
        *,
        fast_dct: bool = False,
        fast_upsample: bool = False,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
        strict: bool = False,
        scan_limit: int = DEFAULT_SCAN_LIMIT,
    ) -> None:
        self.library = _loader.load_library(lib_path)
        self._api = _api_for(self.library)
        self._mode = (bool(fast_dct), bool(fast_upsample))
        if max_pixels is not None and (not isinstance(max_pixels, int) or max_pixels <= 0):
            raise ValueError(f"max_pixels must be a positive int or None, not {max_pixels!r}")
        self.max_pixels = max_pixels
        self.strict = bool(strict)
        self.scan_limit = int(scan_limit)
        self._local = threading.local()
        self._pool = _batch.Pool()
        self._scaling_factors = sorted({Fraction(n, d) for n, d in self._api.scaling_factors()})

    # -- introspection -------------------------------------------------------------

    @property
    def fast_dct(self) -> bool:
        """The default DCT mode of ``decode`` (set in the constructor)."""
        return self._mode[0]

    @property
    def fast_upsample(self) -> bool:
        """The default chroma upsampling mode of ``decode`` (set in the constructor)."""
        return self._mode[1]

    @property
    def lib_path(self) -> str:
        return self.library.path

    @property
    def api_generation(self) -> int:
        return self.library.api

    @property
    def scaling_factors(self) -> list[Fraction]:
        """The DCT scaling factors this library offers, smallest first."""
        return list(self._scaling_factors)

    def __repr__(self) -> str:
        return (
            f"Turbojpeg(lib_path={self.lib_path!r}, api={self.api_generation}, "
            f"fast_dct={self.fast_dct}, fast_upsample={self.fast_upsample})"
        )

    # -- handles -------------------------------------------------------------------

    def _decompressor(self) -> Decompressor:
        try:
            return self._local.decompressor
        except AttributeError:
            d = self._api.decompressor()
            d.set_limits(self.strict, self.scan_limit)
            self._local.decompressor = d
            return d

    def _compressor(self) -> Compressor:
        try:
            return self._local.compressor
        except AttributeError:
            c = self._local.compressor = self._api.compressor()
            return c

    def _recover(self, exc: TurbojpegError) -> None:
        """A warning lets the call's result stand unless we are strict."""
        if exc.code != TJERR_WARNING or self.strict:
            raise exc
        _warn.warn(str(exc))

    def _read_header(
        self, d: HeaderReader, buf, size: int, data, whole: bool = False
    ) -> tuple[int, int]:
        """(width, height), read on a new handle, or for a whole-image decode
        (``whole``) perhaps on the kept one (see ``read_header``)."""
        if not size:
            raise TurbojpegError("empty data: a JPEG needs at least a few hundred bytes", None)
        try:
            width, height, warning = d.read_header(
                buf, size, data if whole and type(data) is bytes else None
            )
        except TurbojpegError as exc:
            if exc.code != TJERR_WARNING and self._api.generation == 2:
                _general.refuse_on_tj2(exc, data)
            raise
        if warning is not None:  # the whole header was read all the same
            self._recover(warning)
        if width <= 0 or height <= 0:
            raise TurbojpegError(
                "no image frame in the data (cut off before the frame header, or a tables-only JPEG)",
                None,
            )
        if self.max_pixels is not None and width * height > self.max_pixels:
            raise ImageTooLargeError(
                f"the JPEG declares {width}x{height} = {width * height} pixels, more than "
                f"max_pixels={self.max_pixels}; pass Turbojpeg(max_pixels=None) if you trust it",
                None,
            )
        return width, height

    # -- decoding ------------------------------------------------------------------

    def decode_header(self, data) -> JpegInfo:
        """Width, height, subsampling, colorspace, precision, EXIF orientation,
        ICC profile, ... without decoding pixels."""
        buf, size, _keep = input_buffer(data)
        d = self._decompressor()
        width, height = self._read_header(d, buf, size, data)
        # One walk over the header's segments for the ICC profile, the EXIF
        # orientation and, for the TurboJPEG 2 API, the frame header.
        icc_profile, frame, orientation = _markers.scan(data, self._api.generation == 2)
        return d.info(width, height, orientation, icc_profile, frame)

    def decode(
        self,
        data,
        pixel_format: PixelFormat | str = "BGR",
        *,
        fast_dct: bool | None = None,
        fast_upsample: bool | None = None,
        scale=None,
        min_size: int | tuple[int, int] | None = None,
        crop: tuple[int, int, int, int] | None = None,
        out: np.ndarray | None = None,
        apply_exif_orientation: bool = False,
    ) -> np.ndarray:
        """Decode a JPEG into a ``(height, width, channels)`` array.

        The samples are uint8 for JPEGs of up to 8 bits per sample (almost
        all), and uint16 for 12-bit JPEGs and lossless ones of 9 to 16 bits
        (``decode_header(data).dtype`` says which in advance).

        ``scale`` is one of ``scaling_factors`` (e.g. ``(1, 2)`` or ``0.25``);
        ``min_size=(w, h)`` (or an int for both) picks the smallest factor not
        above 1 whose output is at least that large; ``crop=(x, y, w, h)`` is in
        output (scaled) pixels and returns exactly that region. ``out`` receives
        the pixels in place: a C-contiguous array of the output shape and dtype.

        12-bit JPEGs take every option. Lossless JPEGs have no DCT to scale:
        ``scale`` other than 1 raises ``UnsupportedFeatureError``,
        ``min_size`` gives the full size, ``fast_dct`` and ``fast_upsample``
        change nothing, and a crop is exact (decoded whole, then cut).

        ``apply_exif_orientation=True`` returns the upright image, as the EXIF
        Orientation tag asks (the same pixels as Pillow's
        ``ImageOps.exif_transpose``). Then ``min_size``, ``crop`` and ``out``
        are all in the upright image: ``crop`` is mapped onto the stored image
        before decoding, so it stays exact and decodes only that region. A
        missing or malformed tag leaves the image as stored (see
        ``JpegInfo.orientation``).

        CMYK and YCCK JPEGs decode to every pixel format: libjpeg-turbo gives
        CMYK, which is converted as Pillow does (Adobe's inverted CMYK, no
        colour management); ``"CMYK"`` returns the stored channels unchanged.
        """
        buf, size, _keep = input_buffer(data)
        pf = parse_pixel_format(pixel_format)
        d = self._decompressor()
        if fast_dct is None and fast_upsample is None:
            mode = self._mode
        else:
            mode = (
                self.fast_dct if fast_dct is None else bool(fast_dct),
                self.fast_upsample if fast_upsample is None else bool(fast_upsample),
            )
        if d.mode != mode:
            d.set_mode(mode)
        plain = scale is None and min_size is None and crop is None and not apply_exif_orientation
        # A uint16 ``out`` takes the general path, which reads more header fields;
        # any other whole-image decode may keep the handle (see read_header).
        wide_out = type(out) is np.ndarray and out.dtype == UINT16
        width, height = self._read_header(d, buf, size, data, plain and not wide_out)
        if plain:
            shape = (height, width, CHANNELS[pf])
            if out is None:
                target = np.empty(shape, dtype=np.uint8)
                dst = C.addressof(C.c_char.from_buffer(target))
            elif wide_out:
                return _general.decode(
                    self, d, buf, size, pf, width, height, None, None, None, out, None
                )
            else:
                target = out
                dst = check_out(out, shape)
            try:
                # 8-bit samples, as nearly every JPEG has: asking first would
                # cost every decode a call. Others are refused, then retried.
                d.decompress(buf, size, dst, 0, pf)
            except TurbojpegError as exc:
                return _general.after_refusal(
                    self, exc, d, buf, size, pf, width, height, out, target
                )
            return target
        orientation = _exif.orientation(data) if apply_exif_orientation else None
        return _general.decode(
            self, d, buf, size, pf, width, height, scale, min_size, crop, out, orientation
        )

    def decode_yuv(self, data, *, scale=None) -> list[np.ndarray]:
        """Decode to planes without colour conversion: ``[Y, Cb, Cr]``, or ``[Y]`` for gray.

        The planes follow TurboJPEG's YUV layout: each is padded to whole chroma
        blocks (a 61-pixel-wide 4:2:2 image has a 62-wide Y plane); the image is
        the top-left ``height x width`` of the Y plane. Only 8-bit lossy JPEGs
        have YUV planes to give (libjpeg-turbo's rule); others raise
        ``UnsupportedFeatureError``.
        """
        buf, size, _keep = input_buffer(data)
        d = self._decompressor()
        if d.mode != self._mode:
            d.set_mode(self._mode)
        width, height = self._read_header(d, buf, size, data)
        precision, lossless = d.sample_format()
        if precision != 8 or lossless:
            raise UnsupportedFeatureError(
                f"decode_yuv: {describe(precision, lossless)} has no YUV planes to decode "
                "(libjpeg-turbo gives them for 8-bit lossy JPEGs only); use decode",
                None,
            )
        subsamp = d.subsampling()
        if subsamp < 0:
            raise TurbojpegError(
                "this JPEG's chroma subsampling cannot be decoded to YUV planes", None
            )
        factors = self._scaling_factors
        factor = Fraction(1) if scale is None else pick_scale(factors, width, height, scale, None)
        w, h = scaled(width, factor), scaled(height, factor)
        count = 1 if subsamp == Subsampling.GRAY else 3
        planes = [
            np.empty(self._api.plane_shape(i, w, h, subsamp), dtype=np.uint8) for i in range(count)
        ]
        pointers = (C.c_void_p * 3)(*[p.ctypes.data for p in planes])
        strides = (C.c_int * 3)(*[p.shape[1] for p in planes])
        try:
            if factor != 1:
                d.set_scale(factor.numerator, factor.denominator)
            d.decompress_to_planes(buf, size, pointers, strides)
        except TurbojpegError as exc:
            self._recover(exc)
        finally:
            d.reset_scale_and_crop()
        return planes

    def decode_many(
        self,
        buffers: Iterable,
        *,
        threads: int | None = None,
        out: np.ndarray | None = None,
        **decode_options,
    ) -> np.ndarray | list[np.ndarray]:
        """Decode a batch on a pool of threads (ctypes releases the GIL in each call).

        When every output has the same shape and dtype the result is one
        ``(N, height, width, channels)`` array written in place (or ``out``,
        if given); otherwise a list of arrays: JPEGs of different sizes, or
        of up to 8 bits (uint8) mixed with 12- or 16-bit ones (uint16).
        Errors name the failing index.
        ``decode_options`` are ``decode``'s keywords, the same for every image;
        with ``apply_exif_orientation=True`` each shape is the upright one.
        """
        return _batch.decode_many(self, self._pool, buffers, threads, out, decode_options)

    # -- lossless transforms ---------------------------------------------------------

    def _transformer(self) -> Transformer:
        try:
            return self._local.transformer
        except AttributeError:
            t = self._api.transformer()
            t.set_limits(self.strict, self.scan_limit)
            self._local.transformer = t
            return t

    def transform(
        self,
        data,
        *,
        crop: tuple[int, int, int, int] | None = None,
        rotate: int = 0,
        hflip: bool = False,
        vflip: bool = False,
        transpose: bool = False,
        transverse: bool = False,
        grayscale: bool = False,
        progressive: bool = False,
        optimize: bool = False,
        arithmetic: bool = False,
        copy_markers: str = "all",
        perfect: bool = False,
        trim: bool = False,
        apply_exif_orientation: bool = False,
    ) -> bytes:
        """Rotate, flip or crop a JPEG losslessly: JPEG bytes in, JPEG bytes out.

        The DCT coefficients are moved, not decoded and re-encoded, so nothing
        is lost; the bytes are those of ``jpegtran`` with the same options.

        ``rotate`` (degrees clockwise), ``hflip``, ``vflip``, ``transpose`` and
        ``transverse`` combine in that order, mirrors first, then the turn
        (``hflip=True, rotate=90`` is a transverse); any combination is one
        of libjpeg-turbo's eight operations, done in one pass.
        ``apply_exif_orientation=True`` first turns the image upright as its
        EXIF Orientation tag says, and sets that tag to 1 in the output.

        ``crop=(x, y, w, h)`` is in the transformed image, as jpegtran's
        ``-crop``: coefficients move in whole iMCUs (8x8 pixels for gray and
        4:4:4, 16x8 for 4:2:2, 16x16 for 4:2:0; transposing operations turn
        4:2:2 into 4:4:0), so ``x`` and ``y`` must be multiples of the output's
        iMCU size (a ValueError names it and the nearest aligned origins);
        ``w`` and ``h`` are free.

        Partial iMCUs: when the width or height is not a multiple of the iMCU,
        the right or bottom edge holds a partial iMCU, which cannot move to the
        left or top. An operation that needs that (hflip and rotate=270 on the
        right edge, vflip and rotate=90 on the bottom one, rotate=180 and
        transverse on both; transpose never) is imperfect. By default
        libjpeg-turbo leaves those pixels where they were, a strip of
        untransformed pixels along the output's right or bottom edge.
        ``trim=True`` drops them instead: the result is exact but up to one
        iMCU smaller (an image smaller than one iMCU is left as it is).
        ``perfect=True`` raises ValueError rather than do an imperfect
        operation; like ``jpegtran -perfect`` it looks at the whole image, even
        with a crop. ``apply_exif_orientation=True`` implies ``trim=True``
        unless ``perfect=True``, and raises when trimming cannot help.

        ``grayscale`` keeps only the luma of a YCbCr JPEG; ``progressive``,
        ``optimize`` (Huffman tables) and ``arithmetic`` choose the output's
        entropy coding. ``copy_markers`` chooses the APPn and COM segments
        (EXIF, ICC, XMP, comments, ...) copied from the source: ``"all"``,
        ``"comments"``, ``"icc"`` (APP2 only) or ``"none"``. With the
        TurboJPEG 2 API, ``arithmetic``, ``optimize`` without ``progressive``
        and ``copy_markers`` ``"icc"``/``"comments"`` raise
        UnsupportedFeatureError.
        """
        buf, size, _keep = input_buffer(data)
        t = self._transformer()
        dims = self._read_header(t, buf, size, data)
        options = _transform.Options(
            crop=crop,
            rotate=rotate,
            hflip=hflip,
            vflip=vflip,
            transpose=transpose,
            transverse=transverse,
            grayscale=grayscale,
            progressive=progressive,
            optimize=optimize,
            arithmetic=arithmetic,
            copy_markers=copy_markers,
            perfect=perfect,
            trim=trim,
            apply_exif_orientation=apply_exif_orientation,
        )
        return _transform.run(self, t, data, buf, size, dims, [options])[0]

    def transform_many(self, data, options: Iterable) -> list[bytes]:
        """Several transforms of one JPEG (crops, turns, ...) in one library call.

        Each item of ``options`` is a dict of ``transform``'s keywords. The
        source is read and entropy-decoded once for all of them. Items may
        copy markers differently only as far as ``"none"`` against one other
        ``copy_markers`` value (libjpeg-turbo sets that per call).
        """
        items = [_transform.Options.from_mapping(o, i) for i, o in enumerate(options)]
        buf, size, _keep = input_buffer(data)
        t = self._transformer()
        dims = self._read_header(t, buf, size, data)
        if not items:
            return []
        return _transform.run(self, t, data, buf, size, dims, items)

    # -- encoding ------------------------------------------------------------------

    def encode(
        self,
        image: np.ndarray,
        quality: int | None = None,
        *,
        subsampling: Subsampling | str | None = None,
        pixel_format: PixelFormat | str = "BGR",
        fast_dct: bool = False,
        progressive: bool = False,
        optimize: bool = False,
        precision: int | None = None,
        lossless: bool = False,
        predictor: int | None = None,
        point_transform: int | None = None,
        icc_profile=None,
    ) -> bytes:
        """Encode a ``(height, width[, channels])`` uint8 or uint16 array to JPEG bytes.

        A one-channel image is always encoded as grayscale. Rows may be padded
        (any positive row stride) but each row's pixels must be contiguous.
        ``quality`` defaults to 95 and ``subsampling`` to ``"420"``.
        ``fast_dct`` applies below quality 96 only: above that libjpeg-turbo's
        fast DCT is both slower and less accurate (its TurboJPEG 2 API makes the
        same switch), so both library generations give the same bytes.

        ``precision`` is the bits per sample. Lossy JPEG has 8 (uint8 images,
        the default) or 12 (uint16 images, the default for them). With
        ``lossless=True`` it is 2 to 8 for uint8 images and 9 to 16 for uint16
        (default 8 and 16), ``predictor`` is 1 to 7 (default 1) and
        ``point_transform`` 0 to ``precision - 1`` (default 0; each step drops
        one low bit). Lossless JPEG has no quantization and libjpeg-turbo
        stores every component at full resolution (as 4:4:4, in RGB), so
        ``quality``, ``subsampling``, ``fast_dct``, ``progressive`` and
        ``optimize`` do not apply to it and raise ``ValueError``. Sample values
        must fit the precision (``ValueError`` names the largest found).

        ``icc_profile`` (bytes) is embedded as the JPEG's ICC profile.
        """
        pf = parse_pixel_format(pixel_format)
        height, width, channels, pitch = check_image(image)
        if channels == 1:
            pf = PixelFormat.GRAY
        elif CHANNELS[pf] != channels:
            raise ValueError(
                f"image has {channels} channels but pixel_format {pf.name} has {CHANNELS[pf]}"
            )
        c = self._compressor()
        if (
            lossless
            or precision is not None
            or predictor is not None
            or point_transform is not None
            or image.dtype is not UINT8
        ):
            settings = EncodeSettings.build(
                quality,
                subsampling,
                fast_dct,
                progressive,
                optimize,
                gray=pf is PixelFormat.GRAY,
                precision=precision,
                lossless=lossless,
                predictor=predictor,
                point_transform=point_transform,
                wide=image.dtype == UINT16,
            )
            check_samples(image, pf, settings.precision)
            bits = settings.bits
        else:
            bits = 8
            try:
                if quality is not None and type(quality) is not int:
                    raise KeyError(quality)  # not a key of LOSSY: checked by lossy()
                settings = LOSSY[pf, quality, subsampling, fast_dct, progressive, optimize]
            except (KeyError, TypeError):  # arguments not seen yet, or not hashable
                settings = lossy(pf, quality, subsampling, fast_dct, progressive, optimize)
        icc = None if icc_profile is None else _markers.check_icc(icc_profile)
        if c.settings is not settings:
            settings.apply(c)
        return c.compress(array_address(image), width, pitch, height, pf, bits, icc)

    def encode_yuv(
        self,
        planes: Sequence[np.ndarray],
        quality: int = 95,
        *,
        subsampling: Subsampling | str | None = None,
        size: tuple[int, int] | None = None,
        fast_dct: bool = False,
        progressive: bool = False,
        optimize: bool = False,
    ) -> bytes:
        """Encode ``[Y, Cb, Cr]`` (or ``[Y]``) planes, as ``decode_yuv`` returns them.

        The subsampling is read from the plane shapes unless given. ``size`` is
        the image's ``(width, height)`` when the planes are padded beyond it
        (default: the Y plane's size).
        """
        planes = check_planes(planes)
        height, width = planes[0].shape
        if size is not None:
            width, height = (int(v) for v in size)
        subsamp = self._plane_subsampling(planes, width, height, subsampling)
        settings = EncodeSettings.build(quality, subsamp, fast_dct, progressive, optimize)
        c = self._compressor()
        settings.apply(c)
        pointers = (C.c_void_p * 3)(*[p.ctypes.data for p in planes])
        strides = (C.c_int * 3)(*[p.strides[0] for p in planes])
        return c.compress_from_planes(pointers, width, strides, height)

    def _plane_subsampling(self, planes, width, height, subsampling) -> Subsampling:
        if len(planes) == 1:
            candidates = [Subsampling.GRAY]
        elif subsampling is not None:
            candidates = [Subsampling.parse(subsampling)]
        else:
            candidates = [s for s in Subsampling if s is not Subsampling.GRAY]
        for s in candidates:
            try:
                expected = [self._api.plane_shape(i, width, height, s) for i in range(len(planes))]
            except TurbojpegError:  # a subsampling this library generation does not know
                continue
            if [p.shape for p in planes] == expected:
                return s
        raise ValueError(
            f"plane shapes {[p.shape for p in planes]} match no subsampling"
            + ("" if subsampling is None else f" (asked for {subsampling!r})")
        )

    # -- lifetime ------------------------------------------------------------------

    def close(self) -> None:
        """Stop the decode_many pool and free this thread's handles."""
        self._pool.shutdown()
        for name in ("decompressor", "compressor", "transformer"):
            handle = self._local.__dict__.pop(name, None)
            if handle is not None:
                handle.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
