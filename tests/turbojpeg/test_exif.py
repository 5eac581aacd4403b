"""The EXIF orientation parser on hand-built EXIF blocks, and fuzzed.

Every malformed input gives ``None``, never an exception; nothing is read
past the first SOS; every loop is bounded.
"""

from __future__ import annotations

import struct
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turbojpeg import _exif, _segments

ORIENTATION = 0x0112
SHORT, LONG, ASCII = 3, 4, 2
# A minimal JPEG body after SOI: the parser never looks at what follows SOS.
BODY = b"\xff\xdb\x00\x43" + bytes(65) + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x12\x34"
PARSER = settings(max_examples=500, deadline=timedelta(seconds=2))


def entry(order: bytes, tag: int, kind: int, count: int, value: int | bytes) -> bytes:
    e = "<" if order == b"II" else ">"
    if isinstance(value, int):
        value = struct.pack(e + "HH", value, 0) if kind == SHORT else struct.pack(e + "I", value)
    return struct.pack(e + "HHI", tag, kind, count) + value


def tiff(
    order: bytes = b"II",
    entries: list[bytes] | None = None,
    *,
    magic: int = 42,
    ifd_offset: int = 8,
    count: int | None = None,
    next_ifd: int = 0,
) -> bytes:
    """A TIFF structure: header, then IFD0 at ``ifd_offset`` (padding before it)."""
    e = "<" if order == b"II" else ">"
    if entries is None:
        entries = [entry(order, ORIENTATION, SHORT, 1, 6)]
    head = order + struct.pack(e + "HI", magic, ifd_offset)
    head += bytes(max(0, ifd_offset - len(head)))
    n = len(entries) if count is None else count
    return head + struct.pack(e + "H", n) + b"".join(entries) + struct.pack(e + "I", next_ifd)


def segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def exif(tiff_bytes: bytes) -> bytes:
    return segment(0xFFE1, b"Exif\x00\x00" + tiff_bytes)


def jpeg(*segments: bytes) -> bytes:
    return b"\xff\xd8" + b"".join(segments) + BODY


@pytest.mark.parametrize("order", [b"II", b"MM"])
@pytest.mark.parametrize("value", range(1, 9))
def test_each_orientation_in_both_byte_orders(order, value):
    block = tiff(order, [entry(order, ORIENTATION, SHORT, 1, value)])
    assert _exif.orientation(jpeg(exif(block))) == value
    assert _exif.tiff_orientation(block, 0, len(block)) == value


def test_byte_order_is_honoured():
    # 6 written big-endian reads as 0x0600 little-endian: out of range.
    big = tiff(b"MM", [entry(b"MM", ORIENTATION, SHORT, 1, 6)])
    assert _exif.orientation(jpeg(exif(b"II" + big[2:]))) is None


@pytest.mark.parametrize("value", [0, 9, 255, 0xFFFF])
def test_values_outside_1_to_8_are_none(value):
    assert (
        _exif.orientation(jpeg(exif(tiff(entries=[entry(b"II", ORIENTATION, SHORT, 1, value)]))))
        is None
    )


@pytest.mark.parametrize("order", [b"II", b"MM"])
def test_the_tag_among_others_or_absent(order):
    make = entry(order, 0x010F, ASCII, 4, b"Cam\x00")
    width = entry(order, 0x0100, LONG, 1, 4000)
    later = entry(order, 0x0131, ASCII, 4, b"abc\x00")
    assert _exif.orientation(jpeg(exif(tiff(order, [width, make, later])))) is None
    tagged = tiff(order, [width, make, entry(order, ORIENTATION, SHORT, 1, 8), later])
    assert _exif.orientation(jpeg(exif(tagged))) == 8
    assert _exif.orientation(jpeg(exif(tiff(order, [])))) is None


@pytest.mark.parametrize(
    ("kind", "count"), [(LONG, 1), (ASCII, 1), (SHORT, 2), (SHORT, 0), (SHORT, 0xFFFFFFFF)]
)
def test_wrong_type_or_count_is_none(kind, count):
    block = tiff(entries=[entry(b"II", ORIENTATION, kind, count, 6)])
    assert _exif.orientation(jpeg(exif(block))) is None


def test_first_orientation_entry_decides():
    twice = [entry(b"II", ORIENTATION, SHORT, 1, 3), entry(b"II", ORIENTATION, SHORT, 1, 6)]
    assert _exif.orientation(jpeg(exif(tiff(entries=twice)))) == 3
    bad_first = [entry(b"II", ORIENTATION, LONG, 1, 3), entry(b"II", ORIENTATION, SHORT, 1, 6)]
    assert _exif.orientation(jpeg(exif(tiff(entries=bad_first)))) is None


