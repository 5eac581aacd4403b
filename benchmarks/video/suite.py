"""The video suite: encode recordings every way in ``codecs.ENCODINGS``, then ask
every reader for the same seeded random frames and check each one.

    python -m benchmarks video [--quick] [--videos DIR] [--ffmpeg PATH]

A frame is right when it is the frame a full sequential decode puts at that
index. Identity comes from the burned-in code when the recording has one (our
synthetic recordings, and the adversarial files made from them), otherwise from
a small thumbnail compared against the sequential decode's thumbnails (your own
videos). Each (reader, file) cell runs in a child process with a time limit, so
a reader that hangs or crashes on a bad file costs that cell, not the run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks import environments, loaded, measure, results, sites
from benchmarks import quality as metrics
from benchmarks.video import adversarial, codecs, floor, frames, fresh, readers

BASELINE = "exploded-jpeg"
# Decoder open cost: open to the first frame, this many times with what the reader
# keeps between opens (its index) dropped first, then this many with it kept.
OPENS = {"open-uncached": 3, "open-cached": 5}
# Encode speed: every encoder in a process of its own (ffmpeg, or the exploded
# encoders' python -m benchmarks.video.exploded), timed from outside, this many
# times; the median of the same process's null run (its start, its libraries, the
# raw read; nothing encoded) is subtracted from each.
ENCODE_SAMPLES = 3
ENCODE_TIMING = (f"each encoder in a process of its own, {ENCODE_SAMPLES} runs, timed from "
                 "outside, less the median of that process's null run (start, libraries, raw "
                 "read; nothing encoded)")  # fmt: skip
VIDEO_SUFFIXES = {".mkv", ".mp4", ".avi", ".mov", ".ts", ".m2ts", ".webm", ".mpg", ".mpeg", ".m4v"}
THUMB = (32, 18)  # width, height of the identity thumbnails


@dataclass
class Config:
    recordings: list[frames.Recording]
    videos: Path | None = None  # the user's own videos instead of the synthetic set
    ffmpeg: str = "ffmpeg"
    readers: tuple[str, ...] = tuple(readers.READERS)
    left_out: dict[str, str] = field(default_factory=dict)  # readers not run, and why
    random_frames: int = 40  # warm random reads per (reader, file)
    cold_frames: int = 5  # cold opens per (reader, file)
    sequential_frames: int = 100  # read straight through per (reader, file), open included
    adversarial_set: bool = True
    seed: int = 0
    timeout: float = 300.0  # seconds per (reader, file) cell
    out: Path = Path("results/video")
    command: list[str] = field(default_factory=lambda: list(sys.argv))
    quick_left_out: tuple[str, ...] = ()  # what a quick run leaves out, in words (results.py)


@dataclass
class VideoFile:
    name: str
    path: Path
    kind: str  # "encoding", "adversarial" or "user"
    encoding: str | None = None
    recording: frames.Recording | None = None
    expect_error: bool = False
    description: str = ""
    exact: bool = False  # reads must be bit-identical: a lossless or intra-only encoding


# -- ground truth ---------------------------------------------------------------


def thumbnail(frame: np.ndarray) -> np.ndarray:
    import cv2

    gray = frame if frame.ndim == 2 else frame.mean(axis=2).astype(np.uint8)
    return cv2.resize(gray, THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)


def identity(frame: np.ndarray, truth: dict) -> int:
    """Which sequential-decode index this frame is (-1 if none)."""
    if truth["coded"]:
        code = frames.read_code(frame)
        if code is None:
            return -1
        positions = truth["position_of_code"].get(code)
        return -1 if positions is None else positions
    distances = np.abs(truth["thumbs"] - thumbnail(frame)).mean(axis=(1, 2))
    best = int(np.argmin(distances))
    return best if distances[best] < 2.0 else -1


def _sequential(path: Path):
    """Every frame in order: PyAV for a video file, turbojpeg for a folder of JPEGs."""
    if path.is_dir():
        from turbojpeg import Turbojpeg

        tj = Turbojpeg()
        for jpeg in sorted(path.glob("frame_*.jpg")):
            yield tj.decode(jpeg.read_bytes())
        return
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for decoded in container.decode(stream):
            yield decoded.to_ndarray(format="bgr24")


def ground_truth(path: Path) -> dict:
    """A full sequential decode: frame count, codes, thumbnails, fps."""
    codes, thumbs, channels = [], [], []
    start = time.perf_counter()
    for image in _sequential(path):
        codes.append(frames.read_code(image))
        thumbs.append(thumbnail(image))
        channels.append(_channel_means(image))
    seconds = time.perf_counter() - start
    coded = bool(codes) and all(c is not None for c in codes)
    return {
        "count": len(codes),
        "coded": coded,
        "codes": codes,
        "position_of_code": {c: i for i, c in enumerate(codes)} if coded else {},
        "thumbs": np.stack(thumbs) if thumbs else np.zeros((0, THUMB[1], THUMB[0]), np.float32),
        "channels": np.array(channels, np.float32).reshape(-1, 3),
        "sequential_seconds": seconds,
    }


# -- pixel checks ------------------------------------------------------------------

PSNR_FLOOR = 45.0  # dB, against the same reader's sequential decode, for lossy GOP codecs
PROBE_STEP = 4  # PSNR on every 4th pixel of every 4th row: a 1/16 sample of the frame
CHANNEL_GAP = 2.0  # levels between the mean blue and red below which order cannot be told


def _channel_means(image: np.ndarray) -> tuple[float, float, float]:
    """Mean of each channel, B, G, R (the same three for a one-channel frame)."""
    if image.ndim == 2 or image.shape[-1] == 1:
        level = float(image.mean())
        return level, level, level
    return tuple(float(m) for m in image.reshape(-1, image.shape[-1]).mean(axis=0)[:3])


def probe(image: np.ndarray) -> tuple[str, np.ndarray]:
    """What a frame is compared by: the digest of all its bytes, and a sample of it."""
    frame = np.ascontiguousarray(image)
    return hashlib.sha1(frame.tobytes()).hexdigest(), frame[::PROBE_STEP, ::PROBE_STEP].copy()


psnr = metrics.returned_psnr  # inf when equal, 0 for a frame of another size


def channel_order(image: np.ndarray, truth: dict, i: int) -> str | None:
    """ "swapped" when the frame's blue and red means match the truth's the wrong way
    round; None when they match, or when the truth's frame is too gray to tell."""
    b, _, r = truth["channels"][i]
    if abs(b - r) < CHANNEL_GAP:
        return None
    got_b, _, got_r = _channel_means(image)
    return "swapped" if abs(got_b - r) + abs(got_r - b) < abs(got_b - b) + abs(got_r - r) else None


