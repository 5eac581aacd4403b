"""Bad input never crashes: each kind gets its documented error.

Corrupt data raises TurbojpegError; recoverable damage returns the image with a
TurbojpegWarning (or raises TurbojpegError with code TJERR_WARNING when
strict=True); a wrong argument raises TypeError or ValueError naming it.
"""

from __future__ import annotations

import io
import os
import struct
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

import turbojpeg
from turbojpeg import ImageTooLargeError, TurbojpegError, TurbojpegWarning
from turbojpeg.errors import TJERR_FATAL, TJERR_WARNING

from .conftest import pil_jpeg

# CI runs thousands of examples; a developer's quick run fewer.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3000" if os.environ.get("CI") else "300"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def small_jpeg(photo) -> bytes:
    return pil_jpeg(photo[100:164, 200:280], 85, "420")


def decode_outcome(tj, data, **kwargs) -> str:
    """'image' (with or without a warning) or 'error'; anything else fails the test."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            image = tj.decode(data, **kwargs)
        except TurbojpegError as exc:
            error = exc
        except ValueError as exc:
            # A flipped bit can shrink the frame the header declares below a crop that
            # fitted the original: refused as for any crop outside the image, and only then.
            crop = kwargs.get("crop")
            if crop is None or "does not fit" not in str(exc):
                raise
            warnings.simplefilter("ignore", TurbojpegWarning)
            info = tj.decode_header(data)
            assert crop[0] + crop[2] > info.width or crop[1] + crop[3] > info.height, info
            return "error"
        else:
            error = None
    if error is not None:
        assert error.code in (None, TJERR_WARNING, TJERR_FATAL)
        assert str(error)
        return "error"
    assert isinstance(image, np.ndarray)
    # The dtype the header's precision calls for: a flipped bit can make an 8-bit
    # JPEG's frame header say 12 bits, and that decodes to uint16.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurbojpegWarning)
        precision = tj.decode_header(data).precision or 8
    assert image.dtype == (np.uint8 if precision <= 8 else np.uint16)
    assert image.ndim == 3
    assert all(issubclass(w.category, TurbojpegWarning) for w in caught)
    return "image"


def test_empty_data(tj):
    for empty in (b"", bytearray(), memoryview(b""), np.zeros(0, np.uint8)):
        with pytest.raises(TurbojpegError, match="empty data"):
            tj.decode(empty)
        with pytest.raises(TurbojpegError, match="empty data"):
            tj.decode_header(empty)


def test_truncated_at_every_length(tj, small_jpeg):
    outcomes = [decode_outcome(tj, small_jpeg[:n]) for n in range(len(small_jpeg))]
    # Cut inside the headers: an error. Cut in the entropy-coded data: an image.
    assert outcomes[0] == "error"
    assert outcomes[-1] == "image"
    first_image = outcomes.index("image")
    assert "error" in outcomes[:first_image]
    assert tj.decode(small_jpeg).shape == (64, 80, 3)


def test_truncated_data_warns_or_fails_when_strict(lib_path, small_jpeg):
    cut = small_jpeg[: len(small_jpeg) * 2 // 3]
    lenient = turbojpeg.Turbojpeg(lib_path)
    with pytest.warns(TurbojpegWarning, match="Premature end of JPEG file"):
        image = lenient.decode(cut)
    assert image.shape == (64, 80, 3)
    strict = turbojpeg.Turbojpeg(lib_path, strict=True)
    with pytest.raises(TurbojpegError, match="Premature end") as caught:
        strict.decode(cut)
    assert caught.value.code == TJERR_WARNING
    # The handle is usable after the failure, and gives the right answer.
    assert np.array_equal(strict.decode(small_jpeg), lenient.decode(small_jpeg))


def with_junk(jpeg: bytes) -> bytes:
    """Two stray bytes before the first DQT: libjpeg-turbo warns, then reads on."""
    dqt = jpeg.index(b"\xff\xdb")
    return jpeg[:dqt] + b"\x00\x00" + jpeg[dqt:]


@pytest.mark.parametrize(
    "options",
    [{}, {"scale": (1, 4)}, {"crop": (17, 9, 30, 20)}, {"scale": (1, 2), "crop": (5, 3, 20, 10)}],
)
def test_a_header_warning_leaves_the_header_read(tj, small_jpeg, options):
    # The warning comes with the header's every field, and the image is the
    # clean one's: a scale is taken from the real size (the TurboJPEG 2
    # backend once took 0x0, the whole image, and overflowed the buffer).
    junk = with_junk(small_jpeg)
    with pytest.warns(TurbojpegWarning, match="extraneous bytes"):
        info = tj.decode_header(junk)
    clean = tj.decode_header(small_jpeg)
    fields = ("width", "height", "subsampling", "colorspace")
    assert [getattr(info, f) for f in fields] == [getattr(clean, f) for f in fields]
    with pytest.warns(TurbojpegWarning, match="extraneous bytes"):
        image = tj.decode(junk, **options)
    assert np.array_equal(image, tj.decode(small_jpeg, **options))


def test_a_header_warning_on_12_bits_and_transforms(tj3_path, small_jpeg):
    tj = turbojpeg.Turbojpeg(tj3_path)
    wide = tj.decode(small_jpeg).astype(np.uint16) << 4
    twelve = tj.encode(wide, precision=12)
    for options in ({"crop": (8, 8, 16, 16)}, {"scale": (1, 2)}):
        with pytest.warns(TurbojpegWarning, match="extraneous bytes"):
            image = tj.decode(with_junk(twelve), **options)
        assert np.array_equal(image, tj.decode(twelve, **options))
    # The transform is planned on the whole header: our own message for a crop
    # off the iMCU grid, as for the clean JPEG.
    with pytest.warns(TurbojpegWarning), pytest.raises(ValueError, match="16x16 iMCU grid"):
        tj.transform(with_junk(small_jpeg), crop=(3, 0, 16, 16))


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "BMP", "TIFF", "WEBP"])
def test_other_image_formats(tj, photo, fmt):
    buf = io.BytesIO()
    Image.fromarray(photo[:32, :32]).save(buf, fmt)
    with pytest.raises(TurbojpegError, match="Not a JPEG file"):
        tj.decode(buf.getvalue())
    with pytest.raises(TurbojpegError, match="Not a JPEG file"):
        tj.decode_header(buf.getvalue())


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ("photo.jpg", TypeError, "not a str; read the file first"),
        (None, TypeError, "bytes-like object .* not NoneType"),
        (12345, TypeError, "not int"),
        ([0xFF, 0xD8], TypeError, "not list"),
        (np.zeros((4, 4), np.uint8)[:, ::2], ValueError, "contiguous"),
    ],
)
def test_wrong_argument_types(tj, data, error, message):
    with pytest.raises(error, match=message):
        tj.decode(data)


def with_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same JPEG with its frame header claiming another size."""
    sof = jpeg.index(b"\xff\xc0")
    return jpeg[: sof + 5] + struct.pack(">HH", height, width) + jpeg[sof + 9 :]


