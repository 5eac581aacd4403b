"""The one walk over a JPEG's header (``turbojpeg._segments.walk``) that the ICC,
frame, EXIF and handle-reuse readers share: what it yields, where it stops, and
that no input makes it raise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turbojpeg._segments import FILL, MAX_SEGMENTS, SOS, walk

from .test_exif import BODY, PARSER, segment

APP0 = segment(0xFFE0, b"JFIF\x00")
COMMENT = segment(0xFFFE, b"hi")


def test_each_marker_up_to_sos_in_order():
    # Every 0xFF before a marker is a fill byte: two here, before RST0.
    data = b"\xff\xd8" + APP0 + b"\xff\xff" + b"\xff\xd0" + COMMENT + BODY
    assert list(walk(data)) == [
        (0xFFE0, 2, 7),
        (FILL, 11, 0),
        (FILL, 12, 0),
        (0xFFD0, 13, 0),
        (0xFFFE, 15, 4),
        (0xFFDB, 21, 67),
        (SOS, 90, 8),
    ]
    assert list(walk(memoryview(data))) == list(walk(data))


@pytest.mark.parametrize(
    ("data", "count"),
    [
        (b"", 0),
        (b"\x89PNG\r\n\x1a\n" + APP0, 0),  # no SOI
        (b"\xff\xd8" + APP0 + b"\xff\xd9" + COMMENT, 1),  # EOI
        (b"\xff\xd8" + APP0 + b"\xff\xd8" + COMMENT, 1),  # SOI again
        (b"\xff\xd8" + APP0 + b"\xff\x02\x00\x04" + COMMENT, 1),  # a reserved marker
        (b"\xff\xd8" + APP0 + b"\x00" + COMMENT, 1),  # not a marker
        (b"\xff\xd8" + APP0 + b"\xff\xd0\x00", 1),  # RST0, but fewer than 4 bytes left
        (b"\xff\xd8\xff\xe0\x00\x01" + COMMENT, 1),  # a length below 2: then not a marker
        (b"\xff\xd8\xff\xe0\x00\x00" + COMMENT, 1),
        (b"\xff\xd8\xff\xe0\x01\x00" + COMMENT, 1),  # a length past the data
        (b"\xff\xd8" + segment(0xFFDA, b"\x01") + COMMENT, 1),  # nothing after SOS
    ],
)
def test_where_the_walk_stops(data, count):
    assert len(list(walk(data))) == count


def test_the_walk_is_bounded():
    assert len(list(walk(b"\xff\xd8" + COMMENT * (MAX_SEGMENTS + 5) + BODY))) == MAX_SEGMENTS
    assert len(list(walk(b"\xff\xd8" + b"\xff" * 100_000 + BODY))) == MAX_SEGMENTS


# Marker-like pieces, so that random input reaches every branch of the walk.
pieces = st.one_of(
    st.binary(max_size=8),
    st.sampled_from([b"\xff", b"\xff\xff", b"\xff\xd0", b"\xff\x01", b"\xff\xd9", b"\xff\x02"]),
    st.builds(segment, st.integers(0xFFC0, 0xFFFE), st.binary(max_size=12)),
    st.builds(
        lambda marker, length: marker.to_bytes(2, "big") + length.to_bytes(2, "big"),
        st.integers(0xFF00, 0xFFFF),
        st.integers(0, 0xFFFF),
    ),
)


@PARSER
@given(data=st.binary(max_size=1024), parts=st.lists(pieces, max_size=16))
def test_fuzz_no_input_makes_the_walk_raise(data, parts):
    """Random bytes, and random marker-like pieces after SOI: every item is a
    marker where the walk says, each step lands where the last one's length
    says, SOS comes last, and nothing ever raises."""
    for jpeg in (data, b"\xff\xd8" + data, b"\xff\xd8" + b"".join(parts)):
        found = list(walk(jpeg))
        assert len(found) <= MAX_SEGMENTS
        expected = 2
        for i, (code, pos, length) in enumerate(found):
            assert pos == expected
            assert pos + 4 <= len(jpeg)
            assert int.from_bytes(jpeg[pos : pos + 2], "big") == code
            assert code != SOS or i == len(found) - 1
            expected = pos + (1 if code == FILL else 2 + length)