def _reference(handle, wanted: set[int]) -> dict[int, tuple[str, np.ndarray]] | None:
    """The probes of the wanted frames in the reader's own sequential decode (a fresh
    pass); None when it cannot read the file straight through."""
    found: dict[int, tuple[str, np.ndarray]] = {}
    stream = handle.sequential()
    try:
        for i, image in enumerate(stream):
            if i in wanted:
                found[i] = probe(image)
            if len(found) == len(wanted):
                break
    except Exception:  # noqa: BLE001 - no reference: the pixel check is left out, said so
        return None
    finally:
        stream.close()
    return found


# -- one (reader, file) cell, in a child process --------------------------------


def _measure_cell(
    reader_name: str, path: str, truth: dict, indices: list[int], cold: list[int], sequential: int
) -> dict:
    reader = readers.make_reader(reader_name)
    reader.prepare()  # its imports and libraries, before any clock and any fork
    result = {
        "latency": [],
        "checked": 0,
        "wrong": [],
        "out_of_range": {},
        "errors": [],
        "stats": None,
        "header_count": None,
    }

    def open_handle():
        handle = reader.open(path)
        if result["stats"] is None:  # the first open: the cold one forget() made ready
            result["stats"] = handle.stats()
        return handle

    # Open to the first frame, each in a fresh process forked before this one has opened
    # the file (some libraries, decord for one, hang in a child forked after use).
    opened = []
    for mode, samples in OPENS.items():
        for _ in range(samples):
            try:
                opened.append(
                    (
                        mode,
                        *fresh.in_fresh_process(
                            functools.partial(_open_sample, reader, path, mode == "open-uncached")
                        ),
                    )
                )
            except Exception as exc:  # noqa: BLE001 - a failed open is a wrong frame, recorded
                _failed(result, f"{mode} read(0)", 0, exc)
    # The reader's own sequential decode of the frames this cell reads: what each random
    # read must equal (bit for bit on lossless and intra files, else PSNR >= the floor).
    handle = reader.open(path)
    try:
        reference = _reference(handle, {i for i in (*indices, *cold) if i >= 0})
    finally:
        handle.close()
    result["pixels"] = {"checked": 0, "wrong": [], "reference": reference is not None}
    truth = {**truth, "reference": reference}
    for mode, seconds, image, stats in opened:
        if result["stats"] is None:
            result["stats"] = stats  # the first open's: a cold one, its index dropped
        result["latency"].append((mode, 0, seconds))
        _check(result, 0, image, truth)
    reader.forget(path)  # the first cold read pays for whatever the reader keeps between opens
    for i in cold:
        start = time.perf_counter()
        handle = open_handle()
        try:
            image = handle.read(i)
        except Exception as exc:  # noqa: BLE001 - a failed read is a wrong frame, recorded
            _failed(result, f"cold read({i})", i, exc)
            continue
        finally:
            handle.close()
        result["latency"].append(("cold", i, time.perf_counter() - start))
        _check(result, i, image, truth)
    handle = open_handle()
    try:
        result["header_count"] = handle.frame_count()
        for i in indices:
            start = time.perf_counter()
            try:
                image = handle.read(i)
            except Exception as exc:  # noqa: BLE001 - a failed read is a wrong frame, recorded
                _failed(result, f"read({i})", i, exc)
                continue
            result["latency"].append(("warm", i, time.perf_counter() - start))
            _check(result, i, image, truth)
        count = truth["count"]
        for probe in (count, count + 10, -1):
            try:
                handle.read(probe)
            except Exception as exc:  # noqa: BLE001 - refusing is the right answer here
                result["out_of_range"][str(probe)] = f"refused ({type(exc).__name__})"
            else:
                result["out_of_range"][str(probe)] = "returned a frame"
        result["sequential_fps"] = _sequential_fps(handle, min(truth["count"], sequential))
    finally:
        handle.close()
    # What this reader's process actually mapped (ours, a wheel's, or none at all).
    result["libavcodec"] = loaded.mapped("libavcodec")
    return result


