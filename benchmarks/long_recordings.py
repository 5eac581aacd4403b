"""Does a read cost more on a long recording? The same encoding at two lengths (by
default 1 and 40 minutes at 30 fps), the same reads on both, interleaved in a seeded
random order, one decoder thread; each figure is long/short, a ratio of medians with
its bootstrap 95% interval (benchmarks/measure.py).

    .venv/bin/python -m benchmarks.long_recordings [--out results/long] [--hours H]

``--hours H`` makes the long recording H hours of copies of the short one, joined
by stream copy (ffmpeg's concat demuxer: seconds, not hours of encoding); its
packet count is checked, and frames at its beginning, middle and end must equal
the short recording's (frame i is frame i mod short of a sequential decode).
For both files the report gives the index scan time, the index file's size and the
open to the first frame with the index cached, against torchcodec's exact-mode open
(which scans) when torchcodec is installed.

Reads: a random frame, ``get_batch`` of 32 sorted random frames, and iteration
(the mean per frame over runs of 100 frames), all within the first ``short`` frames
of each file, so both files serve the same work. Encodings: all-intra x264 and x264
with 250-frame GOPs and B-frames, 128x96 (decoding is cheap, so what grows with the
length shows).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import measure, results

if TYPE_CHECKING:
    from framereader.index import FrameIndex

FPS = 30
ENCODINGS = {
    "all-intra x264": ["-c:v", "libx264", "-preset", "ultrafast", "-g", "1"],
    "x264, GOP 250, B-frames": ["-c:v", "libx264", "-preset", "ultrafast", "-g", "250", "-bf", "2"],
}
BATCH = 32
RUN = 100  # frames per iteration sample
PLACES = 4  # frames checked at each of the beginning, middle and end of a joined recording


def _ffmpeg(ffmpeg: str, *args: str, output: Path) -> None:
    """Run ffmpeg into ``output`` through a temporary name, so a stopped run leaves no
    half-written file that a later run would take for a whole one."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".part" + output.suffix)
    subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-y", *args, str(tmp)], check=True)
    tmp.rename(output)


def encode(folder: Path, frames: int, name: str, args: list[str], ffmpeg: str = "ffmpeg",
           size: str = "128x96", suffix: str = ".mkv") -> Path:  # fmt: skip
    """The recording (``testsrc2`` at ``FPS``), encoded once and kept in ``folder``."""
    slug = name.split(",")[0].replace(" ", "-").replace("all-intra-x264", "intra")
    path = folder / f"{slug}-{frames}{suffix}"
    if not path.is_file():
        source = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={FPS}"]
        _ffmpeg(ffmpeg, *source, "-frames:v", str(frames), *args, output=path)
    return path


def concat_list(recording: Path, copies: int) -> str:
    """The concat demuxer's list file: ``recording``, by its absolute path, ``copies`` times."""
    if copies < 1:
        raise ValueError(f"copies must be 1 or more, not {copies}")
    quoted = str(recording.resolve()).replace("'", "'\\''")
    return f"file '{quoted}'\n" * copies


def concatenate(recording: Path, copies: int, ffmpeg: str = "ffmpeg") -> Path:
    """``recording`` ``copies`` times over in one file beside it, stream-copied, so
    the timestamps run on from copy to copy; made once and kept. The concat demuxer's
    ``auto_convert`` is off: on H.264 it would add the h264_mp4toannexb filter, which
    puts the parameter sets (34 bytes here) in front of every keyframe's packet, so an
    all-intra copy would decode more bytes a frame than the recording it copies."""
    if not recording.is_file():
        raise FileNotFoundError(f"no recording to join at {recording}")
    path = recording.with_name(f"{recording.stem}-joined-x{copies}{recording.suffix}")
    if not path.is_file():
        listing = path.with_suffix(".txt")
        listing.write_text(concat_list(recording, copies))
        try:
            _ffmpeg(ffmpeg, "-f", "concat", "-safe", "0", "-auto_convert", "0", "-i",
                    str(listing), "-c", "copy", output=path)  # fmt: skip
        finally:
            listing.unlink()
    return path


