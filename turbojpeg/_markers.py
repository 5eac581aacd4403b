"""ICC profiles and the frame header, read and written in Python.

``scan(data)`` walks a JPEG's markers from SOI up to the first SOS
(``_segments.walk``, as ``_exif.exif_segment`` does), collecting the APP2
``ICC_PROFILE`` chunks, the first SOFn and the first EXIF segment, whose
orientation ``_exif`` reads: ``decode_header`` walks the header once for all
three.

The ICC rules are libjpeg's ``jpeg_read_icc_profile`` (jdicc.c): an APP2
segment is a chunk when it holds at least the 14-byte header (``ICC_PROFILE\\0``,
sequence number, chunk count); every chunk must give the same count, each
sequence number 1..count must appear exactly once, and the data must not be
empty. Anything else means no profile (``None``). The tests check these rules
against libjpeg-turbo 3.1's own ``tj3GetICCProfile`` on fuzzed inputs.

We read ICC ourselves on both API generations because it is cheaper: libjpeg
copies a saved marker one byte at a time, twice (about 1 ms for a 560 KB
profile, 5 µs for a 3 KB one), while slicing it here costs a memcpy. The
decompressors therefore tell libjpeg-turbo 3 not to save APP2 at all.

``self_contained_header(data)`` tells whether a decompressor may be kept for
the next JPEG that begins with the same header (see its docstring).

``with_icc(jpeg, profile)`` inserts a profile into a JPEG exactly where
libjpeg's ``jpeg_write_icc_profile`` puts it (after SOI and the JFIF or Adobe
segment that libjpeg writes first), for libraries without
``tj3SetICCProfile``.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from . import _exif
from ._segments import APP0, APP1, APP2, APP14, COM, DHT, DQT, DRI, SOF, SOF0, SOF1, SOS, walk

ICC_ID = b"ICC_PROFILE\x00"
ICC_HEADER = len(ICC_ID) + 2  # the identifier, sequence number, chunk count
# libjpeg's largest marker payload (65533 bytes) less the chunk header.
ICC_CHUNK = 65533 - ICC_HEADER
MAX_ICC_SIZE = 255 * ICC_CHUNK  # the chunk count is one byte


class Frame(NamedTuple):
    """What the first SOFn segment says: its marker (0xC0..0xCF) and precision."""

    marker: int
    precision: int

    @property
    def progressive(self) -> bool:
        return self.marker in (0xC2, 0xC6, 0xCA, 0xCE)

    @property
    def lossless(self) -> bool:
        return self.marker in (0xC3, 0xC7, 0xCB, 0xCF)

    @property
    def arithmetic(self) -> bool:
        return self.marker >= 0xC9


def scan(data, frame: bool = True) -> tuple[bytes | None, Frame | None, int | None]:
    """(ICC profile, first frame header, EXIF orientation) of a JPEG, each
    ``None`` when absent or malformed; the frame only if asked for.

    ``data`` is any bytes-like object; anything else gives ``(None, None,
    None)``. The walk ends at SOS, EOI, anything that is not a marker where
    one should be, and the end of the data (see ``_segments.walk``). It meets
    the EXIF segment exactly as ``_exif.exif_segment`` does.
    """
    if type(data) is not bytes:
        try:
            data = memoryview(data).cast("B")
        except (TypeError, ValueError):
            return None, None, None
    chunks = exif = None  # chunks: (sequence number, chunk count, start, end of data)
    sof = -1
    exif_seen = False
    for code, pos, length in walk(data):
        if code in SOF:
            if sof < 0 and length > 2 and pos + 4 < len(data):
                sof = pos
        elif code == APP2:
            end = pos + 2 + length
            if length >= 2 + ICC_HEADER and end <= len(data) and data[pos + 4 : pos + 16] == ICC_ID:
                if chunks is None:
                    chunks = []
                chunks.append((data[pos + 16], data[pos + 17], pos + 4 + ICC_HEADER, end))
        elif code == APP1 and not exif_seen and data[pos + 4 : pos + 10] == _exif.EXIF_ID:
            # Only the first counts; cut off, it gives no orientation.
            exif_seen = True
            end = pos + 2 + length
            exif = (pos + 10, end) if end <= len(data) else None
    return (
        None if chunks is None else _assemble(data, chunks),
        None if sof < 0 or not frame else Frame(data[sof + 1], data[sof + 4]),
        None if exif is None else _exif.tiff_orientation(data, *exif),
    )


# Segments a self-contained header may hold besides tables, SOF0/1 and SOS:
# APPn, COM and DRI (which SOI resets). Anything else (other SOFn, DAC, DNL,
# JPG, reserved markers, fill bytes, RSTn) makes the walk give up.
_INERT = frozenset((*range(APP0, APP0 + 16), COM, DRI))


def self_contained_header(data: bytes) -> int:
    """The length of the JPEG's header, SOI through its first SOS segment, when
    the image's pixels depend on nothing a decompressor held before; else 0.

    libjpeg keeps quantization and Huffman tables from one image to the next.
    A kept decompressor therefore decodes a JPEG exactly as a new one would
    when the JPEG defines, before its scan, every table its scan uses, and
    has only that one scan. So this asks for a sequential Huffman frame (SOF0
    or SOF1) whose single SOS covers every component; every quantization
    slot the frame names and every Huffman slot the scan names must be
    defined by a DQT or DHT segment before the SOS. Tables defined after the
    scan are never used by it. Any other shape (progressive, arithmetic,
    lossless, several scans, a missing table as in camera MJPEG frames,
    malformed or unusual segments) gives 0.

    A later JPEG that begins with these same bytes is then decoded by the
    same tables. The walk (``_segments.walk``) is held to more here: every
    segment must fit in the data with a length of at least 2, and table
    payloads must fill their segment exactly.
    """
    n = len(data)
    quant: set[int] = set()
    huffman: set[int] = set()  # class << 4 | slot: 0x0_ DC, 0x1_ AC
    frame_quant: set[int] | None = None
    components = 0
    for code, pos, length in walk(data):
        end = pos + 2 + length
        if length < 2 or end > n:  # also a marker without a length, or a fill byte
            return 0
        body = pos + 4
        if code == DQT:
            while body < end:
                precision, slot = divmod(data[body], 16)
                if precision > 1 or slot > 3:
                    return 0
                quant.add(slot)
                body += 1 + 64 * (precision + 1)
            if body != end:
                return 0
        elif code == DHT:
            while body < end:
                if body + 17 > end:
                    return 0
                table_class, slot = divmod(data[body], 16)
                if table_class > 1 or slot > 3:
                    return 0
                huffman.add(data[body])
                body += 17 + sum(data[body + 1 : body + 17])
            if body != end:
                return 0
        elif code in (SOF0, SOF1):
            if frame_quant is not None or length < 8:
                return 0
            components = data[pos + 9]
            if components == 0 or length != 8 + 3 * components:
                return 0
            frame_quant = {data[pos + 12 + 3 * k] for k in range(components)}
        elif code == SOS:
            if frame_quant is None or length < 6:
                return 0
            count = data[body]
            if count != components or length != 6 + 2 * count:
                return 0
            # Sequential: spectral selection 0..63, no successive approximation.
            if data[end - 3 : end] != b"\x00\x3f\x00":
                return 0
            for k in range(count):
                tables = data[body + 2 + 2 * k]
                if tables >> 4 not in huffman or (0x10 | tables & 0x0F) not in huffman:
                    return 0
            return end if frame_quant <= quant else 0
        elif code not in _INERT:
            return 0
    return 0


def icc_profile(data) -> bytes | None:
    """The ICC profile a JPEG carries, or ``None`` (absent or malformed)."""
    return scan(data, False)[0]


def frame(data) -> Frame | None:
    """The JPEG's first frame header (SOFn), or ``None`` if the walk meets none."""
    return scan(data)[1]