def _open_sample(reader, path: str, drop_index: bool) -> tuple[float, np.ndarray, dict]:
    """Open to the first frame (after ``forget`` when ``drop_index``): its seconds, the
    frame and the handle's stats."""
    if drop_index:
        reader.forget(path)
    start = time.perf_counter()
    handle = reader.open(path)
    try:
        image = handle.read(0)
        seconds = time.perf_counter() - start
        return seconds, image, handle.stats()
    finally:
        handle.close()


def _sequential_fps(handle, frames: int) -> float | None:
    """Frames per second reading the first ``frames`` straight through from a fresh
    open (``sequential()`` opens its own); None when the reader cannot read that far."""
    if not frames:
        return None
    read = 0
    start = time.perf_counter()
    stream = handle.sequential()
    try:
        for _ in stream:
            read += 1
            if read == frames:
                break
    except Exception:  # noqa: BLE001 - a reader that cannot read through has no figure
        return None
    finally:
        stream.close()  # its decoder, now, not when garbage is collected
    seconds = time.perf_counter() - start
    return frames / seconds if read == frames else None


def _failed(result: dict, what: str, i: int, exc: Exception) -> None:
    """A read that raised: checked, wrong, and its error kept."""
    result["errors"].append(f"{what}: {type(exc).__name__}: {exc}")
    result["checked"] += 1
    result["wrong"].append((i, "error"))


