"""The images the benchmarks run on: photos bundled with scikit-image, or a user's folder.

A photo is cut to the target aspect around its centre and resized with
OpenCV: INTER_AREA (area interpolation) when shrinking; INTER_CUBIC when the
photo is smaller than the target, which the label records so reports can say
that image was upscaled (smoother, so it codes faster and smaller than a native
photo of that size would).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Real colour photos that ship inside scikit-image (no download), most detailed first.
EMBEDDED_PHOTOS = (
    "motorcycle", "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
    "immunohistochemistry", "retina",
)
SIZES = {"480x270": (480, 270), "960x540": (960, 540), "1920x1080": (1920, 1080)}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".gif"}


@dataclass(frozen=True)
class Photo:
    name: str
    rgb: np.ndarray  # (h, w, 3) uint8
    source: str  # where it came from, for the provenance record


def photo_rgb(name: str) -> np.ndarray:
    """An embedded photo by name, as RGB."""
    from skimage import data

    if name == "motorcycle":
        return data.stereo_motorcycle()[0]
    return getattr(data, name)()


def embedded_photos(count: int | None = None) -> list[Photo]:
    names = EMBEDDED_PHOTOS[:count] if count else EMBEDDED_PHOTOS
    photos = []
    for name in names:
        rgb = photo_rgb(name)
        photos.append(Photo(name, rgb, f"skimage.data.{name} {rgb.shape[1]}x{rgb.shape[0]}"))
    return photos


def folder_photos(folder: str | Path, count: int | None = None) -> list[Photo]:
    """Every image Pillow can read in ``folder`` (sorted by name), as RGB.

    Files Pillow cannot read are skipped with a note; an empty result is an error.
    """
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"--images: {folder} is not a folder")
    photos, skipped = [], []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        try:
            with Image.open(path) as img:
                rgb = np.asarray(img.convert("RGB"))
        except (OSError, UnidentifiedImageError) as exc:
            skipped.append(f"{path.name}: {exc}")
            continue
        photos.append(Photo(path.stem, rgb, f"{path} {rgb.shape[1]}x{rgb.shape[0]}"))
        if count and len(photos) == count:
            break
    for line in skipped:
        print(f"skipped {line}")
    if not photos:
        raise ValueError(f"--images: no readable images in {folder} ({len(skipped)} unreadable)")
    return photos


def crop_to(image: np.ndarray, aspect: tuple[int, int], shift: tuple[float, float] = (0.0, 0.0),
            shrink: float = 1.0) -> np.ndarray:
    """The largest window of that aspect (times ``shrink``), centred, then moved
    by ``shift`` (each in -1..1, a fraction of the room there is to move)."""
    h, w = image.shape[:2]
    aw, ah = aspect
    cw, ch = (w, w * ah // aw) if w * ah <= h * aw else (h * aw // ah, h)
    cw, ch = max(1, int(cw * shrink)), max(1, int(ch * shrink))
    x = (w - cw) // 2 + int(shift[0] * ((w - cw) // 2))
    y = (h - ch) // 2 + int(shift[1] * ((h - ch) // 2))
    return image[y:y + ch, x:x + cw]


def resize_bgr(rgb: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """``rgb`` resized to ``size`` = (width, height), as contiguous BGR, and how."""
    import cv2

    width, height = size
    upscale = rgb.shape[1] < width or rgb.shape[0] < height
    method = cv2.INTER_CUBIC if upscale else cv2.INTER_AREA
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    out = cv2.resize(bgr, (width, height), interpolation=method)
    return out, ("INTER_CUBIC (upscaled)" if upscale else "INTER_AREA (downscaled)")


def sixteen_by_nine(photo: Photo, size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """The photo cut to 16:9 around its centre and resized to ``size``, as BGR."""
    return resize_bgr(crop_to(photo.rgb, (16, 9)), size)


def parse_sizes(text: str) -> dict[str, tuple[int, int]]:
    """'480x270,960x540' -> {'480x270': (480, 270), ...}; named presets too."""
    sizes = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            width, height = (int(v) for v in item.lower().split("x"))
        except ValueError:
            raise ValueError(f"--sizes: {item!r} is not WIDTHxHEIGHT") from None
        if width <= 0 or height <= 0:
            raise ValueError(f"--sizes: {item!r} must be positive")
        sizes[f"{width}x{height}"] = (width, height)
    if not sizes:
        raise ValueError("--sizes: give at least one WIDTHxHEIGHT")
    return sizes
