"""How a recording is stored: the ffmpeg encodings, and one image file per frame.

``ENCODINGS`` is the one table of ffmpeg encodings; add a row to add one. Each
row names the encoder and output pix_fmt for colour (BGR) and gray sources;
the lossless rows use pix_fmts that keep them bit-exact against the source:

* ffv1 and ffvhuff: ``bgr0`` / ``gbrp`` (the same RGB samples, reordered) and ``gray``;
* x264 lossless: ``libx264rgb`` with ``bgr24`` for colour (H.264 High 4:4:4 on
  the RGB planes; plain ``libx264`` would convert to YUV and lose bits) and
  ``libx264`` with ``gray`` (4:0:0) for gray, tagged full range (``-color_range
  pc``): without that tag decoders treat the luma as limited range and expand
  it when converting to gray or BGR, so the samples are exact but the pixels
  readers hand out are not.

The x264 lossless rows use ``-preset superfast``: on these recordings (sensor
noise dominates lossless size) it came within about 1% of ``medium``'s size at
about 4x the speed. The lossy x264 row keeps x264's default ``medium``.

Encoding is timed without generating frames: a recording's raw frames are
written once to a file next to the output (``raw_frames_path``), every
encoding reads that file, and the timer runs around ffmpeg alone.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import environments, quality
from benchmarks.video.frames import Recording

RAW_DIR = ".raw"  # folder for the raw frame files, inside an output folder
MAX_RAW_FILES = 2  # raw files kept at once: a 1080p colour recording's is 1.9 GB
GENERATOR_VERSION = 1  # bump when frames.Recording.frame changes, to invalidate raw files
DEFAULT_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Encoding:
    """One way to store a recording with ffmpeg.

    ``args`` are ffmpeg output options for both sources (no ``-threads``, no
    ``-pix_fmt``); ``gray_args`` are added for gray sources; ``codec_gray``
    replaces ``codec`` for gray sources when set.
    """

    name: str
    codec: str
    args: tuple[str, ...]
    extension: str
    intra_only: bool
    lossless: bool
    pix_fmt_color: str
    pix_fmt_gray: str
    codec_gray: str | None = None
    gray_args: tuple[str, ...] = ()
    note: str = ""
    gop: int | None = None  # frames from one keyframe to the next (at most), where fixed

    def encoder(self, color: bool) -> str:
        return self.codec if color or self.codec_gray is None else self.codec_gray

    def pix_fmt(self, color: bool) -> str:
        return self.pix_fmt_color if color else self.pix_fmt_gray

    def encoders(self) -> tuple[str, ...]:
        """Every ffmpeg encoder this encoding may use."""
        return tuple(dict.fromkeys(c for c in (self.codec, self.codec_gray) if c))

    def output_args(self, color: bool, threads: int) -> list[str]:
        return [
            "-c:v",
            self.encoder(color),
            "-threads",
            str(threads),
            *self.args,
            *(() if color else self.gray_args),
            "-pix_fmt",
            self.pix_fmt(color),
        ]


def _x264_lossless(name: str, keyint: int, *extra: str, note: str = "") -> Encoding:
    return Encoding(
        name,
        "libx264rgb",
        ("-qp", "0", "-preset", "superfast", "-g", str(keyint), *extra),
        ".mkv",
        intra_only=keyint == 1,
        lossless=True,
        pix_fmt_color="bgr24",
        pix_fmt_gray="gray",
        codec_gray="libx264",
        gray_args=("-color_range", "pc"),
        note=note,
        gop=keyint,
    )


# The GOP-length sweep: lossless x264 at these keyframe intervals, all else equal, so
# random-frame latency against GOP length is the decoder's cost of reaching a frame.
GOP_LENGTHS = (1, 10, 30, 120, 250)
GOP_SWEEP = tuple(f"x264-lossless-k{g}" for g in GOP_LENGTHS)


_FFV1 = ("-level", "3", "-slices", "4", "-slicecrc", "1")

ENCODINGS: tuple[Encoding, ...] = (
    Encoding(
        "ffv1",
        "ffv1",
        (*_FFV1, "-g", "12"),
        ".mkv",
        intra_only=False,
        lossless=True,
        pix_fmt_color="bgr0",
        pix_fmt_gray="gray",
        note="ffmpeg's default GOP of 12: later frames reuse the range coder's adapted state",
        gop=12,
    ),
    Encoding(
        "ffv1-g1",
        "ffv1",
        (*_FFV1, "-g", "1"),
        ".mkv",
        intra_only=True,
        lossless=True,
        pix_fmt_color="bgr0",
        pix_fmt_gray="gray",
        note="every frame a keyframe",
        gop=1,
    ),
    Encoding(
        "ffvhuff",
        "ffvhuff",
        (),
        ".mkv",
        intra_only=True,
        lossless=True,
        pix_fmt_color="gbrp",
        pix_fmt_gray="gray",
        gop=1,
    ),
    *(
        _x264_lossless(name, g, note="every frame an IDR frame" if g == 1 else "")
        for name, g in zip(GOP_SWEEP, GOP_LENGTHS, strict=True)
    ),
    _x264_lossless(
        "x264-lossless-k30-fastdecode",
        30,
        "-tune",
        "fastdecode",
        note="no CABAC, no deblocking, no weighted prediction",
    ),
    Encoding(
        "x264-crf18-bframes",
        "libx264",
        ("-crf", "18", "-preset", "medium", "-bf", "3"),
        ".mkv",
        intra_only=False,
        lossless=False,
        pix_fmt_color="yuv420p",
        pix_fmt_gray="yuv420p",
        note="keyframe at most every 250 frames (x264's default), 3 B-frames",
        gop=250,
    ),
    Encoding(
        "mjpeg",
        "mjpeg",
        ("-q:v", "2"),
        ".mkv",
        intra_only=True,
        lossless=False,
        pix_fmt_color="yuvj420p",
        pix_fmt_gray="yuvj420p",
        note="ffmpeg's mjpeg encoder has no gray pix_fmt, so gray is stored as YUV 4:2:0",
        gop=1,
    ),
)

ENCODINGS_BY_NAME = {e.name: e for e in ENCODINGS}


def same_file_as(encoding: Encoding, frames: int) -> str | None:
    """The GOP-sweep encoding that makes the same file as ``encoding`` on a recording
    of ``frames`` frames, or None. Every keyframe interval from ``frames`` up makes one
    keyframe and nothing else, so of the sweep's longer intervals only the shortest is
    worth its cells; the others would measure the same file again."""
    whole = [g for g in GOP_LENGTHS if g >= frames]
    if encoding.name not in GOP_SWEEP or encoding.gop not in whole[1:]:
        return None
    return GOP_SWEEP[GOP_LENGTHS.index(whole[0])]


# -- the ffmpeg binary ------------------------------------------------------------------


def _run(cmd: list[str], timeout: float = 60.0) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {_tail(done.stderr)}")
    return done.stdout


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def default_ffmpeg() -> str:
    """Our channel's ffmpeg from the bench environment, else the one on PATH (said so)."""
    try:
        return str(environments.get("bench").executable("ffmpeg"))
    except environments.EnvironmentUnavailable as exc:
        print(f"note: encoding with the ffmpeg on PATH: {exc}", file=sys.stderr)
        return "ffmpeg"