def _check(result: dict, i: int, image: np.ndarray, truth: dict) -> None:
    """Frame ``i`` as a reader returned it: the right frame (its burned-in code, or its
    thumbnail), its channels in order, and its pixels those of the reader's own
    sequential decode. Any failure makes it a wrong frame."""
    result["checked"] += 1
    got = identity(image, truth)
    if got != i:
        result["wrong"].append((i, got))
        return
    if channel_order(image, truth, i):
        result["wrong"].append((i, "channels swapped"))
        return
    reference = (truth.get("reference") or {}).get(i)
    if reference is None:
        return
    pixels = result["pixels"]
    pixels["checked"] += 1
    digest, sample = probe(image)
    if digest == reference[0]:
        return
    score = psnr(sample, reference[1])
    if truth.get("exact") or score < PSNR_FLOOR:
        pixels["wrong"].append((i, round(score, 1)))
        result["wrong"].append((i, f"pixels ({score:.1f} dB)"))


def _child(queue, *args) -> None:
    try:
        queue.put(("ok", _measure_cell(*args)))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        queue.put(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"))


class CellHost:
    """Served in a site process: measures one cell after another for one reader."""

    def measure(self, *args) -> dict:
        return _measure_cell(*args)


class Cells:
    """Runs ``_measure_cell`` away from the suite, with a time limit per cell.

    A reader that needs a process of its own (a benchmark environment's packages,
    variables set at start) gets one spawned worker, kept for all its cells: a fresh
    interpreter per cell would cost an import of its library every time. A cell that
    times out or kills its worker costs that cell; the next one starts a new worker.
    Any other reader's cell runs in a forked child, which costs next to nothing.
    """

    def __init__(self, timeout: float, sequential: int) -> None:
        self.timeout = timeout
        self.sequential = sequential
        self._workers: dict[str, sites.Worker] = {}

    def run(self, reader_name: str, path: Path, truth: dict, indices, cold) -> dict:
        reader = readers.READERS[reader_name]
        variables = reader.process_environment()
        site = environments.get(reader.environment).site_packages if reader.environment else None
        args = (reader_name, str(path), truth, indices, cold, self.sequential)
        if site is None and not variables:
            return self._forked(args)
        worker = self._workers.get(reader_name)
        try:
            if worker is None or not worker.alive():
                worker = self._workers[reader_name] = sites.Worker(
                    site, "benchmarks.video.suite:CellHost", variables=variables
                )
            return worker.call("measure", *args, timeout=self.timeout)
        except sites.WorkerError as exc:
            if worker is not None and not worker.alive():
                self._workers.pop(reader_name, None)
            return {"error": str(exc)}

    def _forked(self, args) -> dict:
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_child, args=(queue, *args))
        child.start()
        try:
            status, payload = queue.get(timeout=self.timeout)
        except Exception:  # noqa: BLE001 - queue.Empty: the child hung or died silently
            status, payload = "error", f"no answer within {self.timeout:.0f} s (killed)"
        except BaseException:  # the run is stopping (Ctrl-C, SIGTERM): so is its cell
            child.kill()
            child.join()
            raise
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join()
        return payload if status == "ok" else {"error": payload}

    def close(self) -> None:
        for worker in self._workers.values():
            worker.close()
        self._workers.clear()


# -- the run ----------------------------------------------------------------------


