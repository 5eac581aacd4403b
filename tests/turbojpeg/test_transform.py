"""Lossless transforms, against jpegtran from the same libjpeg-turbo 3.1 build.

jpegtran drives the same transupp code as tj3Transform through its own front
end, so for the same options its output is the reference, byte for byte: each
operation, trim, perfect, crop, grayscale, progressive, optimize, arithmetic
and marker copying, on libjpeg-turbo's own test images and on JPEGs of every
subsampling whose sizes are not multiples of the iMCU. The TurboJPEG 2 backend
gives the same bytes, or raises UnsupportedFeatureError naming what it lacks.

Pixels: a lossless transform moves DCT coefficients exactly, but decoding is
not exactly symmetric: libjpeg-turbo's IDCT rounds between its column and row
passes, and its chroma upsampling rounds with a bias, so decoding a transposed
or mirrored JPEG can differ by a few levels from transposing or mirroring the
decoded pixels (3 at most on our photos, 4 for 4:2:2; only vflip is exact).
The pixel tests therefore compare the DC coefficients exactly (the 1/8-scale
YUV planes are the blocks' DC terms, with no upsampling) and the full decode
within that rounding; the exact reference for the rest is jpegtran's bytes.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import os
import struct
import subprocess
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
from turbojpeg import (
    ImageTooLargeError,
    TurbojpegError,
    TurbojpegWarning,
    UnsupportedFeatureError,
)
from turbojpeg._exif import orientation_offset
from turbojpeg.errors import TJERR_WARNING

from .conftest import pil_jpeg

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3000" if os.environ.get("CI") else "300"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# name: (transform's keywords, jpegtran's switches, the same turn of an (h, w, ...) array)
OPS = {
    "none": ({}, (), lambda a: a),
    "hflip": ({"hflip": True}, ("-flip", "horizontal"), lambda a: a[:, ::-1]),
    "vflip": ({"vflip": True}, ("-flip", "vertical"), lambda a: a[::-1]),
    "transpose": ({"transpose": True}, ("-transpose",), lambda a: a.swapaxes(0, 1)),
    "transverse": (
        {"transverse": True},
        ("-transverse",),
        lambda a: a[::-1, ::-1].swapaxes(0, 1),
    ),
    "rot90": ({"rotate": 90}, ("-rotate", "90"), lambda a: np.rot90(a, -1)),
    "rot180": ({"rotate": 180}, ("-rotate", "180"), lambda a: a[::-1, ::-1]),
    "rot270": ({"rotate": 270}, ("-rotate", "270"), lambda a: np.rot90(a, 1)),
}
SWAPPING = {"transpose", "transverse", "rot90", "rot270"}
# The turn that makes each EXIF orientation upright, written out here from the
# EXIF specification's wording ("mirror horizontal and rotate 90 CW" is 7).
EXIF_OP = {
    1: "none",
    2: "hflip",
    3: "rot180",
    4: "vflip",
    5: "transpose",
    6: "rot90",
    7: "transverse",
    8: "rot270",
}
# (width, height) of the iMCU per subsampling, from libjpeg-turbo's tjMCUWidth/Height.
MCU = {
    "444": (8, 8),
    "422": (16, 8),
    "420": (16, 16),
    "gray": (8, 8),
    "440": (8, 16),
    "411": (32, 8),
}


# -- sources and the reference ---------------------------------------------------------


class Named(dict):
    """A dict of JPEGs whose repr stays short in hypothesis' reports."""

    def __repr__(self) -> str:
        return f"<JPEGs {', '.join(self)}>"


@pytest.fixture(scope="module")
def sources(testimages, photo, tj3_path) -> dict[str, bytes]:
    """name -> JPEG. The name's second part is the size; none is a multiple of the iMCU."""
    encoder = turbojpeg.Turbojpeg(tj3_path)
    rgb = np.ascontiguousarray(photo[60:200, 130:300])
    found = {
        name: (testimages / f"{name}.jpg").read_bytes()
        for name in ("testorig", "testimgari", "testimgint")
    }
    found.update(
        {
            "420_101x77": pil_jpeg(rgb[:77, :101], 90, "420"),
            "422_90x61": pil_jpeg(rgb[:61, :90], 85, "422"),
            "444_75x45": pil_jpeg(rgb[:45, :75], 92, "444"),
            "gray_83x59": pil_jpeg(rgb[:59, :83], 90, "gray"),
            "440_70x53": encoder.encode(rgb[:53, :70], 90, subsampling="440", pixel_format="RGB"),
            "411_99x42": encoder.encode(rgb[:42, :99], 90, subsampling="411", pixel_format="RGB"),
        }
    )
    return Named(found)


