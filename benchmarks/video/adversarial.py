"""Awkward video files that trip up frame readers, made from a coded recording.

Every file is built with ffmpeg from a small colour ``frames.Recording``, so
each decodable frame still carries its source index (``frames.read_code``):

* ``vfr-dropped.mkv``: every 7th frame dropped (n % 7 == 3) with the others
  keeping their timestamps, so the timestamps have gaps and the decoded frames
  carry their source indices (0, 1, 2, 4, ...), not 0..N-1;
* ``h264.ts``: H.264 in MPEG-TS (no index; timestamps start near 1.4 s);
* ``shifted-start.mp4``: the first frame's timestamp is 5 s, not 0;
* ``bframes-open-gop.mp4``: B-frames and open GOPs (frames after a keyframe in
  decode order that are shown before it and reference the previous GOP);
* ``wrong-frame-count.mp4``: cut with ``-ss`` and stream copy off a keyframe, so
  the sample table (the header's frame count) keeps pre-roll frames that the
  edit list hides from a full decode;
* ``truncated.mkv``: a valid FFV1 file cut at 60% of its bytes (error expected);
* ``corrupt.mkv``: a valid H.264 file with a block of seeded random bytes in
  the middle (error expected).

``make_adversarial`` checks each file has the property it claims (with PyAV)
and skips files that already exist with the same parameters (a stamp
``.<name>.json`` next to each holds them and the description).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.video import codecs
from benchmarks.video.frames import Recording, read_code

VERSION = 2  # bump when a recipe changes, to rebuild existing files (2: x264 on one thread)
SEED = 7
DROP_EVERY, DROP_AT = 7, 3  # vfr-dropped drops frames with n % 7 == 3
TS_OFFSET = 5.0  # seconds, shifted-start.mp4
CUT_AT = 0.5  # seconds, wrong-frame-count.mp4: 15 frames after the first keyframe
TRUNCATE_AT = 0.6  # fraction of the bytes truncated.mkv keeps
CORRUPT_BYTES = 4096


@dataclass(frozen=True)
class AdversarialFile:
    name: str
    path: Path
    description: str
    expect_error: bool


@dataclass
class Scan:
    """What a full PyAV decode of a file yields."""

    format_name: str = ""
    header_frames: int = 0  # stream.frames (0 when the container doesn't say)
    duration: float | None = None  # stream duration in seconds
    rate: float | None = None  # average frame rate
    times: list[float | None] = field(default_factory=list)  # decoded frame times, seconds
    codes: list[int | None] = field(default_factory=list)  # burned-in code of each decoded frame
    packets: list[tuple[int | None, int | None, bool]] = field(
        default_factory=list
    )  # pts, dts, key
    error: str | None = None


def scan(path: str | os.PathLike[str]) -> Scan:
    """Demux every packet and decode every frame of ``path``'s first video stream."""
    import av

    result = Scan()
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            result.format_name = container.format.name
            result.header_frames = stream.frames
            if stream.duration is not None and stream.time_base is not None:
                result.duration = float(stream.duration * stream.time_base)
            result.rate = float(stream.average_rate) if stream.average_rate else None
            for packet in container.demux(stream):
                if packet.size:
                    result.packets.append((packet.pts, packet.dts, packet.is_keyframe))
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                result.times.append(frame.time)
                result.codes.append(read_code(frame.to_ndarray(format="bgr24")))
    except (av.error.FFmpegError, IndexError, ValueError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


@dataclass(frozen=True)
class _Context:
    recording: Recording
    out_dir: Path
    ffmpeg: str

    def raw(self) -> Path:
        return codecs.raw_frames_path(self.recording, self.out_dir / codecs.RAW_DIR)

    def ffmpeg_raw(self, *args: str | Path) -> None:
        """Run ffmpeg on the recording's raw frames with output ``args``."""
        r = self.recording
        self.run(
            "-f",
            "rawvideo",
            "-pix_fmt",
            r.pix_fmt,
            "-s",
            f"{r.width}x{r.height}",
            "-framerate",
            str(r.fps),
            "-i",
            self.raw(),
            *args,
        )

    def run(self, *args: str | Path) -> None:
        cmd = [self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-10:])
            raise RuntimeError(f"ffmpeg failed ({done.returncode}): {' '.join(cmd)}\n{tail}")


# One encoder thread: x264's bitstream depends on its thread count, which otherwise
# follows the machine's cores, so the random bytes of corrupt.mkv would land on other
# frames on another machine.
_X264 = ("-c:v", "libx264", "-threads", "1", "-preset", "veryfast", "-crf", "18",
         "-pix_fmt", "yuv420p")  # fmt: skip


def _fail(name: str, why: str, found: Scan) -> RuntimeError:
    return RuntimeError(
        f"adversarial {name}: {why} (scan: format {found.format_name}, "
        f"{len(found.codes)} frames decoded, header {found.header_frames}, "
        f"error {found.error})"
    )


