"""Synthetic behaviour recordings whose every frame carries its own index.

A frame's index is burned into a band at its top-left corner as big black and
white squares on a mid-gray strip, so a reader that returns the wrong frame is
caught even after lossy coding. The band is ``COLS + 2`` blocks wide and
``ROWS + 2`` high: a one-block mid-gray quiet zone around ``ROWS x COLS`` code
blocks, which hold, row by row and most significant bit first,

* a fixed 4-bit start pattern,
* the 20-bit index (0 <= index < 2**20),
* an 8-bit CRC of the index (CRC-8, polynomial 0x07).

A 1 bit is a white block (255), a 0 bit a black one (0), the quiet zone is 128,
all channels equal: gray levels are the same in BGR and RGB, so the code reads
the same whatever the channel order. Blocks are a multiple of 8 pixels (about
a 48th of the frame width) and start on the 8-pixel grid, so each is whole JPEG
and H.264 transform blocks of one flat level and survives lossy coding.

``read_code`` samples the middle of every block and returns ``None`` unless the
quiet zone is gray, every code block is clearly black or white, the start
pattern matches and the CRC agrees: it never guesses.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

INDEX_BITS = 20
CHECK_BITS = 8
START = (1, 1, 0, 1)
ROWS, COLS = 2, 16  # code blocks, without the quiet zone
MAX_INDEX = 2**INDEX_BITS - 1
BLACK, GRAY, WHITE = 0, 128, 255
# Read levels: a code block must be below DARK or above LIGHT, the quiet zone in between.
DARK, LIGHT = 80, 176
NOISE_SIGMA = 3.0

assert len(START) + INDEX_BITS + CHECK_BITS == ROWS * COLS


def block_size(width: int) -> int:
    """Side of one code block in pixels: a multiple of 8, about width / 48, at least 8."""
    return max(8, 8 * round(width / 384))


def band_size(width: int) -> tuple[int, int]:
    """(width, height) in pixels of the code band of a frame ``width`` pixels wide."""
    b = block_size(width)
    return (COLS + 2) * b, (ROWS + 2) * b


def crc8(value: int) -> int:
    """CRC-8 (polynomial 0x07, initial value 0) of ``value`` as three big-endian bytes."""
    crc = 0
    for byte in value.to_bytes(3, "big"):
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def code_bits(index: int) -> list[int]:
    """The ROWS * COLS bits (row by row) that encode ``index``."""
    if (
        isinstance(index, bool)
        or not isinstance(index, int | np.integer)
        or not 0 <= index <= MAX_INDEX
    ):
        raise ValueError(f"index must be an int from 0 to {MAX_INDEX}, not {index!r}")
    index = int(index)
    data = [(index >> s) & 1 for s in range(INDEX_BITS - 1, -1, -1)]
    check = crc8(index)
    return [*START, *data, *((check >> s) & 1 for s in range(CHECK_BITS - 1, -1, -1))]


def _check_frame(frame: np.ndarray) -> None:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise TypeError("frame must be a uint8 numpy array")
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
        raise ValueError(f"frame must be (h, w) or (h, w, 1|3|4), not shape {frame.shape}")


def burn_code(frame: np.ndarray, index: int) -> None:
    """Draw ``index`` into the top-left band of ``frame`` (gray or colour uint8), in place."""
    _check_frame(frame)
    height, width = frame.shape[:2]
    b = block_size(width)
    band_w, band_h = band_size(width)
    if band_w > width or band_h > height:
        raise ValueError(
            f"a {width}x{height} frame is too small for the {band_w}x{band_h} code band"
        )
    levels = np.where(np.array(code_bits(index), dtype=bool), WHITE, BLACK).astype(np.uint8)
    band = np.full((ROWS + 2, COLS + 2), GRAY, dtype=np.uint8)
    band[1:-1, 1:-1] = levels.reshape(ROWS, COLS)
    pixels = np.repeat(np.repeat(band, b, axis=0), b, axis=1)
    if frame.ndim == 3:
        frame[:band_h, :band_w] = pixels[:, :, None]
    else:
        frame[:band_h, :band_w] = pixels


def _cell_means(frame: np.ndarray) -> np.ndarray | None:
    """Mean level of the middle half of every cell of the band, (ROWS + 2, COLS + 2)."""
    height, width = frame.shape[:2]
    b = block_size(width)
    band_w, band_h = band_size(width)
    if band_w > width or band_h > height:
        return None
    band = frame[:band_h, :band_w]
    if band.ndim == 2:
        band = band[:, :, None]
    lo, hi = b // 4, b - b // 4
    cells = band[:, :, :3].reshape(ROWS + 2, b, COLS + 2, b, -1)[:, lo:hi, :, lo:hi]
    return cells.mean(axis=(1, 3, 4), dtype=np.float32)


def read_code(frame: np.ndarray) -> int | None:
    """The index burned into ``frame`` (gray, or 3 channels in any order), or None.

    None when there is no code, or it is damaged: never a wrong number unless
    the damage happens to form another valid code (start pattern and CRC agree).
    """
    _check_frame(frame)
    cells = _cell_means(frame)
    if cells is None:
        return None
    ring = np.concatenate([cells[0], cells[-1], cells[1:-1, 0], cells[1:-1, -1]])
    if np.any(ring <= DARK) or np.any(ring >= LIGHT):
        return None
    code = cells[1:-1, 1:-1].ravel()
    if np.any((code > DARK) & (code < LIGHT)):
        return None
    bits = (code >= LIGHT).astype(int).tolist()
    if tuple(bits[: len(START)]) != START:
        return None
    data = bits[len(START) : len(START) + INDEX_BITS]
    check = bits[len(START) + INDEX_BITS :]
    index = int("".join(map(str, data)), 2)
    if int("".join(map(str, check)), 2) != crc8(index):
        return None
    return index


# -- synthetic recordings ---------------------------------------------------------


@functools.lru_cache(maxsize=8)
def arena(width: int, height: int, color: bool, seed: int) -> np.ndarray:
    """The static background of a recording: a textured floor inside a round wall.

    Computed once per (width, height, color, seed) and returned read-only.
    """
    import cv2

    rng = np.random.default_rng([seed, width, height, int(color), 1])
    short = min(width, height)
    # Smooth texture: blurred noise at a coarse and a fine scale.
    coarse = cv2.GaussianBlur(
        rng.standard_normal((height, width), dtype=np.float32), (0, 0), max(1.0, short / 30)
    )
    fine = cv2.GaussianBlur(
        rng.standard_normal((height, width), dtype=np.float32), (0, 0), max(0.7, short / 400)
    )
    texture = coarse / (coarse.std() + 1e-6) * 10 + fine / (fine.std() + 1e-6) * 6
    floor = np.clip(150 + texture, 0, 255)
    if color:
        tint = np.array([0.80, 0.95, 1.10], dtype=np.float32)  # warm, bedding-like floor
        image = np.clip(floor[:, :, None] * tint, 0, 255).astype(np.uint8)
    else:
        image = floor.astype(np.uint8)
    centre = (width // 2, height // 2)
    radius = int(short * 0.46)
    wall = max(2, short // 60)
    outside = np.full((height, width), 255, np.uint8)
    cv2.circle(outside, centre, radius, 0, -1)
    dim = (0.55 * image).astype(np.uint8)
    image[outside > 0] = dim[outside > 0]
    cv2.circle(image, centre, radius, (70, 80, 90) if color else 80, wall, cv2.LINE_AA)
    # A few fixed objects: a shelter, a food dish and a water spout.
    for _ in range(3):
        angle = rng.uniform(0, 2 * math.pi)
        dist = rng.uniform(0.3, 0.75) * radius
        x, y = int(centre[0] + dist * math.cos(angle)), int(centre[1] + dist * math.sin(angle))
        size = int(short * rng.uniform(0.04, 0.08))
        shade = (
            tuple(int(v) for v in rng.integers(90, 220, 3)) if color else int(rng.integers(90, 220))
        )
        if rng.random() < 0.5:
            cv2.rectangle(image, (x - size, y - size), (x + size, y + size), shade, -1, cv2.LINE_AA)
        else:
            cv2.circle(image, (x, y), size, shade, -1, cv2.LINE_AA)
    image.setflags(write=False)
    return image


@functools.lru_cache(maxsize=4)
def _noise_luts(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Lookup tables turning uniform bytes into the positive and negative parts of
    gaussian noise (256 quantiles of N(0, sigma), rounded)."""
    normal = NormalDist(0.0, sigma)
    values = np.array([round(normal.inv_cdf((u + 0.5) / 256)) for u in range(256)])
    return (np.clip(values, 0, 255).astype(np.uint8), np.clip(-values, 0, 255).astype(np.uint8))


