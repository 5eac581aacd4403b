"""The data the benchmarks run on: real photos and footage, or a user's folder.

The default photos are real: the colour photos that ship inside scikit-image,
and the OpenCV sample photos from the opencv-python sdist that recipes/opencv
builds from. That sdist is fetched and verified by the sha256 in the recipe
(through the offline runner's fetch, so it is the same file), and the photos
and the sample video are extracted from it into .build/data; nothing is
committed. OpenCV's ``vtest.avi`` (real pedestrian footage, 768x576) is the
video suite's real footage.

By default a photo is used as it is, at its native size (``native``), and
photos are compared by size in bins of their real pixel count (``size_bins``).
Asked for fixed sizes instead (``parse_sizes``), a photo is cut to the target
aspect around its centre and resized with OpenCV: INTER_AREA (area
interpolation) when shrinking; INTER_CUBIC when the photo is smaller than the
target, which the label records so reports can say that image was upscaled
(smoother, so it codes faster and smaller than a native photo of that size
would).
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".build" / "data"
OPENCV_RECIPE = ROOT / "recipes" / "opencv"

# Real colour photos that ship inside scikit-image (no download), most detailed first.
EMBEDDED_PHOTOS = (
    "motorcycle",
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
)
# Real colour photos among OpenCV's samples/data, largest first (renders, paintings,
# drawings, gray and near-duplicate photos left out).
OPENCV_PHOTOS = (
    "aloeL.jpg",
    "castle.jpg",
    "ela_original.jpg",
    "building.jpg",
    "graf1.png",
    "pca_test1.jpg",
    "mcc_ccm_test.jpg",
    "leuvenA.jpg",
    "text_defocus.jpg",
    "stuff.jpg",
    "board.jpg",
    "aero1.jpg",
    "aero3.jpg",
    "licenseplate_motion.jpg",
    "left.jpg",
    "orange.jpg",
    "baboon.jpg",
    "apple.jpg",
    "fruits.jpg",
    "squirrel_cls.jpg",
    "rubberwhale1.png",
    "messi5.jpg",
    "home.jpg",
    "butterfly.jpg",
    "smarties.png",
)
OPENCV_FOOTAGE = "vtest.avi"
SAMPLES_MEMBER = "opencv/samples/data/"  # inside the sdist's top-level folder
SIZES = {"480x270": (480, 270), "960x540": (960, 540), "1920x1080": (1920, 1080)}
NATIVE = "native"  # --sizes native (the default): every photo as it is
SIZE_BINS = 3  # native photos are compared by size in this many bins of their pixel count
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


def recipe_source(recipe: Path) -> Path:
    """The source archive ``recipe`` builds from, fetched and verified by its sha256
    through the offline runner (cached after the first time). OSError when it fails."""
    proc = subprocess.run([sys.executable, "-m", "tools.offline_build", "fetch", str(recipe)],
                          cwd=ROOT, capture_output=True, text=True, check=False)  # fmt: skip
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines or not Path(lines[-1]).is_file():
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise OSError(f"cannot fetch the source of {recipe}: {tail}")
    return Path(lines[-1])


def opencv_sdist() -> Path:
    """The opencv-python sdist recipes/opencv builds from (see ``recipe_source``)."""
    return recipe_source(OPENCV_RECIPE)


def opencv_samples(names: tuple[str, ...]) -> dict[str, Path]:
    """Files of OpenCV's samples/data, extracted once from the verified sdist."""
    folder = DATA_DIR / "opencv-samples"
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(opencv_sdist()) as tar:
            members = {m.name.split("/", 1)[-1]: m for m in tar.getmembers() if m.isfile()}
            for name in missing:
                member = members.get(SAMPLES_MEMBER + name)
                if member is None:
                    raise OSError(f"{SAMPLES_MEMBER}{name} is not in the opencv-python sdist")
                data = tar.extractfile(member).read()
                partial = folder / (name + ".partial")
                partial.write_bytes(data)
                partial.replace(folder / name)
    return {n: folder / n for n in names}


def _skimage_photo(name: str) -> Photo:
    rgb = photo_rgb(name)
    return Photo(name, rgb, f"skimage.data.{name} {rgb.shape[1]}x{rgb.shape[0]}")


def _pillow_photo(path: Path, source: str) -> Photo:
    """An image file as an RGB photo named by its stem; ``source`` says where it came from."""
    from PIL import Image

    with Image.open(path) as img:
        rgb = np.asarray(img.convert("RGB"))
    return Photo(path.stem, rgb, f"{source} {rgb.shape[1]}x{rgb.shape[0]}")