def _check_codes(name: str, found: Scan, expected: list[int]) -> None:
    if found.error or found.codes != expected:
        raise _fail(
            name, f"decoded codes {found.codes[:12]}... differ from {expected[:12]}...", found
        )


def _vfr_dropped(ctx: _Context, path: Path) -> str:
    select = f"select='not(eq(mod(n\\,{DROP_EVERY})\\,{DROP_AT}))'"
    try:
        ctx.ffmpeg_raw("-vf", select, "-fps_mode", "vfr", *_X264, path)
    except RuntimeError as exc:  # ffmpeg before 5.1 has no -fps_mode
        if "fps_mode" not in str(exc):
            raise
        ctx.ffmpeg_raw("-vf", select, "-vsync", "vfr", *_X264, path)
    found = scan(path)
    kept = [i for i in range(ctx.recording.frames) if i % DROP_EVERY != DROP_AT]
    _check_codes(path.name, found, kept)
    deltas = np.diff([t for t in found.times if t is not None])
    frame = 1 / ctx.recording.fps
    if len(deltas) == 0 or deltas.max() < 1.5 * frame:
        raise _fail(path.name, "no gaps in the timestamps", found)
    return (
        f"variable frame rate: frames with n % {DROP_EVERY} == {DROP_AT} dropped, "
        f"{len(kept)} of {ctx.recording.frames} kept with their timestamps (gaps of "
        f"{deltas.max() * 1000:.0f} ms); the codes are the source indices, not 0..{len(kept) - 1}"
    )


def _h264_ts(ctx: _Context, path: Path) -> str:
    ctx.ffmpeg_raw(*_X264, "-f", "mpegts", path)
    found = scan(path)
    if found.format_name != "mpegts":
        raise _fail(path.name, "not MPEG-TS", found)
    _check_codes(path.name, found, list(range(ctx.recording.frames)))
    return (
        f"H.264 in MPEG-TS: no index, no frame count (header says {found.header_frames}); "
        f"first frame at {found.times[0]:.3f} s"
    )


def _shifted_start(ctx: _Context, path: Path) -> str:
    ctx.ffmpeg_raw(*_X264, "-output_ts_offset", str(TS_OFFSET), path)
    found = scan(path)
    _check_codes(path.name, found, list(range(ctx.recording.frames)))
    if not found.times or found.times[0] is None or found.times[0] <= 0:
        raise _fail(path.name, f"first frame time {found.times[:1]} is not > 0", found)
    return f"mp4 whose first frame is at {found.times[0]:.3f} s, not 0 (-output_ts_offset {TS_OFFSET:g})"


def _leading_frames(packets: list[tuple[int | None, int | None, bool]]) -> int:
    """Packets that follow a (non-first) keyframe in decode order but are shown before it."""
    count = 0
    key_pts = None
    for k, (pts, _dts, key) in enumerate(packets):
        if key and k > 0:
            key_pts = pts
        elif key_pts is not None and pts is not None and pts < key_pts:
            count += 1
    return count


def _bframes_open_gop(ctx: _Context, path: Path) -> str:
    ctx.ffmpeg_raw(
        *_X264, "-bf", "3", "-x264-params", "open-gop=1:keyint=30:min-keyint=30:scenecut=0", path
    )
    found = scan(path)
    _check_codes(path.name, found, list(range(ctx.recording.frames)))
    reordered = sum(1 for pts, dts, _ in found.packets if pts != dts)
    leading = _leading_frames(found.packets)
    if not reordered or not leading:
        raise _fail(
            path.name,
            f"{reordered} packets with pts != dts, {leading} open-GOP leading frames: want both",
            found,
        )
    keys = sum(1 for *_, key in found.packets if key)
    return (
        f"H.264 with 3 B-frames and open GOPs of 30 frames: {reordered} of {len(found.packets)} "
        f"packets have pts != dts, {keys} keyframes, {leading} frames after a keyframe in decode "
        "order are shown before it"
    )


def _wrong_frame_count(ctx: _Context, path: Path) -> str:
    full = path.with_name(f".{path.stem}.full.mp4")
    try:
        ctx.ffmpeg_raw(
            *_X264, "-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-bf", "0", full
        )
        ctx.run("-ss", str(CUT_AT), "-i", full, "-c", "copy", path)
    finally:
        full.unlink(missing_ok=True)
    found = scan(path)
    skip = round(CUT_AT * ctx.recording.fps)
    _check_codes(path.name, found, list(range(skip, ctx.recording.frames)))
    decoded = len(found.codes)
    if found.header_frames == decoded:
        raise _fail(
            path.name, f"header count {found.header_frames} equals the decoded count", found
        )
    by_duration = round(found.duration * found.rate) if found.duration and found.rate else None
    return (
        f"mp4 cut at {CUT_AT:g} s with stream copy: the header says {found.header_frames} frames "
        f"(pre-roll samples from the keyframe included), duration x rate says {by_duration}, "
        f"a full decode yields {decoded} (codes {skip}..{ctx.recording.frames - 1})"
    )