def encode_all(
    config: Config, info: dict, workdir: Path, progress
) -> tuple[list[VideoFile], list[dict], dict]:
    files, rows, skipped = [], [], {}
    cores = os.cpu_count() or 1
    for recording in config.recordings:
        plan = [(e.name, e) for e in codecs.ENCODINGS] + [(BASELINE, None), ("exploded-png", None)]
        nulls: dict[str, float] = {}  # route -> its null run's median seconds

        for name, encoding in plan:
            progress.set_postfix_str(f"encode {recording.name} {name}")
            twin = codecs.same_file_as(encoding, recording.frames) if encoding else None
            reason = (
                f"at {recording.frames} frames the same file as {twin} (one keyframe)"
                if twin
                else codecs.unavailable_reason(encoding, info)
                if encoding
                else None
            )
            if reason:
                skipped[name if not twin else f"{recording.name}.{name}"] = reason
                progress.update(2)
                continue
            intra_only = True if encoding is None else encoding.intra_only
            lossless = name == "exploded-png" or bool(encoding and encoding.lossless)
            route = "ffmpeg" if encoding else "jpeg" if name == BASELINE else "png"
            for threads in (1, cores):
                times = []
                for _ in range(ENCODE_SAMPLES):
                    if encoding:
                        target = workdir / f"{recording.name}.{name}.t{threads}{encoding.extension}"
                        times.append(codecs.encode_ffmpeg(recording, encoding, target,
                                                          threads=threads, ffmpeg=config.ffmpeg))  # fmt: skip
                    else:
                        target = workdir / f"{recording.name}.{name}.t{threads}"
                        shutil.rmtree(target, ignore_errors=True)
                        encode = (codecs.encode_exploded_jpeg if route == "jpeg"
                                  else codecs.encode_exploded_png)  # fmt: skip
                        times.append(encode(recording, target, threads=threads))
                null = _null_seconds(recording, route, workdir, config.ffmpeg, nulls)
                net = measure.summarize([t - null for t in times])
                size = _size(target)
                rows.append(
                    {
                        "recording": recording.name,
                        "encoding": name,
                        "threads": threads,
                        "seconds": net.median,  # the encode alone: the null run subtracted
                        "seconds_low": net.low,
                        "seconds_high": net.high,
                        "samples": net.n,
                        "net_samples": " ".join(f"{t - null:.6g}" for t in times),
                        "null_seconds": null,
                        "bytes": size,
                        "raw_bytes": recording.raw_bytes,
                        "frames": recording.frames,
                        "width": recording.width,
                        "height": recording.height,
                        "color": recording.color,
                        "intra_only": intra_only,
                        "lossless": lossless,
                    }
                )
                progress.update()
                if threads == 1:
                    keep = target
                elif target != keep:
                    shutil.rmtree(
                        target, ignore_errors=True
                    ) if target.is_dir() else target.unlink()
            if name != "exploded-png":  # PNG is for the storage comparison only
                exact = intra_only or lossless
                files.append(
                    VideoFile(
                        f"{recording.name}.{name}", keep, "encoding", name, recording, exact=exact
                    )
                )
    return files, rows, skipped


def _null_seconds(recording, route: str, workdir: Path, ffmpeg: str, cache: dict) -> float:
    """The median of ``ENCODE_SAMPLES`` null runs of a route (ffmpeg, or the exploded
    "jpeg" or "png" process) on this recording's raw frames, measured once per route."""
    if route not in cache:
        raw = codecs.raw_frames_path(recording, workdir / codecs.RAW_DIR)
        run = (functools.partial(codecs.null_ffmpeg, recording, raw, ffmpeg=ffmpeg)
               if route == "ffmpeg" else
               functools.partial(codecs.null_exploded, recording, raw, route))  # fmt: skip
        cache[route] = float(np.median([run() for _ in range(ENCODE_SAMPLES)]))
    return cache[route]


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir())
    return path.stat().st_size


QUALITY_EVERY = 10  # score every 10th frame of each lossy encoding


def quality_rows(files: list[VideoFile], vmaf_ffmpeg: str | None, workdir: Path) -> list[dict]:
    """SSIM and PSNR of the lossy encodings against the source, every QUALITY_EVERY-th
    frame; VMAF over the same frames when ``vmaf_ffmpeg`` (one with libvmaf) is given."""
    rows = []
    for f in files:
        if f.kind != "encoding" or f.recording is None:
            continue
        lossy = f.encoding in (BASELINE, *[e.name for e in codecs.ENCODINGS if not e.lossless])
        if not lossy:
            continue
        ssim, psnr = [], []
        for i, image in enumerate(_sequential(f.path)):
            if i % QUALITY_EVERY:
                continue
            source = f.recording.frame(i)
            if source.ndim == 2:
                image = image[:, :, 0] if image.ndim == 3 else image
            ssim.append(metrics.ssim(source, image))
            psnr.append(metrics.psnr(source, image))
        row = {
            "file": f.name,
            "encoding": f.encoding,
            "recording": f.recording.name,
            "frames_compared": len(ssim),
            "ssim_mean": float(np.mean(ssim)),
            "ssim_min": float(np.min(ssim)),
            "psnr_mean": float(np.mean(psnr)),
            "psnr_min": float(np.min(psnr)),
        }
        if vmaf_ffmpeg:
            row |= _vmaf_columns(vmaf_ffmpeg, f, workdir)
        rows.append(row)
    return rows