SOURCES = [
    "testorig",
    "testimgari",
    "testimgint",
    "420_101x77",
    "422_90x61",
    "444_75x45",
    "gray_83x59",
    "440_70x53",
    "411_99x42",
]


def jpegtran(tools, data: bytes, *switches: str) -> tuple[int, bytes, str]:
    proc = subprocess.run(
        [str(tools / "jpegtran"), *switches],
        input=data,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr.decode(errors="replace")


@pytest.fixture(scope="module")
def reference(jpeg_tools, sources):
    """``reference(name, *switches)``: jpegtran's (status, bytes, stderr), run once per module."""

    @functools.cache
    def run(name: str, *switches: str) -> tuple[int, bytes, str]:
        return jpegtran(jpeg_tools, sources[name], *switches)

    return run


def size_of(name: str) -> tuple[int, int]:
    if "_" not in name:
        return (227, 149)
    w, h = name.split("_")[1].split("x")
    return int(w), int(h)


def is_tj2(tj) -> bool:
    return tj.api_generation == 2


# -- every operation, trimmed, perfect ---------------------------------------------------


@pytest.mark.parametrize("edge", ["", "trim", "perfect"])
@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("name", SOURCES)
def test_operation_bytes_equal_jpegtran(tj, sources, reference, name, op, edge):
    keywords, switches, _turn = OPS[op]
    status, expected, stderr = reference(
        name, *switches, *([f"-{edge}"] if edge else []), "-copy", "all"
    )
    options = {**keywords, **({edge: True} if edge else {})}
    if status == 1:
        assert edge == "perfect"
        assert "not perfect" in stderr
        with pytest.raises(ValueError, match="cannot be perfect on this") as caught:
            tj.transform(sources[name], **options)
        assert "iMCU" in str(caught.value)
        return
    assert status == 0, stderr
    assert tj.transform(sources[name], **options) == expected


def test_the_sizes_really_have_partial_imcus(tj, sources):
    # What makes the trim and perfect cases above mean something.
    for name in SOURCES:
        info = tj.decode_header(sources[name])
        assert (info.width, info.height) == size_of(name)
        mw, mh = MCU[name.split("_")[0]] if "_" in name else MCU["420"]
        assert info.width % mw, name
        assert info.height % mh, name


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("where", ["inside", "to_edge", "to_edge_trim"])
@pytest.mark.parametrize("name", SOURCES)
def test_crop_bytes_equal_jpegtran(tj, sources, reference, name, op, where):
    keywords, switches, _turn = OPS[op]
    width, height = size_of(name)
    if op in SWAPPING:
        width, height = height, width
    # An origin on a 32-pixel grid is on every output iMCU grid, and on the
    # source's, which the TurboJPEG 2 API also checks (see the test below).
    x, y = (width // 2) // 32 * 32, (height // 2) // 32 * 32
    w, h = (width - x - 3, height - y - 5) if where == "inside" else (width - x, height - y)
    trim = where == "to_edge_trim"
    status, expected, stderr = reference(
        name, *switches, *(["-trim"] if trim else []), "-crop", f"{w}x{h}+{x}+{y}", "-copy", "all"
    )
    assert status == 0, stderr
    out = tj.transform(sources[name], **keywords, crop=(x, y, w, h), trim=trim)
    assert out == expected
    if not trim:
        with Image.open(io.BytesIO(out)) as image:  # 2.x cannot read a 4:4:1 header
            assert image.size == (w, h)


@pytest.mark.parametrize(
    "switches",
    [
        ("grayscale",),
        ("progressive",),
        ("optimize",),
        ("arithmetic",),
        ("progressive", "arithmetic"),
        ("grayscale", "progressive", "optimize"),
    ],
)
@pytest.mark.parametrize("op", ["none", "rot90", "transverse"])
@pytest.mark.parametrize("name", ["testorig", "testimgari", "422_90x61", "444_75x45", "gray_83x59"])
def test_coding_options_bytes_equal_jpegtran(tj, sources, reference, name, op, switches):
    keywords, op_switches, _turn = OPS[op]
    status, expected, stderr = reference(
        name, *op_switches, *(f"-{s}" for s in switches), "-copy", "all"
    )
    assert status == 0, stderr
    options = {**keywords, **dict.fromkeys(switches, True)}
    if is_tj2(tj) and "arithmetic" in switches:
        with pytest.raises(
            UnsupportedFeatureError, match="arithmetic=True needs libjpeg-turbo >= 3"
        ):
            tj.transform(sources[name], **options)
        return
    if is_tj2(tj) and "optimize" in switches and "progressive" not in switches:
        with pytest.raises(UnsupportedFeatureError, match="optimize=True needs libjpeg-turbo >= 3"):
            tj.transform(sources[name], **options)
        return
    out = tj.transform(sources[name], **options)
    assert out == expected
    info = tj.decode_header(out)
    if "grayscale" in switches:
        assert info.subsampling is turbojpeg.Subsampling.GRAY
    if not is_tj2(tj):
        assert info.progressive == ("progressive" in switches)
        assert info.arithmetic == ("arithmetic" in switches)


def test_twelve_bit_jpeg(tj, testimages, jpeg_tools):
    data = (testimages / "testorig12.jpg").read_bytes()
    for op in ("rot90", "hflip"):
        keywords, switches, _turn = OPS[op]
        if is_tj2(tj):
            with pytest.raises(TurbojpegError, match="Unsupported JPEG data precision 12"):
                tj.transform(data, **keywords)
            continue
        status, expected, stderr = jpegtran(jpeg_tools, data, *switches, "-copy", "all")
        assert status == 0, stderr
        assert tj.transform(data, **keywords) == expected


# -- combinations ------------------------------------------------------------------------


def single_op(flags: dict) -> str:
    """The OPS entry equal to mirrors (hflip, vflip, transpose, transverse) then the turn."""
    probe = np.arange(12).reshape(3, 4)
    for name in ("hflip", "vflip", "transpose", "transverse"):
        if flags.get(name):
            probe = OPS[name][2](probe)
    probe = OPS[{0: "none", 90: "rot90", 180: "rot180", 270: "rot270"}[flags["rotate"]]][2](probe)
    (match,) = [
        n
        for n, (_k, _s, turn) in OPS.items()
        if np.array_equal(turn(np.arange(12).reshape(3, 4)), probe)
    ]
    return match


def test_combinations_are_one_operation(tj, photo, jpeg_tools):
    data = pil_jpeg(photo[:64, :96], 90, "420")  # whole iMCUs: every operation is perfect
    results = {}
    for bits in itertools.product([False, True], repeat=4):
        for rotate in (0, 90, 180, 270):
            flags = dict(zip(("hflip", "vflip", "transpose", "transverse"), bits, strict=True))
            flags["rotate"] = rotate
            op = single_op(flags)
            if op not in results:
                status, results[op], _err = jpegtran(jpeg_tools, data, *OPS[op][1], "-copy", "all")
                assert status == 0
            assert tj.transform(data, **flags) == results[op], flags
    assert len(results) == 8
    # Mirror first, then turn: EXIF's "mirror horizontal and rotate 90 CW" (7).
    assert single_op({"hflip": True, "rotate": 90}) == "transverse"


# -- markers -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def marked(photo, testimages) -> tuple[bytes, bytes]:
    """(a JPEG with EXIF, an ICC profile, XMP and a comment; the profile)."""
    icc = (testimages / "test1.icc").read_bytes()
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Camera"
    data = pil_jpeg(
        photo[:61, :90], 90, "420", exif=exif.tobytes(), icc_profile=icc, comment=b"a comment"
    )
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"
    data = data[:2] + b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp + data[2:]
    return data, icc


@pytest.mark.parametrize("mode", ["all", "comments", "icc", "none"])
def test_copy_markers_bytes_equal_jpegtran(tj, marked, jpeg_tools, mode):
    data, icc = marked
    status, expected, stderr = jpegtran(jpeg_tools, data, "-rotate", "90", "-copy", mode)
    assert status == 0, stderr
    if is_tj2(tj) and mode in ("comments", "icc"):
        with pytest.raises(UnsupportedFeatureError, match=f"copy_markers='{mode}' needs"):
            tj.transform(data, rotate=90, copy_markers=mode)
        return
    out = tj.transform(data, rotate=90, copy_markers=mode)
    assert out == expected
    # What each mode keeps, as Pillow reads it.
    with Image.open(io.BytesIO(out)) as image:
        assert (image.info.get("icc_profile") == icc) == (mode in ("all", "icc"))
        assert ("exif" in image.info) == (mode == "all")
        assert ("xmp" in image.info) == (mode == "all")
        assert (image.info.get("comment") == b"a comment") == (mode in ("all", "comments"))
    if mode == "all":
        assert tj.decode_header(out).orientation == 6  # copied as is: nothing asked to change it


def test_unknown_copy_mode(tj, marked):
    with pytest.raises(ValueError, match="copy_markers must be one of 'all', 'comments', 'icc'"):
        tj.transform(marked[0], copy_markers="exif")


# -- EXIF orientation --------------------------------------------------------------------


def little_endian_exif(value: int) -> bytes:
    """An APP1 payload with a little-endian TIFF and the tag among others, as phones write."""
    entries = [(0x010F, 2, 4, b"Cam\x00"), (0x0112, 3, 1, struct.pack("<HH", value, 0))]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, raw in entries:
        ifd += struct.pack("<HHI", tag, kind, count) + raw
    return b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)


def big_endian_exif(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def with_app1(jpeg: bytes, payload: bytes) -> bytes:
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def set_tag_to_one(jpeg: bytes, payload: bytes, upright_payload: bytes) -> bytes:
    """jpegtran's output with the tag written as 1, found by its known payload bytes."""
    assert len(upright_payload) == len(payload)
    assert jpeg.count(payload) == 1
    return jpeg.replace(payload, upright_payload)


def upright_close(got: np.ndarray, expected: np.ndarray) -> None:
    """Equal up to the decoder's rounding (module docstring): a wrong turn is far off."""
    assert got.shape == expected.shape
    diff = np.abs(got.astype(int) - expected)
    assert diff.max() <= 4
    assert diff.mean() < 0.2


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("maker", [little_endian_exif, big_endian_exif])
@pytest.mark.parametrize(
    ("subsampling", "size"), [("420", (96, 64)), ("444", (72, 40)), ("gray", (56, 48))]
)
def test_exif_orientation_is_applied_losslessly(
    tj, photo, jpeg_tools, orientation, maker, subsampling, size
):
    width, height = size  # whole iMCUs: the turn is perfect
    stored = pil_jpeg(photo[100 : 100 + height, 200 : 200 + width], 90, subsampling)
    data = with_app1(stored, maker(orientation))
    out = tj.transform(data, apply_exif_orientation=True)

    assert tj.decode_header(out).orientation == 1
    with Image.open(io.BytesIO(out)) as image:
        assert image.getexif()[0x0112] == 1
    status, expected, _err = jpegtran(
        jpeg_tools, data, *OPS[EXIF_OP[orientation]][1], "-copy", "all"
    )
    assert status == 0
    assert out == set_tag_to_one(expected, maker(orientation), maker(1))

    upright = tj.decode(data, "RGB", apply_exif_orientation=True)
    got = tj.decode(out, "RGB")
    if EXIF_OP[orientation] in ("none", "vflip"):
        assert np.array_equal(got, upright)
    upright_close(got, upright)
    with Image.open(io.BytesIO(data)) as image:
        upright_close(got, np.asarray(ImageOps.exif_transpose(image).convert("RGB")))
    # The DC terms moved exactly.
    turn = OPS[EXIF_OP[orientation]][2]
    for plane, stored_plane in zip(
        tj.decode_yuv(out, scale=(1, 8)), tj.decode_yuv(data, scale=(1, 8)), strict=True
    ):
        assert np.array_equal(plane, turn(stored_plane))


def test_exif_orientation_trims_what_cannot_move(tj, sources, reference, jpeg_tools):
    data = with_app1(sources["420_101x77"], little_endian_exif(6))
    out = tj.transform(data, apply_exif_orientation=True)
    status, expected, _err = jpegtran(jpeg_tools, data, "-rotate", "90", "-trim", "-copy", "all")
    assert status == 0
    assert out == set_tag_to_one(expected, little_endian_exif(6), little_endian_exif(1))
    info = tj.decode_header(out)
    # The bottom rows 64..76 of the stored image, the left columns once upright, are gone.
    assert (info.width, info.height, info.orientation) == (64, 101, 1)
    with pytest.raises(ValueError, match="rotate=90 cannot be perfect on this 101x77 420 JPEG"):
        tj.transform(data, apply_exif_orientation=True, perfect=True)


def test_exif_orientation_on_an_image_smaller_than_one_imcu(tj, photo):
    data = with_app1(pil_jpeg(photo[:10, :12], 90, "420"), little_endian_exif(3))
    with pytest.raises(ValueError, match="smaller than one iMCU there, so trimming cannot"):
        tj.transform(data, apply_exif_orientation=True)
    # The transpose needs no edge moved, so it works at any size.
    data = with_app1(pil_jpeg(photo[:10, :12], 90, "420"), little_endian_exif(5))
    out = tj.transform(data, apply_exif_orientation=True)
    assert tj.decode_header(out).shape == (12, 10)


def test_exif_orientation_with_more_turns_and_a_crop(tj, photo, jpeg_tools):
    # Upright first (orientation 6 is a turn of 90), then the caller's turn of
    # 90: one turn of 180; the crop is in that final image.
    data = with_app1(pil_jpeg(photo[:64, :96], 90, "420"), little_endian_exif(6))
    out = tj.transform(data, apply_exif_orientation=True, rotate=90, crop=(16, 16, 40, 30))
    status, expected, _err = jpegtran(
        jpeg_tools, data, "-rotate", "180", "-crop", "40x30+16+16", "-copy", "all"
    )
    assert status == 0
    assert out == set_tag_to_one(expected, little_endian_exif(6), little_endian_exif(1))


def test_exif_orientation_without_or_with_a_malformed_tag(tj, photo):
    plain = pil_jpeg(photo[:64, :96], 90, "420")
    assert tj.transform(plain, apply_exif_orientation=True) == tj.transform(plain)
    bad = with_app1(plain, little_endian_exif(9))  # out of range: ignored, as decode does
    out = tj.transform(bad, apply_exif_orientation=True)
    assert out == tj.transform(bad)
    assert little_endian_exif(9) in out
    # When the EXIF is not copied there is no tag left to set.
    out = tj.transform(
        with_app1(plain, little_endian_exif(6)), apply_exif_orientation=True, copy_markers="none"
    )
    assert tj.decode_header(out).orientation is None
    assert tj.decode_header(out).shape == (96, 64)


@pytest.mark.parametrize("order", ["<", ">"])
def test_orientation_offset_points_at_the_value(order):
    maker = little_endian_exif if order == "<" else big_endian_exif
    data = with_app1(b"\xff\xd8\xff\xd9", maker(8))
    offset, found_order = orientation_offset(data)
    assert found_order == order
    assert struct.unpack_from(order + "H", data, offset) == (8,)
    for malformed in (maker(0), maker(9), b"Exif\x00\x00XX*\x00"):
        assert orientation_offset(with_app1(b"\xff\xd8\xff\xd9", malformed)) is None
    assert orientation_offset(b"\xff\xd8\xff\xd9") is None
    assert orientation_offset(b"not a jpeg") is None
    assert orientation_offset(object()) is None


# -- transform_many ----------------------------------------------------------------------


def test_transform_many_equals_one_at_a_time(tj, sources):
    data = sources["testorig"]
    items = [
        {"crop": (0, 0, 64, 64)},
        {"crop": (64, 32, 80, 48), "hflip": True},
        {"rotate": 90, "trim": True, "progressive": True},
        {"hflip": True},  # several at once use libjpeg-turbo's slower flip: same bytes
        {"grayscale": True, "crop": (16, 16, 33, 33), "copy_markers": "none"},
    ]
    many = tj.transform_many(data, items)
    assert many == [tj.transform(data, **item) for item in items]
    assert tj.transform_many(data, []) == []
    assert tj.transform_many(data, iter(items[:1])) == many[:1]


def test_transform_many_with_progressive_items_between_others(tj, sources):
    # libjpeg-turbo 2.x corrupts a baseline output that follows a progressive
    # one in the same call; the TJ2 backend runs them in another order.
    data = sources["testimgint"]
    items = [
        {"progressive": True},
        {},
        {"rotate": 90, "progressive": True},
        {"copy_markers": "none", "vflip": True},
    ]
    many = tj.transform_many(data, items)
    assert many == [tj.transform(data, **item) for item in items]
    for out in many:
        tj.decode(out)  # a corrupt one would warn, an error here


def test_transform_many_errors_name_the_item(tj, sources):
    data = sources["testorig"]
    with pytest.raises(ValueError, match="iMCU") as caught:
        tj.transform_many(data, [{"crop": (0, 0, 8, 8)}, {"crop": (3, 0, 8, 8)}])
    assert "in transform_many's item 1" in caught.value.__notes__
    with pytest.raises(TypeError, match=r"item 0 has unknown option\(s\) \['rotation'\]"):
        tj.transform_many(data, [{"rotation": 90}])
    with pytest.raises(TypeError, match="item 1 must be a dict"):
        tj.transform_many(data, [{}, 90])
    if not is_tj2(tj):
        with pytest.raises(ValueError, match="give every item the same copy_markers, or 'none'"):
            tj.transform_many(data, [{"copy_markers": "icc"}, {"copy_markers": "all"}])
        mixed = tj.transform_many(data, [{"copy_markers": "icc"}, {"copy_markers": "none"}])
        assert mixed == [tj.transform(data, copy_markers=m) for m in ("icc", "none")]


# -- clear errors ------------------------------------------------------------------------


def test_crop_origin_off_the_imcu_grid(tj, sources):
    data = sources["420_101x77"]
    with pytest.raises(ValueError, match=r"16x16 iMCU grid") as caught:
        tj.transform(data, crop=(13, 5, 20, 20))
    message = str(caught.value)
    assert "x=0 or x=16" in message
    assert "y=0 or y=16" in message
    assert "crop=(0, 0, 33, 25) keeps the whole region" in message
    # The hint is a crop that works.
    assert tj.decode_header(tj.transform(data, crop=(0, 0, 33, 25))).shape == (25, 33)


def test_crop_is_on_the_transformed_images_grid(tj, sources, reference):
    # 4:2:2 has 16x8 iMCUs; turned by 90 degrees it is 4:4:0, with 8x16 ones.
    data = sources["422_90x61"]
    with pytest.raises(ValueError, match="8x16 iMCU grid"):
        tj.transform(data, rotate=90, crop=(16, 8, 20, 20))
    status, expected, _err = reference(
        "422_90x61", "-rotate", "90", "-crop", "20x20+8+16", "-copy", "all"
    )
    assert status == 0
    if is_tj2(tj):
        # tjTransform in 2.x checks the source's 16x8 grid instead: x=8 is refused there.
        with pytest.raises(UnsupportedFeatureError, match=r"TurboJPEG 2 API also needs .* 16x8"):
            tj.transform(data, rotate=90, crop=(8, 16, 20, 20))
    else:
        assert tj.transform(data, rotate=90, crop=(8, 16, 20, 20)) == expected
    # Grayscale output has 8x8 iMCUs.
    status, expected, _err = reference(
        "420_101x77", "-grayscale", "-crop", "20x20+8+8", "-copy", "all"
    )
    if is_tj2(tj):
        with pytest.raises(UnsupportedFeatureError, match="16x16 iMCU grid of the source"):
            tj.transform(sources["420_101x77"], grayscale=True, crop=(8, 8, 20, 20))
    else:
        assert tj.transform(sources["420_101x77"], grayscale=True, crop=(8, 8, 20, 20)) == expected


@pytest.mark.parametrize(
    ("crop", "error", "message"),
    [
        ((0, 0, 101, 78), ValueError, r"does not fit in the transformed 101x77 image"),
        ((16, 0, 86, 10), ValueError, "does not fit"),
        ((0, 0, 0, 10), ValueError, "does not fit"),
        ((-16, 0, 10, 10), ValueError, "does not fit"),
        ((0, 0, 10), TypeError, "crop must be four ints"),
        ((0, 0, 10.5, 10), TypeError, "crop must be four ints"),
        ("0,0,8,8", TypeError, "crop must be four ints"),
    ],
)
def test_bad_crops(tj, sources, crop, error, message):
    with pytest.raises(error, match=message):
        tj.transform(sources["420_101x77"], crop=crop)


def test_crop_bounds_follow_the_turn(tj, sources):
    data = sources["420_101x77"]
    assert tj.decode_header(tj.transform(data, rotate=90, crop=(0, 0, 77, 101))).shape == (101, 77)
    with pytest.raises(ValueError, match="transformed 77x101 image"):
        tj.transform(data, rotate=90, crop=(0, 0, 101, 77))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rotate": 45}, "rotate must be 0, 90, 180 or 270"),
        ({"rotate": -90}, "rotate must be"),
        ({"rotate": True}, "rotate must be"),
        ({"copy_markers": None}, "copy_markers must be one of"),
        ({"copy_markers": ["all"]}, "copy_markers must be one of"),
    ],
)
def test_bad_options(tj, sources, options, message):
    with pytest.raises(ValueError, match=message):
        tj.transform(sources["testorig"], **options)