def _truncated(ctx: _Context, path: Path) -> str:
    whole = path.with_name(f".{path.stem}.whole.mkv")
    try:
        ctx.ffmpeg_raw("-c:v", "ffv1", "-level", "3", "-g", "1", "-pix_fmt", "bgr0", whole)
        data = whole.read_bytes()
    finally:
        whole.unlink(missing_ok=True)
    keep = int(len(data) * TRUNCATE_AT)
    path.write_bytes(data[:keep])
    found = scan(path)
    complete = [c for c in found.codes if c is not None]
    if len(found.codes) >= ctx.recording.frames:
        raise _fail(path.name, "the cut file still decodes every frame", found)
    if complete != list(range(len(complete))):
        raise _fail(path.name, "the frames before the cut are not the first ones", found)
    return (
        f"FFV1 mkv cut at {TRUNCATE_AT:.0%} of its {len(data)} bytes: PyAV decodes "
        f"{len(found.codes)} of {ctx.recording.frames} frames"
        + (f", then {found.error}" if found.error else "")
    )


def _corrupt(ctx: _Context, path: Path) -> str:
    ctx.ffmpeg_raw(*_X264, "-g", "30", path)
    data = bytearray(path.read_bytes())
    start = len(data) // 2
    noise = np.random.default_rng(SEED).integers(0, 256, CORRUPT_BYTES, dtype=np.uint8).tobytes()
    data[start : start + CORRUPT_BYTES] = noise
    path.write_bytes(bytes(data))
    found = scan(path)
    codes = [c for c in found.codes if c is not None]
    lost = sorted(set(range(ctx.recording.frames)) - set(codes))
    return (
        f"H.264 mkv with {CORRUPT_BYTES} random bytes (seed {SEED}) at byte {start} of {len(data)}: "
        f"PyAV decodes {len(found.codes)} of {ctx.recording.frames} frames, "
        f"{len(found.codes) - len(codes)} without a readable code; codes lost: {_ranges(lost)}"
        + (f", then {found.error}" if found.error else "")
    )


def _ranges(values: list[int]) -> str:
    """``[1, 2, 3, 7]`` as ``"1-3, 7"``."""
    parts: list[str] = []
    for v in values:
        if parts and int(parts[-1].split("-")[-1]) == v - 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{v}"
        else:
            parts.append(str(v))
    return ", ".join(parts) or "none"


_RECIPES: tuple[tuple[str, bool, Callable[[_Context, Path], str], tuple[str, ...]], ...] = (
    ("vfr-dropped.mkv", False, _vfr_dropped, ("libx264",)),
    ("h264.ts", False, _h264_ts, ("libx264",)),
    ("shifted-start.mp4", False, _shifted_start, ("libx264",)),
    ("bframes-open-gop.mp4", False, _bframes_open_gop, ("libx264",)),
    ("wrong-frame-count.mp4", False, _wrong_frame_count, ("libx264",)),
    ("truncated.mkv", True, _truncated, ("ffv1",)),
    ("corrupt.mkv", True, _corrupt, ("libx264",)),
)

NAMES = tuple(name for name, *_ in _RECIPES)
DAMAGED = tuple(name for name, expect_error, *_ in _RECIPES if expect_error)


def make_adversarial(
    out_dir: str | os.PathLike[str],
    *,
    ffmpeg: str = "ffmpeg",
    width: int = 320,
    height: int = 180,
    frames: int = 90,
) -> list[AdversarialFile]:
    """Build (or reuse) every adversarial file in ``out_dir``; see the module docstring."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    recording = Recording(f"adversarial-{width}x{height}", width, height, True, frames, seed=SEED)
    info = codecs.ffmpeg_info(ffmpeg)
    ctx = _Context(recording, out_dir, info["path"])
    params = {
        "version": VERSION,
        "generator": codecs.GENERATOR_VERSION,
        "recording": asdict(recording),
        "ffmpeg": info["version"],
    }
    made = []
    for name, expect_error, build, encoders in _RECIPES:
        path = out_dir / name
        stamp = out_dir / f".{name}.json"
        description = _reuse(path, stamp, params)
        if description is None:
            missing = [e for e in encoders if e not in info["encoders"]]
            if missing:
                raise RuntimeError(
                    f"adversarial {name} needs the {', '.join(missing)} encoder, "
                    f"which {info['path']} lacks"
                )
            stamp.unlink(missing_ok=True)
            try:
                description = build(ctx, path)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            stamp.write_text(
                json.dumps(
                    {"params": params, "description": description, "bytes": path.stat().st_size},
                    indent=1,
                )
            )
        made.append(AdversarialFile(name, path, description, expect_error))
    return made


def _reuse(path: Path, stamp: Path, params: dict) -> str | None:
    """The stored description when ``path`` was made with ``params`` and is unchanged."""
    if not path.exists() or not stamp.exists():
        return None
    try:
        record = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return None
    if record.get("params") != params or record.get("bytes") != path.stat().st_size:
        return None
    return record.get("description")