def ffmpeg_info(ffmpeg: str = "ffmpeg") -> dict:
    """What this ffmpeg is: path, version line, build configuration, encoders, libvmaf, licence.

    ``encoders`` is a sorted list of encoder names (JSON-friendly). Raises
    FileNotFoundError when there is no such program.
    """
    path = shutil.which(ffmpeg)
    if path is None:
        raise FileNotFoundError(f"no ffmpeg program {ffmpeg!r} (install ffmpeg or pass --ffmpeg)")
    version = _run([path, "-hide_banner", "-version"]).splitlines()[0].strip()
    buildconf = _run([path, "-hide_banner", "-buildconf"]).strip()
    encoders = parse_encoders(_run([path, "-hide_banner", "-encoders"]))
    filters = _run([path, "-hide_banner", "-filters"])
    libvmaf = quality.lists_libvmaf(filters)
    match = re.match(r"ffmpeg version (\S+)", version)
    return {
        "path": path,
        "version": version,
        "version_number": match.group(1) if match else None,
        "buildconf": buildconf,
        "encoders": sorted(encoders),
        "libvmaf": libvmaf,
        "license": "gpl" if "--enable-gpl" in buildconf else "lgpl",
        "nonfree": "--enable-nonfree" in buildconf,
    }


def parse_encoders(text: str) -> set[str]:
    """Encoder names from ``ffmpeg -encoders`` (the lines after the ``------`` rule)."""
    names, started = set(), False
    for line in text.splitlines():
        if line.strip().startswith("------"):
            started = True
            continue
        parts = line.split()
        if started and len(parts) >= 2 and re.fullmatch(r"[VAS.][A-Z.]{5}", parts[0]):
            names.add(parts[1])
    return names


