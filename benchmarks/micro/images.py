"""The benchmark images: real photos bundled with scikit-image (no download).

A photo is cut to the target's aspect (16:9, or square for the 16x16 image)
around its centre and resized with OpenCV: INTER_AREA when shrinking,
INTER_CUBIC when the photo is smaller than the target. None of these photos
is as large as 1920x1080 (most are not even 960x540), so the larger sizes are
upscaled, smoother and a little faster to code than a native photo of that
size would be; ``Frame.resample`` (and each benchmark's extra_info) says which
was used. Every JPEG is encoded once, by our Turbojpeg at quality 95, 4:2:0,
from BGR, and every contender decodes those same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.datasets import crop_to, photo_rgb, resize_bgr

QUALITY = 95
SIZES = {"480x270": (480, 270), "960x540": (960, 540), "1920x1080": (1920, 1080)}
TINY = (16, 16)
# The most detailed colour photo in skimage.data: a street scene with a motorcycle.
MAIN_PHOTO = "motorcycle"
BATCH_SEED = 20240601  # the crops of the decode_many batch
BATCH_PHOTOS = (
    "motorcycle",
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "hubble_deep_field",
    "retina",
    "immunohistochemistry",
)


@dataclass(frozen=True)
class Frame:
    name: str
    bgr: np.ndarray
    jpeg: bytes
    photo: str
    source_shape: tuple[int, ...]
    resample: str  # "INTER_AREA (downscaled)" or "INTER_CUBIC (upscaled)"

    @property
    def width(self) -> int:
        return self.bgr.shape[1]

    @property
    def height(self) -> int:
        return self.bgr.shape[0]

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    def info(self) -> dict:
        return {
            "size": f"{self.width}x{self.height}",
            "width": self.width,
            "height": self.height,
            "megapixels": round(self.megapixels, 4),
            "photo": f"skimage.data {self.photo} {'x'.join(map(str, self.source_shape))}",
            "resample": self.resample,
            "jpeg_bytes": len(self.jpeg),
            "jpeg": f"quality {QUALITY}, 4:2:0, encoded from BGR by our Turbojpeg",
        }


def make_frame(
    tj,
    photo: str,
    size: tuple[int, int],
    *,
    name: str | None = None,
    shift=(0.0, 0.0),
    shrink=1.0,
    cache: dict | None = None,
) -> Frame:
    if cache is not None:
        if photo not in cache:
            cache[photo] = photo_rgb(photo)
        rgb = cache[photo]
    else:
        rgb = photo_rgb(photo)
    bgr, resample = resize_bgr(crop_to(rgb, size, shift, shrink), size)
    return Frame(
        name=name or f"{size[0]}x{size[1]}",
        bgr=bgr,
        jpeg=tj.encode(bgr, QUALITY, subsampling="420"),
        photo=photo,
        source_shape=rgb.shape,
        resample=resample,
    )


def make_batch(
    tj, count: int = 64, size: tuple[int, int] = (1920, 1080), seed: int = BATCH_SEED
) -> list[Frame]:
    """``count`` distinct frames: the photos in turn, each with a seeded random
    crop (90-100 % of the 16:9 window, anywhere within the photo)."""
    rng = np.random.default_rng(seed)
    cache: dict = {}
    frames = []
    for i in range(count):
        photo = BATCH_PHOTOS[i % len(BATCH_PHOTOS)]
        shrink = float(rng.uniform(0.9, 1.0))
        shift = (float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1)))
        frames.append(
            make_frame(tj, photo, size, name=f"batch-{i}", shift=shift, shrink=shrink, cache=cache)
        )
    return frames
