"""Does a read cost more on a long recording? The same encoding at two lengths (by
default 1 and 40 minutes at 30 fps), the same reads on both, interleaved in a seeded
random order, one decoder thread; each figure is long/short, a ratio of medians with
its bootstrap 95% interval (benchmarks/measure.py).

    .venv/bin/python -m benchmarks.long_recordings [--out results/long]

Reads: a random frame, ``get_batch`` of 32 sorted random frames, and iteration
(the mean per frame over runs of 100 frames), all within the first ``short`` frames
of each file, so both files serve the same work. Encodings: all-intra x264 and x264
with 250-frame GOPs and B-frames, 128x96 (decoding is cheap, so what grows with the
length shows).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import measure, results

ENCODINGS = {
    "all-intra x264": ["-c:v", "libx264", "-preset", "ultrafast", "-g", "1"],
    "x264, GOP 250, B-frames": ["-c:v", "libx264", "-preset", "ultrafast", "-g", "250", "-bf", "2"],
}
SOURCE = ["-f", "lavfi", "-i", "testsrc2=size=128x96:rate=30"]
BATCH = 32
RUN = 100  # frames per iteration sample


def encode(folder: Path, frames: int, name: str, args: list[str], ffmpeg: str = "ffmpeg") -> Path:
    """The recording, encoded once and kept in ``folder``."""
    slug = name.split(",")[0].replace(" ", "-").replace("all-intra-x264", "intra")
    path = folder / f"{slug}-{frames}.mkv"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part.mkv")
        subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-y", *SOURCE, "-frames:v",
                        str(frames), *args, str(tmp)], check=True)  # fmt: skip
        tmp.rename(path)
    return path


def measure_pair(short: Path, long: Path, frames: int, reads: int, batches: int,
                 seed: int) -> dict[str, measure.Ratio]:  # fmt: skip
    """long/short for each kind of read, the same reads on both, interleaved."""
    from framereader import VideoReader

    rng = random.Random(seed)
    readers = {"short": VideoReader(short, index=None, threads=1),
               "long": VideoReader(long, index=None, threads=1)}  # fmt: skip
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
        for key, reader in readers.items():
            stream = iter(reader)
            for _ in range(frames // RUN):
                start = time.perf_counter()
                for _ in range(RUN):
                    next(stream)
                times[key]["iter"].append((time.perf_counter() - start) / RUN)
            del stream
    finally:
        for reader in readers.values():
            reader.close()
    return {what: measure.ratio(times["long"][what], times["short"][what], seed=seed)
            for what in ("read", "batch", "iter")}  # fmt: skip


def run(out: Path, data: Path, short: int, long: int, reads: int, batches: int,
        seed: int) -> Path:  # fmt: skip
    rows = []
    for name, args in ENCODINGS.items():
        pair = [encode(data, n, name, args) for n in (short, long)]
        for what, r in measure_pair(*pair, short, reads, batches, seed).items():
            rows.append({"encoding": name, "read": what, "long / short": r.value,
                         "low": r.low, "high": r.high,
                         "verdict (<= 1.05)": measure.verdict(r, 1.05)})  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Long against short recordings: {long} and {short} frames\n",
        ("The same reads on both files, interleaved, one thread; long/short is a ratio of "
         "medians with its bootstrap 95% interval. Target: a read costs the same on any "
         "length (<= 1.05).\n"),
        "| encoding | read | long / short | 95% interval | verdict (<= 1.05) |",
        "|---|---|---|---|---|",
        *(f"| {r['encoding']} | {r['read']} | {r['long / short']:.3f} | "
          f"[{r['low']:.3f}, {r['high']:.3f}] | {r['verdict (<= 1.05)']} |" for r in rows),
        "",
        f"Load: {measure.load()}; {results.cpu_name({})}.",
    ]  # fmt: skip
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.long_recordings",
                                     description=__doc__.split("\n\n")[0])  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("results/long"))
    parser.add_argument("--data", type=Path, default=Path(".build/data/long-recordings"))
    parser.add_argument("--short", type=int, default=1_800)
    parser.add_argument("--long", type=int, default=72_000)
    parser.add_argument("--reads", type=int, default=150)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 0 < args.short < args.long:
        parser.error(f"need 0 < --short < --long, got {args.short} and {args.long}")
    report = run(args.out, args.data, args.short, args.long, args.reads, args.batches, args.seed)
    print(report.read_text())
    print(f"report: {report}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
