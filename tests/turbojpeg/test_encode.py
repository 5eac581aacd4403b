"""Encoding: roundtrip quality, options, input layouts and validation."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import structural_similarity

import turbojpeg
from turbojpeg import Subsampling, UnsupportedFeatureError


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    return structural_similarity(a, b, channel_axis=2 if a.ndim == 3 else None)


@pytest.mark.parametrize(("quality", "min_ssim"), [(95, 0.97), (80, 0.90), (50, 0.85)])
@pytest.mark.parametrize("subsampling", ["444", "422", "420"])
def test_roundtrip_keeps_the_picture(tj, photo, quality, min_ssim, subsampling):
    bgr = np.ascontiguousarray(photo[:, :, ::-1])
    data = tj.encode(bgr, quality, subsampling=subsampling)
    assert data[:2] == b"\xff\xd8"
    assert data[-2:] == b"\xff\xd9"
    back = tj.decode(data)
    assert ssim(bgr, back) > min_ssim
    assert tj.decode_header(data).subsampling is Subsampling.parse(subsampling)


def test_independent_decoder_reads_our_jpeg(tj, photo):
    data = tj.encode(photo, 92, pixel_format="RGB")
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (512, 512)
        assert img.mode == "RGB"
        assert np.array_equal(np.asarray(img), tj.decode(data, "RGB"))


def test_quality_orders_size(tj, photo):
    sizes = [len(tj.encode(photo, q, pixel_format="RGB")) for q in (30, 60, 90, 100)]
    assert sizes == sorted(sizes)
    assert sizes[0] < sizes[-1] / 3


def test_pixel_formats_describe_the_same_image(tj, photo):
    bgr = np.ascontiguousarray(photo[:, :, ::-1])
    reference = tj.encode(bgr, 90)
    assert tj.encode(photo, 90, pixel_format="RGB") == reference
    bgra = np.dstack([bgr, np.full(bgr.shape[:2], 7, np.uint8)])
    assert tj.encode(bgra, 90, pixel_format="BGRA") == reference


def test_gray_images(tj, photo):
    gray = np.asarray(Image.fromarray(photo).convert("L"))
    data = tj.encode(gray, 90)
    info = tj.decode_header(data)
    assert info.subsampling is Subsampling.GRAY
    assert tj.encode(gray[:, :, None], 90) == data
    assert ssim(gray, tj.decode(data, "GRAY")[:, :, 0]) > 0.95
    assert tj.encode(gray, 90, pixel_format="GRAY", subsampling="444") == data


def test_padded_rows_need_no_copy(tj, photo):
    bgr = np.ascontiguousarray(photo[:, :, ::-1])
    view = bgr[10:300, 20:400]  # rows padded: stride is the full width
    assert not view.flags.c_contiguous
    assert tj.encode(view, 90) == tj.encode(np.ascontiguousarray(view), 90)


def test_progressive_and_optimize(tj, photo):
    base = tj.encode(photo, 90, pixel_format="RGB")
    progressive = tj.encode(photo, 90, pixel_format="RGB", progressive=True)
    assert b"\xff\xc2" in progressive
    assert b"\xff\xc2" not in base
    assert np.array_equal(tj.decode(progressive), tj.decode(base))
    if tj.api_generation == 3:
        optimized = tj.encode(photo, 90, pixel_format="RGB", optimize=True)
        assert len(optimized) < len(base)
        assert np.array_equal(tj.decode(optimized), tj.decode(base))
    else:
        with pytest.raises(UnsupportedFeatureError, match="optimize=True needs libjpeg-turbo >= 3"):
            tj.encode(photo, 90, optimize=True)


def test_baseline_after_progressive_on_one_handle(tj, photo):
    # libjpeg-turbo 2.x keeps the progression script in a reused handle.
    baseline = tj.encode(photo, 90, pixel_format="RGB")
    tj.encode(photo, 90, pixel_format="RGB", progressive=True)
    assert tj.encode(photo, 90, pixel_format="RGB") == baseline


def test_fast_dct_encode_stops_at_quality_96_on_both_generations(tj, photo):
    # libjpeg-turbo's fast DCT is slower and less accurate above quality 97;
    # its TurboJPEG 2 API ignores the flag from 96 on, and so do we on 3.x.
    for quality in (96, 99, 100):
        assert tj.encode(photo, quality, pixel_format="RGB", fast_dct=True) == tj.encode(
            photo, quality, pixel_format="RGB"
        )
    assert tj.encode(photo, 95, pixel_format="RGB", fast_dct=True) != tj.encode(
        photo, 95, pixel_format="RGB"
    )


def test_fast_dct_encode_differs_but_stays_close(tj, photo):
    accurate = tj.encode(photo, 90, pixel_format="RGB")
    fast = tj.encode(photo, 90, pixel_format="RGB", fast_dct=True)
    assert fast != accurate
    assert ssim(tj.decode(fast), tj.decode(accurate)) > 0.98


def test_yuv_roundtrip(tj, photo):
    for subsampling in ("444", "422", "420"):
        data = tj.encode(photo[:37, :61], 95, pixel_format="RGB", subsampling=subsampling)
        planes = tj.decode_yuv(data)
        again = tj.encode_yuv(planes, 95, size=(61, 37))
        info = tj.decode_header(again)
        assert (info.width, info.height, info.subsampling) == (
            61,
            37,
            Subsampling.parse(subsampling),
        )
        assert ssim(tj.decode(again), tj.decode(data)) > 0.97
    gray = tj.decode_yuv(tj.encode(np.ascontiguousarray(photo[:, :, 0]), 90))
    assert tj.decode_header(tj.encode_yuv(gray, 90)).subsampling is Subsampling.GRAY


def test_yuv_planes_must_match_a_subsampling(tj):
    planes = [np.zeros((16, 16), np.uint8), np.zeros((5, 5), np.uint8), np.zeros((5, 5), np.uint8)]
    with pytest.raises(ValueError, match="match no subsampling"):
        tj.encode_yuv(planes)
    with pytest.raises(ValueError, match=r"expected 1 .* or 3"):
        tj.encode_yuv(planes[:2])
    with pytest.raises(TypeError, match="plane 1 must be a 2-D uint8"):
        tj.encode_yuv([planes[0], planes[1].astype(np.int16), planes[2]])


@pytest.mark.parametrize(
    ("image", "kwargs", "error", "message"),
    [
        ([[1, 2], [3, 4]], {}, TypeError, "numpy array, not list"),
        (np.zeros((8, 8, 3), np.float64), {}, TypeError, "dtype uint8 or uint16 .*, not float64"),
        (np.zeros((8, 8, 3, 1), np.uint8), {}, ValueError, "must be \\(height, width"),
        (np.zeros((8, 8, 2), np.uint8), {}, ValueError, "1, 3 or 4 channels, not 2"),
        (np.zeros((0, 8, 3), np.uint8), {}, ValueError, "empty"),
        (np.zeros((8, 8, 4), np.uint8), {}, ValueError, "4 channels but pixel_format BGR has 3"),
        (np.zeros((8, 16, 3), np.uint8)[:, ::2], {}, ValueError, "contiguous within each row"),
        (np.zeros((8, 8, 3), np.uint8)[::-1], {}, ValueError, "contiguous within each row"),
        (
            np.zeros((8, 8, 3), np.uint8),
            {"quality": 0},
            ValueError,
            "quality must be an int from 1",
        ),
        (np.zeros((8, 8, 3), np.uint8), {"quality": 101}, ValueError, "quality"),
        (np.zeros((8, 8, 3), np.uint8), {"quality": 9.5}, ValueError, "quality"),
        (np.zeros((8, 8, 3), np.uint8), {"subsampling": "423"}, ValueError, "unknown subsampling"),
        (
            np.zeros((8, 8, 3), np.uint8),
            {"pixel_format": "HSV"},
            ValueError,
            "unknown pixel_format",
        ),
    ],
)
def test_bad_images_are_refused_with_the_reason(tj, image, kwargs, error, message):
    with pytest.raises(error, match=message):
        tj.encode(image, **kwargs)


def test_arguments_seen_before_are_still_checked(tj, photo):
    """encode keeps the settings of each new set of lossy arguments. A value
    equal to a kept one but refused on its own (90.0 == 90, True == 1) is
    still refused, and a flag that is not hashable still counts by its truth."""
    small = np.ascontiguousarray(photo[:16, :16])
    tj.encode(small, 90)
    tj.encode(small, 1)
    with pytest.raises(ValueError, match=r"quality must be an int from 1 to 100, not 90\.0"):
        tj.encode(small, 90.0)
    with pytest.raises(ValueError, match="quality must be an int from 1 to 100, not True"):
        tj.encode(small, True)
    assert tj.encode(small, np.int64(90)) == tj.encode(small, 90)
    assert tj.encode(small, 90, progressive=[1]) == tj.encode(small, 90, progressive=True)


def test_a_compressor_is_configured_only_when_the_settings_change(tj, photo, monkeypatch):
    small = np.ascontiguousarray(photo[:16, :16])
    fresh = turbojpeg.Turbojpeg(tj.lib_path)
    handle = type(fresh._compressor())
    sent = []
    configure = handle.configure
    monkeypatch.setattr(handle, "configure", lambda c, *a: sent.append(a) or configure(c, *a))
    for _ in range(3):
        fresh.encode(small, 80)
    # The same settings from other arguments, and from encode_yuv.
    fresh.encode(small, 80, subsampling="420", fast_dct=False)
    fresh.encode_yuv(fresh.decode_yuv(fresh.encode(small, 80)), 80)
    assert len(sent) == 1
    fresh.encode(small, 70)
    fresh.encode(small, 70, progressive=True)
    assert len(sent) == 3


def test_read_only_images_encode(tj, photo):
    frozen = photo.copy()
    frozen.flags.writeable = False
    assert tj.encode(frozen, 90, pixel_format="RGB") == tj.encode(photo, 90, pixel_format="RGB")


def test_many_sizes_reuse_one_growing_buffer(tj, photo):
    # The per-thread output buffer is reused; a bigger image after a smaller
    # one must grow it, not overflow it.
    for size in (8, 512, 16, 300, 512):
        data = tj.encode(photo[:size, :size], 100, pixel_format="RGB", subsampling="444")
        assert tj.decode_header(data).shape == (size, size)