def _vmaf_columns(ffmpeg: str, f: VideoFile, workdir: Path) -> dict:
    recording = f.recording
    reference = codecs.raw_frames_path(recording, workdir)
    distorted, options = f.path, ()
    if f.path.is_dir():  # exploded JPEG: ffmpeg reads the numbered files as a sequence
        distorted = f.path / "frame_%06d.jpg"
        options = ("-f", "image2", "-framerate", str(recording.fps))
    try:
        scores = metrics.vmaf(
            ffmpeg,
            distorted,
            reference,
            width=recording.width,
            height=recording.height,
            pix_fmt=recording.pix_fmt,
            fps=recording.fps,
            subsample=QUALITY_EVERY,
            distorted_options=options,
        )
    except RuntimeError as exc:
        return {"vmaf_error": str(exc)[:500]}
    if not scores:
        return {"vmaf_error": "libvmaf scored no frames"}
    return {"vmaf_mean": float(np.mean(scores)), "vmaf_min": float(np.min(scores))}


def user_files(folder: Path) -> list[VideoFile]:
    if not folder.is_dir():
        raise FileNotFoundError(f"--videos: {folder} is not a folder")
    found = [
        VideoFile(p.name, p, "user")
        for p in sorted(folder.iterdir())
        if p.suffix.lower() in VIDEO_SUFFIXES
    ]
    if not found:
        raise ValueError(
            f"--videos: no video files ({', '.join(sorted(VIDEO_SUFFIXES))}) in {folder}"
        )
    return found


