"""Encode the same pixels at each size with every contender (group ``encode-<size>``).

The source is the frame's BGR array (an RGB copy made up front for Pillow);
quality 95, 4:2:0, accurate DCT, no Huffman optimisation, for everyone.
"""

from __future__ import annotations

import pytest

from benchmarks.jpeg import contenders
from benchmarks.micro import images
from benchmarks.micro.common import check_pixels, describe, get_contender, source_for


@pytest.mark.parametrize("size", list(images.SIZES))
@pytest.mark.parametrize("name", contenders.ENCODERS)
def test_encode(benchmark, frames, tj, name, size):
    contender = get_contender(name)
    frame = frames[size]
    source = source_for(contender, frame)
    encoded = contender.encode(source, images.QUALITY)
    check_pixels(f"{name} encoding {size}", tj.decode(encoded), frame.bgr)
    describe(benchmark, f"encode-{size}", "encode", contender, frame, encoded_bytes=len(encoded))
    benchmark(contender.encode, source, images.QUALITY)