def test_grayscale_of_a_cmyk_jpeg_is_refused(tj, photo):
    buf = io.BytesIO()
    Image.fromarray(photo[:32, :32]).convert("CMYK").save(buf, "JPEG", quality=90)
    with pytest.raises(
        ValueError, match="needs a YCbCr or gray JPEG; this one's colorspace is CMYK"
    ):
        tj.transform(buf.getvalue(), grayscale=True)
    # Other transforms of it work.
    assert tj.decode_header(tj.transform(buf.getvalue(), rotate=90)).width == 32


def test_bad_data(tj, sources):
    with pytest.raises(TypeError, match="not a str"):
        tj.transform("photo.jpg")
    with pytest.raises(TurbojpegError, match="empty data"):
        tj.transform(b"")
    with pytest.raises(TurbojpegError, match="Not a JPEG file"):
        tj.transform(b"GIF89a" + bytes(100))
    with pytest.raises(TurbojpegError):
        tj.transform(sources["testorig"][:300])  # cut inside the headers
    for kind in (bytearray, memoryview, lambda b: np.frombuffer(b, np.uint8)):
        assert tj.transform(kind(sources["testorig"]), rotate=90) == tj.transform(
            sources["testorig"], rotate=90
        )


def test_max_pixels_guards_transforms(lib_path, sources):
    tight = turbojpeg.Turbojpeg(lib_path, max_pixels=227 * 149 - 1)
    with pytest.raises(ImageTooLargeError, match="227x149"):
        tight.transform(sources["testorig"], rotate=90)


