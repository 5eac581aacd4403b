"""The EXIF orientation tag, read by a small bounded parser of our own.

``orientation(data)`` walks the JPEG's markers from SOI up to the first SOS
(never into the entropy-coded data), takes the first APP1 segment that starts
with ``Exif\\0\\0``, and reads the Orientation tag (0x0112, one SHORT, 1..8)
from the TIFF structure's first IFD. Anything unexpected (a bad marker, a
length or offset pointing outside its segment, an unknown byte order, a tag of
the wrong type or count, a value outside 1..8) gives ``None``: this module
never raises on any input, and every loop is bounded by a count or the data's
length.

libjpeg-turbo ignores EXIF, and so does TurboJPEG: this is the only place in
the package that reads it.
"""

from __future__ import annotations

import struct

# A JPEG header holds a few dozen segments (tables, APPn, comments); a walk
# that meets more than this many markers before SOS gives up.
MAX_MARKERS = 512

_SOI = b"\xff\xd8"
_APP1 = 0xFFE1
_EXIF = b"Exif\x00\x00"
_ORIENTATION = 0x0112
_SHORT = 3
_ENTRY_SIZE = 12  # tag, type, count (2, 2, 4 bytes), then 4 bytes of value or offset
# Per byte order: the TIFF header after the mark (magic, IFD0 offset), an IFD's
# entry count, and an IFD entry's tag, type, count and first SHORT of value.
_TIFF = {
    mark: (
        struct.Struct(order + "HI").unpack_from,
        struct.Struct(order + "H").unpack_from,
        struct.Struct(order + "HHIH").unpack_from,
    )
    for mark, order in ((b"II", "<"), (b"MM", ">"))
}

# Each step of the walk reads a marker and the length that follows it as two
# big-endian 16-bit words in one call, so the walk takes one short Python step
# per segment before SOS (about ten in a typical header).
_marker_and_length = struct.Struct(">HH").unpack_from
# Markers followed by a length: SOFn, DHT, DAC, DQT, DRI, DNL, DHP, EXP, APPn,
# JPGn, COM. (APP1 is looked at first; SOS and EOI end the walk.)
_SEGMENTS = frozenset(
    0xFF00 | m for m in range(0xC0, 0xFF) if not 0xD0 <= m <= 0xDA and 0xFF00 | m != _APP1
)
# Markers with no length: TEM and RST0..7.
_STANDALONE = frozenset(0xFF00 | m for m in (0x01, *range(0xD0, 0xD8)))


def orientation(data) -> int | None:
    """The EXIF orientation (1..8) of a JPEG, or ``None`` when absent or malformed.

    ``data`` is any bytes-like object. Only the segments before the first SOS
    are read, one marker at a time.
    """
    found = _tiff(data)
    return None if found is None else tiff_orientation(*found)


def _tiff(data) -> tuple[bytes | memoryview, int, int] | None:
    """``(data as bytes or a byte view, start, end)`` of the JPEG's EXIF TIFF
    structure, or ``None`` when ``data`` is no JPEG or has no EXIF segment."""
    if type(data) is not bytes:
        try:
            data = memoryview(data).cast("B")
        except (TypeError, ValueError):
            return None
    if data[:2] != _SOI:
        return None
    segment = exif_segment(data)
    return None if segment is None else (data, *segment)


def exif_segment(
    data, _unpack=_marker_and_length, _segments=_SEGMENTS, _bound=range(MAX_MARKERS)
) -> tuple[int, int] | None:
    """``(start, end)`` of the TIFF structure in the first APP1 ``Exif`` segment.

    ``data`` starts with SOI: ``bytes`` or a one-byte-per-item ``memoryview``.
    The walk stops (``None``) at SOS or EOI, at anything that is not a marker
    where one should be, and at the end of the data. (The keyword defaults
    are the walk's constants, bound as locals: it runs once per segment.)
    """
    pos = 2
    try:
        for _ in _bound:
            code, length = _unpack(data, pos)
            if code in _segments:
                # A length below 2 lands the next step inside this segment's
                # header, on bytes that are not a marker: the walk stops there.
                pos += length + 2
            elif code == _APP1:
                end = pos + 2 + length
                if data[pos + 4 : pos + 10] == _EXIF:
                    return (pos + 10, end) if end <= len(data) else None
                pos = end
            elif code in _STANDALONE:
                pos += 2
            elif code == 0xFFFF:  # a fill byte before a marker
                pos += 1
            else:  # SOS, EOI, SOI again, a reserved marker, or not a marker at all
                return None
    except struct.error:  # fewer than 4 bytes left: the data ends inside the header
        return None
    return None


def tiff_orientation(data, start: int, end: int) -> int | None:
    """The Orientation tag of IFD0 in the TIFF structure ``data[start:end]``.

    Offsets count from ``start`` (the byte-order mark). Only IFD0 is read, so
    an IFD chain that loops back on itself is never followed. An entry count
    running past ``end`` is cut to the entries that fit.
    """
    found = _orientation_entry(data, start, end)
    return None if found is None else found[1]


def orientation_offset(data) -> tuple[int, str] | None:
    """Where ``orientation(data)`` was read: ``(offset, order)``, or ``None`` when it is ``None``.

    ``offset`` is the position in ``data`` of the tag's SHORT value and
    ``order`` its byte order for ``struct`` (``"<"`` or ``">"``), so that
    ``struct.pack_into(order + "H", copy, offset, 1)`` makes a copy upright.
    """
    tiff = _tiff(data)
    found = None if tiff is None else _orientation_entry(*tiff)
    if found is None:
        return None
    view, start, _ = tiff
    return found[0], "<" if view[start] == ord("I") else ">"


def _orientation_entry(data, start: int, end: int) -> tuple[int, int] | None:
    """``(offset of the value, value)`` of a well-formed Orientation entry in IFD0."""
    if start < 0 or end > len(data) or end - start < 8:
        return None
    order = bytes(data[start : start + 2])
    if order not in _TIFF:
        return None
    header, count_field, entry = _TIFF[order]
    magic, ifd_offset = header(data, start + 2)
    if magic != 42 or ifd_offset < 8 or ifd_offset > end - start - 2:
        return None
    ifd = start + ifd_offset
    (count,) = count_field(data, ifd)
    first = ifd + 2
    count = min(count, (end - first) // _ENTRY_SIZE)
    for at in range(first, first + _ENTRY_SIZE * count, _ENTRY_SIZE):
        tag, kind, values, value = entry(data, at)
        if tag == _ORIENTATION:
            # One entry per tag: the first is the answer, right or wrong. A
            # single SHORT sits in the first two bytes of the value field.
            if kind != _SHORT or values != 1 or not 1 <= value <= 8:
                return None
            return at + 8, value
    return None
