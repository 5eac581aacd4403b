"""Exploded frames, in a process of their own: one JPEG (ours) or PNG (OpenCV) file
per frame of a raw recording, or ``null-jpeg``/``null-png``: the same start, the
same library loaded and the same raw read, with nothing encoded or written.
``codecs`` times this process from outside, as it times ffmpeg, and subtracts the
matching null run's time from both.

    python -m benchmarks.video.exploded jpeg|png|null-jpeg|null-png RAW OUT --width W
        --height H --channels C --frames N [--threads T] [--quality Q] [--lib LIBTURBOJPEG]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

CHUNK_BYTES = 256 << 20
SUFFIX = {"jpeg": ".jpg", "png": ".png"}


def _writer(kind: str, quality: int, lib: str | None):
    """The function that writes one frame, its library loaded; None for a null kind."""
    if kind.endswith("jpeg"):
        from turbojpeg import Turbojpeg

        tj = Turbojpeg(lib)

        def write(path: Path, frame: np.ndarray) -> None:
            path.write_bytes(tj.encode(frame, quality, subsampling="420"))

    else:
        import cv2

        cv2.setNumThreads(1)

        def write(path: Path, frame: np.ndarray) -> None:
            if not cv2.imwrite(str(path), frame):
                raise RuntimeError(f"cv2.imwrite failed for {path}")

    return None if kind.startswith("null") else write


def write_frames(kind: str, raw: Path, out: Path, shape: tuple[int, ...], frames: int,
                 threads: int, quality: int = 95, lib: str | None = None) -> None:  # fmt: skip
    """Every frame of ``raw`` (``frames`` frames of ``shape`` uint8) as a file in ``out``."""
    write = _writer(kind, quality, lib)
    frame_bytes = int(np.prod(shape))
    chunk = max(threads, min(frames, CHUNK_BYTES // frame_bytes))
    if write is not None:
        out.mkdir(parents=True, exist_ok=True)
    pool = ThreadPoolExecutor(threads) if threads > 1 and write is not None else None
    try:
        for first in range(0, frames, chunk):
            count = min(chunk, frames - first)
            data = np.fromfile(raw, np.uint8, count=count * frame_bytes,
                               offset=first * frame_bytes)  # fmt: skip
            if data.size != count * frame_bytes:
                raise ValueError(f"{raw} holds fewer than {frames} frames of {shape}")
            if write is None:
                continue
            block = list(data.reshape(count, *shape))
            paths = [out / f"frame_{first + k:06d}{SUFFIX[kind]}" for k in range(count)]
            if pool is None:
                for path, frame in zip(paths, block, strict=True):
                    write(path, frame)
            else:
                list(pool.map(write, paths, block))
    finally:
        if pool is not None:
            pool.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.video.exploded")
    parser.add_argument("kind", choices=("jpeg", "png", "null-jpeg", "null-png"))
    parser.add_argument("raw", type=Path)
    parser.add_argument("out", type=Path)
    for name in ("--width", "--height", "--channels", "--frames"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quality", type=int, default=95)
    parser.add_argument("--lib", help="the libturbojpeg to encode with")
    args = parser.parse_args(argv)
    shape = (args.height, args.width) + ((args.channels,) if args.channels > 1 else ())
    write_frames(args.kind, args.raw, args.out, shape, args.frames, max(1, args.threads),
                 args.quality, args.lib)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
