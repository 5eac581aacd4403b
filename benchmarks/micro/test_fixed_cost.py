"""Fixed cost per call: decode and encode a 16x16 image, where the codec's
work is tiny and the wrapper's own overhead shows (groups
``fixed-cost-decode`` and ``fixed-cost-encode``)."""

from __future__ import annotations

import pytest

from benchmarks.micro import images
from benchmarks.micro.common import (
    check_decoded,
    check_pixels,
    describe,
    get_contender,
    source_for,
)

NAMES = ("turbojpeg", "simplejpeg", "pyturbojpeg", "opencv-wheel")


@pytest.mark.parametrize("name", NAMES)
def test_fixed_cost_decode(benchmark, frames, name):
    contender = get_contender(name)
    frame = frames["16x16"]
    check_decoded(contender, frame, contender.decode(frame.jpeg))
    describe(benchmark, "fixed-cost-decode", "decode", contender, frame)
    benchmark(contender.decode, frame.jpeg)


@pytest.mark.parametrize("name", NAMES)
def test_fixed_cost_encode(benchmark, frames, tj, name):
    contender = get_contender(name)
    frame = frames["16x16"]
    source = source_for(contender, frame)
    # A 16x16 thumbnail of a busy photo loses more to 4:2:0 than a big frame does.
    check_pixels(
        f"{name} encoding 16x16", tj.decode(contender.encode(source, 95)), frame.bgr, tolerance=16
    )
    describe(benchmark, "fixed-cost-encode", "encode", contender, frame)
    benchmark(contender.encode, source, images.QUALITY)
