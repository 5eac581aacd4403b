"""Every public method's TurbojpegWarning points at the caller's line, on every path.

A JPEG cut short gives libjpeg-turbo's "Premature end of JPEG file" warning
while its pixels are decoded; junk between two header segments gives "Corrupt
JPEG data" while the header is read. Each call under test sits on the line
after ``here()``. ``encode`` and ``encode_yuv`` have no warning to give:
libjpeg-turbo's compressor only fails.
"""

from __future__ import annotations

import contextlib
import sys
import warnings

import numpy as np
import pytest
from PIL import Image

from turbojpeg import TurbojpegWarning

from .conftest import pil_jpeg
from .test_cmyk import pil_cmyk_jpeg

PREMATURE = "Premature end of JPEG file"
CORRUPT = "Corrupt JPEG data"


def here() -> int:
    """The line after the caller's: where the call under test is."""
    return sys._getframe(1).f_lineno + 1


@contextlib.contextmanager
def recorded():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def assert_at(caught, line: int, text: str = PREMATURE, count: int = 1) -> None:
    """At least ``count`` warnings say ``text``; every warning points at ``line`` here."""
    assert sum(text in str(w.message) for w in caught) >= count, [str(w.message) for w in caught]
    for w in caught:
        assert issubclass(w.category, TurbojpegWarning)
        assert (w.filename, w.lineno) == (__file__, line), (w.filename, w.lineno, str(w.message))


