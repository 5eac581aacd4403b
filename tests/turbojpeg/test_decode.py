"""Decoding: pixels, formats, modes, scaling, cropping and in-place output."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio

from turbojpeg import Colorspace, PixelFormat, Subsampling, TurbojpegError

from .conftest import pil_jpeg

SUBSAMPLINGS = ["444", "422", "420", "gray"]
# Odd and tiny sizes exercise partial MCUs and the edge handling of upsampling.
SIZES = [(1, 1), (17, 9), (37, 23), (64, 48), (301, 333)]


def reference_decode(data: bytes, mode: str) -> np.ndarray:
    """Pillow's decoder (libjpeg-turbo inside, accurate DCT, fancy upsampling)."""
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert(mode) if img.mode != mode else img)


@pytest.mark.parametrize("subsampling", SUBSAMPLINGS)
@pytest.mark.parametrize(("height", "width"), SIZES)
def test_accurate_decode_matches_independent_decoder(tj, photo, subsampling, height, width):
    data = pil_jpeg(photo[:height, :width], 92, subsampling)
    if subsampling == "gray":
        expected = reference_decode(data, "L")
        assert np.array_equal(tj.decode(data, "GRAY")[:, :, 0], expected)
        # A gray JPEG expands to equal channels in every colour format.
        bgr = tj.decode(data)
        assert np.array_equal(bgr, np.repeat(expected[:, :, None], 3, axis=2))
        return
    rgb = reference_decode(data, "RGB")
    assert np.array_equal(tj.decode(data, "RGB"), rgb)
    assert np.array_equal(tj.decode(data, "BGR"), rgb[:, :, ::-1])
    # OpenCV is a second, separately built decoder for BGR.
    assert np.array_equal(
        tj.decode(data), cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    )


@pytest.mark.parametrize(
    ("pixel_format", "order", "alpha"),
    [
        ("RGBA", [0, 1, 2], 3),
        ("BGRA", [2, 1, 0], 3),
        ("ARGB", [1, 2, 3], 0),
        ("ABGR", [3, 2, 1], 0),
        ("RGBX", [0, 1, 2], None),
        ("BGRX", [2, 1, 0], None),
        ("XRGB", [1, 2, 3], None),
        ("XBGR", [3, 2, 1], None),
    ],
)
def test_four_channel_formats(tj, photo_jpeg, pixel_format, order, alpha):
    rgb = reference_decode(photo_jpeg, "RGB")
    out = tj.decode(photo_jpeg, pixel_format)
    assert out.shape == (*rgb.shape[:2], 4)
    assert np.array_equal(out[:, :, order], rgb)
    if alpha is not None:
        assert (out[:, :, alpha] == 255).all()