@pytest.mark.parametrize("header", [b"IM\x2a\x00", b"ii\x2a\x00", b"II\x2b\x00", b"MM\x2a\x00"])
def test_bad_tiff_header_is_none(header):
    # The last one is big-endian order with a little-endian magic: 0x2A00, not 42.
    block = tiff()
    assert _exif.orientation(jpeg(exif(header + block[4:]))) is None


@pytest.mark.parametrize("offset", [0, 4, 7, 0xFFFFFFFF, 0x7FFFFFFF])
def test_ifd_offset_outside_the_segment_or_into_the_header_is_none(offset):
    block = tiff()
    bad = block[:4] + struct.pack("<I", offset) + block[8:]
    assert _exif.orientation(jpeg(exif(bad))) is None
    # Just past the end, and exactly at the last byte: no room for the count.
    for end in (len(block), len(block) - 1):
        bad = block[:4] + struct.pack("<I", end) + block[8:]
        assert _exif.orientation(jpeg(exif(bad))) is None


def test_ifd_further_in_the_segment():
    block = tiff(ifd_offset=40)
    assert _exif.orientation(jpeg(exif(block))) == 6


def test_truncated_tiff_never_raises_and_needs_the_whole_entry():
    block = tiff(entries=[entry(b"II", 0x0100, LONG, 1, 7), entry(b"II", ORIENTATION, SHORT, 1, 5)])
    orientation_end = 8 + 2 + 2 * 12  # header, count, two entries
    for cut in range(len(block) + 1):
        got = _exif.orientation(jpeg(exif(block[:cut])))
        assert got == (5 if cut >= orientation_end else None), cut


def test_app1_longer_than_the_data_is_none():
    whole = jpeg(exif(tiff()))
    app1_end = 2 + len(exif(tiff()))
    for cut in range(app1_end):
        assert _exif.orientation(whole[:cut]) is None, cut
    assert _exif.orientation(whole[:app1_end]) == 6


def test_huge_entry_count_reads_only_what_fits():
    first = tiff(entries=[entry(b"II", ORIENTATION, SHORT, 1, 2)], count=0xFFFF)
    assert _exif.orientation(jpeg(exif(first))) == 2
    filler = [entry(b"II", 0x0200 + i, SHORT, 1, 1) for i in range(50)]
    absent = tiff(entries=filler, count=0xFFFF)
    assert _exif.orientation(jpeg(exif(absent))) is None
    # The tag just past the entries that fit in the segment is not read.
    beyond = tiff(entries=filler, count=0xFFFF) + entry(b"II", ORIENTATION, SHORT, 1, 3)[:11]
    assert _exif.orientation(jpeg(exif(beyond))) is None


def test_ifd_loops_are_never_followed():
    # IFD0 names itself as the next IFD, and the next-IFD offset of a block
    # without the tag points back at IFD0: only IFD0 is ever read.
    assert _exif.orientation(jpeg(exif(tiff(next_ifd=8)))) == 6
    without = tiff(entries=[entry(b"II", 0x0100, LONG, 1, 7)], next_ifd=8)
    assert _exif.orientation(jpeg(exif(without))) is None


def test_exif_after_other_segments_before_sos():
    app0 = segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    xmp = segment(0xFFE1, b"http://ns.adobe.com/xap/1.0/\x00<x/>")
    icc = segment(0xFFE2, b"ICC_PROFILE\x00\x01\x01" + bytes(100))
    dqt = segment(0xFFDB, bytes(65))
    sof = segment(0xFFC0, b"\x08\x00\x10\x00\x10\x01\x01\x11\x00")
    assert _exif.orientation(jpeg(app0, exif(tiff()))) == 6
    assert _exif.orientation(jpeg(app0, xmp, icc, exif(tiff()))) == 6
    assert _exif.orientation(jpeg(app0, dqt, sof, exif(tiff()))) == 6
    # Fill bytes before a marker, and markers without a length, are stepped over.
    assert _exif.orientation(jpeg(app0, b"\xff\xff\xff", b"\xff\xd0", exif(tiff()))) == 6


def test_only_the_first_exif_segment_counts():
    other = tiff(entries=[entry(b"II", ORIENTATION, SHORT, 1, 3)])
    assert _exif.orientation(jpeg(exif(tiff()), exif(other))) == 6
    assert _exif.orientation(jpeg(exif(tiff(entries=[])), exif(other))) is None