def test_decompression_bomb_is_refused_before_allocating(tj, small_jpeg):
    bomb = with_size(small_jpeg, 60000, 60000)  # 3.6 GP: 10.8 GB as BGR
    with pytest.raises(
        ImageTooLargeError, match=r"60000x60000 = 3600000000 pixels, more than max_pixels"
    ):
        tj.decode(bomb)
    assert isinstance(ImageTooLargeError("x"), ValueError)
    with pytest.raises(ImageTooLargeError):
        tj.decode_header(bomb)


def test_max_pixels_is_configurable(lib_path, small_jpeg):
    tight = turbojpeg.Turbojpeg(lib_path, max_pixels=64 * 80 - 1)
    with pytest.raises(ImageTooLargeError):
        tight.decode(small_jpeg)
    assert turbojpeg.Turbojpeg(lib_path, max_pixels=64 * 80).decode(small_jpeg).shape == (64, 80, 3)
    unguarded = turbojpeg.Turbojpeg(lib_path, max_pixels=None)
    assert unguarded.decode_header(with_size(small_jpeg, 60000, 60000)).width == 60000
    with pytest.raises(ValueError, match="max_pixels must be a positive int or None"):
        turbojpeg.Turbojpeg(lib_path, max_pixels=0)


def test_zero_size_frame(tj, small_jpeg):
    with pytest.raises(TurbojpegError):
        tj.decode(with_size(small_jpeg, 0, 64))


@FUZZ
@given(data=st.binary(min_size=0, max_size=2048))
def test_fuzz_random_bytes(tj, data):
    decode_outcome(tj, data)


@FUZZ
@given(
    prefix=st.sampled_from(
        [b"\xff\xd8", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb", b"\xff\xd8\xff\xc0"]
    ),
    tail=st.binary(max_size=1024),
)
def test_fuzz_random_bytes_after_jpeg_markers(tj, prefix, tail):
    decode_outcome(tj, prefix + tail)


@FUZZ
@given(
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 7)), min_size=1, max_size=8),
    crop=st.booleans(),
    header_only=st.booleans(),
)
@example(flips=[(2262, 2)], crop=False, header_only=True)  # the precision byte: 8 -> 12 bits
@example(flips=[(452464766, 6)], crop=True, header_only=True)  # the frame now 16x64: no crop
def test_fuzz_bit_flipped_jpegs(tj, small_jpeg, flips, crop, header_only):
    data = bytearray(small_jpeg)
    for position, bit in flips:
        # Half the flips land in the first 700 bytes, where the headers are.
        index = position % (700 if header_only else len(data))
        data[index] ^= 1 << bit
    outcome = decode_outcome(tj, bytes(data), crop=(8, 8, 40, 40) if crop else None)
    if outcome == "image" and not crop:
        # Whatever survived must still be a whole image of the size the header declares.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TurbojpegWarning)
            info = tj.decode_header(bytes(data))
            assert tj.decode(bytes(data)).shape[:2] == (info.height, info.width)


@FUZZ
@given(data=st.binary(min_size=0, max_size=512))
def test_fuzz_header_and_yuv(tj, data):
    """Random bytes either raise TurbojpegError or give a header and planes that agree:
    a real size, and [Y] or [Y, Cb, Cr] uint8 planes whose Y covers that size."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurbojpegWarning)
        try:
            info = tj.decode_header(data)
        except TurbojpegError:
            info = None
        try:
            planes = tj.decode_yuv(data)
        except TurbojpegError:
            planes = None
    if info is not None:
        assert info.width > 0
        assert info.height > 0
    if planes is not None:
        assert info is not None  # planes from bytes whose header could not be read
        assert len(planes) in (1, 3)
        assert all(p.dtype == np.uint8 and p.ndim == 2 for p in planes)
        assert planes[0].shape[0] >= info.height
        assert planes[0].shape[1] >= info.width