def embedded_photos(count: int | None = None) -> list[Photo]:
    """The default photos: OpenCV's and scikit-image's, interleaved so that the first
    few (quick mode) come from both sources, each list largest first."""
    pairs = itertools.zip_longest([("opencv", n) for n in OPENCV_PHOTOS],
                                  [("skimage", n) for n in EMBEDDED_PHOTOS])  # fmt: skip
    order = [item for pair in pairs for item in pair if item]
    order = order[:count] if count else order
    files = opencv_samples(tuple(n for source, n in order if source == "opencv"))
    return [
        _pillow_photo(files[n], f"OpenCV samples/data/{n} (opencv-python sdist)")
        if source == "opencv"
        else _skimage_photo(n)
        for source, n in order
    ]


def folder_photos(folder: str | Path, count: int | None = None) -> list[Photo]:
    """Every image Pillow can read in ``folder`` (sorted by name), as RGB.

    Files Pillow cannot read are skipped with a note; an empty result is an error.
    """
    from PIL import UnidentifiedImageError

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"--images: {folder} is not a folder")
    photos, skipped = [], []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        try:
            photos.append(_pillow_photo(path, str(path)))
        except (OSError, UnidentifiedImageError) as exc:
            skipped.append(f"{path.name}: {exc}")
            continue
        if count and len(photos) == count:
            break
    for line in skipped:
        print(f"skipped {line}")
    if not photos:
        raise ValueError(f"--images: no readable images in {folder} ({len(skipped)} unreadable)")
    return photos


def crop_to(
    image: np.ndarray,
    aspect: tuple[int, int],
    shift: tuple[float, float] = (0.0, 0.0),
    shrink: float = 1.0,
) -> np.ndarray:
    """The largest window of that aspect (times ``shrink``), centred, then moved
    by ``shift`` (each in -1..1, a fraction of the room there is to move)."""
    h, w = image.shape[:2]
    aw, ah = aspect
    cw, ch = (w, w * ah // aw) if w * ah <= h * aw else (h * aw // ah, h)
    cw, ch = max(1, int(cw * shrink)), max(1, int(ch * shrink))
    x = (w - cw) // 2 + int(shift[0] * ((w - cw) // 2))
    y = (h - ch) // 2 + int(shift[1] * ((h - ch) // 2))
    return image[y : y + ch, x : x + cw]


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


def native(photo: Photo) -> tuple[np.ndarray, str]:
    """The photo as it is, as contiguous BGR, and how (no crop, no resampling)."""
    height, width = photo.rgb.shape[:2]
    return np.ascontiguousarray(photo.rgb[:, :, ::-1]), f"native {width}x{height}"


def _bin_label(low_mp: float, high_mp: float) -> str:
    return f"{low_mp:.2f}-{high_mp:.2f} MP"


def size_bins(photos: list[Photo], bins: int = SIZE_BINS) -> dict[str, str]:
    """Photo name -> its size bin: the photos ranked by pixel count and split into
    ``bins`` groups of (nearly) equal count, each labelled by the range of its photos'
    megapixels, like '0.14-0.25 MP'. Photos of one pixel count share a bin."""
    counted = sorted(((p.rgb.shape[0] * p.rgb.shape[1], p.name, p) for p in photos),
                     key=lambda c: c[:2])  # fmt: skip
    pixels, ranked = [c[0] for c in counted], [c[2] for c in counted]
    groups: list[list[int]] = []
    for part in np.array_split(np.arange(len(ranked)), min(bins, len(ranked)) or 1):
        members = [int(k) for k in part]
        # a pixel count split between two groups stays whole, in the earlier one
        while groups and members and pixels[members[0]] == pixels[groups[-1][-1]]:
            groups[-1].append(members.pop(0))
        if members:
            groups.append(members)
    found = {}
    for members in groups:
        label = _bin_label(pixels[members[0]] / 1e6, pixels[members[-1]] / 1e6)
        found.update({ranked[k].name: label for k in members})
    return found


_WXH = re.compile(r"(\d+)x(\d+)")
_BIN = re.compile(r"(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?) MP")


def size_order(size: str) -> float:
    """Megapixels, to sort sizes by: of ``WIDTHxHEIGHT``, or a size bin's lower end."""
    if match := _WXH.fullmatch(size):
        return int(match[1]) * int(match[2]) / 1e6
    if match := _BIN.fullmatch(size):
        return float(match[1])
    raise ValueError(f"{size!r} is neither WIDTHxHEIGHT nor a size bin like '0.14-0.25 MP'")


def parse_sizes(text: str) -> dict[str, tuple[int, int]] | None:
    """'480x270,960x540' -> {'480x270': (480, 270), ...}; 'native' -> None (every photo
    as it is, compared by size in bins)."""
    if text.strip().lower() == NATIVE:
        return None
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
        raise ValueError("--sizes: give at least one WIDTHxHEIGHT, or 'native'")
    return sizes
