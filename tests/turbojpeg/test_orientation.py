"""decode(apply_exif_orientation=True) and JpegInfo.orientation, on both backends.

The reference is Pillow's ``ImageOps.exif_transpose`` (its own EXIF reader and
transposes), and our own decode of the stored image turned with numpy.
"""

from __future__ import annotations

import io
import os
import struct
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from turbojpeg import TurbojpegError, TurbojpegWarning

from .conftest import pil_jpeg

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3000" if os.environ.get("CI") else "300"))

# What turns a stored (h, w, c) array upright, written out once more here
# rather than taken from the package.
UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: np.swapaxes(a, 0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}
ORIENTATIONS = list(UPRIGHT)


def pil_exif(value: int) -> bytes:
    """An APP1 payload written by Pillow (big-endian TIFF)."""
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def little_endian_exif(value: int) -> bytes:
    """An APP1 payload with a little-endian TIFF, as most phones write."""
    ifd = struct.pack("<HHHIHH", 1, 0x0112, 3, 1, value, 0) + struct.pack("<I", 0)
    return b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd


def with_app1(jpeg: bytes, payload: bytes) -> bytes:
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


@pytest.fixture(scope="module")
def stored(photo) -> np.ndarray:
    """Not square, odd-sized: every transpose and partial MCU shows."""
    return np.ascontiguousarray(photo[40:117, 150:251])  # 77 x 101


def test_pillow_agrees_with_our_table(stored):
    # The test's own table is checked against Pillow's transposes first.
    for value, turn in UPRIGHT.items():
        image = Image.open(io.BytesIO(pil_jpeg(stored, 95, "444", exif=pil_exif(value))))
        reference = np.asarray(ImageOps.exif_transpose(image))
        assert np.array_equal(reference, turn(np.asarray(image.convert("RGB")))), value


@pytest.mark.parametrize("orientation", ORIENTATIONS)
@pytest.mark.parametrize("subsampling", ["420", "444"])
def test_upright_matches_pillow(tj, stored, orientation, subsampling):
    data = pil_jpeg(stored, 90, subsampling, exif=pil_exif(orientation))
    assert tj.decode_header(data).orientation == orientation
    reference = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    upright = tj.decode(data, "RGB", apply_exif_orientation=True)
    assert upright.shape == reference.shape
    assert upright.flags.c_contiguous
    assert np.array_equal(upright, reference)
    as_stored = tj.decode(data, "RGB")
    assert as_stored.shape == stored.shape  # the default leaves the image as stored
    assert np.array_equal(upright, UPRIGHT[orientation](as_stored))


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_our_jpeg_with_a_little_endian_exif_segment(tj, stored, orientation):
    plain = tj.encode(stored, 90, pixel_format="RGB")
    data = with_app1(plain, little_endian_exif(orientation))
    assert tj.decode_header(data).orientation == orientation
    assert tj.decode_header(plain).orientation is None
    expected = UPRIGHT[orientation](tj.decode(plain))
    assert np.array_equal(tj.decode(data, apply_exif_orientation=True), expected)
    reference = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    assert np.array_equal(tj.decode(data, "RGB", apply_exif_orientation=True), reference)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
@pytest.mark.parametrize("pixel_format", ["GRAY", "RGBA", "XBGR"])
def test_other_pixel_formats(tj, stored, orientation, pixel_format):
    data = pil_jpeg(stored, 90, "420", exif=pil_exif(orientation))
    expected = UPRIGHT[orientation](tj.decode(data, pixel_format))
    assert np.array_equal(tj.decode(data, pixel_format, apply_exif_orientation=True), expected)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
@pytest.mark.parametrize("subsampling", ["420", "422", "gray"])
@pytest.mark.parametrize("scale", [1, 0.5, 0.25])
def test_crop_is_in_upright_coordinates(tj, stored, orientation, subsampling, scale):
    data = pil_jpeg(stored, 90, subsampling, exif=pil_exif(orientation))
    full = tj.decode(data, scale=scale, apply_exif_orientation=True)
    height, width = full.shape[:2]
    rng = np.random.default_rng(orientation)
    crops = [(0, 0, width, height), (0, 0, 1, 1), (width - 1, height - 1, 1, 1)]
    for _ in range(12):
        w, h = int(rng.integers(1, width + 1)), int(rng.integers(1, height + 1))
        crops.append(
            (int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1)), w, h)
        )
    for x, y, w, h in crops:
        region = tj.decode(data, scale=scale, crop=(x, y, w, h), apply_exif_orientation=True)
        assert region.shape == (h, w, 3)
        assert region.flags.c_contiguous
        assert np.array_equal(region, full[y : y + h, x : x + w]), (x, y, w, h)


def test_crop_outside_the_upright_image_is_refused(tj, stored):
    data = pil_jpeg(stored, 90, "420", exif=pil_exif(6))
    # 101 wide stored is 101 tall upright: a crop 90 wide fits stored, not upright.
    with pytest.raises(ValueError, match="does not fit in the 77x101 output"):
        tj.decode(data, crop=(0, 0, 90, 10), apply_exif_orientation=True)
    assert tj.decode(data, crop=(0, 0, 90, 10)).shape == (10, 90, 3)


