"""No pixel depends on the image decoded before. libjpeg keeps tables from one
image to the next on a decompressor, so an image starts on a new handle unless
it begins with the self-contained header of the last one decoded there
(``_tj3.Tj3Decompressor``, ``_markers.self_contained_header``)."""

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
    # Another picture under the very same header (size, quality, tables).
    twin = pil_jpeg(photo[100:148, 200:240], 90, "420")
    assert twin[: _sos_end(twin)] == baseline[: _sos_end(baseline)]
    # After its scan, a DHT that redefines every luma slot with the optimized
    # JPEG's tables: libjpeg loads it while finishing, so a kept handle holds
    # it when the next image begins.
    optimized_dht = b"".join(optimized[a:b] for m, a, b in _segments(optimized) if m == 0xC4)
    trailing_dht = baseline[:-2] + optimized_dht + baseline[-2:]
    return {
        "baseline": baseline,
        "baseline-twin": twin,
        "trailing-dht": trailing_dht,
        # The same header, its scan cut short: a warning, on any handle.
        "truncated": baseline[: len(baseline) * 2 // 3],
        "optimized-444": optimized,
        "progressive": pil_jpeg(small, 75, "420", progressive=True),
        "gray": pil_jpeg(small, 90, "gray"),
        "mjpeg-no-dht": no_dht,
        "luma-dht-only": luma_dht_only,
        "no-dqt-slot": bytes(no_dqt),
    }


def _sos_end(jpeg: bytes) -> int:
    start = jpeg.index(b"\xff\xda")
    return start + 2 + int.from_bytes(jpeg[start + 2 : start + 4], "big")


def _new_handles(tj3, corpus, names) -> int:
    """How many new handles decoding ``names`` in turn takes, on a new Turbojpeg."""
    tj = turbojpeg.Turbojpeg(tj3.lib_path)
    hot = tj._decompressor().api.hot
    made = []
    init = hot.init
    hot.init = lambda init_type: made.append(init_type) or init(init_type)
    try:
        for name in names:
            tj.decode(corpus[name])
    finally:
        hot.init = init
    return len(made)


@pytest.fixture(scope="module")
def tj3(tj3_path) -> turbojpeg.Turbojpeg:
    return turbojpeg.Turbojpeg(tj3_path)


def test_a_stream_from_one_source_keeps_the_handle(tj3, corpus):
    """The first two images start on new handles (the second one's header is
    walked, as its first bytes match the first's); every later one is kept."""
    assert _new_handles(tj3, corpus, ["baseline"] * 6) == 2
    # Another picture with the same header keeps it too.
    assert _new_handles(tj3, corpus, ["baseline", "baseline-twin"] * 3) == 2


def test_photos_of_other_sizes_from_one_encoder_are_never_walked(tj3, photo, monkeypatch):
    """One encoder at one quality writes the same first bytes (APP0, DQT) whatever
    the size, but the headers differ: walking them would be wasted work."""
    jpegs = [pil_jpeg(photo[:h, :w], 90, "420") for h, w in ((48, 40), (56, 40), (48, 64))]
    assert len({j[:64] for j in jpegs}) == 1
    walks = []
    walk = _markers.self_contained_header
    monkeypatch.setattr(_markers, "self_contained_header", lambda d: walks.append(1) or walk(d))
    tj = turbojpeg.Turbojpeg(tj3.lib_path)
    for data in jpegs * 3:
        tj.decode(data)
    assert walks == []
    # The same size again, and it is walked once and then kept.
    for _ in range(4):
        tj.decode(jpegs[0])
    assert walks == [1]
    assert tj._decompressor().kept_for is not None


@pytest.mark.parametrize("name", ["mjpeg-no-dht", "luma-dht-only", "progressive"])
def test_a_jpeg_that_needs_an_earlier_table_never_keeps_it(tj3, corpus, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurbojpegWarning)
        assert _new_handles(tj3, corpus, [name] * 4) == 4


def test_a_jpeg_with_an_undefined_table_raises_every_time(tj3, corpus):
    """A failed decode never leaves a handle to keep."""
    tj = turbojpeg.Turbojpeg(tj3.lib_path)
    for _ in range(4):
        with pytest.raises(TurbojpegError):
            tj.decode(corpus["no-dqt-slot"])
        assert tj._decompressor().kept_for is None


def test_a_kept_handle_still_checks_the_size_and_answers_headers(tj3, corpus):
    tj = turbojpeg.Turbojpeg(tj3.lib_path)
    for _ in range(3):
        tj.decode(corpus["baseline"])
    assert tj._decompressor().kept_for is not None
    info = tj.decode_header(corpus["baseline-twin"])
    assert info == turbojpeg.Turbojpeg(tj3.lib_path).decode_header(corpus["baseline-twin"])
    for _ in range(3):
        tj.decode(corpus["baseline"])
    height, width = tj.decode(corpus["baseline"]).shape[:2]
    tj.max_pixels = width * height - 1
    with pytest.raises(turbojpeg.ImageTooLargeError, match="max_pixels"):
        tj.decode(corpus["baseline"])


def test_any_other_jpeg_breaks_the_stream(tj3, corpus):
    other = "optimized-444"  # quality 60: its first bytes (the DQT) differ
    names = ["baseline", "baseline", "baseline", other, "baseline", "baseline", "baseline"]
    # New: the 1st, the 2nd (walked); kept: the 3rd. New: the other one, the
    # next baseline (its first bytes differ from the other's), and one walked;
    # kept: the last.
    assert _new_handles(tj3, corpus, names) == 5
    # Gray at the same quality begins with the same bytes, so its header is
    # walked at once, and the baseline after it is walked in turn.
    names = ["baseline", "baseline", "gray", "gray", "baseline", "baseline"]
    assert _new_handles(tj3, corpus, names) == 4


@pytest.mark.parametrize(
    ("name", "contained"),
    [
        ("baseline", True),
        ("baseline-twin", True),
        ("trailing-dht", True),
        ("optimized-444", True),
        ("gray", True),
        ("progressive", False),
        ("mjpeg-no-dht", False),
        ("luma-dht-only", False),
        ("no-dqt-slot", False),
    ],
)
def test_self_contained_header(corpus, name, contained):
    data = corpus[name]
    assert _markers.self_contained_header(data) == (_sos_end(data) if contained else 0)


def test_self_contained_header_refuses_other_frames(tj3, photo):
    small = np.ascontiguousarray(photo[:32, :32])
    plain = tj3.encode(small)
    assert _markers.self_contained_header(plain) == _sos_end(plain)
    others = {
        "lossless": tj3.encode(small, lossless=True),
        "progressive": tj3.encode(small, progressive=True),
        "arithmetic": tj3.transform(plain, arithmetic=True),
    }
    for name, data in others.items():
        assert _markers.self_contained_header(data) == 0, name
    # A scan of one component of three: more scans follow, with their own tables.
    end = _sos_end(plain)
    sos = plain.index(b"\xff\xda")
    one = plain[:sos] + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + plain[end:]
    assert _markers.self_contained_header(one) == 0


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_self_contained_header_never_raises(data):
    end = _markers.self_contained_header(b"\xff\xd8" + data)
    assert 0 <= end <= len(data) + 2


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
@given(order=st.lists(st.integers(0, 9), min_size=2, max_size=10))
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


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4))
def test_a_changed_header_decodes_as_on_a_new_handle(tj3, corpus, edits):
    """Bytes of the header changed (slot numbers, table classes, counts, the
    frame): after a stream of the original, each edit decodes exactly as on a
    new Turbojpeg, however often it repeats."""
    baseline = corpus["baseline"]
    end = _sos_end(baseline)
    edited = bytearray(baseline)
    for at, value in edits:
        edited[2 + at % (end - 2)] = value
    edited = bytes(edited)
    fresh = _decode(turbojpeg.Turbojpeg(tj3.lib_path), edited)
    tj = turbojpeg.Turbojpeg(tj3.lib_path)
    for data in (baseline, baseline, baseline, edited, edited, edited, baseline):
        got = _decode(tj, data)
        want = fresh if data is edited else _decode(turbojpeg.Turbojpeg(tj3.lib_path), data)
        if isinstance(want, str):
            assert got == want
        else:
            assert isinstance(got, np.ndarray), got
            assert np.array_equal(got, want)