def test_damaged_data_warns_or_fails_when_strict(lib_path, sources, jpeg_tools):
    cut = sources["testorig"][: len(sources["testorig"]) * 2 // 3]
    lenient = turbojpeg.Turbojpeg(lib_path)
    with pytest.warns(TurbojpegWarning, match="Premature end of JPEG file") as caught:
        out = lenient.transform(cut, rotate=90)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    status, expected, _err = jpegtran(jpeg_tools, cut, "-rotate", "90", "-copy", "all")
    assert status == 2  # jpegtran's "warning" exit status: the output is whole
    assert out == expected
    strict = turbojpeg.Turbojpeg(lib_path, strict=True)
    with pytest.raises(TurbojpegError, match="Premature end") as raised:
        strict.transform(cut, rotate=90)
    assert raised.value.code == TJERR_WARNING
    assert strict.transform(sources["testorig"], rotate=90) == lenient.transform(
        sources["testorig"], rotate=90
    )


# -- fuzzing -----------------------------------------------------------------------------


def jpegtran_switches(options: dict) -> list[str]:
    """jpegtran's switches for transform's options."""
    flags = {k: options.get(k, False) for k in ("hflip", "vflip", "transpose", "transverse")}
    flags["rotate"] = options.get("rotate", 0)
    switches = list(OPS[single_op(flags)][1])
    names = ("perfect", "trim", "grayscale", "progressive", "optimize", "arithmetic")
    switches += [f"-{name}" for name in names if options.get(name)]
    if options.get("crop") is not None:
        x, y, w, h = options["crop"]
        switches += ["-crop", f"{w}x{h}+{x}+{y}"]
    return [*switches, "-copy", options.get("copy_markers", "all")]


OPTION_STRATEGY = st.fixed_dictionaries(
    {},
    optional={
        "rotate": st.sampled_from([0, 90, 180, 270, 45, -90]),
        "hflip": st.booleans(),
        "vflip": st.booleans(),
        "transpose": st.booleans(),
        "transverse": st.booleans(),
        "grayscale": st.booleans(),
        "progressive": st.booleans(),
        "optimize": st.booleans(),
        "arithmetic": st.booleans(),
        "perfect": st.booleans(),
        "trim": st.booleans(),
        "copy_markers": st.sampled_from(["all", "none", "icc", "comments", "bogus"]),
        "crop": st.none() | st.tuples(*[st.integers(-8, 240)] * 2, *[st.integers(-2, 240)] * 2),
    },
)


@FUZZ
@given(name=st.sampled_from(SOURCES), options=OPTION_STRATEGY)
def test_fuzz_options(tj, sources, jpeg_tools, name, options):
    try:
        out, error = tj.transform(sources[name], **options), None
    except (ValueError, TypeError, TurbojpegError) as exc:
        out, error = None, exc
    if error is not None:
        assert str(error)
        assert is_tj2(tj) or not isinstance(error, UnsupportedFeatureError)
        return
    with Image.open(io.BytesIO(out)) as image:  # 2.x cannot read a 4:4:1 JPEG
        image.load()
        size = image.size
    if not is_tj2(tj):
        # Whatever we accept, jpegtran does identically.
        status, expected, stderr = jpegtran(jpeg_tools, sources[name], *jpegtran_switches(options))
        assert status == 0, stderr
        assert out == expected
    elif not options.get("trim"):
        width, height = size_of(name)
        flags = {k: options.get(k, False) for k in ("hflip", "vflip", "transpose", "transverse")}
        if single_op({**flags, "rotate": options.get("rotate", 0)}) in SWAPPING:
            width, height = height, width
        crop = options.get("crop")
        assert size == ((width, height) if crop is None else crop[2:])


@FUZZ
@given(
    name=st.sampled_from(["testorig", "testimgint", "422_90x61"]),
    cut=st.integers(0, 6000),
    flips=st.lists(st.tuples(st.integers(0), st.integers(0, 7)), max_size=6),
    op=st.sampled_from(list(OPS)),
    crop=st.booleans(),
)
def test_fuzz_damaged_jpegs(lib_path, sources, name, cut, flips, op, crop):
    # A flipped bit can declare a huge image; stay far below max_pixels' default.
    tj = turbojpeg.Turbojpeg(lib_path, max_pixels=1 << 22)
    data = bytearray(sources[name][: max(cut, 2)] if cut < 5500 else sources[name])
    for position, bit in flips:
        data[position % len(data)] ^= 1 << bit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out, error = (
                tj.transform(bytes(data), **OPS[op][0], crop=(0, 0, 32, 32) if crop else None),
                None,
            )
        except (TurbojpegError, ValueError) as exc:
            out, error = None, exc
    if isinstance(error, TurbojpegError):
        assert str(error)
        return
    if error is not None:  # a flip changed the size or subsampling the crop was made for
        assert "crop" in str(error)
        return
    assert all(issubclass(w.category, TurbojpegWarning) for w in caught)
    assert out[:2] == b"\xff\xd8"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurbojpegWarning)
        with contextlib.suppress(TurbojpegError):
            tj.decode(out)