def run(config: Config) -> Path:
    import cv2
    from tqdm import tqdm

    cv2.setNumThreads(1)
    out = config.out
    workdir = out / "files"
    workdir.mkdir(parents=True, exist_ok=True)
    info = codecs.ffmpeg_info(config.ffmpeg)
    try:
        vmaf_ffmpeg, vmaf_note = metrics.vmaf_ffmpeg(config.ffmpeg), None
    except metrics.VmafUnavailable as exc:
        vmaf_ffmpeg, vmaf_note = None, f"no VMAF: {exc}"
        print(vmaf_note, file=sys.stderr)
    ready = {
        n: readers.READERS[n] for n in config.readers if readers.READERS[n].unavailable() is None
    }
    skipped_readers = {
        n: readers.READERS[n].unavailable() for n in config.readers if n not in ready
    } | config.left_out
    for name, why in skipped_readers.items():
        print(f"skipping reader {name}: {why}", file=sys.stderr)

    encode_steps = 0 if config.videos else len(config.recordings) * (len(codecs.ENCODINGS) + 2) * 2
    progress = tqdm(total=encode_steps, desc="encode", unit="step", file=sys.stderr)
    interrupted = False
    encodings, skipped_codecs, files, latency, accuracy, quality = [], {}, [], [], [], []
    reader_stats: dict[str, dict] = {}  # reader -> the names of the stats it reported (as keys)
    mapped: dict[str, dict] = {}  # reader -> the libavcodec files its processes mapped (as keys)
    cells = Cells(config.timeout, config.sequential_frames)
    floors = floor.Floors(OPENS["open-cached"], config.timeout)
    try:
        if config.videos:
            files = user_files(config.videos)
        else:
            files, encodings, skipped_codecs = encode_all(config, info, workdir, progress)
            if config.adversarial_set:
                files += [
                    VideoFile(
                        a.name,
                        Path(a.path),
                        "adversarial",
                        expect_error=a.expect_error,
                        description=a.description,
                    )
                    for a in adversarial.make_adversarial(
                        workdir / "adversarial", ffmpeg=config.ffmpeg
                    )
                ]
        progress.close()
        progress = tqdm(total=len(files) * len(ready), desc="read", unit="cell", file=sys.stderr)
        rng = random.Random(config.seed)
        for f in files:
            truth = _truth_or_error(f)
            if "error" in truth:
                for name, reader in ready.items():
                    if reader.accepts(f.path):
                        accuracy.append(_accuracy_row(f, name, {"error": truth["error"]}, truth))
                    progress.update()
                continue
            count = truth["count"]
            # One seeded index list per file, shared by every reader; first and last frames included.
            indices = (
                [0, count - 1, *rng.choices(range(count), k=config.random_frames)] if count else []
            )
            cold = rng.sample(range(count), min(config.cold_frames, count)) if count else []
            for name, reader in ready.items():
                if not reader.accepts(f.path):
                    progress.update()
                    continue
                progress.set_postfix_str(f"{name} on {f.name}")
                result = cells.run(name, f.path, truth, indices, cold)
                accuracy.append(_accuracy_row(f, name, result, truth))
                reader_stats.setdefault(name, {}).update(dict.fromkeys(result.get("stats") or {}))
                # A reader that loaded another FFmpeg than it claims fails the run.
                readers.check_loaded(name, result.get("libavcodec"))
                for file in result.get("libavcodec") or ["none"]:
                    mapped.setdefault(name, {})[file] = None
                latency += [
                    {
                        "file": f.name,
                        "encoding": f.encoding,
                        "kind": f.kind,
                        "frames": count,
                        "gop": getattr(codecs.ENCODINGS_BY_NAME.get(f.encoding), "gop", None),
                        "container": f.path.suffix.lstrip(".") or "folder",
                        "reader": name,
                        "mode": mode,
                        "index": i,
                        "seconds": s,
                    }
                    for mode, i, s in result.get("latency", [])
                ]
                progress.update()
            floors.measure(f.name, f.path)  # what any reader's open to frame 0 costs at least
        progress.close()
        quality = quality_rows(files, vmaf_ffmpeg, workdir)
    except KeyboardInterrupt:
        interrupted = True
        progress.close()
        print("\ninterrupted: writing what was measured so far", file=sys.stderr)
    finally:
        cells.close()
        floors.close()

    results.write_rows(out / "encodings.csv", encodings)
    results.write_rows(out / "latency.csv", latency)
    results.write_rows(out / "accuracy.csv", accuracy)
    results.write_rows(out / "quality.csv", quality)
    results.write_rows(out / floor.CSV, floors.rows)
    record = provenance(
        config,
        info,
        ready,
        reader_stats,
        skipped_readers,
        skipped_codecs,
        files,
        interrupted,
        mapped,
    )
    record["vmaf"] = (
        {"ffmpeg": vmaf_ffmpeg, "every": QUALITY_EVERY, "model": "libvmaf's default"}
        if vmaf_ffmpeg
        else {"unavailable": vmaf_note}
    )
    record["open_floor"] = floors.record()
    (out / "provenance.json").write_text(json.dumps(record, indent=1, default=str))
    (out / "benchmark.json").write_text(json.dumps(benchmark_json(latency, record), indent=1))
    return out


def _truth_or_error(f: VideoFile) -> dict:
    try:
        truth = ground_truth(f.path)
    except Exception as exc:  # noqa: BLE001 - a file nothing can decode is an error row
        return {"error": f"sequential decode failed: {type(exc).__name__}: {exc}", "count": 0}
    if truth["count"] == 0:
        return {"error": "sequential decode gave no frames", "count": 0}
    truth["exact"] = f.exact  # bit-identical reads, on lossless and intra-only files
    return truth