def test_gray_output_of_colour_jpeg_is_luma(tj, photo_jpeg):
    expected = cv2.imdecode(np.frombuffer(photo_jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    gray = tj.decode(photo_jpeg, PixelFormat.GRAY)
    assert gray.shape == (*expected.shape, 1)
    assert np.array_equal(gray[:, :, 0], expected)


def test_pixel_format_names_are_case_insensitive(tj, photo_jpeg):
    assert np.array_equal(tj.decode(photo_jpeg, "rgb"), tj.decode(photo_jpeg, PixelFormat.RGB))
    with pytest.raises(ValueError, match="unknown pixel_format 'YUV'"):
        tj.decode(photo_jpeg, "YUV")


@pytest.mark.parametrize(
    ("mode", "min_psnr"),
    # Fast integer DCT loses a little precision; fast (nearest) upsampling more
    # at colour edges. The bounds sit well below what real photos give (~45 dB
    # and ~38 dB here) but far above a broken decode (~10 dB).
    [
        ({"fast_dct": True}, 40.0),
        ({"fast_upsample": True}, 32.0),
        ({"fast_dct": True, "fast_upsample": True}, 32.0),
    ],
)
def test_fast_modes_stay_close_to_accurate(tj, photo_jpeg, mode, min_psnr):
    accurate = tj.decode(photo_jpeg)
    fast = tj.decode(photo_jpeg, **mode)
    assert not np.array_equal(fast, accurate), "the fast mode was not applied"
    assert peak_signal_noise_ratio(accurate, fast) > min_psnr


def test_constructor_sets_default_mode_and_call_overrides_it(lib_path, photo_jpeg):
    import turbojpeg

    fast = turbojpeg.Turbojpeg(lib_path, fast_dct=True, fast_upsample=True)
    accurate = turbojpeg.Turbojpeg(lib_path)
    assert np.array_equal(
        fast.decode(photo_jpeg), accurate.decode(photo_jpeg, fast_dct=True, fast_upsample=True)
    )
    assert np.array_equal(
        fast.decode(photo_jpeg, fast_dct=False, fast_upsample=False), accurate.decode(photo_jpeg)
    )


def test_decode_header(tj, photo):
    for subsampling, expected in [
        ("444", Subsampling.S444),
        ("422", Subsampling.S422),
        ("420", Subsampling.S420),
        ("gray", Subsampling.GRAY),
    ]:
        info = tj.decode_header(pil_jpeg(photo[:37, :61], 90, subsampling))
        assert (info.width, info.height, info.shape) == (61, 37, (37, 61))
        assert info.subsampling is expected
        assert info.colorspace is (Colorspace.GRAY if subsampling == "gray" else Colorspace.YCbCr)
    progressive = tj.decode_header(pil_jpeg(photo, 90, "420", progressive=True))
    # The 2.x API does not say: the TJ2 backend reads the frame header itself.
    assert progressive.progressive is True
    assert progressive.precision == 8
    assert (progressive.lossless, progressive.arithmetic) == (False, False)
    assert info.progressive is False


def test_scaled_decode_matches_libjpeg_scaling_in_opencv(tj, photo_jpeg):
    # OpenCV's IMREAD_REDUCED_* asks libjpeg for the same DCT scaling.
    for factor, flag in [
        (2, cv2.IMREAD_REDUCED_COLOR_2),
        (4, cv2.IMREAD_REDUCED_COLOR_4),
        (8, cv2.IMREAD_REDUCED_COLOR_8),
    ]:
        expected = cv2.imdecode(np.frombuffer(photo_jpeg, np.uint8), flag)
        assert np.array_equal(tj.decode(photo_jpeg, scale=(1, factor)), expected)
        assert np.array_equal(tj.decode(photo_jpeg, scale=1 / factor), expected)


def test_scale_shapes_and_errors(tj, photo_jpeg):
    assert tj.decode(photo_jpeg, scale=(3, 8)).shape == (192, 192, 3)
    assert tj.decode(photo_jpeg, scale=(1, 1)).shape == (512, 512, 3)
    with pytest.raises(ValueError, match="not a TurboJPEG scaling factor"):
        tj.decode(photo_jpeg, scale=(1, 3))
    with pytest.raises(ValueError, match="either scale or min_size"):
        tj.decode(photo_jpeg, scale=0.5, min_size=10)


@pytest.mark.parametrize(
    ("min_size", "shape"),
    [
        (100, (128, 128)),
        ((64, 64), (64, 64)),
        ((65, 10), (128, 128)),
        ((257, 1), (320, 320)),
        (10_000, (512, 512)),
    ],
)
def test_min_size_picks_smallest_sufficient_scale(tj, photo_jpeg, min_size, shape):
    assert tj.decode(photo_jpeg, min_size=min_size).shape[:2] == shape


@pytest.mark.parametrize("subsampling", SUBSAMPLINGS)
@pytest.mark.parametrize("fast_upsample", [False, True])
@pytest.mark.parametrize("scale", [1, 0.5, 0.125, 2])
def test_crop_equals_slice_of_full_decode(tj, photo, subsampling, fast_upsample, scale):
    data = pil_jpeg(photo[:301, :333], 90, subsampling)
    full = tj.decode(data, fast_upsample=fast_upsample, scale=scale)
    height, width = full.shape[:2]
    rng = np.random.default_rng(7)
    crops = [(0, 0, width, height), (0, 0, 1, 1), (width - 1, height - 1, 1, 1), (16, 16, 16, 16)]
    for _ in range(40):
        w, h = int(rng.integers(1, width + 1)), int(rng.integers(1, height + 1))
        crops.append(
            (int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1)), w, h)
        )
    for x, y, w, h in crops:
        if x + w > width or y + h > height:
            continue
        region = tj.decode(data, crop=(x, y, w, h), fast_upsample=fast_upsample, scale=scale)
        assert region.shape == (h, w, 3)
        assert region.flags.c_contiguous
        assert np.array_equal(region, full[y : y + h, x : x + w]), (x, y, w, h)


def test_crop_is_validated(tj, photo_jpeg):
    with pytest.raises(ValueError, match="does not fit in the 512x512 output"):
        tj.decode(photo_jpeg, crop=(500, 0, 20, 20))
    with pytest.raises(ValueError, match="does not fit"):
        tj.decode(photo_jpeg, crop=(0, 0, 0, 5))
    with pytest.raises(TypeError, match=r"crop must be \(x, y, width, height\)"):
        tj.decode(photo_jpeg, crop=(1, 2))


def test_crop_and_scale_do_not_leak_into_the_next_call(tj, photo_jpeg):
    tj.decode(photo_jpeg, crop=(32, 32, 64, 64), scale=0.5)
    assert np.array_equal(tj.decode(photo_jpeg), reference_decode(photo_jpeg, "RGB")[:, :, ::-1])


def test_out_is_written_in_place(tj, photo_jpeg):
    out = np.zeros((512, 512, 3), np.uint8)
    result = tj.decode(photo_jpeg, out=out)
    assert result is out
    assert np.array_equal(out, tj.decode(photo_jpeg))
    crop = np.zeros((40, 50, 3), np.uint8)
    assert tj.decode(photo_jpeg, crop=(3, 5, 50, 40), out=crop) is crop
    assert np.array_equal(crop, tj.decode(photo_jpeg)[5:45, 3:53])
    gray = np.zeros((512, 512), np.uint8)
    assert tj.decode(photo_jpeg, "GRAY", out=gray) is gray
    assert gray.any()