@dataclass(frozen=True, eq=False)
class Animal:
    length: float  # body length in pixels
    width: float
    shade: tuple[int, int, int]  # BGR
    freqs: np.ndarray  # (2, K) cycles per second for x and y
    phases: np.ndarray  # (2, K)
    weights: np.ndarray  # (K,)


@dataclass(frozen=True)
class Recording:
    """A deterministic synthetic recording: ``frame(i)`` needs no other frame."""

    name: str
    width: int
    height: int
    color: bool
    frames: int
    fps: int = 30
    seed: int = 0

    def __post_init__(self) -> None:
        band_w, band_h = band_size(self.width)
        if self.width < band_w or self.height < band_h:
            raise ValueError(f"{self.width}x{self.height} is too small for the code band")
        if not 0 < self.frames <= MAX_INDEX + 1:
            raise ValueError(f"frames must be 1..{MAX_INDEX + 1}, not {self.frames}")

    @property
    def channels(self) -> int:
        return 3 if self.color else 1

    @property
    def pix_fmt(self) -> str:
        """ffmpeg's name for the layout of ``frame(i)``."""
        return "bgr24" if self.color else "gray"

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.height, self.width, 3) if self.color else (self.height, self.width)

    @property
    def frame_bytes(self) -> int:
        return self.width * self.height * self.channels

    @property
    def raw_bytes(self) -> int:
        return self.frame_bytes * self.frames

    def frame(self, i: int) -> np.ndarray:
        """Frame ``i``: arena, moving animals, sensor noise and the burned-in code."""
        import cv2

        if isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= i < self.frames:
            raise IndexError(f"frame {i!r} out of range 0..{self.frames - 1}")
        i = int(i)
        image = arena(self.width, self.height, self.color, self.seed).copy()
        for animal in _animals(self.width, self.height, self.seed):
            _draw_animal(image, animal, i / self.fps, self.width, self.height, self.color)
        rng = np.random.default_rng([self.seed, i, 2])
        flat = image.reshape(self.height, -1)
        uniform = rng.integers(0, 256, flat.shape, dtype=np.uint8)
        plus, minus = _noise_luts(NOISE_SIGMA)
        cv2.add(flat, cv2.LUT(uniform, plus), dst=flat)
        cv2.subtract(flat, cv2.LUT(uniform, minus), dst=flat)
        burn_code(image, i)
        return image

    def frames_iter(self, start: int = 0, stop: int | None = None):
        for i in range(start, self.frames if stop is None else stop):
            yield self.frame(i)


