"""ICC profiles and the frame header, read and written in Python.

``scan(data)`` walks a JPEG's markers from SOI up to the first SOS, exactly
as ``_exif.exif_segment`` does: one bounded step per segment, never into
entropy-coded data, stopping (without raising) at anything that is not a
well-formed segment. On the way it collects the APP2 ``ICC_PROFILE`` chunks,
the first SOFn and the first EXIF segment, whose orientation ``_exif`` reads:
``decode_header`` walks the header once for all three.

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

# Segments met before SOS: a few dozen in practice, up to 255 ICC chunks. A
# walk that meets more gives up; the same bound as the EXIF walk's.
MAX_SEGMENTS = _exif.MAX_MARKERS

ICC_ID = b"ICC_PROFILE\x00"
ICC_HEADER = len(ICC_ID) + 2  # the identifier, sequence number, chunk count
# libjpeg's largest marker payload (65533 bytes) less the chunk header.
ICC_CHUNK = 65533 - ICC_HEADER
MAX_ICC_SIZE = 255 * ICC_CHUNK  # the chunk count is one byte

_SOI = b"\xff\xd8"
_APP0, _APP1, _APP2, _APP14 = 0xFFE0, 0xFFE1, 0xFFE2, 0xFFEE
_EXIF_ID = b"Exif\x00\x00"
_marker_and_length = struct.Struct(">HH").unpack_from
# Markers followed by a length, as the walk sorts them: SOFn (0xC0..0xCF but
# DHT, JPG and DAC), APP1 and APP2 (looked at), and every other one (DHT,
# DQT, DRI, APPn, COM, ...: skipped).
_SOF = frozenset(0xFF00 | m for m in range(0xC0, 0xD0) if m not in (0xC4, 0xC8, 0xCC))
_SKIPPED = (
    frozenset(0xFF00 | m for m in range(0xC0, 0xFF) if not 0xD0 <= m <= 0xDA)
    - _SOF
    - {_APP1, _APP2}
)
# Markers with no length: TEM and RST0..7.
_STANDALONE = frozenset(0xFF00 | m for m in (0x01, *range(0xD0, 0xD8)))


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


def scan(
    data,
    frame: bool = True,
    _unpack=_marker_and_length,
    _skipped=_SKIPPED,
    _sof=_SOF,
    _standalone=_STANDALONE,
    _bound=range(MAX_SEGMENTS),
) -> tuple[bytes | None, Frame | None, int | None]:
    """(ICC profile, first frame header, EXIF orientation) of a JPEG, each
    ``None`` when absent or malformed; the frame only if asked for.

    ``data`` is any bytes-like object; anything else gives ``(None, None,
    None)``. The walk ends at SOS, EOI, anything that is not a marker where
    one should be, and the end of the data. It meets the EXIF segment exactly
    as ``_exif.exif_segment`` does. (The keyword defaults after ``frame`` are
    the walk's constants, bound as locals: it runs once per segment.)
    """
    if type(data) is not bytes:
        try:
            data = memoryview(data).cast("B")
        except (TypeError, ValueError):
            return None, None, None
    if data[:2] != _SOI:
        return None, None, None
    chunks = exif = None  # chunks: (sequence number, chunk count, start, end of data)
    sof = -1
    pos = 2
    exif_seen = False
    try:
        for _ in _bound:
            code, length = _unpack(data, pos)
            if code in _skipped:
                # A length below 2 lands the next step inside this segment's
                # header, on bytes that are not a marker: the walk stops there.
                pos += length + 2
            elif code in _sof:
                if sof < 0 and length > 2 and pos + 4 < len(data):
                    sof = pos
                pos += length + 2
            elif code == 0xFFE2:  # APP2
                end = pos + 2 + length
                if (
                    length >= 2 + ICC_HEADER
                    and end <= len(data)
                    and data[pos + 4 : pos + 16] == ICC_ID
                ):
                    if chunks is None:
                        chunks = []
                    chunks.append((data[pos + 16], data[pos + 17], pos + 4 + ICC_HEADER, end))
                pos = end
            elif code == 0xFFE1:  # APP1
                end = pos + 2 + length
                if not exif_seen and data[pos + 4 : pos + 10] == _EXIF_ID:
                    # Only the first counts; cut off, it gives no orientation.
                    exif_seen = True
                    exif = (pos + 10, end) if end <= len(data) else None
                pos = end
            elif code in _standalone:
                pos += 2
            elif code == 0xFFFF:  # a fill byte before a marker
                pos += 1
            else:  # SOS, EOI, SOI again, a reserved marker, or not a marker at all
                break
    except struct.error:  # fewer than 4 bytes left: the data ends inside the header
        pass
    return (
        None if chunks is None else _assemble(data, chunks),
        None if sof < 0 or not frame else Frame(data[sof + 1], data[sof + 4]),
        None if exif is None else _exif.tiff_orientation(data, *exif),
    )


_DQT, _DHT, _SOS = 0xFFDB, 0xFFC4, 0xFFDA
# Segments a self-contained header may hold besides tables, SOF0/1 and SOS:
# APPn, COM and DRI (which SOI resets). Anything else (other SOFn, DAC, DNL,
# JPG, reserved markers, fill bytes, RSTn) makes the walk give up.
_INERT = frozenset((*range(0xFFE0, 0xFFF0), 0xFFFE, 0xFFDD))


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
    same tables. The walk is strict and bounded: one step per segment,
    table payloads checked to fill their segment exactly, at most
    ``MAX_SEGMENTS`` segments, never into entropy-coded data.
    """
    if data[:2] != _SOI:
        return 0
    n = len(data)
    quant: set[int] = set()
    huffman: set[int] = set()  # class << 4 | slot: 0x0_ DC, 0x1_ AC
    frame_quant: set[int] | None = None
    components = 0
    pos = 2
    for _ in range(MAX_SEGMENTS):
        if pos + 4 > n:
            return 0
        code, length = _marker_and_length(data, pos)
        end = pos + 2 + length
        if length < 2 or end > n:
            return 0
        body = pos + 4
        if code == _DQT:
            while body < end:
                precision, slot = divmod(data[body], 16)
                if precision > 1 or slot > 3:
                    return 0
                quant.add(slot)
                body += 1 + 64 * (precision + 1)
            if body != end:
                return 0
        elif code == _DHT:
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
        elif code in (0xFFC0, 0xFFC1):
            if frame_quant is not None or length < 8:
                return 0
            components = data[pos + 9]
            if components == 0 or length != 8 + 3 * components:
                return 0
            frame_quant = {data[pos + 12 + 3 * k] for k in range(components)}
        elif code == _SOS:
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
        pos = end
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
            struct.pack(">HH", _APP2, 2 + ICC_HEADER + len(chunk))
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
    pos = 2
    while pos + 4 <= len(jpeg):
        code, length = _marker_and_length(jpeg, pos)
        if code not in (_APP0, _APP14):
            break
        pos += 2 + length
    return jpeg[:pos] + icc_segments(profile) + jpeg[pos:]
