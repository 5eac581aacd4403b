"""The walk over a JPEG's header that ``_markers`` and ``_exif`` share.

``walk(data)`` steps from SOI up to the first SOS, one bounded step per
marker, never into entropy-coded data, and stops (without raising) at
anything that is not a marker where one should be and at the end of the
data. Its readers decide what each segment means; the marker codes they
look for are here.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

# A JPEG header holds a few dozen segments (tables, APPn, comments), and up
# to 255 ICC chunks; a walk that meets more markers than this before SOS
# gives up.
MAX_SEGMENTS = 512

SOI = b"\xff\xd8"
SOF0, SOF1, DHT, DQT, SOS, DRI = 0xFFC0, 0xFFC1, 0xFFC4, 0xFFDB, 0xFFDA, 0xFFDD
APP0, APP1, APP2, APP14, COM = 0xFFE0, 0xFFE1, 0xFFE2, 0xFFEE, 0xFFFE
FILL = 0xFFFF  # a fill byte before a marker
# SOFn: 0xC0..0xCF but DHT, JPG and DAC.
SOF = frozenset(0xFF00 | m for m in range(0xC0, 0xD0) if m not in (0xC4, 0xC8, 0xCC))

# Each step reads a marker and the length that follows it as two big-endian
# 16-bit words in one call.
marker_and_length = struct.Struct(">HH").unpack_from
# Markers followed by a length, but SOS: SOFn, DHT, DAC, DQT, DRI, DNL, DHP,
# EXP, APPn, JPGn, COM.
_LENGTHS = frozenset(0xFF00 | m for m in range(0xC0, 0xFF) if not 0xD0 <= m <= 0xDA)
# Markers with no length: TEM and RST0..7.
_STANDALONE = frozenset(0xFF00 | m for m in (0x01, *range(0xD0, 0xD8)))


def walk(
    data,
    _unpack=marker_and_length,
    _lengths=_LENGTHS,
    _standalone=_STANDALONE,
    _bound=range(MAX_SEGMENTS),
) -> Iterator[tuple[int, int, int]]:
    """``(marker, offset, length)`` of each marker after SOI, up to and including
    the first SOS; nothing when ``data`` does not start with SOI.

    ``data`` is ``bytes`` or a one-byte-per-item ``memoryview``. ``offset`` is
    where the marker is and ``length`` the 16-bit field after it, which counts
    itself: the segment ends at ``offset + 2 + length``. A marker without a
    length (TEM, RSTn) and a fill byte (``FILL``) come with length 0.

    The walk ends after SOS, at EOI, SOI again, a reserved marker or a byte
    that is not a marker, when fewer than four bytes are left, and after
    ``MAX_SEGMENTS`` markers. Lengths are not checked: one below 2 lands the
    next step inside its own segment's header, on bytes that are not a
    marker, and one running past the data leaves fewer than four bytes for
    the next step; either way the walk stops there. (The keyword defaults
    are the walk's constants, bound as locals: it runs once per marker.)
    """
    if data[:2] != SOI:
        return
    pos = 2
    try:
        for _ in _bound:
            code, length = _unpack(data, pos)
            if code in _lengths:
                yield code, pos, length
                pos += length + 2
            elif code in _standalone:
                yield code, pos, 0
                pos += 2
            elif code == FILL:
                yield code, pos, 0
                pos += 1
            elif code == SOS:
                yield code, pos, length
                return
            else:  # EOI, SOI again, a reserved marker, or not a marker at all
                return
    except struct.error:  # fewer than 4 bytes left: the data ends inside the header
        return