@functools.lru_cache(maxsize=16)
def _animals(width: int, height: int, seed: int) -> tuple[Animal, ...]:
    rng = np.random.default_rng([seed, width, height, 3])
    short = min(width, height)
    animals = []
    for _ in range(int(rng.integers(2, 5))):
        length = short * rng.uniform(0.10, 0.15)
        k = 3
        animals.append(
            Animal(
                length=length,
                width=length * rng.uniform(0.40, 0.55),
                shade=tuple(int(v) for v in rng.integers(25, 70, 3)),
                freqs=rng.uniform(0.03, 0.25, (2, k)),
                phases=rng.uniform(0, 2 * math.pi, (2, k)),
                weights=rng.uniform(0.5, 1.0, k),
            )
        )
    return tuple(animals)


def _position(animal: Animal, t: float, width: int, height: int) -> tuple[float, float]:
    """Smooth, bounded position at time ``t`` seconds: a sum of seeded sinusoids."""
    waves = np.sin(2 * math.pi * animal.freqs * t + animal.phases) @ animal.weights
    u, v = waves / animal.weights.sum()  # each in [-1, 1]
    reach = min(width, height) * 0.46 - animal.length * 0.6
    return width / 2 + u * reach, height / 2 + v * reach


def _draw_animal(
    image: np.ndarray, animal: Animal, t: float, width: int, height: int, color: bool
) -> None:
    import cv2

    x, y = _position(animal, t, width, height)
    dt = 0.02
    x0, y0 = _position(animal, t - dt, width, height)
    x1, y1 = _position(animal, t + dt, width, height)
    heading = math.degrees(math.atan2(y1 - y0, x1 - x0))
    shade = animal.shade if color else round(sum(animal.shade) / 3)
    head = tuple(min(255, c + 25) for c in animal.shade) if color else min(255, shade + 25)
    s = 16  # fixed-point scale for sub-pixel drawing (shift=4)
    cv2.ellipse(
        image,
        (round(x * s), round(y * s)),
        (round(animal.length / 2 * s), round(animal.width / 2 * s)),
        heading,
        0,
        360,
        shade,
        -1,
        cv2.LINE_AA,
        4,
    )
    rad = math.radians(heading)
    hx, hy = x + math.cos(rad) * animal.length * 0.45, y + math.sin(rad) * animal.length * 0.45
    cv2.ellipse(
        image,
        (round(hx * s), round(hy * s)),
        (round(animal.width * 0.35 * s), round(animal.width * 0.28 * s)),
        heading,
        0,
        360,
        head,
        -1,
        cv2.LINE_AA,
        4,
    )