# -- threads and memory ------------------------------------------------------------------


def test_one_instance_from_many_threads(lib_path, sources):
    codec = turbojpeg.Turbojpeg(lib_path)
    jobs = [(name, op) for name in SOURCES[3:] for op in OPS]
    expected = {job: codec.transform(sources[job[0]], **OPS[job[1]][0]) for job in jobs}
    barrier = threading.Barrier(6)

    def work(offset: int) -> bool:
        barrier.wait()
        ok = True
        for round_ in range(3):
            for j in range(len(jobs)):
                name, op = jobs[(j + offset + round_) % len(jobs)]
                ok &= codec.transform(sources[name], **OPS[op][0]) == expected[name, op]
                if j % 7 == 0:
                    with contextlib.suppress(ValueError):  # a failure on this thread's handle
                        codec.transform(sources[name], crop=(3, 3, 8, 8))
        return ok

    with ThreadPoolExecutor(6) as pool:
        assert all(pool.map(work, range(6)))


def test_memory_stays_flat_over_many_transforms(lib_path, photo):
    codec = turbojpeg.Turbojpeg(lib_path)
    data = pil_jpeg(photo, 90, "420")  # 512x512: a leaked output is ~100 KB
    cut = data[: len(data) // 2]

    def churn(n: int) -> None:
        for i in range(n):
            codec.transform(data, rotate=90)
            codec.transform_many(data, [{"crop": (0, 0, 256, 256)}, {"vflip": True}])
            with contextlib.suppress(TurbojpegError):
                codec.transform(data[:400], hflip=True)  # fails inside the library
            with contextlib.suppress(ValueError):
                codec.transform(data, crop=(3, 0, 8, 8))
            if i % 10 == 0:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", TurbojpegWarning)
                    codec.transform(cut, rotate=180)  # a warning: outputs kept, then freed

    process = psutil.Process()
    churn(30)
    before = process.memory_info().rss
    churn(400)
    grown = process.memory_info().rss - before
    # Leaking each output (~3 x 100 KB per round) would add > 100 MB.
    assert grown < 40 * 2**20, f"RSS grew by {grown / 2**20:.1f} MB"


def test_close_frees_the_transform_handle(lib_path, sources):
    codec = turbojpeg.Turbojpeg(lib_path)
    first = codec.transform(sources["testorig"], rotate=270)
    assert codec._local.transformer.handle
    codec.close()
    assert "transformer" not in codec._local.__dict__
    assert codec.transform(sources["testorig"], rotate=270) == first