def test_min_size_counts_the_upright_dimensions(tj, photo):
    stored = np.ascontiguousarray(photo[:100, :200])  # 200 wide, 100 tall; upright 100 x 200
    data = pil_jpeg(stored, 90, "420", exif=pil_exif(6))
    # At least 100 wide upright needs the full size (7/8 gives 88)...
    assert tj.decode(data, min_size=(100, 10), apply_exif_orientation=True).shape == (200, 100, 3)
    # ...while the stored image is 100 wide already at 1/2.
    assert tj.decode(data, min_size=(100, 10)).shape == (50, 100, 3)
    assert tj.decode(data, min_size=(10, 100), apply_exif_orientation=True).shape == (100, 50, 3)


def test_out_takes_the_upright_shape(tj, stored):
    data = pil_jpeg(stored, 90, "420", exif=pil_exif(8))
    expected = tj.decode(data, apply_exif_orientation=True)
    out = np.zeros((101, 77, 3), np.uint8)
    assert tj.decode(data, out=out, apply_exif_orientation=True) is out
    assert np.array_equal(out, expected)
    with pytest.raises(ValueError, match=r"out has shape \(77, 101, 3\)"):
        tj.decode(data, out=np.zeros((77, 101, 3), np.uint8), apply_exif_orientation=True)
    gray = np.zeros((101, 77), np.uint8)
    assert tj.decode(data, "GRAY", out=gray, apply_exif_orientation=True) is gray
    assert np.array_equal(gray, tj.decode(data, "GRAY", apply_exif_orientation=True)[:, :, 0])
    region = np.zeros((30, 20, 3), np.uint8)
    tj.decode(data, crop=(5, 60, 20, 30), out=region, apply_exif_orientation=True)
    assert np.array_equal(region, expected[60:90, 5:25])


@pytest.mark.parametrize(
    "payload",
    [
        b"Exif\x00\x00MM\x00*\xff\xff\xff\xf0",  # IFD0 far outside the segment
        b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff",  # 65535 entries, none there
        b"Exif\x00\x00XX*\x00\x08\x00\x00\x00",  # no byte order
        little_endian_exif(0),  # a value outside 1..8
        little_endian_exif(6)[:-7],  # cut inside the entry
    ],
)
def test_malformed_exif_decodes_as_stored(tj, stored, payload):
    plain = pil_jpeg(stored, 90, "420")
    data = with_app1(plain, payload)
    assert tj.decode_header(data).orientation is None
    assert np.array_equal(tj.decode(data, apply_exif_orientation=True), tj.decode(plain))
    # Pillow does not turn these either (it warns about some of them).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert np.asarray(reference).shape == stored.shape


def test_decode_many_turns_each_image(tj, stored):
    batch = [pil_jpeg(stored, 90, "420", exif=pil_exif(v)) for v in (1, 6, 8, 3)]
    each = [tj.decode(d, apply_exif_orientation=True) for d in batch]
    mixed = tj.decode_many(batch, threads=2, apply_exif_orientation=True)
    assert isinstance(mixed, list)  # 77 x 101 and 101 x 77
    assert all(np.array_equal(a, b) for a, b in zip(mixed, each, strict=True))
    turned = tj.decode_many(batch[1:3], threads=2, apply_exif_orientation=True)
    assert turned.shape == (2, 101, 77, 3)
    assert np.array_equal(turned[0], each[1])
    assert np.array_equal(turned[1], each[2])
    patches = tj.decode_many(batch, crop=(3, 4, 40, 50), apply_exif_orientation=True)
    assert patches.shape == (4, 50, 40, 3)
    for patch, full in zip(patches, each, strict=True):
        assert np.array_equal(patch, full[4:54, 3:43])


@pytest.fixture(scope="module")
def exif_jpeg(stored) -> bytes:
    return with_app1(pil_jpeg(stored[:32, :48], 85, "420"), little_endian_exif(6))


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    flips=st.lists(st.tuples(st.integers(0, 47), st.integers(0, 7)), min_size=1, max_size=6),
    cut=st.one_of(st.none(), st.integers(0, 400)),
    crop=st.booleans(),
)
def test_fuzz_mutated_exif_jpegs(tj, exif_jpeg, flips, cut, crop):
    """Damage in and around the EXIF segment: a result or a TurbojpegError, nothing else."""
    data = bytearray(exif_jpeg if cut is None else exif_jpeg[:cut])
    for position, bit in flips:  # the APP1 segment is the first 48 bytes
        if position < len(data):
            data[position] ^= 1 << bit
    data = bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurbojpegWarning)
        try:
            info = tj.decode_header(data)
        except TurbojpegError:
            info = None
        try:
            image = tj.decode(
                data, apply_exif_orientation=True, crop=(2, 3, 10, 12) if crop else None
            )
        except TurbojpegError as exc:
            error = exc
        else:
            error = None
    if error is not None:
        assert str(error)
        return
    assert image.dtype == np.uint8
    assert image.flags.c_contiguous
    if info is None:
        return
    assert info.orientation is None or 1 <= info.orientation <= 8
    if crop:
        assert image.shape == (12, 10, 3)
    elif info.orientation is not None and info.orientation >= 5:
        assert image.shape == (info.width, info.height, 3)
    else:
        assert image.shape == (info.height, info.width, 3)
