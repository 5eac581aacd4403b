"""No pixel depends on the image decoded before: libjpeg keeps tables from one
image to the next on a decompressor, so every image starts on a new handle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import turbojpeg
from turbojpeg import TurbojpegError, TurbojpegWarning

from .conftest import pil_jpeg


def _segments(jpeg: bytes):
    """(marker, start, end) of each segment from SOI up to SOS."""
    i = 2
    while jpeg[i + 1] != 0xDA:
        end = i + 2 + int.from_bytes(jpeg[i + 2 : i + 4], "big")
        yield jpeg[i + 1], i, end
        i = end


def _without(jpeg: bytes, drop) -> bytes:
    """The JPEG without the header segments for which ``drop(marker, payload)`` holds."""
    out = bytearray(jpeg[:2])
    last = 2
    for marker, start, end in _segments(jpeg):
        if not drop(marker, jpeg[start + 4 : end]):
            out += jpeg[start:end]
        last = end
    return bytes(out + jpeg[last:])


@pytest.fixture(scope="module")
def corpus(photo) -> dict[str, bytes]:
    """JPEGs that differ in their tables, and ones that leave slots undefined."""
    small = photo[:48, :40]
    baseline = pil_jpeg(small, 90, "420")
    optimized = pil_jpeg(photo[8:56, 16:64], 60, "444", optimize=True)
    no_dht = _without(baseline, lambda m, p: m == 0xC4)
    # Only the luma tables (slot 0): the chroma components' slot 1 is left to whatever
    # the decompressor holds (a fresh one: the standard tables).
    luma_dht_only = _without(baseline, lambda m, p: m == 0xC4 and p[0] & 0x0F == 1)
    no_dqt = bytearray(pil_jpeg(small, 85, "420"))
    at = no_dqt.index(b"\xff\xdb")
    no_dqt[at + 4] = 0x03  # the table moves to slot 3, which no component uses
    return {
        "baseline": baseline,
        "optimized-444": optimized,
        "progressive": pil_jpeg(small, 75, "420", progressive=True),
        "gray": pil_jpeg(small, 90, "gray"),
        "mjpeg-no-dht": no_dht,
        "luma-dht-only": luma_dht_only,
        "no-dqt-slot": bytes(no_dqt),
    }


def test_every_image_starts_on_a_new_handle(tj, corpus, monkeypatch):
    d = tj._decompressor()
    renewals = []
    original = type(d).renew

    def counted(self):
        renewals.append(self is d)
        return original(self)

    monkeypatch.setattr(type(d), "renew", counted)
    for name in ("baseline", "mjpeg-no-dht", "baseline"):
        tj.decode(corpus[name])
    assert sum(renewals) == 3


def _decode(tj, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurbojpegWarning)
        try:
            return tj.decode(data)
        except TurbojpegError as exc:
            return type(exc).__name__ + ": " + str(exc)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.lists(st.integers(0, 6), min_size=2, max_size=6))
def test_no_pixel_depends_on_the_image_before(tj, corpus, order):
    """Every JPEG decodes exactly as on a new Turbojpeg, whatever came before it."""
    names = sorted(corpus)
    for k in order:
        data = corpus[names[k]]
        got = _decode(tj, data)
        fresh = _decode(turbojpeg.Turbojpeg(tj.lib_path), data)
        if isinstance(fresh, str):
            assert got == fresh, names[k]
        else:
            assert isinstance(got, np.ndarray), (names[k], got)
            assert np.array_equal(got, fresh), names[k]
