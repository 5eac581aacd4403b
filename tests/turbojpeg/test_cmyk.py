"""CMYK and YCCK JPEGs decode to every pixel format, as Pillow decodes them.

libjpeg-turbo turns them into CMYK pixels only; the rest is our numpy
conversion. The references: Pillow's CMYK JPEG decoder and its CMYK to RGB and
L conversions (its own C code), on JPEGs written by Pillow (CMYK, with
Adobe's marker), by our encoder (YCCK) and with the Adobe marker removed.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

import turbojpeg
from turbojpeg import Colorspace, PixelFormat, TurbojpegError, TurbojpegWarning, _cmyk

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3000" if os.environ.get("CI") else "300"))

# Where R, G, B and the filled channel sit in each format (as in test_decode).
LAYOUTS = {
    "RGB": ([0, 1, 2], None),
    "BGR": ([2, 1, 0], None),
    "RGBA": ([0, 1, 2], 3),
    "BGRA": ([2, 1, 0], 3),
    "ARGB": ([1, 2, 3], 0),
    "ABGR": ([3, 2, 1], 0),
    "RGBX": ([0, 1, 2], 3),
    "BGRX": ([2, 1, 0], 3),
    "XRGB": ([1, 2, 3], 0),
    "XBGR": ([3, 2, 1], 0),
}


def pil_cmyk_jpeg(rgb: np.ndarray, quality: int = 90, **save) -> bytes:
    """A CMYK JPEG as Pillow writes it: Adobe marker, inverted samples."""
    buf = io.BytesIO()
    Image.fromarray(rgb).convert("CMYK").save(buf, "JPEG", quality=quality, **save)
    return buf.getvalue()


def pillow(data: bytes, mode: str) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert(mode))


def without_adobe_marker(jpeg: bytes) -> bytes:
    start = jpeg.index(b"\xff\xee\x00\x0eAdobe")
    length = struct.unpack(">H", jpeg[start + 2 : start + 4])[0]
    return jpeg[:start] + jpeg[start + 2 + length :]


@pytest.fixture(scope="module")
def rgb(photo) -> np.ndarray:
    return np.ascontiguousarray(photo[100:177, 200:301])  # 77 x 101: partial MCUs


@pytest.fixture(scope="module")
def cmyk_jpeg(rgb) -> bytes:
    return pil_cmyk_jpeg(rgb)


def test_conversion_is_pillows_for_every_c_and_k():
    # Every (c, k) pair, with m and y random: Pillow's CMYK mode holds the
    # non-inverted values, so it gets 255 - raw.
    c, k = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    raw = np.random.default_rng(3).integers(0, 256, (256, 256, 4), dtype=np.uint8)
    raw[:, :, 0], raw[:, :, 3] = c, k
    image = Image.fromarray(255 - raw, "CMYK")
    expected = np.asarray(image.convert("RGB"))
    assert np.array_equal(_cmyk.convert(raw, PixelFormat.RGB), expected)
    assert np.array_equal(_cmyk.convert(raw, PixelFormat.GRAY)[:, :, 0], image.convert("L"))
    for name, (order, fill) in LAYOUTS.items():
        out = _cmyk.convert(raw, PixelFormat[name])
        assert out.shape == (256, 256, PixelFormat[name].channels)
        assert np.array_equal(out[:, :, order], expected), name
        if fill is not None:
            assert (out[:, :, fill] == 255).all(), name
    assert _cmyk.convert(raw, PixelFormat.CMYK) is raw


def test_the_formula_in_the_usual_convention():
    # R = 255 (1 - C)(1 - K) with C, K the ink amounts in 0..1, rounded.
    raw = np.array([[[255, 0, 128, 255], [0, 0, 0, 0], [128, 64, 32, 128]]], np.uint8)
    ink = 1 - raw / 255
    expected = np.rint(255 * (1 - ink[:, :, :3]) * (1 - ink[:, :, 3:]))
    assert np.array_equal(_cmyk.rgb_from_cmyk(raw), expected)


@pytest.mark.parametrize("pixel_format", [*LAYOUTS, "GRAY"])
def test_pillow_cmyk_jpeg_decodes_like_pillow(tj, cmyk_jpeg, pixel_format):
    info = tj.decode_header(cmyk_jpeg)
    assert info.colorspace is Colorspace.CMYK
    out = tj.decode(cmyk_jpeg, pixel_format)
    if pixel_format == "GRAY":
        assert out.shape == (77, 101, 1)
        assert np.array_equal(out[:, :, 0], pillow(cmyk_jpeg, "L"))
        return
    order, fill = LAYOUTS[pixel_format]
    assert np.array_equal(out[:, :, order], pillow(cmyk_jpeg, "RGB"))
    if fill is not None:
        assert (out[:, :, fill] == 255).all()


def test_cmyk_pixel_format_returns_the_stored_channels(tj, cmyk_jpeg, rgb):
    raw = tj.decode(cmyk_jpeg, "CMYK")
    assert raw.shape == (77, 101, 4)
    # Pillow's CMYK mode is the inverse of the stored (Adobe) samples.
    assert np.array_equal(raw, 255 - pillow(cmyk_jpeg, "CMYK"))
    # And the round trip lands near the photo it came from (JPEG loss only).
    back = tj.decode(cmyk_jpeg, "RGB").astype(int)
    assert np.abs(back - rgb).mean() < 4


@pytest.mark.parametrize("subsampling", ["444", "420"])
def test_ycck_from_our_encoder(tj, rgb, subsampling):
    data = our_ycck_jpeg(tj, rgb, subsampling)
    assert tj.decode_header(data).colorspace is Colorspace.YCCK
    assert np.array_equal(tj.decode(data, "RGB"), pillow(data, "RGB"))
    assert np.array_equal(tj.decode(data, "GRAY")[:, :, 0], pillow(data, "L"))
    assert np.array_equal(tj.decode(data, "CMYK"), 255 - pillow(data, "CMYK"))


def test_without_adobe_marker_still_inverted_like_pillow(tj, cmyk_jpeg):
    # libjpeg then takes 4 components as CMYK; Pillow, like ImageMagick and
    # browsers, reads every CMYK JPEG in Adobe's inverted convention.
    bare = without_adobe_marker(cmyk_jpeg)
    assert b"Adobe" not in bare
    assert tj.decode_header(bare).colorspace is Colorspace.CMYK
    assert np.array_equal(tj.decode(bare, "RGB"), pillow(bare, "RGB"))
    assert np.array_equal(tj.decode(bare, "BGR"), tj.decode(cmyk_jpeg, "BGR"))


def our_ycck_jpeg(tj, rgb: np.ndarray, subsampling: str = "420") -> bytes:
    cmyk = 255 - np.asarray(Image.fromarray(rgb).convert("CMYK"))  # the stored convention
    return tj.encode(np.ascontiguousarray(cmyk), 90, pixel_format="CMYK", subsampling=subsampling)


@pytest.mark.parametrize("scale", [1, 0.5, 0.125])
@pytest.mark.parametrize("writer", ["pillow", "ours"])
def test_crop_and_scale(tj, rgb, scale, writer):
    data = pil_cmyk_jpeg(rgb) if writer == "pillow" else our_ycck_jpeg(tj, rgb)
    full = tj.decode(data, "BGRA", scale=scale)
    raw = tj.decode(data, "CMYK", scale=scale)
    assert np.array_equal(full, _cmyk.convert(raw, PixelFormat.BGRA))
    height, width = full.shape[:2]
    rng = np.random.default_rng(5)
    crops = [(0, 0, width, height), (1, 2, 5, 7), (width - 3, height - 4, 3, 4)]
    for _ in range(8):
        w, h = int(rng.integers(1, width + 1)), int(rng.integers(1, height + 1))
        crops.append(
            (int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1)), w, h)
        )
    for x, y, w, h in crops:
        region = tj.decode(data, "BGRA", scale=scale, crop=(x, y, w, h))
        assert region.flags.c_contiguous
        assert np.array_equal(region, full[y : y + h, x : x + w]), (x, y, w, h)


def test_min_size_and_out(tj, cmyk_jpeg):
    assert tj.decode(cmyk_jpeg, min_size=(40, 30)).shape == (39, 51, 3)
    expected = tj.decode(cmyk_jpeg, "RGBA")
    out = np.zeros((77, 101, 4), np.uint8)
    assert tj.decode(cmyk_jpeg, "RGBA", out=out) is out
    assert np.array_equal(out, expected)
    region = np.zeros((10, 20, 4), np.uint8)
    assert tj.decode(cmyk_jpeg, "RGBA", crop=(3, 4, 20, 10), out=region) is region
    assert np.array_equal(region, expected[4:14, 3:23])
    gray = np.zeros((77, 101), np.uint8)
    assert tj.decode(cmyk_jpeg, "GRAY", out=gray) is gray
    assert np.array_equal(gray, pillow(cmyk_jpeg, "L"))
    with pytest.raises(ValueError, match="out has shape"):
        tj.decode(cmyk_jpeg, "RGB", out=np.zeros((77, 101, 4), np.uint8))


@pytest.mark.parametrize("orientation", [3, 6])
def test_with_exif_orientation(tj, rgb, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = pil_cmyk_jpeg(rgb, exif=exif.tobytes())
    with Image.open(io.BytesIO(data)) as image:
        reference = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    assert np.array_equal(tj.decode(data, "RGB", apply_exif_orientation=True), reference)
    patch = tj.decode(data, "RGB", crop=(5, 6, 30, 20), apply_exif_orientation=True)
    assert np.array_equal(patch, reference[6:26, 5:35])


def test_decode_many_mixes_cmyk_and_ycbcr(tj, rgb, cmyk_jpeg):
    batch = [cmyk_jpeg, tj.encode(rgb, 90), cmyk_jpeg]
    result = tj.decode_many(batch, pixel_format="RGB", threads=2)
    assert result.shape == (3, 77, 101, 3)
    for image, data in zip(result, batch, strict=True):
        assert np.array_equal(image, tj.decode(data, "RGB"))


def test_damaged_cmyk_jpegs(tj, cmyk_jpeg):
    # Junk between header segments: libjpeg's warning, then the same image.
    dqt = cmyk_jpeg.index(b"\xff\xdb")
    junk = cmyk_jpeg[:dqt] + b"\x00\x00" + cmyk_jpeg[dqt:]
    with pytest.warns(TurbojpegWarning, match="extraneous bytes"):
        image = tj.decode(junk, "RGB")
    assert np.array_equal(image, tj.decode(cmyk_jpeg, "RGB"))
    # Cut short: the usual warning, and a whole image of the right size.
    with pytest.warns(TurbojpegWarning, match="Premature end"):
        assert tj.decode(cmyk_jpeg[: len(cmyk_jpeg) * 2 // 3], "RGB").shape == (77, 101, 3)
    # Cut inside the header: libjpeg's own error, not a conversion error.
    sof = cmyk_jpeg.index(b"\xff\xc0")
    with pytest.raises(TurbojpegError) as caught:
        tj.decode(cmyk_jpeg[: sof + 12], "RGB")
    assert "color conversion" not in str(caught.value)


def test_threads_on_one_instance_match_serial(lib_path, rgb, cmyk_jpeg):
    # CMYK decodes renew the thread's handle after the refused conversion;
    # EXIF-turned and plain decodes run in between on the same handles.
    codec = turbojpeg.Turbojpeg(lib_path)
    exif = Image.Exif()
    exif[0x0112] = 6
    turned = pil_cmyk_jpeg(rgb, exif=exif.tobytes())
    plain = codec.encode(rgb, 90, pixel_format="RGB")
    calls = [
        (cmyk_jpeg, {"pixel_format": "RGB"}),
        (cmyk_jpeg, {"pixel_format": "GRAY", "crop": (3, 4, 50, 40)}),
        (turned, {"apply_exif_orientation": True, "scale": 0.5}),
        (plain, {"pixel_format": "RGBA"}),
    ]
    expected = [codec.decode(data, **options) for data, options in calls]
    barrier = threading.Barrier(4)

    def work(offset: int) -> bool:
        barrier.wait()
        ok = True
        for j in range(40):
            i = (j + offset) % len(calls)
            data, options = calls[i]
            ok &= np.array_equal(codec.decode(data, **options), expected[i])
        return ok

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(4)))


def test_memory_stays_flat_over_many_cmyk_decodes(lib_path, cmyk_jpeg):
    codec = turbojpeg.Turbojpeg(lib_path)

    def churn(n: int) -> None:
        for _ in range(n):
            codec.decode(cmyk_jpeg, "RGB")
            codec.decode(cmyk_jpeg, "GRAY", crop=(5, 5, 30, 30), apply_exif_orientation=True)
            with contextlib.suppress(TurbojpegError):
                codec.decode(cmyk_jpeg[:300], "RGB")

    process = psutil.Process()
    churn(100)
    before = process.memory_info().rss
    churn(1500)
    grown = process.memory_info().rss - before
    # A leaked handle or image per call would add well over 100 MB.
    assert grown < 30 * 2**20, f"RSS grew by {grown / 2**20:.1f} MB"


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 7)), min_size=1, max_size=6),
    pixel_format=st.sampled_from(["RGB", "GRAY", "BGRA", "CMYK"]),
    crop=st.booleans(),
)
def test_fuzz_bit_flipped_cmyk_jpegs(tj, cmyk_jpeg, flips, pixel_format, crop):
    data = bytearray(cmyk_jpeg)
    for position, bit in flips:
        data[position % 700] ^= 1 << bit  # the header, where the colorspace is decided
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurbojpegWarning)
        try:
            image = tj.decode(bytes(data), pixel_format, crop=(3, 3, 20, 20) if crop else None)
        except TurbojpegError as exc:
            error = exc
        except ValueError as exc:  # a flipped bit can shrink the image below the crop
            error = exc
        else:
            error = None
    if error is not None:
        assert str(error)
        assert crop or not isinstance(error, ValueError), f"ValueError without a crop: {error}"
        return
    assert image.dtype == np.uint8
    assert image.ndim == 3
    assert image.shape[2] == PixelFormat[pixel_format].channels
