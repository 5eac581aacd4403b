"""A decompressor is kept from one image to the next only when that cannot change
a single pixel: when the JPEG defines every table slot it uses before its first
scan (``_markers.carries_tables``). Otherwise it starts on a new handle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import turbojpeg
from turbojpeg import TurbojpegError, TurbojpegWarning, _markers

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


def test_which_jpegs_carry_their_tables(corpus):
    assert _markers.carries_tables(corpus["baseline"])
    assert _markers.carries_tables(corpus["optimized-444"])
    assert _markers.carries_tables(corpus["progressive"])
    assert _markers.carries_tables(corpus["gray"])
    assert not _markers.carries_tables(corpus["mjpeg-no-dht"])
    assert not _markers.carries_tables(corpus["luma-dht-only"])
    assert not _markers.carries_tables(corpus["no-dqt-slot"])
    jpeg = corpus["baseline"]
    for cut in (0, 1, 2, 3, 20, jpeg.index(b"\xff\xda")):
        assert not _markers.carries_tables(jpeg[:cut])
    assert _markers.carries_tables(bytearray(jpeg))  # any bytes-like object
    assert _markers.carries_tables(np.frombuffer(jpeg, np.uint8))
    assert not _markers.carries_tables("not bytes")


def test_a_lossless_jpeg_needs_no_quantization_table(tj3_path, photo):
    tj = turbojpeg.Turbojpeg(tj3_path)
    lossless = tj.encode(np.ascontiguousarray(photo[:16, :16]), lossless=True)
    assert b"\xff\xdb" not in lossless[: lossless.index(b"\xff\xda")]
    assert _markers.carries_tables(lossless)


def test_the_handle_is_kept_only_when_the_tables_come_with_the_jpeg(tj, corpus, monkeypatch):
    d = tj._decompressor()
    renewals = []
    original = type(d).renew

    def counted(self):
        renewals.append(self is d)
        return original(self)

    monkeypatch.setattr(type(d), "renew", counted)
    for _ in range(5):
        tj.decode(corpus["baseline"])
    assert sum(renewals) <= 1  # at most the first, after whatever came before
    renewals.clear()
    for _ in range(3):
        tj.decode(corpus["mjpeg-no-dht"])
    assert sum(renewals) == 3
    renewals.clear()
    tj.decode(corpus["baseline"], scale=(1, 2))
    tj.decode(corpus["baseline"])
    tj.decode(corpus["baseline"], crop=(16, 16, 8, 8))
    fresh = turbojpeg.Turbojpeg(tj.lib_path).decode(corpus["baseline"])
    assert np.array_equal(tj.decode(corpus["baseline"]), fresh)  # no scale or crop left set


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


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), keep=st.booleans())
def test_the_table_walk_never_raises(corpus, data, keep):
    head = corpus["baseline"][:200] if keep else b""
    assert _markers.carries_tables(head + data) in (True, False)