def _assemble(data, chunks) -> bytes | None:
    """The profile from its chunks, by jdicc.c's rules (see the module's docstring)."""
    count = 0
    where: dict[int, tuple[int, int]] = {}
    for seq, chunk_count, start, end in chunks:
        if count == 0:
            count = chunk_count
        elif chunk_count != count:
            return None
        if seq <= 0 or seq > count or seq in where:
            return None
        where[seq] = (start, end)
    if count == 0 or len(where) != count:
        return None
    profile = b"".join(data[start:end] for start, end in (where[s] for s in range(1, count + 1)))
    return profile or None


def check_icc(profile) -> bytes:
    """``profile`` as bytes, or a TypeError or ValueError naming the problem."""
    if isinstance(profile, str):
        raise TypeError(
            "icc_profile must be the profile's bytes, not a str; "
            "read the file first: open(path, 'rb').read()"
        )
    try:
        profile = memoryview(profile).tobytes()
    except TypeError:
        raise TypeError(
            f"icc_profile must be a bytes-like object or None, not {type(profile).__name__}"
        ) from None
    if not profile:
        raise ValueError("icc_profile is empty; pass None for no profile")
    if len(profile) > MAX_ICC_SIZE:
        raise ValueError(
            f"icc_profile has {len(profile)} bytes; a JPEG holds at most {MAX_ICC_SIZE} "
            f"(255 APP2 chunks of {ICC_CHUNK})"
        )
    return profile


def icc_segments(profile: bytes) -> bytes:
    """The APP2 segments that carry ``profile``, as ``jpeg_write_icc_profile`` writes them."""
    count = -(-len(profile) // ICC_CHUNK)
    parts = []
    for seq in range(1, count + 1):
        chunk = profile[(seq - 1) * ICC_CHUNK : seq * ICC_CHUNK]
        parts.append(
            struct.pack(">HH", APP2, 2 + ICC_HEADER + len(chunk))
            + ICC_ID
            + bytes((seq, count))
            + chunk
        )
    return b"".join(parts)


def with_icc(jpeg: bytes, profile: bytes) -> bytes:
    """``jpeg`` (as libjpeg wrote it, without a profile) with ``profile`` embedded.

    libjpeg writes SOI, then a JFIF APP0 and/or an Adobe APP14 segment, then
    the ICC chunks, then the tables and frame; the chunks go in at that point.
    """
    at = 2
    for code, pos, length in walk(jpeg):
        if code not in (APP0, APP14):
            break
        at = pos + 2 + length
    return jpeg[:at] + icc_segments(profile) + jpeg[at:]
