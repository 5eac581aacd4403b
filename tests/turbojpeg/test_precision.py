"""12-bit, 16-bit and lossless JPEG, against libjpeg-turbo's own cjpeg and djpeg.

cjpeg and djpeg come from the same libjpeg-turbo 3.1 build as the TurboJPEG
library under test, but go through libjpeg's API, not TurboJPEG's: our
12-bit and lossless encodes must be the very bytes cjpeg writes, and our
decodes the very samples djpeg writes. The sources are libjpeg-turbo's test
images (testorig12.jpg is 12-bit; monkey16.ppm/pgm are 16-bit).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import turbojpeg
from turbojpeg import (
    Colorspace,
    Subsampling,
    TurbojpegError,
    TurbojpegWarning,
    UnsupportedFeatureError,
)

from ._tools import read_pnm, run, write_pnm
from .conftest import pil_jpeg


@pytest.fixture(scope="module")
def jpeg12(testimages) -> bytes:
    return (testimages / "testorig12.jpg").read_bytes()


@pytest.fixture(scope="module")
def monkey16(testimages) -> np.ndarray:
    """A 16-bit RGB photo (227 rows, 149 columns)."""
    return read_pnm((testimages / "monkey16.ppm").read_bytes())


@pytest.fixture(scope="module")
def monkey16_gray(testimages) -> np.ndarray:
    return read_pnm((testimages / "monkey16.pgm").read_bytes())


def at_precision(image16: np.ndarray, precision: int) -> np.ndarray:
    """The 16-bit image's top ``precision`` bits, in the dtype encode takes for them."""
    samples = image16 >> (16 - precision)
    return np.ascontiguousarray(samples.astype(np.uint8 if precision <= 8 else np.uint16))


def squeeze(image: np.ndarray) -> np.ndarray:
    return image[:, :, 0] if image.shape[2] == 1 else image


# -- TurboJPEG 3: decoding against djpeg ---------------------------------------------


def test_12bit_jpeg_decodes_to_uint16_like_djpeg(tj3_path, jpeg_tools, jpeg12):
    tj = turbojpeg.Turbojpeg(tj3_path)
    info = tj.decode_header(jpeg12)
    assert (info.width, info.height, info.precision, info.lossless) == (227, 149, 12, False)
    assert info.dtype == "uint16"
    assert info.subsampling is Subsampling.S420
    rgb = tj.decode(jpeg12, "RGB")
    assert rgb.dtype == np.uint16
    assert rgb.shape == (149, 227, 3)
    reference = read_pnm(run(jpeg_tools, "djpeg", "-pnm", data=jpeg12))
    assert reference.dtype == np.uint16
    assert np.array_equal(rgb, reference)
    assert rgb.max() > 255  # the data dropping to 8 bits would lose
    assert np.array_equal(tj.decode(jpeg12), rgb[:, :, ::-1])  # BGR, the default
    gray = read_pnm(run(jpeg_tools, "djpeg", "-grayscale", "-pnm", data=jpeg12))
    assert np.array_equal(tj.decode(jpeg12, "GRAY"), gray)
    rgba = tj.decode(jpeg12, "RGBA")
    assert np.array_equal(rgba[:, :, :3], rgb)


@pytest.mark.parametrize(
    ("options", "djpeg_args"),
    [
        ({"fast_dct": True}, ["-dct", "fast"]),
        ({"fast_upsample": True}, ["-nosmooth"]),
        ({"scale": (1, 2)}, ["-scale", "1/2"]),
        ({"scale": (1, 8)}, ["-scale", "1/8"]),
        ({"scale": (3, 8)}, ["-scale", "3/8"]),
        ({"scale": (7, 8)}, ["-scale", "7/8"]),
        ({"scale": (2, 1)}, ["-scale", "2/1"]),
        ({"scale": (3, 2)}, ["-scale", "3/2"]),
        ({"min_size": 50}, ["-scale", "3/8"]),
    ],
)
def test_12bit_options_match_djpeg(tj3_path, jpeg_tools, jpeg12, options, djpeg_args):
    tj = turbojpeg.Turbojpeg(tj3_path)
    ours = tj.decode(jpeg12, "RGB", **options)
    assert ours.dtype == np.uint16
    assert np.array_equal(
        ours, read_pnm(run(jpeg_tools, "djpeg", *djpeg_args, "-pnm", data=jpeg12))
    )