def _accuracy_row(f: VideoFile, reader: str, result: dict, truth: dict) -> dict:
    wrong = result.get("wrong", [])
    offsets = sorted({got - i for i, got in wrong if isinstance(got, int) and got >= 0})
    return {
        "file": f.name,
        "kind": f.kind,
        "encoding": f.encoding,
        "reader": reader,
        "frames": truth.get("count"),
        "header_count": result.get("header_count"),
        "checked": result.get("checked", 0),
        "wrong": len(wrong),
        "wrong_examples": "; ".join(f"{i}->{got}" for i, got in wrong[:5]),
        "offsets": ", ".join(f"off by {o:+d}" for o in offsets[:6]),
        "out_of_range": "; ".join(f"{k}: {v}" for k, v in result.get("out_of_range", {}).items()),
        "errors": (result.get("error") or "; ".join(result.get("errors", [])[:3]))[:2000],
        **(result.get("stats") or {}),
        "libavcodec": ", ".join(result.get("libavcodec") or []) or None,
        # frames compared with the reader's own sequential decode, and those that differ
        "pixels_checked": (result.get("pixels") or {}).get("checked", 0),
        "pixels_wrong": len((result.get("pixels") or {}).get("wrong", [])),
        "pixel_check": (
            "no sequential reference"
            if result.get("pixels", {}).get("reference") is False
            else "bit-identical"
            if truth.get("exact")
            else f"PSNR >= {PSNR_FLOOR:g} dB"
        ),
        # straight through with this reader, and with PyAV's threaded decode (the ground truth)
        "sequential_fps": result.get("sequential_fps"),
        "pyav_sequential_fps": (
            truth["count"] / truth["sequential_seconds"]
            if truth.get("sequential_seconds")
            else None
        ),
        "expect_error": f.expect_error,
        "description": f.description,
    }


def provenance(
    config,
    info,
    ready,
    reader_stats,
    skipped_readers,
    skipped_codecs,
    files,
    interrupted,
    mapped=None,
) -> dict:
    import av
    import cv2

    return results.provenance("video", config.command, config.seed, config.quick_left_out) | {
        "random_frames": config.random_frames,
        "cold_frames": config.cold_frames,
        "sequential_frames": config.sequential_frames,
        "timeout_seconds": config.timeout,
        "encode_timing": ENCODE_TIMING,
        "opens": OPENS,
        "load": measure.load(),
        "ffmpeg": info,
        "environments": environments.provenance(),
        "pyav": {
            "version": av.__version__,
            "libraries": {k: ".".join(map(str, v)) for k, v in av.library_versions.items()},
        },
        "opencv": {
            "version": cv2.__version__,
            "threads": cv2.getNumThreads(),
            "video_io": [
                line.strip()
                for line in cv2.getBuildInformation().splitlines()
                if "FFMPEG" in line or "avcodec" in line
            ][:4],
        },
        "readers": {n: r.description for n, r in ready.items()},
        "reader_stats": {n: list(keys) for n, keys in reader_stats.items() if keys},
        # What each reader's process mapped, read from /proc/self/maps after its reads.
        "reader_libavcodec": {n: list(files) for n, files in (mapped or {}).items()},
        "skipped_readers": skipped_readers,
        # how each returned frame's pixels were checked (benchmarks.video.suite._check)
        "pixel_check": {
            "against": "the same reader's sequential decode of the file",
            "exact_on": "lossless and intra-only files (bit-identical)",
            "psnr_floor": PSNR_FLOOR,
            "psnr_sample": f"every {PROBE_STEP}th pixel of every {PROBE_STEP}th row",
            "channel_order": f"blue and red means against the truth's, when they differ by "
            f">= {CHANNEL_GAP:g} levels",
        },
        "skipped_encodings": skipped_codecs,
        "recordings": [vars(r) | {"raw_bytes": r.raw_bytes} for r in config.recordings]
        if not config.videos
        else [],
        "files": [
            {
                "name": f.name,
                "kind": f.kind,
                "encoding": f.encoding,
                "path": str(f.path),
                "description": f.description,
            }
            for f in files
        ],
        "interrupted": interrupted,
    }


def benchmark_json(latency: list[dict], record: dict) -> dict:
    """Latency cells in pytest-benchmark's layout, with its Stats."""
    entries = []
    for (file, reader, mode), stats in results.stats_by(
        latency, lambda r: (r["file"], r["reader"], r["mode"])
    ).items():
        name = f"video_{mode}[{file}-{reader}]"
        entries.append(
            {
                "group": f"{mode}-{file}",
                "name": name,
                "fullname": f"benchmarks/video::{name}",
                "params": {"file": file, "reader": reader, "mode": mode},
                "extra_info": {"file": file, "reader": reader, "mode": mode},
                "stats": stats.as_dict(),
            }
        )
    return results.benchmark_document(entries, record)