def unavailable_reason(encoding: Encoding, info: dict) -> str | None:
    """Why ``info``'s ffmpeg cannot make ``encoding``, or None when it can."""
    encoders = set(info.get("encoders", ()))
    missing = [c for c in encoding.encoders() if c not in encoders]
    if not missing:
        return None
    why = ""
    if any(c.startswith("libx264") for c in missing) and info.get("license") != "gpl":
        why = " (an LGPL build? libx264 needs --enable-gpl)"
    return f"this ffmpeg has no {' or '.join(missing)} encoder{why}"


# -- raw frames ------------------------------------------------------------------------------

_raw_files: dict[Path, Path] = {}  # resolved path -> path, written by this process
_raw_lock = threading.Lock()


def raw_file_name(recording: Recording) -> str:
    """The raw file's name: every parameter of the recording and the generator version."""
    return (
        f"{recording.name}.{recording.width}x{recording.height}.{recording.pix_fmt}."
        f"{recording.frames}f.{recording.fps}fps.s{recording.seed}.g{GENERATOR_VERSION}.raw"
    )


def raw_frames_path(recording: Recording, directory: str | os.PathLike[str]) -> Path:
    """The recording's frames as one raw file in ``directory`` (ffmpeg's ``rawvideo``,
    ``recording.pix_fmt``), written once and reused by every encoding.

    The name carries every parameter of the recording and the generator version,
    and a file of the wrong size is rewritten. Only the ``MAX_RAW_FILES`` most
    recently used raw files are kept (encode one recording every way, then the
    next); the rest are deleted, as are all by ``discard_raw_frames`` and when
    the interpreter exits.
    """
    directory = Path(directory)
    path = directory / raw_file_name(recording)
    with _raw_lock:
        if path.exists() and path.stat().st_size == recording.raw_bytes:
            _raw_files[path.resolve()] = _raw_files.pop(path.resolve(), path)  # most recent last
            _evict_raw(keep=path)
            return path
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".partial{os.getpid()}")
        try:
            with partial.open("wb") as f:
                for i in range(recording.frames):
                    f.write(recording.frame(i).data)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        _raw_files[path.resolve()] = path
        _evict_raw(keep=path)
    return path


def _evict_raw(keep: Path) -> None:
    """Delete the oldest raw files this process wrote beyond ``MAX_RAW_FILES`` (lock held)."""
    while len(_raw_files) > MAX_RAW_FILES:
        oldest = next(k for k, v in _raw_files.items() if v != keep)
        _raw_files.pop(oldest).unlink(missing_ok=True)


def discard_raw_frames() -> None:
    """Delete the raw frame files this process wrote (or reused)."""
    with _raw_lock:
        for path in _raw_files.values():
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # only when empty
        _raw_files.clear()


atexit.register(discard_raw_frames)


# -- encoding ----------------------------------------------------------------------------


