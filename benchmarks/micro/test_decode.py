"""Decode the same JPEG at each size with every contender (group ``decode-<size>``)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.jpeg import contenders
from benchmarks.micro import images
from benchmarks.micro.common import check_decoded, describe, get_contender

SIZES = list(images.SIZES)
NAMES = [*contenders.DECODERS, *contenders.OUR_DECODE_VARIANTS]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", NAMES)
def test_decode(benchmark, frames, name, size):
    contender = get_contender(name)
    frame = frames[size]
    check_decoded(contender, frame, contender.decode(frame.jpeg))
    describe(benchmark, f"decode-{size}", "decode", contender, frame)
    benchmark(contender.decode, frame.jpeg)


@pytest.mark.parametrize("size", SIZES)
def test_decode_into(benchmark, frames, size):
    """Ours with ``out=``: no output allocation, as tjbench decodes into one buffer."""
    contender = get_contender("turbojpeg")
    frame = frames[size]
    out = np.empty_like(frame.bgr)
    decode = contender.handle.decode
    check_decoded(contender, frame, decode(frame.jpeg, out=out))
    describe(
        benchmark,
        f"decode-{size}",
        "decode",
        contender,
        frame,
        contender="turbojpeg-out",
        adapter="Turbojpeg.decode(data, out=preallocated) -> BGR",
    )
    benchmark(decode, frame.jpeg, out=out)