@pytest.mark.parametrize(
    ("out", "error", "message"),
    [
        (np.zeros((512, 512, 3), np.float32), TypeError, "dtype uint8"),
        (np.zeros((512, 511, 3), np.uint8), ValueError, r"shape \(512, 511, 3\)"),
        (np.zeros((512, 1024, 3), np.uint8)[:, ::2], ValueError, "C-contiguous"),
        ([0] * 10, TypeError, "numpy array"),
    ],
)
def test_bad_out_is_refused(tj, photo_jpeg, out, error, message):
    with pytest.raises(error, match=message):
        tj.decode(photo_jpeg, out=out)


def test_read_only_out_is_refused(tj, photo_jpeg):
    out = np.zeros((512, 512, 3), np.uint8)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        tj.decode(photo_jpeg, out=out)


@pytest.mark.parametrize(
    "wrap",
    [
        bytes,
        bytearray,
        memoryview,
        lambda b: np.frombuffer(b, np.uint8),
        lambda b: memoryview(bytearray(b)),
    ],
)
def test_any_bytes_like_input(tj, photo_jpeg, wrap):
    assert np.array_equal(tj.decode(wrap(photo_jpeg)), tj.decode(photo_jpeg))


def test_decode_yuv_planes(tj, photo):
    # TurboJPEG pads the luma plane to whole chroma blocks.
    for subsampling, luma, chroma in [
        ("444", (37, 61), (37, 61)),
        ("422", (37, 62), (37, 31)),
        ("420", (38, 62), (19, 31)),
    ]:
        data = pil_jpeg(photo[:37, :61], 90, subsampling)
        y, cb, cr = tj.decode_yuv(data)
        assert y.shape == luma
        assert cb.shape == cr.shape == chroma
        # The luma plane is exactly what a gray decode gives.
        assert np.array_equal(y[:37, :61], tj.decode(data, "GRAY")[:, :, 0])
    gray_planes = tj.decode_yuv(pil_jpeg(photo[:37, :61], 90, "gray"))
    assert len(gray_planes) == 1
    assert gray_planes[0].shape == (37, 61)
    half = tj.decode_yuv(pil_jpeg(photo, 90, "420"), scale=0.5)
    assert [p.shape for p in half] == [(256, 256), (128, 128), (128, 128)]


def test_unknown_subsampling_decodes_but_has_no_yuv(tj):
    # 4x2 luma sampling ("4:1:0") is outside TurboJPEG's list. Made with
    # libjpeg-turbo's `cjpeg -sample 4x2,1x1,1x1` from a crop of the photo.
    data = (Path(__file__).parent / "data" / "sampling-4x2.jpg").read_bytes()
    if tj.api_generation == 2:
        with pytest.raises(TurbojpegError, match="Could not determine subsampling"):
            tj.decode(data)
        return
    assert tj.decode_header(data).subsampling is None
    full = tj.decode(data)
    assert full.shape == (64, 96, 3)
    assert np.array_equal(full, cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))
    # No cropping region for such a JPEG: the crop is cut from a full decode.
    assert np.array_equal(tj.decode(data, crop=(10, 12, 20, 30)), full[12:42, 10:30])
    with pytest.raises(TurbojpegError, match="cannot be decoded to YUV"):
        tj.decode_yuv(data)


def without_huffman_tables(jpeg: bytes) -> bytes:
    """The JPEG with its DHT segments removed, as MJPEG cameras write frames."""
    out, i = bytearray(jpeg[:2]), 2
    while jpeg[i + 1] != 0xDA:
        length = int.from_bytes(jpeg[i + 2 : i + 4], "big")
        if jpeg[i + 1] != 0xC4:
            out += jpeg[i : i + 2 + length]
        i += 2 + length
    return bytes(out + jpeg[i:])


def test_tables_never_carry_over_from_the_previous_image(tj, photo):
    # libjpeg keeps tables between images on one handle. An MJPEG frame (no
    # DHT) must use the standard tables, not the previous JPEG's optimised ones.
    frame = without_huffman_tables(pil_jpeg(photo, 90, "420"))
    expected = reference_decode(frame, "RGB")
    tj.decode(pil_jpeg(photo[:64, :64], 90, "444", optimize=True))
    assert np.array_equal(tj.decode(frame, "RGB"), expected)
    # A JPEG with no quantization table fails the same way every time.
    no_dqt = bytearray(pil_jpeg(photo[:32, :32], 90, "420"))
    dqt = no_dqt.index(b"\xff\xdb")
    no_dqt[dqt + 4] = 0x03  # the table is stored in slot 3, which no component uses
    for _ in range(2):
        tj.decode(pil_jpeg(photo[:32, :32], 90, "420"))
        with pytest.raises(TurbojpegError, match="Quantization table 0x00 was not defined"):
            tj.decode(bytes(no_dqt))