@dataclass(frozen=True)
class Footage(Recording):
    """Real footage: the first ``frames`` frames of a video file, decoded once (PyAV)
    into a raw file beside it, each with its index burned in like a synthetic frame,
    so a reader's answer is checked the same way."""

    source: str = ""  # the video file

    @functools.cached_property
    def _decoded(self) -> np.ndarray:
        path = Path(self.source)
        raw = path.with_name(f"{path.name}.{self.width}x{self.height}.bgr24.{self.frames}f.raw")
        if not raw.is_file() or raw.stat().st_size != self.frames * self.height * self.width * 3:
            import av

            partial = raw.with_name(raw.name + ".partial")
            with av.open(str(path)) as container, open(partial, "wb") as out:
                written = 0
                for frame in container.decode(video=0):
                    out.write(frame.to_ndarray(format="bgr24").tobytes())
                    written += 1
                    if written == self.frames:
                        break
            if written < self.frames:
                partial.unlink()
                raise ValueError(f"{path} has {written} frames, fewer than {self.frames}")
            partial.replace(raw)
        return np.memmap(raw, np.uint8, "r", shape=(self.frames, self.height, self.width, 3))

    def frame(self, i: int) -> np.ndarray:
        if isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= i < self.frames:
            raise IndexError(f"frame {i!r} out of range 0..{self.frames - 1}")
        image = np.array(self._decoded[int(i)])
        burn_code(image, int(i))
        return image


def footage(path: str | Path, frames: int | Callable[[int], int], name: str) -> Footage:
    """A ``Footage`` of the first ``frames`` frames of ``path``, at its own size and
    rate; ``frames`` may be a function of the video's width."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        fps = round(float(stream.average_rate or 25))
    frames = frames(width) if callable(frames) else frames
    return Footage(f"{name}-{width}x{height}", width, height, True, frames, fps=fps,
                   source=str(path))  # fmt: skip


SIZES = ((480, 270), (960, 540), (1920, 1080))
SEED = 20240611
# 300 frames: more than one 250-frame GOP, so that keyint 30 and keyint 250 make
# different files and the GOP-length sweep (codecs.GOP_SWEEP) means something. The
# 480x270 recordings get them in both modes.
QUICK_FRAMES = 300
# Wider recordings (the real footage, 960x540 and 1920x1080 in the full run) get as
# many pixel columns times frames as 40 frames at 480 wide: 25 at 768, 20 at 960 and
# 10 at 1920. On 2 cores the run fits in an hour only with fewer frames where frames
# cost most (fewer frames, never fewer sizes).
FULL_FRAME_WIDTHS = 40 * 480
MIN_FULL_FRAMES = 10


def full_frames(width: int) -> int:
    """Frames per recording for a recording ``width`` pixels wide."""
    if width <= SIZES[0][0]:
        return QUICK_FRAMES
    return max(MIN_FULL_FRAMES, round(FULL_FRAME_WIDTHS / width))


def default_recordings(quick: bool, count: int | None = None) -> list[Recording]:
    """Colour recordings at 480x270 (300 frames), 960x540 (20) and 1920x1080 (10), and
    a gray one at 480x270; or (quick) colour at 480x270 only. Then the real footage
    (OpenCV's vtest.avi, 768x576, from the verified opencv-python sdist): 25 frames,
    the same in both modes. ``count`` sets every one.

    Gray is one size: it asks whether a reader keeps one channel and what that costs,
    which one size answers; how costs grow with size is asked of colour. The two large
    gray recordings took a third of a full run's reads on 2 cores."""
    from benchmarks import datasets

    sizes = SIZES[:1] if quick else SIZES

    def frames_for(width: int) -> int:
        return count or full_frames(width)

    kinds = [(w, h, True) for w, h in sizes]
    if not quick:
        kinds.insert(1, (*SIZES[0], False))
    synthetic = [
        Recording(f"arena-{'color' if color else 'gray'}-{w}x{h}", w, h, color, frames_for(w),
                  seed=SEED)
        for w, h, color in kinds
    ]  # fmt: skip
    source = datasets.opencv_samples((datasets.OPENCV_FOOTAGE,))[datasets.OPENCV_FOOTAGE]
    return [*synthetic, footage(source, frames_for, "vtest")]
