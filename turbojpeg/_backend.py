"""The contract both API generations implement: ``_tj3`` (TurboJPEG 3) and ``_tj2`` (2).

One Protocol per handle type, listing exactly what ``codec`` and the modules
it hands handles to (``_general``, ``_batch``, ``_transform``) use;
``tests/turbojpeg/test_backend.py`` checks that both backends' classes match
them, name for name and signature for signature, and that nothing else is used.

Conventions shared by every method:
- ``buf, size`` are the JPEG's address (or bytes) and length, as
  ``_validate.input_buffer`` gives them; ``dst`` and ``src`` are pixel addresses;
  a ``pitch`` of 0 means rows without padding.
- Pixel formats, subsamplings and colorspaces are libjpeg-turbo's TJPF_*,
  TJSAMP_* and TJCS_* values (``formats.PixelFormat`` and friends).
- A library error raises ``TurbojpegError`` and replaces the handle by a new
  one with the same settings (a failed call can leave it half-way through a
  header). A warning (``TJERR_WARNING``: libjpeg-turbo got past damaged data,
  and the output is whole) is raised the same way, except by ``read_header``
  and ``Transformer.run``, which return it beside their result.
"""

from __future__ import annotations

from typing import Protocol

from . import _markers
from .errors import TurbojpegError
from .formats import JpegInfo


class Api(Protocol):
    """One loaded library's functions, declared once (``Tj3Api(cdll)``, ``Tj2Api(cdll)``)."""

    generation: int  # 3 or 2

    def scaling_factors(self) -> list[tuple[int, int]]:
        """The DCT scaling factors (num, denom) the library offers."""
        ...

    def plane_shape(self, component: int, width: int, height: int, subsamp: int) -> tuple[int, int]:
        """(rows, columns) of YUV plane ``component`` for an image of this size."""
        ...

    def decompressor(self) -> Decompressor: ...

    def compressor(self) -> Compressor: ...

    def transformer(self) -> Transformer: ...


class HeaderReader(Protocol):
    """What decompressors and transformers share: reading a JPEG's header."""

    def set_limits(self, stop_on_warning: bool, scan_limit: int) -> None:
        """Warnings become errors (strict); refuse more scans than that (0: no limit)."""
        ...

    def read_header(
        self, buf, size: int, data: bytes | None = None
    ) -> tuple[int, int, TurbojpegError | None]:
        """(width, height, warning) of the JPEG's header, which the handle then holds,
        on a new handle: libjpeg would keep an earlier image's tables.

        ``data`` (the JPEG's bytes) comes only from a whole-image decode, whose
        ``decompress`` follows: a backend may then keep the handle when that is
        exact (``_tj3.Tj3Decompressor``); one that never keeps ignores it.
        ``warning`` is libjpeg-turbo's TJERR_WARNING when it got past a problem
        in the header, else None.
        """
        ...

    def info(
        self,
        width: int,
        height: int,
        orientation: int | None = None,
        icc_profile: bytes | None = None,
        frame: _markers.Frame | None = None,
    ) -> JpegInfo:
        """The header just read (``frame``: the SOF fields 2.x does not report)."""
        ...

    def close(self) -> None:
        """Free the handle (and any buffer it owns); idempotent."""
        ...


class Decompressor(HeaderReader, Protocol):
    """JPEG to pixels. Scale and crop apply to the next decompress only, until reset."""

    mode: tuple[bool, bool] | None  # (fast_dct, fast_upsample), as last set
    supports_crop: bool  # False: set_crop refuses, and the codec cuts a whole decode

    def set_mode(self, mode: tuple[bool, bool]) -> None: ...

    def subsampling(self) -> int:
        """TJSAMP_* of the header just read (-1: unusual)."""
        ...

    def sample_format(self) -> tuple[int, bool]:
        """(precision in bits, lossless) of the header just read."""
        ...

    def header_fields(self, buf, size: int) -> tuple[int, int, bool]:
        """(colorspace, -1 if unknown; precision; lossless), read anew: for the rare
        call that needs them after a failed decode."""
        ...

    def decompress(self, buf, size: int, dst: int, pitch: int, pixel_format: int) -> None:
        """8-bit samples into ``dst``."""
        ...

    def decompress_samples(
        self, bits: int, buf, size: int, dst: int, pitch: int, pixel_format: int
    ) -> None:
        """Samples of the ``bits`` (8, 12 or 16) function into ``dst``."""
        ...

    def set_scale(self, num: int, denom: int) -> None: ...

    def set_crop(self, x: int, y: int, w: int, h: int) -> None:
        """A region of the scaled image; ``x`` on an iMCU column."""
        ...

    def reset_scale_and_crop(self) -> None: ...

    def decompress_to_planes(self, buf, size: int, planes, strides) -> None:
        """YUV planes: ``planes`` and ``strides`` are C arrays of 3."""
        ...


class Compressor(Protocol):
    """Pixels to JPEG. The codec sends settings only when they change."""

    settings: object  # set by the codec: the _settings.EncodeSettings it last configured, or None
    supports_optimize: bool  # Huffman optimisation of a baseline JPEG
    supports_lossless: bool  # lossless JPEG, and any precision but 8

    def configure(
        self,
        quality: int,
        subsamp: int,
        fast_dct: bool,
        progressive: bool,
        optimize: bool,
        lossless: tuple[int, int, int] | None = None,
    ) -> None:
        """Lossy settings, or ``lossless = (precision, predictor, point transform)``."""
        ...

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
        """A JPEG of ``bits``-bit samples (``pitch`` counts samples), ``icc`` embedded."""
        ...

    def compress_from_planes(self, planes, width: int, strides, height: int) -> bytes: ...

    def close(self) -> None: ...


class Transformer(HeaderReader, Protocol):
    """Lossless transforms: JPEG in, JPEG out."""

    api: Api

    def run(
        self, buf, size: int, records, copy_markers: str
    ) -> tuple[list[bytes], TurbojpegError | None]:
        """The JPEGs of ``records`` (a tjtransform array) from one library call,
        and libjpeg-turbo's warning if it gave one; ``copy_markers`` is "all",
        "comments" or "icc" (per transform "none" is TJXOPT_COPYNONE)."""
        ...