@pytest.mark.parametrize("scale", [None, (1, 2), (5, 8)])
@pytest.mark.parametrize("rect", [(0, 0, 40, 30), (17, 9, 50, 41), (61, 3, 20, 60)])
def test_12bit_crops_equal_slices_of_the_whole(tj3_path, jpeg12, scale, rect):
    tj = turbojpeg.Turbojpeg(tj3_path)
    whole = tj.decode(jpeg12, "RGB", scale=scale)
    x, y, w, h = rect
    crop = tj.decode(jpeg12, "RGB", scale=scale, crop=rect)
    assert crop.dtype == np.uint16
    assert np.array_equal(crop, whole[y : y + h, x : x + w])
    out = np.zeros((h, w, 3), np.uint16)
    assert tj.decode(jpeg12, "RGB", scale=scale, crop=rect, out=out) is out
    assert np.array_equal(out, crop)


def test_12bit_into_out_and_upright(tj3_path, jpeg12):
    tj = turbojpeg.Turbojpeg(tj3_path)
    whole = tj.decode(jpeg12)
    out = np.zeros((149, 227, 3), np.uint16)
    assert tj.decode(jpeg12, out=out) is out
    assert np.array_equal(out, whole)
    gray = np.zeros((149, 227), np.uint16)
    tj.decode(jpeg12, "GRAY", out=gray)
    assert np.array_equal(gray, tj.decode(jpeg12, "GRAY")[:, :, 0])
    # No EXIF: upright is as stored, through the general path.
    assert np.array_equal(tj.decode(jpeg12, apply_exif_orientation=True), whole)


def test_lossless_16bit_decodes_like_djpeg(tj3_path, jpeg_tools, monkey16):
    tj = turbojpeg.Turbojpeg(tj3_path)
    data = run(
        jpeg_tools, "cjpeg", "-lossless", "1,0", "-precision", "16", data=write_pnm(monkey16, 65535)
    )
    info = tj.decode_header(data)
    assert (info.precision, info.lossless, info.progressive, info.dtype) == (
        16,
        True,
        False,
        "uint16",
    )
    assert info.subsampling is Subsampling.S444
    assert info.colorspace is Colorspace.RGB
    rgb = tj.decode(data, "RGB")
    assert rgb.dtype == np.uint16
    assert np.array_equal(rgb, monkey16)
    assert np.array_equal(rgb, read_pnm(run(jpeg_tools, "djpeg", "-pnm", data=data)))


# -- TurboJPEG 3: encoding against cjpeg ---------------------------------------------


@pytest.mark.parametrize(
    ("options", "cjpeg_args"),
    [
        ({"quality": 90}, ["-quality", "90"]),
        ({"quality": 60, "subsampling": "444"}, ["-quality", "60", "-sample", "1x1"]),
        ({"quality": 85, "progressive": True}, ["-quality", "85", "-progressive"]),
    ],
)
def test_12bit_encode_is_cjpegs_bytes(tj3_path, jpeg_tools, monkey16, options, cjpeg_args):
    tj = turbojpeg.Turbojpeg(tj3_path)
    image = at_precision(monkey16, 12)
    reference = run(
        jpeg_tools, "cjpeg", "-precision", "12", *cjpeg_args, data=write_pnm(image, 4095)
    )
    ours = tj.encode(image, precision=12, pixel_format="RGB", **options)
    assert ours == reference
    assert tj.encode(image, pixel_format="RGB", **options) == ours  # uint16 lossy means 12-bit
    info = tj.decode_header(ours)
    assert (info.precision, info.lossless) == (12, False)


def test_12bit_gray_and_padded_rows(tj3_path, jpeg_tools, monkey16_gray):
    tj = turbojpeg.Turbojpeg(tj3_path)
    gray = at_precision(monkey16_gray, 12)
    reference = run(
        jpeg_tools, "cjpeg", "-precision", "12", "-quality", "90", data=write_pnm(gray, 4095)
    )
    assert tj.encode(gray, 90) == reference
    assert tj.encode(gray[:, :, 0], 90) == reference
    # Rows padded: the pitch counts samples, not bytes.
    wide = np.zeros((gray.shape[0], gray.shape[1] + 13, 1), np.uint16)
    wide[:, 5 : 5 + gray.shape[1]] = gray
    view = wide[:, 5 : 5 + gray.shape[1]]
    assert not view.flags.c_contiguous
    assert tj.encode(view, 90) == reference


