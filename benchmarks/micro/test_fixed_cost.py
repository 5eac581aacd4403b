"""Fixed cost per call: decode and encode a 16x16 image, where the codec's
work is tiny and the wrapper's own overhead shows (groups
``fixed-cost-decode`` and ``fixed-cost-encode``).

``fixed-cost-decode`` decodes one JPEG again and again, like frames from one
source: our decompressor keeps its handle for a repeated header.
``fixed-cost-decode-mixed`` decodes eight 16x16 JPEGs of different qualities
in turn, so no JPEG repeats the header before it and ours makes a new handle
for each; every contender pays the same ``next()`` on the cycle.
"""

from __future__ import annotations

import itertools

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
MIXED_QUALITIES = (60, 65, 70, 75, 80, 85, 90, 95)  # eight sets of tables


@pytest.mark.parametrize("name", NAMES)
def test_fixed_cost_decode(benchmark, frames, name):
    contender = get_contender(name)
    frame = frames["16x16"]
    check_decoded(contender, frame, contender.decode(frame.jpeg))
    describe(benchmark, "fixed-cost-decode", "decode", contender, frame)
    benchmark(contender.decode, frame.jpeg)


@pytest.mark.parametrize("name", NAMES)
def test_fixed_cost_decode_mixed(benchmark, frames, tj, name):
    contender = get_contender(name)
    frame = frames["16x16"]
    jpegs = [tj.encode(frame.bgr, q, subsampling="420") for q in MIXED_QUALITIES]
    assert len({data[:200] for data in jpegs}) == len(jpegs)  # no two share a header
    source = source_for(contender, frame)
    for q, data in zip(MIXED_QUALITIES, jpegs, strict=True):
        check_pixels(f"{name} decoding 16x16 at q{q}", contender.decode(data), source, tolerance=16)
    describe(benchmark, "fixed-cost-decode-mixed", "decode", contender, frame)
    cycle = itertools.cycle(jpegs)
    decode = contender.decode
    benchmark(lambda: decode(next(cycle)))


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