def cut(jpeg: bytes) -> bytes:
    """Cut in the entropy-coded data: the image decodes, with a warning."""
    return jpeg[: len(jpeg) * 2 // 3]


def with_junk(jpeg: bytes) -> bytes:
    """Two stray bytes before the first DQT: a warning while the header is read."""
    dqt = jpeg.index(b"\xff\xdb")
    return jpeg[:dqt] + b"\x00\x00" + jpeg[dqt:]


def with_orientation(jpeg: bytes, value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    payload = exif.tobytes()
    return jpeg[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


@pytest.fixture(scope="module")
def image(photo) -> np.ndarray:
    return np.ascontiguousarray(photo[100:164, 200:280])  # 80x64: whole 4:2:0 iMCUs


@pytest.fixture(scope="module")
def jpeg(image) -> bytes:
    return pil_jpeg(image, 85, "420")


# A crop reaches the cut (at about row 42): the rows above it decode without a warning.
DECODE_OPTIONS = {
    "plain": {},
    "gray": {"pixel_format": "GRAY"},
    "fast": {"fast_dct": True, "fast_upsample": True},
    "scale": {"scale": (1, 2)},
    "min_size": {"min_size": 30},
    "crop": {"crop": (9, 40, 30, 20)},
    "scaled_crop": {"scale": (1, 2), "crop": (3, 20, 20, 11)},
    "exif_without_tag": {"apply_exif_orientation": True},
}


@pytest.mark.parametrize("options", DECODE_OPTIONS.values(), ids=DECODE_OPTIONS)
def test_decode(tj, jpeg, options):
    data = cut(jpeg)
    with recorded() as caught:
        line = here()
        tj.decode(data, **options)
    assert_at(caught, line)


@pytest.mark.parametrize("crop", [None, (0, 8, 64, 30)])
def test_decode_upright(tj, jpeg, crop):
    data = cut(with_orientation(jpeg, 6))
    with recorded() as caught:
        line = here()
        pixels = tj.decode(data, apply_exif_orientation=True, crop=crop)
    assert_at(caught, line)
    assert pixels.shape == ((80, 64, 3) if crop is None else (30, 64, 3))


@pytest.mark.parametrize("options", [{}, {"crop": (8, 40, 16, 16)}], ids=["plain", "crop"])
def test_decode_into_out(tj, jpeg, options):
    data = cut(jpeg)
    out = np.empty((64, 80, 3) if not options else (16, 16, 3), np.uint8)
    with recorded() as caught:
        line = here()
        tj.decode(data, out=out, **options)
    assert_at(caught, line)


def test_decode_header_warning(tj, jpeg):
    data = with_junk(jpeg)
    with recorded() as caught:
        line = here()
        tj.decode(data)
    assert_at(caught, line, CORRUPT)


@pytest.mark.parametrize("pixel_format", ["RGB", "CMYK"])
def test_decode_cmyk(tj, image, pixel_format):
    data = cut(pil_cmyk_jpeg(image))
    with recorded() as caught:
        line = here()
        tj.decode(data, pixel_format)
    assert_at(caught, line)


@pytest.mark.parametrize("options", [{}, {"crop": (8, 40, 16, 16)}], ids=["plain", "crop"])
@pytest.mark.parametrize("kind", ["12-bit", "lossless"])
def test_decode_more_than_8_bits(tj3_path, image, kind, options):
    import turbojpeg

    tj = turbojpeg.Turbojpeg(tj3_path)
    wide = image.astype(np.uint16) << 4
    if kind == "12-bit":
        data = cut(tj.encode(wide, precision=12, pixel_format="RGB"))
    else:
        data = cut(tj.encode(wide, lossless=True, pixel_format="RGB"))
    out = np.empty((64, 80, 3) if not options else (16, 16, 3), np.uint16)
    with recorded() as caught:
        line = here()
        tj.decode(data, "RGB", **options)
    assert_at(caught, line)
    with recorded() as caught:
        line = here()
        tj.decode(data, "RGB", out=out, **options)
    assert_at(caught, line)


def test_decode_header(tj, jpeg):
    data = with_junk(jpeg)
    with recorded() as caught:
        line = here()
        info = tj.decode_header(data)
    assert_at(caught, line, CORRUPT)
    assert (info.width, info.height) == (80, 64)


@pytest.mark.parametrize("scale", [None, (1, 2)])
def test_decode_yuv(tj, jpeg, scale):
    data = cut(jpeg)
    with recorded() as caught:
        line = here()
        tj.decode_yuv(data, scale=scale)
    assert_at(caught, line)


@pytest.mark.parametrize("threads", [1, 3])
def test_decode_many(tj, jpeg, threads):
    # Three cut images among whole ones: a warning each, given in this thread.
    batch = [jpeg, cut(jpeg), cut(jpeg), jpeg, cut(jpeg)]
    with recorded() as caught:
        line = here()
        result = tj.decode_many(batch, threads=threads)
    assert_at(caught, line, count=3)
    assert result.shape == (5, 64, 80, 3)


@pytest.mark.parametrize("threads", [1, 3])
def test_decode_many_of_different_sizes(tj, jpeg, image, threads):
    # A list result, a header warning and a crop: other paths, the same line.
    small = pil_jpeg(image[:32, :48], 85, "444")
    batch = [with_junk(jpeg), cut(small), jpeg, cut(small)]
    with recorded() as caught:
        line = here()
        result = tj.decode_many(batch, threads=threads, crop=(0, 16, 16, 16))
    assert_at(caught, line, count=2)
    assert_at(caught, line, CORRUPT)
    assert [a.shape for a in result] == [(16, 16, 3)] * 4


def test_transform(tj, jpeg):
    data = cut(jpeg)
    with recorded() as caught:
        line = here()
        tj.transform(data, rotate=90)
    assert_at(caught, line)


def test_transform_header_warning(tj, jpeg):
    data = with_junk(jpeg)
    with recorded() as caught:
        line = here()
        tj.transform(data, hflip=True)
    assert_at(caught, line, CORRUPT)


def test_transform_many(tj, jpeg):
    data = cut(jpeg)
    with recorded() as caught:
        line = here()
        tj.transform_many(data, [{"rotate": 90}, {"crop": (16, 16, 32, 32)}])
    assert_at(caught, line)


def test_the_check_sees_a_wrong_line(tj, jpeg):
    # assert_at itself fails for a warning given elsewhere.
    with recorded() as caught:
        tj.decode(cut(jpeg))
    with pytest.raises(AssertionError):
        assert_at(caught, here())
