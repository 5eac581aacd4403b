"""The EXIF orientation tag, read by a small bounded parser of our own.

``orientation(data)`` walks the JPEG's markers from SOI up to the first SOS
(``_segments.walk``: never into the entropy-coded data), takes the first APP1
segment that starts with ``Exif\\0\\0``, and reads the Orientation tag
(0x0112, one SHORT, 1..8) from the TIFF structure's first IFD. Anything
unexpected (a bad marker, a length or offset pointing outside its segment, an
unknown byte order, a tag of the wrong type or count, a value outside 1..8)
gives ``None``: this module never raises on any input, and every loop is
bounded by a count or the data's length.

libjpeg-turbo ignores EXIF, and so does TurboJPEG: this is the only place in
the package that reads it.
"""

from __future__ import annotations

import struct

from ._segments import APP1, walk

EXIF_ID = b"Exif\x00\x00"  # how an APP1 segment holding EXIF begins
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
    segment = exif_segment(data)
    return None if segment is None else (data, *segment)


def exif_segment(data) -> tuple[int, int] | None:
    """``(start, end)`` of the TIFF structure in the first APP1 ``Exif`` segment.

    ``data`` is ``bytes`` or a one-byte-per-item ``memoryview``. ``None`` when
    the walk (``_segments.walk``) meets no such segment, or the segment runs
    past the data.
    """
    for code, pos, length in walk(data):
        if code == APP1 and data[pos + 4 : pos + 10] == EXIF_ID:
            end = pos + 2 + length
            return (pos + 10, end) if end <= len(data) else None
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
