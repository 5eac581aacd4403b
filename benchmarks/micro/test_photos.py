"""Whole real photos, one thread: the embedded set (OpenCV's sample photos and
scikit-image's, at their own sizes) encoded once by Pillow at quality 90, then
decoded one after another by each contender (group ``photos-decode``; the time
is for the whole set, so time per photo is that over ``extra_info["photos"]``)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from benchmarks import datasets
from benchmarks.micro.common import describe, get_contender

NAMES = ("turbojpeg", "simplejpeg", "pyturbojpeg", "opencv-wheel")


@pytest.fixture(scope="module")
def photo_jpegs() -> list[tuple[bytes, np.ndarray]]:
    from PIL import Image

    out = []
    for photo in datasets.embedded_photos():
        buf = io.BytesIO()
        Image.fromarray(photo.rgb).save(buf, "JPEG", quality=90)
        out.append((buf.getvalue(), photo.rgb))
    return out


def _decode_all(decode, jpegs: list[bytes]) -> None:
    for data in jpegs:
        decode(data)


@pytest.mark.parametrize("name", NAMES)
def test_photos_decode(benchmark, photo_jpegs, name):
    contender = get_contender(name)
    jpegs = [data for data, _ in photo_jpegs]
    for data, rgb in photo_jpegs:  # untimed: each decodes to its photo, within JPEG's loss
        decoded = contender.decode(data)
        expected = rgb if contender.needs_rgb else rgb[:, :, ::-1]
        assert decoded.shape == expected.shape, (name, decoded.shape, expected.shape)
        assert float(np.abs(decoded.astype(np.int16) - expected).mean()) < 8
    pixels = sorted(rgb.shape[0] * rgb.shape[1] for _, rgb in photo_jpegs)
    describe(benchmark, "photos-decode", "decode", contender, photos=len(jpegs),
             median_pixels=pixels[len(pixels) // 2])  # fmt: skip
    benchmark(_decode_all, contender.decode, jpegs)
