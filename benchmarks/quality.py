"""How close a decoded image is to its source: SSIM and PSNR from scikit-image.

Both suites score with these: the JPEG suite each contender's roundtrip, the
video suite the frames of its lossy encodings. Every metric is a function
``metric(reference, test) -> float`` on two arrays of the same shape (uint8,
gray (h, w) or colour (h, w, 3)); higher is closer. VMAF scores a whole
video against its raw source, through an ffmpeg built with libvmaf: the
encoding one when it has libvmaf, else the one imageio-ffmpeg ships (a static
FFmpeg with libvmaf, from PyPI).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Self

import numpy as np


def ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """Structural similarity, 1.0 for identical images; colour channels are averaged.

    Integer images are scored in float32 over their dtype's range: scikit-image keeps
    float32 as it is, which halves the time of its float64 default on a 1080p photo
    and moves the score by about 1e-8."""
    from skimage.metrics import structural_similarity

    channel_axis = 2 if reference.ndim == 3 else None
    if reference.dtype != test.dtype or not np.issubdtype(reference.dtype, np.integer):
        return float(structural_similarity(reference, test, channel_axis=channel_axis))
    info = np.iinfo(reference.dtype)
    return float(
        structural_similarity(
            reference.astype(np.float32),
            test.astype(np.float32),
            channel_axis=channel_axis,
            data_range=float(info.max - info.min),
        )
    )


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB over the dtype's range; inf for identical images."""
    from skimage.metrics import peak_signal_noise_ratio

    if np.array_equal(reference, test):
        return math.inf  # scikit-image would divide by a zero error, with a warning
    return float(peak_signal_noise_ratio(reference, test))


def returned_psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """``psnr`` of what a decoder returned against its reference, 0 on a shape mismatch:
    an image of another size is as wrong as an image can be."""
    return psnr(reference, test) if reference.shape == test.shape else 0.0


class VmafUnavailable(RuntimeError):
    """No ffmpeg with libvmaf here; the message says which were tried."""


def lists_libvmaf(filters: str) -> bool:
    """Whether ``ffmpeg -filters`` output lists the ``libvmaf`` filter."""
    return any(line.split()[1:2] == ["libvmaf"] for line in filters.splitlines())


def has_libvmaf(ffmpeg: str) -> bool:
    """Whether this ffmpeg program has the ``libvmaf`` filter."""
    try:
        listed = subprocess.run(
            [ffmpeg, "-hide_banner", "-filters"],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return lists_libvmaf(listed)


def vmaf_ffmpeg(preferred: str | None = None) -> str:
    """An ffmpeg that computes VMAF: ``preferred`` (the encoding ffmpeg) when it has
    libvmaf, else imageio-ffmpeg's. VmafUnavailable names both when neither has it."""
    tried = []
    if preferred:
        path = shutil.which(preferred) or preferred
        if has_libvmaf(path):
            return path
        tried.append(f"{path} has no libvmaf")
    try:
        import imageio_ffmpeg

        bundled = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        tried.append(f"imageio-ffmpeg is not usable ({type(exc).__name__}: {exc})")
    else:
        if has_libvmaf(bundled):
            return bundled
        tried.append(f"imageio-ffmpeg's {bundled} has no libvmaf")
    raise VmafUnavailable("; ".join(tried))


def vmaf(
    ffmpeg: str,
    distorted: str | os.PathLike[str],
    reference_raw: str | os.PathLike[str],
    *,
    width: int,
    height: int,
    pix_fmt: str,
    fps: float,
    subsample: int = 1,
    threads: int | None = None,
    distorted_options: tuple[str, ...] = (),
) -> list[float]:
    """VMAF (libvmaf's default model) of every ``subsample``-th frame of the video
    ``distorted`` against ``reference_raw``, a raw file of the source frames (ffmpeg's
    ``rawvideo`` in ``pix_fmt``). ``distorted_options`` go before its ``-i`` (an image
    sequence's ``-f image2 -framerate``, say). Both are compared in YUV 4:4:4, frame n
    against frame n. Raises RuntimeError with ffmpeg's message when it fails."""
    threads = threads or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="vmaf-") as scratch:
        log = Path(scratch) / "vmaf.json"
        # Frame n meets frame n: each stream's timestamps become its frame numbers, as a
        # container's millisecond clock would pair every third 30 fps frame wrongly.
        clock = f"settb=1/{fps},setpts=N"
        graph = (
            f"[0:v]format=yuv444p,{clock}[d];"
            f"[1:v]format=yuv444p,{clock}[r];"
            f"[d][r]libvmaf=log_fmt=json:log_path={log}:n_subsample={subsample}:n_threads={threads}"
        )
        command = [
            ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
            *distorted_options, "-i", os.fspath(distorted),
            "-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{width}x{height}", "-r", str(fps),
            "-i", os.fspath(reference_raw),
            "-lavfi", graph, "-f", "null", "-",
        ]  # fmt: skip
        done = subprocess.run(command, check=False, capture_output=True, text=True)
        if done.returncode != 0 or not log.exists():
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise RuntimeError(f"VMAF of {distorted} failed (exit {done.returncode}): {tail}")
        frames = json.loads(log.read_text()).get("frames", [])
    return [float(f["metrics"]["vmaf"]) for f in frames]


def _scores(reference: np.ndarray, test: np.ndarray, with_psnr: bool) -> tuple:
    return (ssim(reference, test), psnr(reference, test)) if with_psnr else (ssim(reference, test),)


class Scorer:
    """SSIM (and PSNR) in worker processes beside the caller, each distinct pair once.

    The suites' quality checks are not timed, and SSIM of a 1080p photo takes longer
    than the roundtrip it scores: scoring in ``workers`` spawned processes while the
    caller goes on with its next roundtrip uses every core. ``submit`` returns a key
    for ``result``; a pair already submitted (many contenders return identical pixels)
    is not scored again. At most ``2 * workers`` pairs wait at once, so the images in
    flight stay few. A context manager: leaving it cancels what is still waiting."""

    def __init__(self, workers: int | None = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers or os.cpu_count() or 1
        # spawn, not fork: the caller has OpenCV's and the codecs' threads running.
        self._pool = ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn")
        )
        self._futures: dict = {}  # key -> future, every pair submitted
        self._waiting: set = set()  # the futures not yet done when last looked at

    def submit(self, reference: np.ndarray, test: np.ndarray, *, with_psnr: bool = True) -> bytes:
        import hashlib
        from concurrent.futures import FIRST_COMPLETED, wait

        digest = hashlib.blake2b(digest_size=16)
        for array in (reference, test):
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(np.ascontiguousarray(array).data)
        key = digest.digest() + bytes([with_psnr])
        if key not in self._futures:
            self._waiting = {f for f in self._waiting if not f.done()}
            while len(self._waiting) >= 2 * self.workers:
                _, self._waiting = wait(self._waiting, return_when=FIRST_COMPLETED)
            future = self._futures[key] = self._pool.submit(_scores, reference, test, with_psnr)
            self._waiting.add(future)
        return key

    def result(self, key: bytes) -> tuple:
        """(ssim, psnr), or (ssim,) when submitted without PSNR; re-raises a worker's error."""
        return self._futures[key].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