def short_packets(path: Path) -> dict[int, bytes]:
    """Every packet of the recording's video stream, by pts (demuxed by PyAV)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return {p.pts: bytes(p) for p in container.demux(stream) if p.size and p.pts is not None}


def holds_packet(path: Path, index: FrameIndex, i: int, expected: bytes) -> bool:
    """Whether frame ``i``'s packet in ``path`` is ``expected``, byte for byte: its size,
    and its bytes where the index found them (or just past FFmpeg's packet position,
    where the index did not look)."""
    from framereader.index import PAYLOAD_WINDOW

    packet = int(index.order[i])
    if int(index.size[packet]) != len(expected):
        return False
    offset = int(index.payload_offset[packet])
    start, length = ((offset, len(expected)) if offset >= 0
                     else (int(index.pos[packet]), len(expected) + PAYLOAD_WINDOW))  # fmt: skip
    if start < 0:
        return False
    with open(path, "rb") as file:
        return expected in os.pread(file.fileno(), length, start)


def packet_count(path: Path, ffprobe: str = "ffprobe") -> int:
    """The video stream's packets, counted by ffprobe demuxing the whole file."""
    done = subprocess.run([ffprobe, "-v", "error", "-select_streams", "v:0", "-count_packets",
                           "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0",
                           str(path)], check=True, capture_output=True, text=True)  # fmt: skip
    return int(done.stdout.strip().rstrip(","))


def repeat_places(frames: int, per_place: int = PLACES) -> list[int]:
    """Frames at the beginning, the middle and the end of ``frames``, sorted, no repeats."""
    middle = frames // 2 - per_place // 2
    starts = (0, max(0, middle), max(0, frames - per_place))
    return sorted({i for start in starts for i in range(start, min(frames, start + per_place))})


def check_joined(long: Path, short: Path, copies: int, index: FrameIndex | None = None) -> str:
    """Check that ``long`` is ``copies`` copies of ``short``: ffprobe's packet count and
    framereader's frame count, and frames at the beginning, middle and end of ``long``
    (read by framereader) against frame ``i mod len(short)`` of a sequential PyAV decode
    of ``short``. AssertionError saying what differs; else what was checked, in words.
    ``index``: ``long``'s FrameIndex, if scanned already."""
    from benchmarks.video.readers import frame_hashes, sequential_hashes
    from framereader import VideoReader

    truth = sequential_hashes(short)
    counted = packet_count(long)
    with VideoReader(short, threads=1) as reader:
        short_pts = reader.index.frame_pts
    packets = short_packets(short)
    with VideoReader(long, index=index, threads=1) as reader:
        frames, long_index = len(reader), reader.index
        if not counted == frames == copies * len(truth):
            raise AssertionError(f"{long}: ffprobe counts {counted} packets and framereader "
                                 f"{frames} frames, not {copies} x {len(truth)}")  # fmt: skip
        places = repeat_places(frames)
        got = frame_hashes(reader.get_batch(places))
    for i, digest in zip(places, got, strict=True):
        if digest != truth[i % len(truth)]:
            raise AssertionError(f"frame {i} of {long} is not frame {i % len(truth)} of {short}")
    # The same pixels are not enough: the reads must decode the same bytes on both files.
    for i in places:
        if not holds_packet(long, long_index, i, packets[int(short_pts[i % len(truth)])]):
            raise AssertionError(f"the packet of frame {i} of {long} differs from that of frame "
                                 f"{i % len(truth)} of {short}: the join rewrote the stream")  # fmt: skip
    return (f"{copies} stream-copied copies of the short one; ffprobe counts {counted} packets "
            f"and framereader {frames} frames; frames {', '.join(map(str, places))} equal the "
            "short recording's sequential decode (PyAV), and their packets are the short "
            "recording's byte for byte")  # fmt: skip


