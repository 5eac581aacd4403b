"""turbojpeg._geometry on its own: the arithmetic the decode tests rely on.

(The decode tests compare whole images; these pin the rules themselves.)
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from turbojpeg._geometry import chunks, crop_columns, decode_geometry, pick_scale, scaled

FACTORS = sorted(Fraction(n, 8) for n in range(1, 17))  # libjpeg-turbo's 1/8 .. 2


def test_scaled_rounds_up_as_libjpeg_turbo():
    assert [scaled(61, Fraction(1, 8)), scaled(64, Fraction(1, 8)), scaled(61, Fraction(3, 4))] == [
        8,
        8,
        46,
    ]


@pytest.mark.parametrize(
    ("x", "w", "expected"),
    [
        (0, 10, (0, 11)),  # the left edge: nothing to widen there
        (16, 10, (0, 27)),  # on a column, which starts the iMCU *before* it
        (17, 10, (16, 28)),
        (40, 24, (32, 64)),  # the right edge: no pixel past it
    ],
)
def test_crop_columns_start_an_imcu_before_and_end_a_pixel_after(x, w, expected):
    first, end = crop_columns(x, w, 64, 16)
    assert (first, end) == expected
    assert first % 16 == 0
    assert first < x or x == 0
    assert end == min(x + w + 1, 64)


def test_pick_scale_takes_the_smallest_factor_at_least_min_size():
    assert pick_scale(FACTORS, 640, 480, None, (100, 100)) == Fraction(1, 4)
    assert pick_scale(FACTORS, 640, 480, None, 481) == 1  # never above 1
    assert pick_scale(FACTORS, 640, 480, None, 10, lossless=True) == 1
    with pytest.raises(ValueError, match="use one of"):
        pick_scale(FACTORS, 640, 480, (1, 3), None)
    with pytest.raises(ValueError, match="either scale or min_size"):
        pick_scale(FACTORS, 640, 480, 0.5, 10)


def test_decode_geometry_maps_an_upright_crop_to_the_stored_image():
    # Orientation 6 turns the stored 640x480 image to 480x640 upright.
    factor, stored, rect, out = decode_geometry(FACTORS, 640, 480, (1, 2), None, (0, 0, 100, 50), 6)
    assert (factor, stored, out) == (Fraction(1, 2), (320, 240), (50, 100))
    assert rect == (0, 140, 50, 100)  # the upright top-left is the stored bottom-left


@pytest.mark.parametrize(("count", "threads"), [(0, 4), (1, 4), (5, 3), (100, 8), (7, 1)])
def test_chunks_cover_every_index_once_in_order(count, threads):
    pieces = chunks(count, threads)
    assert [i for piece in pieces for i in piece] == list(range(count))
    assert len(pieces) <= max(1, threads * 4)