@pytest.mark.parametrize("precision", range(2, 17))
def test_lossless_every_predictor_is_exact_and_cjpegs_bytes(
    tj3_path, jpeg_tools, monkey16, precision
):
    tj = turbojpeg.Turbojpeg(tj3_path)
    image = at_precision(monkey16[:64, :48], precision)
    source = write_pnm(image, (1 << precision) - 1)
    for predictor in range(1, 8):
        ours = tj.encode(
            image, lossless=True, precision=precision, predictor=predictor, pixel_format="RGB"
        )
        reference = run(
            jpeg_tools,
            "cjpeg",
            "-lossless",
            f"{predictor},0",
            "-precision",
            str(precision),
            data=source,
        )
        assert ours == reference, f"predictor {predictor}"
        info = tj.decode_header(ours)
        assert (info.precision, info.lossless) == (precision, True)
        back = tj.decode(ours, "RGB")
        assert back.dtype == image.dtype
        assert np.array_equal(back, image), f"predictor {predictor}"
        assert np.array_equal(read_pnm(run(jpeg_tools, "djpeg", "-pnm", data=ours)), image)


@pytest.mark.parametrize("precision", [2, 8, 12, 16])
def test_lossless_point_transform_drops_low_bits(tj3_path, jpeg_tools, monkey16, precision):
    tj = turbojpeg.Turbojpeg(tj3_path)
    image = at_precision(monkey16[:40, :56], precision)
    for point_transform in sorted({1, precision // 2, precision - 1}):
        ours = tj.encode(
            image,
            lossless=True,
            precision=precision,
            point_transform=point_transform,
            predictor=4,
            pixel_format="RGB",
        )
        reference = run(
            jpeg_tools,
            "cjpeg",
            "-lossless",
            f"4,{point_transform}",
            "-precision",
            str(precision),
            data=write_pnm(image, (1 << precision) - 1),
        )
        assert ours == reference
        expected = (image >> point_transform) << point_transform
        assert np.array_equal(tj.decode(ours, "RGB"), expected)


def test_lossless_gray_and_defaults(tj3_path, monkey16, monkey16_gray):
    tj = turbojpeg.Turbojpeg(tj3_path)
    gray16 = np.ascontiguousarray(monkey16_gray)
    data = tj.encode(gray16, lossless=True)  # uint16: 16-bit, predictor 1
    assert data == tj.encode(gray16, lossless=True, precision=16, predictor=1, point_transform=0)
    info = tj.decode_header(data)
    assert (info.precision, info.subsampling, info.colorspace) == (
        16,
        Subsampling.GRAY,
        Colorspace.GRAY,
    )
    assert np.array_equal(tj.decode(data, "GRAY"), gray16)
    photo8 = at_precision(monkey16, 8)
    data8 = tj.encode(photo8, lossless=True, pixel_format="RGB")  # uint8: 8-bit
    info8 = tj.decode_header(data8)
    assert (info8.precision, info8.lossless, info8.dtype) == (8, True, "uint8")
    back = tj.decode(data8, "RGB")
    assert back.dtype == np.uint8
    assert np.array_equal(back, photo8)
    # Lossless JPEG is stored in RGB, so BGR and RGBA are exact reorderings.
    assert np.array_equal(tj.decode(data8, "BGR"), photo8[:, :, ::-1])
    assert np.array_equal(tj.decode(data8, "RGBA")[:, :, :3], photo8)


def test_a_handle_moves_between_lossless_and_lossy(tj3_path, monkey16):
    tj = turbojpeg.Turbojpeg(tj3_path)
    photo8 = at_precision(monkey16, 8)
    lossy = tj.encode(photo8, 90, pixel_format="RGB")
    lossless = tj.encode(photo8, lossless=True, predictor=5, pixel_format="RGB")
    twelve = tj.encode(at_precision(monkey16, 12), 90, pixel_format="RGB")
    assert tj.encode(photo8, 90, pixel_format="RGB") == lossy
    assert tj.encode(photo8, lossless=True, predictor=5, pixel_format="RGB") == lossless
    assert tj.encode(at_precision(monkey16, 12), 90, pixel_format="RGB") == twelve
    assert tj.decode_header(lossy).lossless is False
    assert tj.decode_header(twelve).precision == 12
    # YUV planes after a lossless encode: libjpeg-turbo before 3.1.3 would
    # still see TJPARAM_LOSSLESS set in the handle.
    planes = tj.decode_yuv(lossy)
    from_yuv = turbojpeg.Turbojpeg(tj3_path).encode_yuv(planes, 90)
    tj.encode(photo8, lossless=True, pixel_format="RGB")
    assert tj.encode_yuv(planes, 90) == from_yuv


# -- decode options that do not apply --------------------------------------------------


@pytest.fixture(scope="module")
def lossless16(tj3_path, monkey16) -> bytes:
    return turbojpeg.Turbojpeg(tj3_path).encode(monkey16, lossless=True, pixel_format="RGB")


def test_lossless_has_no_dct_scaling(tj3_path, lossless16, monkey16):
    tj = turbojpeg.Turbojpeg(tj3_path)
    with pytest.raises(
        UnsupportedFeatureError, match=r"scale 1/2: a lossless JPEG cannot be scaled"
    ):
        tj.decode(lossless16, scale=0.5)
    assert np.array_equal(tj.decode(lossless16, "RGB", scale=1), monkey16)
    # 1 is the only factor a lossless JPEG has: min_size gives the full size.
    assert tj.decode(lossless16, min_size=16).shape == (227, 149, 3)


def test_lossless_crops_and_fast_modes_are_exact(tj3_path, lossless16, monkey16):
    tj = turbojpeg.Turbojpeg(tj3_path)
    crop = tj.decode(lossless16, "RGB", crop=(13, 21, 40, 77))
    assert np.array_equal(crop, monkey16[21:98, 13:53])
    fast = tj.decode(lossless16, "RGB", fast_dct=True, fast_upsample=True)
    assert np.array_equal(fast, monkey16)


def test_decode_yuv_refuses_12bit_and_lossless(tj3_path, jpeg12, lossless16, monkey16):
    tj = turbojpeg.Turbojpeg(tj3_path)
    with pytest.raises(UnsupportedFeatureError, match="decode_yuv: a 12-bit JPEG has no YUV"):
        tj.decode_yuv(jpeg12)
    with pytest.raises(UnsupportedFeatureError, match="a lossless 16-bit JPEG"):
        tj.decode_yuv(lossless16)
    lossless8 = tj.encode(at_precision(monkey16, 8), lossless=True)
    with pytest.raises(UnsupportedFeatureError, match="a lossless 8-bit JPEG"):
        tj.decode_yuv(lossless8)


def test_12bit_cmyk_decodes_to_cmyk_only(tj3_path, monkey16):
    tj = turbojpeg.Turbojpeg(tj3_path)
    cmyk = at_precision(np.dstack([monkey16, monkey16[:, :, :1]]), 12)
    data = tj.encode(cmyk, 95, pixel_format="CMYK")
    assert tj.decode_header(data).colorspace is Colorspace.YCCK
    raw = tj.decode(data, "CMYK")
    assert raw.dtype == np.uint16
    assert raw.shape == (227, 149, 4)
    assert np.abs(raw.astype(int) - cmyk).mean() < 40  # of 4095: lossy, but the same picture
    with pytest.raises(UnsupportedFeatureError, match="12-bit CMYK or YCCK JPEG decodes to"):
        tj.decode(data, "RGB")


def test_out_must_have_the_jpegs_dtype(tj3_path, jpeg12, photo_jpeg):
    tj = turbojpeg.Turbojpeg(tj3_path)
    with pytest.raises(
        TypeError, match="out must have dtype uint16 for this 12-bit JPEG, not uint8"
    ):
        tj.decode(jpeg12, out=np.zeros((149, 227, 3), np.uint8))
    with pytest.raises(
        TypeError, match="out must have dtype uint8 for this 8-bit JPEG, not uint16"
    ):
        tj.decode(photo_jpeg, out=np.zeros((512, 512, 3), np.uint16))
    with pytest.raises(ValueError, match="shape"):
        tj.decode(jpeg12, out=np.zeros((149, 226, 3), np.uint16))


# -- decode_many -----------------------------------------------------------------------


def test_decode_many_stacks_one_dtype_and_lists_mixed_ones(tj3_path, jpeg12, monkey16, photo):
    tj = turbojpeg.Turbojpeg(tj3_path)
    twelve = [tj.encode(at_precision(monkey16, 12)[i : i + 100], 90) for i in (0, 30, 60)]
    stacked = tj.decode_many(twelve, threads=2)
    assert isinstance(stacked, np.ndarray)
    assert stacked.dtype == np.uint16
    assert stacked.shape == (3, 100, 149, 3)
    assert np.array_equal(stacked[1], tj.decode(twelve[1]))
    eight = tj.encode(at_precision(monkey16, 8)[:100], 90)
    lossless = tj.encode(at_precision(monkey16, 16)[:100], lossless=True)
    mixed = tj.decode_many([twelve[0], eight, lossless, twelve[2]], threads=2)
    assert isinstance(mixed, list)
    assert [a.dtype for a in mixed] == [np.uint16, np.uint8, np.uint16, np.uint16]
    assert all(a.shape == (100, 149, 3) for a in mixed)
    assert np.array_equal(mixed[2], at_precision(monkey16, 16)[:100])
    out = np.zeros((3, 100, 149, 3), np.uint16)
    assert tj.decode_many(twelve, out=out) is out
    assert np.array_equal(out, stacked)
    with pytest.raises(TypeError, match="uint8 for this 8-bit JPEG") as caught:
        tj.decode_many([twelve[0], eight], out=out[:2])
    assert any("buffer 1 of 2" in note for note in caught.value.__notes__)
    # Sizes and dtypes both decide: a lossless image of the 12-bit ones' size stacks with them.
    same = tj.decode_many([twelve[0], lossless], threads=1)
    assert isinstance(same, np.ndarray)
    assert same.dtype == np.uint16


# -- TurboJPEG 2 -------------------------------------------------------------------------


def test_both_backends_decode_or_refuse_by_name(tj, jpeg12, lossless16):
    if tj.api_generation == 3:
        assert tj.decode(jpeg12).dtype == np.uint16
        assert tj.decode(lossless16).dtype == np.uint16
        assert tj.decode_header(jpeg12).precision == 12
        return
    with pytest.raises(UnsupportedFeatureError, match="a 12-bit JPEG needs libjpeg-turbo >= 3"):
        tj.decode(jpeg12)
    with pytest.raises(UnsupportedFeatureError, match="a 12-bit JPEG needs libjpeg-turbo >= 3"):
        tj.decode_header(jpeg12)
    with pytest.raises(UnsupportedFeatureError, match="a lossless 16-bit JPEG needs libjpeg-turbo"):
        tj.decode(lossless16)
    with pytest.raises(UnsupportedFeatureError, match="a 12-bit JPEG") as caught:
        tj.decode_many([jpeg12])
    assert any("buffer 0 of 1" in note for note in caught.value.__notes__)
    with pytest.raises(UnsupportedFeatureError, match="12-bit"):
        tj.decode_yuv(jpeg12)


def test_tj2_refuses_lossless_8bit_by_name(tj3_path, tj, monkey16):
    lossless8 = turbojpeg.Turbojpeg(tj3_path).encode(at_precision(monkey16, 8), lossless=True)
    if tj.api_generation == 3:
        assert np.array_equal(tj.decode(lossless8), at_precision(monkey16, 8))
    else:
        with pytest.raises(UnsupportedFeatureError, match="a lossless 8-bit JPEG needs"):
            tj.decode(lossless8)


def test_encoding_beyond_8bit_lossy_works_or_raises_by_name(tj, monkey16):
    image12 = at_precision(monkey16, 12)
    photo8 = at_precision(monkey16, 8)
    if tj.api_generation == 3:
        assert tj.decode_header(tj.encode(image12, 90)).precision == 12
        assert tj.decode_header(tj.encode(photo8, lossless=True)).lossless is True
        return
    with pytest.raises(UnsupportedFeatureError, match="a 12-bit JPEG needs libjpeg-turbo >= 3"):
        tj.encode(image12, 90)
    with pytest.raises(UnsupportedFeatureError, match="a lossless 16-bit JPEG needs"):
        tj.encode(monkey16, lossless=True)
    with pytest.raises(UnsupportedFeatureError, match="a lossless 8-bit JPEG needs"):
        tj.encode(photo8, lossless=True)
    with pytest.raises(UnsupportedFeatureError, match="a lossless 5-bit JPEG needs"):
        tj.encode(photo8 >> 3, lossless=True, precision=5)
    # Refusing did not leave the handle in a bad state, nor skip the check next time.
    assert tj.decode_header(tj.encode(photo8, 90)).precision == 8
    with pytest.raises(UnsupportedFeatureError):
        tj.encode(image12, 95)


def test_frame_header_fields_agree_on_both_backends(tj, tj3_path, testimages, photo):
    """The TJ2 backend reads precision and the coding process from the frame
    header; they must be what libjpeg-turbo 3 reports."""
    reference = turbojpeg.Turbojpeg(tj3_path)
    jpegs = {
        "testorig.jpg": (testimages / "testorig.jpg").read_bytes(),
        "testimgari.jpg (arithmetic)": (testimages / "testimgari.jpg").read_bytes(),
        "Pillow, progressive": pil_jpeg(photo, 80, "444", progressive=True),
        "Pillow, gray": pil_jpeg(photo, 80, "gray"),
    }
    seen = set()
    for name, data in jpegs.items():
        info, expected = tj.decode_header(data), reference.decode_header(data)
        fields = (info.precision, info.progressive, info.lossless, info.arithmetic)
        assert fields == (
            expected.precision,
            expected.progressive,
            expected.lossless,
            expected.arithmetic,
        ), name
        assert info == expected, name
        seen.add(fields)
    assert seen == {(8, False, False, False), (8, False, False, True), (8, True, False, False)}


# -- bad input ---------------------------------------------------------------------------

RGB8 = np.zeros((8, 8, 3), np.uint8)
RGB16 = np.zeros((8, 8, 3), np.uint16)


@pytest.mark.parametrize(
    ("image", "kwargs", "error", "message"),
    [
        (RGB8, {"precision": 12}, TypeError, "precision=12 takes a uint16 image, not uint8"),
        (RGB16, {"precision": 8}, TypeError, "precision=8 takes a uint8 image, not uint16"),
        (RGB16, {"lossless": True, "precision": 8}, TypeError, "takes a uint8 image"),
        (RGB8, {"lossless": True, "precision": 9}, TypeError, "takes a uint16 image"),
        (RGB8, {"precision": 10}, ValueError, "lossy JPEG has 8 or 12 bits per sample"),
        (RGB16, {"precision": 16}, ValueError, "lossy JPEG has 8 or 12 bits per sample"),
        (RGB8, {"lossless": True, "precision": 1}, ValueError, "2 to 16 bits per sample"),
        (RGB16, {"lossless": True, "precision": 17}, ValueError, "2 to 16 bits per sample"),
        (RGB8, {"precision": "12"}, TypeError, "precision must be an int"),
        (RGB8, {"precision": True}, TypeError, "precision must be an int"),
        (
            RGB8,
            {"lossless": True, "predictor": 0},
            ValueError,
            "predictor must be an int from 1 to 7",
        ),
        (
            RGB8,
            {"lossless": True, "predictor": 8},
            ValueError,
            "predictor must be an int from 1 to 7",
        ),
        (RGB8, {"lossless": True, "predictor": 2.0}, ValueError, "predictor must be an int"),
        (RGB8, {"lossless": True, "predictor": True}, ValueError, "predictor must be an int"),
        (
            RGB8,
            {"lossless": True, "point_transform": 8},
            ValueError,
            "point_transform must be an int from 0 to 7",
        ),
        (
            RGB16,
            {"lossless": True, "precision": 12, "point_transform": -1},
            ValueError,
            "from 0 to 11",
        ),
        (RGB8, {"predictor": 2}, ValueError, "apply to lossless JPEG only: pass lossless=True"),
        (RGB8, {"point_transform": 1}, ValueError, "apply to lossless JPEG only"),
        (
            RGB8,
            {"lossless": True, "quality": 90},
            ValueError,
            "quality do not apply to lossless JPEG",
        ),
        (
            RGB8,
            {"lossless": True, "subsampling": "420"},
            ValueError,
            r"subsampling do not apply.*4:4:4",
        ),
        (
            RGB8,
            {"lossless": True, "progressive": True, "optimize": True},
            ValueError,
            "progressive, optimize do not",
        ),
        (RGB8, {"lossless": True, "fast_dct": True}, ValueError, "fast_dct do not apply"),
        (np.zeros((8, 8, 3), np.int16), {}, TypeError, "dtype uint8 or uint16 .*, not int16"),
        (np.zeros((8, 8, 3), np.uint32), {"precision": 16}, TypeError, "not uint32"),
        (np.zeros((8, 16, 3), np.uint16)[:, ::2], {}, ValueError, "contiguous within each row"),
    ],
)
def test_bad_precision_arguments_are_named(tj3_path, image, kwargs, error, message):
    tj = turbojpeg.Turbojpeg(tj3_path)
    with pytest.raises(error, match=message):
        tj.encode(image, **kwargs)


@pytest.mark.parametrize(
    ("precision", "lossless", "largest"),
    [
        (12, False, 4096),
        (12, False, 65535),
        (9, True, 512),
        (15, True, 40000),
        (2, True, 4),
        (7, True, 255),
    ],
)
def test_values_above_the_precision_are_refused_with_the_largest(tj, precision, lossless, largest):
    dtype = np.uint8 if precision <= 8 else np.uint16
    image = np.zeros((16, 24, 3), dtype)
    image[5, 7, 1] = largest
    with pytest.raises(ValueError, match=f"values go up to {largest}, more than {precision}-bit"):
        tj.encode(image, precision=precision, lossless=lossless)
    image[5, 7, 1] = (1 << precision) - 1  # the largest value that fits
    if tj.api_generation == 2:
        with pytest.raises(UnsupportedFeatureError, match=f"{precision}-bit JPEG needs"):
            tj.encode(image, precision=precision, lossless=lossless)
        return
    back = tj.decode(tj.encode(image, precision=precision, lossless=lossless), "BGR")
    assert back.dtype == dtype
    if lossless:
        assert np.array_equal(back, image)


def test_unencoded_channels_are_not_checked(tj3_path):
    tj = turbojpeg.Turbojpeg(tj3_path)
    image = np.full((8, 8, 4), 1000, np.uint16)
    image[:, :, 3] = 65535  # alpha / padding: libjpeg-turbo does not encode it
    plain = tj.encode(np.ascontiguousarray(image[:, :, :3]), 90, pixel_format="BGR")
    assert tj.encode(image, 90, pixel_format="BGRA") == plain
    shifted = np.ascontiguousarray(np.roll(image, 1, axis=2))  # the fourth channel first
    assert tj.encode(shifted, 90, pixel_format="XBGR") == plain
    with pytest.raises(ValueError, match="values go up to 65535"):
        tj.encode(image, 90, pixel_format="CMYK")  # four colour channels


def decode_outcome(tj, data: bytes) -> str:
    """'image' (perhaps with a warning) or the error's message; never a crash."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurbojpegWarning)
        try:
            image = tj.decode(data)
        except TurbojpegError as exc:
            return str(exc) or "an error without a message"
    assert image.dtype == np.uint16
    return "image"


def test_truncated_and_corrupt_12bit_and_lossless_data(tj, jpeg12, lossless16):
    """Cut or damaged: an image (with a warning), or an error that says why."""
    for data in (jpeg12, lossless16):
        outcomes = [decode_outcome(tj, data[:cut]) for cut in (20, 200, len(data) // 2)]
        assert all(outcomes), outcomes
        damaged = bytearray(data)
        damaged[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
        assert decode_outcome(tj, bytes(damaged))
    if tj.api_generation == 3:
        assert decode_outcome(tj, jpeg12[: len(jpeg12) // 2]) == "image"  # a truncated file