def test_nothing_after_sos_is_read():
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    assert _exif.orientation(b"\xff\xd8" + sos + exif(tiff()) + BODY) is None
    assert _exif.orientation(b"\xff\xd8\xff\xd9" + exif(tiff())) is None  # EOI ends it too


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff",
        b"\xff\xd8",
        b"\xff\xd8\xff",
        b"\xff\xd8\xff\xe1",
        b"\xff\xd8\xff\xe1\x00",
        b"\x89PNG\r\n\x1a\n" + exif(tiff()),  # not a JPEG
        b"\xff\xd8\x00" + exif(tiff()),  # a byte that is not a marker
        b"\xff\xd8\xff\xe0\x00\x01" + exif(tiff()),  # a length below 2
        b"\xff\xd8\xff\xd8" + exif(tiff()),  # SOI again
        b"\xff\xd8" + segment(0xFFE1, b"Exif\x00\x00II*\x00"),  # TIFF header cut short
        b"\xff\xd8" + segment(0xFFE1, b"Exif\x00"),  # identifier cut short
        b"\xff\xd8" + segment(0xFFE1, b"Exif"),
    ],
)
def test_malformed_headers_are_none(data):
    assert _exif.orientation(data) is None


def test_marker_walk_is_bounded():
    comment = segment(0xFFFE, b"hi")
    near = jpeg(*[comment] * (_segments.MAX_SEGMENTS - 1), exif(tiff()))
    assert _exif.orientation(near) == 6
    beyond = jpeg(*[comment] * _segments.MAX_SEGMENTS, exif(tiff()))
    assert _exif.orientation(beyond) is None
    assert _exif.orientation(b"\xff\xd8" + b"\xff" * 100_000 + exif(tiff())) is None


@pytest.mark.parametrize(
    "wrap",
    [bytes, bytearray, memoryview, lambda b: np.frombuffer(b, np.uint8), lambda b: b"" + b],
)
def test_any_bytes_like(wrap):
    assert _exif.orientation(wrap(jpeg(exif(tiff())))) == 6


def test_unusable_objects_are_none():
    strided = np.frombuffer(jpeg(exif(tiff())) * 2, np.uint8)[::2]
    assert _exif.orientation(strided) is None
    assert _exif.orientation(np.zeros((4, 4), np.float32)) is None
    assert _exif.orientation(12345) is None


def check(result) -> None:
    assert result is None or (type(result) is int and 1 <= result <= 8)


@PARSER
@given(data=st.binary(max_size=1024))
def test_fuzz_random_bytes(data):
    check(_exif.orientation(data))
    check(_exif.orientation(b"\xff\xd8" + data))
    check(_exif.orientation(b"\xff\xd8\xff\xe1" + data))
    check(_exif.orientation(b"\xff\xd8" + segment(0xFFE1, b"Exif\x00\x00" + data[:65000])))


@PARSER
@given(
    order=st.sampled_from([b"II", b"MM"]),
    magic=st.sampled_from([42, 43, 0x2A00]),
    ifd_offset=st.one_of(st.integers(0, 64), st.integers(0, 0xFFFFFFFF)),
    count=st.one_of(st.none(), st.integers(0, 0xFFFF)),
    entries=st.lists(
        st.tuples(
            st.one_of(st.just(ORIENTATION), st.integers(0, 0xFFFF)),
            st.integers(0, 12),
            st.one_of(st.just(1), st.integers(0, 0xFFFFFFFF)),
            st.integers(0, 0xFFFF),
        ),
        max_size=20,
    ),
    next_ifd=st.integers(0, 0xFFFFFFFF),
    cut=st.integers(0, 400),
)
def test_fuzz_tiff_structures(order, magic, ifd_offset, count, entries, next_ifd, cut):
    made = [entry(order, tag, kind, n, value) for tag, kind, n, value in entries]
    placed = 8 <= ifd_offset <= 64  # IFD0 is where the header says
    block = tiff(
        order, made, magic=magic, ifd_offset=min(ifd_offset, 64), count=count, next_ifd=next_ifd
    )
    if ifd_offset > 64:  # an offset anywhere, with the IFD left at 64
        block = block[:4] + struct.pack("<I" if order == b"II" else ">I", ifd_offset) + block[8:]
    cut %= len(block) + 1
    result = _exif.orientation(jpeg(exif(block[: len(block) - cut])))
    check(result)
    first = next((e for e in entries if e[0] == ORIENTATION), None)
    if placed and magic == 42:
        if first is None:
            assert result is None
        elif count is None and cut == 0 and first[1:3] == (SHORT, 1):
            assert result == (first[3] if 1 <= first[3] <= 8 else None)