def encode_command(
    recording: Recording,
    encoding: Encoding,
    raw: Path,
    out_path: Path,
    *,
    threads: int,
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """The ffmpeg command line that encodes ``raw`` into ``out_path``."""
    return [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        recording.pix_fmt,
        "-s",
        f"{recording.width}x{recording.height}",
        "-framerate",
        str(recording.fps),
        "-i",
        str(raw),
        *encoding.output_args(recording.color, threads),
        str(out_path),
    ]


def encode_ffmpeg(
    recording: Recording,
    encoding: Encoding,
    out_path: str | os.PathLike[str],
    *,
    threads: int,
    ffmpeg: str = "ffmpeg",
    timeout: float = DEFAULT_TIMEOUT,
    raw_path: str | os.PathLike[str] | None = None,
) -> float:
    """Encode ``recording`` to ``out_path``; return the wall seconds of the ffmpeg run.

    The frames come from ``raw_path`` or, by default, from ``raw_frames_path``
    in ``out_path``'s folder (written before the clock starts). ``threads=0``
    lets ffmpeg choose (all cores). Raises RuntimeError with ffmpeg's last
    lines of output when it fails or times out.
    """
    if threads < 0:
        raise ValueError(f"threads must be 0 (auto) or positive, not {threads}")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    raw = (
        Path(raw_path)
        if raw_path is not None
        else raw_frames_path(recording, out_path.parent / RAW_DIR)
    )
    cmd = encode_command(recording, encoding, raw, out_path, threads=threads, ffmpeg=ffmpeg)
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        out_path.unlink(missing_ok=True)
        stderr = (
            exc.stderr.decode(errors="replace")
            if isinstance(exc.stderr, bytes)
            else exc.stderr or ""
        )
        raise RuntimeError(
            f"{encoding.name} of {recording.name}: ffmpeg took over {timeout:.0f} s: "
            f"{_tail(stderr)}"
        ) from exc
    seconds = time.perf_counter() - start
    if done.returncode != 0 or not out_path.exists() or out_path.stat().st_size == 0:
        out_path.unlink(missing_ok=True)
        raise RuntimeError(
            f"{encoding.name} of {recording.name} failed (ffmpeg exit {done.returncode}): "
            f"{' '.join(cmd)}\n{_tail(done.stderr)}"
        )
    return seconds


def _workers(threads: int) -> int:
    if threads < 0:
        raise ValueError(f"threads must be 0 (all cores) or positive, not {threads}")
    return threads or len(os.sched_getaffinity(0))


def _run_timed(cmd: list[str], what: str, timeout: float) -> float:
    """The wall seconds of a subprocess that must succeed; RuntimeError with its last
    lines of output otherwise."""
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{what} took over {timeout:.0f} s") from exc
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {_tail(done.stderr)}")
    return seconds


def null_ffmpeg(recording: Recording, raw: Path, *, ffmpeg: str = "ffmpeg",
                timeout: float = DEFAULT_TIMEOUT) -> float:  # fmt: skip
    """Seconds of ffmpeg reading ``raw`` the way ``encode_ffmpeg`` does, into the null
    muxer: the start and the raw read that every ffmpeg encode pays."""
    cmd = encode_command(recording, ENCODINGS[0], raw, Path("-"), threads=1, ffmpeg=ffmpeg)
    cmd = [*cmd[: cmd.index("-i") + 2], "-f", "null", "-"]
    return _run_timed(cmd, f"ffmpeg's null run of {recording.name}", timeout)


def _exploded(kind: str, recording: Recording, out_dir: Path, threads: int,
              raw_path, quality: int = 95) -> float:  # fmt: skip
    """Seconds of ``benchmarks.video.exploded`` writing one file per frame (or, for
    ``null``, only starting and reading the raw frames), timed from outside."""
    out_dir = Path(out_dir)
    raw = Path(raw_path) if raw_path is not None else raw_frames_path(
        recording, out_dir.parent / RAW_DIR)  # fmt: skip
    lib = environments.turbojpeg_library()
    cmd = [sys.executable, "-m", "benchmarks.video.exploded", kind, str(raw), str(out_dir),
           "--width", str(recording.width), "--height", str(recording.height),
           "--channels", str(recording.channels), "--frames", str(recording.frames),
           "--threads", str(_workers(threads)), "--quality", str(quality),
           *(["--lib", lib] if lib else [])]  # fmt: skip
    return _run_timed(cmd, f"exploded {kind} of {recording.name}", DEFAULT_TIMEOUT)


def encode_exploded_jpeg(
    recording: Recording,
    out_dir: str | os.PathLike[str],
    *,
    threads: int,
    quality: int = 95,
    raw_path: str | os.PathLike[str] | None = None,
) -> float:
    """One ``frame_{i:06d}.jpg`` per frame with our Turbojpeg (gray as gray, colour as
    BGR 4:2:0), in a process of its own; returns that process's wall seconds, as
    ``encode_ffmpeg`` does. ``threads`` > 1 encodes on a thread pool; 0 means all cores."""
    return _exploded("jpeg", recording, Path(out_dir), threads, raw_path, quality)


def encode_exploded_png(
    recording: Recording,
    out_dir: str | os.PathLike[str],
    *,
    threads: int,
    raw_path: str | os.PathLike[str] | None = None,
) -> float:
    """One ``frame_{i:06d}.png`` per frame with OpenCV's default PNG settings
    (lossless), in a process of its own; returns that process's wall seconds."""
    return _exploded("png", recording, Path(out_dir), threads, raw_path)


def null_exploded(recording: Recording, raw: Path, kind: str) -> float:
    """Seconds of the ``kind`` ("jpeg" or "png") exploded encoder's process with nothing
    encoded: its start, its library loaded and the raw read."""
    return _exploded(f"null-{kind}", recording, raw.parent / "null", 1, raw)