def index_facts(path: Path) -> tuple[FrameIndex, dict]:
    """A fresh scan of ``path``: its index, and what the scan took, the frame count and
    the size of the index file framereader would write (framereader/cache.py)."""
    import tempfile

    from framereader import cache
    from framereader.index import FrameIndex

    start = time.perf_counter()
    index = FrameIndex.scan(path)
    seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        place = Path(folder) / "index"
        cache.save_index(index, place)
        size = place.stat().st_size
    hours = len(index) / FPS / 3600
    return index, {
        "frames": len(index),
        "hours": hours,
        "scan_s": seconds,
        "index_bytes": size,
        "scan_s_per_hour": seconds / hours,
        "index_mb_per_hour": size / 1e6 / hours,
    }


def measure_pair(short: Path, long: Path, frames: int, reads: int, batches: int,
                 seed: int, indexes: tuple[FrameIndex, FrameIndex] | None = None,
                 ) -> dict[str, measure.Ratio]:  # fmt: skip
    """long/short for each kind of read, the same reads on both, interleaved.
    ``indexes``: the two files' indexes, when scanned already (else each is scanned)."""
    from framereader import VideoReader

    rng = random.Random(seed)
    short_index, long_index = indexes or (None, None)
    readers = {"short": VideoReader(short, index=short_index, threads=1),
               "long": VideoReader(long, index=long_index, threads=1)}  # fmt: skip
    times: dict[str, dict[str, list[float]]] = {k: {"read": [], "batch": [], "iter": []}
                                                 for k in readers}  # fmt: skip
    try:
        for reader in readers.values():
            reader[0]  # the decoders open, outside the clock
        for _ in range(reads):
            i = rng.randrange(frames)
            for key in rng.sample(list(readers), 2):
                start = time.perf_counter()
                readers[key][i]
                times[key]["read"].append(time.perf_counter() - start)
        for _ in range(batches):
            asked = sorted(rng.sample(range(frames), min(BATCH, frames)))
            for key in rng.sample(list(readers), 2):
                start = time.perf_counter()
                readers[key].get_batch(asked)
                times[key]["batch"].append(time.perf_counter() - start)
        # Iteration too is interleaved: each run of RUN frames of one file sits beside the
        # same run of the other, in a random order, so a drift in the machine's speed
        # over the pass falls on both sides alike.
        streams = {key: iter(reader) for key, reader in readers.items()}
        try:
            for _ in range(frames // RUN):
                for key in rng.sample(list(streams), 2):
                    stream, start = streams[key], time.perf_counter()
                    for _ in range(RUN):
                        next(stream)
                    times[key]["iter"].append((time.perf_counter() - start) / RUN)
        finally:
            for stream in streams.values():
                stream.close()
    finally:
        for reader in readers.values():
            reader.close()
    return {what: measure.ratio(times["long"][what], times["short"][what], seed=seed)
            for what in ("read", "batch", "iter")}  # fmt: skip


OPEN_SAMPLES = 7
OPEN_TARGET_S = 0.050  # opening an hour-long recording with its index cached
# Issue 23: our cached open at most half of torchcodec's exact-mode open (which scans
# the file at every open) on mkv, the container of these recordings.
PEER_OPEN_TARGET = 0.5
# Open to the first frame, one decoder thread each, the library imported before the
# clock starts; the seconds printed.
_OPENS = {
    "framereader": """
import sys, time
from framereader import VideoReader
start = time.perf_counter()
with VideoReader(sys.argv[1], threads=1) as reader:
    reader[0]
print(time.perf_counter() - start)
""",
    "torchcodec": """
import sys, time
from torchcodec.decoders import VideoDecoder
start = time.perf_counter()
VideoDecoder(sys.argv[1], seek_mode="exact", num_ffmpeg_threads=1)[0]
print(time.perf_counter() - start)
""",
}


def peer_missing() -> str | None:
    """Why torchcodec's open is not measured (it needs PyTorch), or None."""
    import importlib.util

    if importlib.util.find_spec("torchcodec") is None:
        return "torchcodec is not installed (it needs PyTorch; the full run installs both)"
    return None


def open_seconds(path: Path, samples: int = OPEN_SAMPLES) -> dict[str, list[float]]:
    """Seconds from open to the first frame, each sample in a fresh process: ours with
    the index cached, and torchcodec's exact mode when it is installed, interleaved."""
    from framereader import VideoReader

    with VideoReader(path, threads=1) as reader:  # scans once and caches the index
        reader[0]
    names = ["framereader"] if peer_missing() else list(_OPENS)
    seconds: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(samples):
        for name in names:
            done = subprocess.run([sys.executable, "-c", _OPENS[name], str(path)], check=True,
                                  capture_output=True, text=True)  # fmt: skip
            seconds[name].append(float(done.stdout.split()[-1]))
    return seconds


def copies_for(hours: float, short: int) -> int:
    """How many copies of a ``short``-frame recording make ``hours`` at ``FPS`` (2 or more)."""
    if hours <= 0:
        raise ValueError(f"hours must be positive, not {hours}")
    return max(2, round(hours * 3600 * FPS / short))


def run(out: Path, data: Path, short: int, long: int, reads: int, batches: int,
        seed: int, hours: float | None = None) -> Path:  # fmt: skip
    rows, files, made = [], [], {}
    for name, args in ENCODINGS.items():
        short_path = encode(data, short, name, args)
        if hours is None:
            long_path = encode(data, long, name, args)
        else:
            long_path = concatenate(short_path, copies_for(hours, short))
        short_index, short_facts = index_facts(short_path)
        long_index, long_facts = index_facts(long_path)
        if hours is not None:
            made[name] = check_joined(long_path, short_path, copies_for(hours, short), long_index)
        for facts, path in ((short_facts, short_path), (long_facts, long_path)):
            opens = open_seconds(path)
            facts["open"] = measure.summarize(opens["framereader"])
            if "torchcodec" in opens:
                facts["peer_open"] = measure.summarize(opens["torchcodec"])
                facts["open_ratio"] = measure.ratio(opens["framereader"], opens["torchcodec"],
                                                    seed=seed)  # fmt: skip
        files += [{"encoding": name, "file": "short", **short_facts},
                  {"encoding": name, "file": "long", **long_facts}]  # fmt: skip
        pair = (short_path, long_path, short, reads, batches, seed, (short_index, long_index))
        for what, r in measure_pair(*pair).items():
            rows.append({"encoding": name, "read": what, "long / short": r.value,
                         "low": r.low, "high": r.high,
                         "verdict (<= 1.05)": measure.verdict(r, 1.05)})  # fmt: skip
    long = files[-1]["frames"]  # with ``hours``, the joined file's
    length = "" if hours is None else f" ({hours:g} hours)"
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Long against short recordings: {long}{length} and {short} frames\n",
        ("The same reads on both files, interleaved, one thread; long/short is a ratio of "
         "medians with its bootstrap 95% interval. Target: a read costs the same on any "
         "length (<= 1.05).\n"),
        "| encoding | read | long / short | 95% interval | verdict (<= 1.05) |",
        "|---|---|---|---|---|",
        *(f"| {r['encoding']} | {r['read']} | {r['long / short']:.3f} | "
          f"[{r['low']:.3f}, {r['high']:.3f}] | {r['verdict (<= 1.05)']} |" for r in rows),
        "",
        *(f"The long {name} recording: {how}." for name, how in made.items()),
        "",
        ("Scanning for the index (one `FrameIndex.scan`, once) and the index file it makes "
         f"(framereader/cache.py), per hour of {FPS} fps video:\n"),
        ("| encoding | file | frames | hours | scan s | scan s per hour | index bytes | "
         "index MB per hour |"),
        "|---|---|---|---|---|---|---|---|",
        *(f"| {f['encoding']} | {f['file']} | {f['frames']} | {f['hours']:.3g} | "
          f"{f['scan_s']:.3g} | {f['scan_s_per_hour']:.3g} | {f['index_bytes']} | "
          f"{f['index_mb_per_hour']:.3g} |" for f in files),
        "",
        (f"Opening with the index cached: `VideoReader(path)` to its first frame, each of "
         f"{OPEN_SAMPLES} samples in a fresh process with framereader already imported; "
         f"median and bootstrap 95% interval. Target: under {OPEN_TARGET_S * 1e3:.0f} ms for an "
         "hour or more.\n"),
        "| encoding | file | hours | open ms | 95% interval | verdict |",
        "|---|---|---|---|---|---|",
        *(f"| {f['encoding']} | {f['file']} | {f['hours']:.3g} | {f['open'].median * 1e3:.1f} | "
          f"[{f['open'].low * 1e3:.1f}, {f['open'].high * 1e3:.1f}] | "
          f"{measure.verdict(f['open'], OPEN_TARGET_S) if f['hours'] >= 1 else '-'} |"
          for f in files),
        "",
        *_peer_open_lines(files),
        f"Load: {measure.load()}; {results.cpu_name({})}.",
    ]  # fmt: skip
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n")
    return report


def _peer_open_lines(files: list[dict]) -> list[str]:
    """Our cached open against torchcodec's exact mode, on the same files in the same
    run, or why it is missing."""
    if not any("peer_open" in f for f in files):
        return [f"Against torchcodec: not measured, {peer_missing() or 'no samples'}.", ""]
    return [
        ("Against torchcodec's exact mode (`VideoDecoder(path, seek_mode=\"exact\", "
         "num_ffmpeg_threads=1)[0]`, which scans the file at every open), sampled in turn "
         "with ours in fresh processes. Target: ours at most "
         f"{PEER_OPEN_TARGET:g}x on mkv.\n"),
        "| encoding | file | hours | torchcodec ms | ours / torchcodec | 95% interval | verdict |",
        "|---|---|---|---|---|---|---|",
        *(f"| {f['encoding']} | {f['file']} | {f['hours']:.3g} | "
          f"{f['peer_open'].median * 1e3:.1f} | {f['open_ratio'].value:.3f} | "
          f"[{f['open_ratio'].low:.3f}, {f['open_ratio'].high:.3f}] | "
          f"{measure.verdict(f['open_ratio'], PEER_OPEN_TARGET)} |"
          for f in files if "peer_open" in f),
        "",
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.long_recordings",
                                     description=__doc__.split("\n\n")[0])  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("results/long"))
    parser.add_argument("--data", type=Path, default=Path(".build/data/long-recordings"))
    parser.add_argument("--short", type=int, default=1_800)
    parser.add_argument("--long", type=int, default=None,
                        help="frames of the long recording, encoded (default 72000)")  # fmt: skip
    parser.add_argument("--hours", type=float, default=None,
                        help="make the long recording this many hours of joined copies "
                             "of the short one instead")  # fmt: skip
    parser.add_argument("--reads", type=int, default=150)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.hours is not None:
        if args.long is not None:
            parser.error("--long and --hours both say how long the long recording is: give one")
        if not args.hours > 0 or args.short < 1:
            parser.error(f"need --hours > 0 and --short >= 1, got {args.hours} and {args.short}")
        args.long = copies_for(args.hours, args.short) * args.short
    elif args.long is None:
        args.long = 72_000
    if not 0 < args.short < args.long:
        parser.error(f"need 0 < --short < --long, got {args.short} and {args.long}")
    report = run(args.out, args.data, args.short, args.long, args.reads, args.batches, args.seed,
                 args.hours)  # fmt: skip
    print(report.read_text())
    print(f"report: {report}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
