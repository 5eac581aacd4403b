"""Does the decoder pool pay for itself? ``VideoReader(decoders=3)`` against
``decoders=1`` on the same reads: each figure is decoders=3 / decoders=1 of a
pattern's total time, a ratio of medians with its bootstrap 95% interval
(benchmarks/measure.py). Target: at most 1.05 on every pattern.

    .venv/bin/python -m benchmarks.pool_cost [--out DIR] [--seeds N] [--reps R]

Files, made once in ``DIR/videos`` by the machine's ffmpeg from lavfi's
``testsrc2``: lossless x264 with 30-frame GOPs and x264 (crf) with 250-frame
GOPs and B-frames, both 640x360, and a 720p H.264 clip with one keyframe.
Patterns, each drawn once per seed: 4 and 22 random reads, 22 random reads
sorted, back and forth between two far-apart places, round three places, and
runs of consecutive frames from random starts. A sample is one repetition:
every seed's reads, each on a freshly opened reader (its index cached), one
decoder thread, decoders=1 and 3 interleaved in alternating order. Every read
of decoders=3 is checked against decoders=1's, outside the clock.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import measure, results

SIZE = "640x360"
FRAMES = 300
FILES = {
    "lossless x264, GOP 30": (
        "lossless-g30.mkv",
        SIZE,
        ["-c:v", "libx264", "-qp", "0", "-preset", "superfast", "-g", "30"],
    ),
    "x264 crf 23, GOP 250, B-frames": (
        "bframes-g250.mp4",
        SIZE,
        ["-c:v", "libx264", "-crf", "23", "-bf", "3", "-g", "250", "-sc_threshold", "0"],
    ),
    "H.264 720p, one keyframe": (
        "one-keyframe-720p.mp4",
        "1280x720",
        ["-c:v", "libx264", "-crf", "23", "-x264-params", "keyint=infinite:scenecut=0"],
    ),
}
RUN = 8  # frames per run of the sequential runs
TARGET = 1.05


def patterns(frames: int, seed: int) -> dict[str, list[int]]:
    """Each access pattern's frame numbers, drawn with ``seed``."""
    rng = random.Random(seed)
    quarter = frames // 4
    a, b = rng.randrange(quarter), rng.randrange(2 * quarter, 3 * quarter)
    places = [rng.randrange(k * quarter, (k + 1) * quarter - 8) for k in (0, 1, 3)]
    starts = rng.sample(range(frames - RUN), 4)
    return {
        "4 random": rng.sample(range(frames), 4),
        "22 random": rng.sample(range(frames), 22),
        "22 random, sorted": sorted(rng.sample(range(frames), 22)),
        "back and forth, 2 places": [p + k for k in range(10) for p in (a, b)],
        "round 3 places": [p + k for k in range(7) for p in places],
        f"4 runs of {RUN}": [s + k for s in starts for k in range(RUN)],
    }


def encode(folder: Path, name: str, size: str, args: list[str], ffmpeg: str) -> Path:
    """The clip (``FRAMES`` frames of testsrc2 at 30 fps), made once and kept."""
    path = folder / name
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        part = path.with_name("part-" + path.name)
        source = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30"]
        subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-y", *source, "-frames:v",
                        str(FRAMES), *args, str(part)], check=True)  # fmt: skip
        part.rename(path)
    return path


def read_through(path: Path, reads: list[int], decoders: int, cache_dir: Path):
    """Seconds for ``reads`` on a freshly opened reader, the frames, and its stats."""
    from framereader import VideoReader

    with VideoReader(path, cache_dir=cache_dir, threads=1, decoders=decoders) as reader:
        start = time.perf_counter()
        got = [reader[i] for i in reads]
        seconds = time.perf_counter() - start
        return seconds, got, reader.stats()


def digest(frames) -> str:
    hashed = hashlib.blake2b(digest_size=16)
    for frame in frames:
        hashed.update(frame.data)
    return hashed.hexdigest()


def measure_file(path: Path, cache_dir: Path, seeds: int, reps: int) -> list[dict]:
    """One row per pattern: the ratio, its verdict, and what decoders=3 did (counted)."""
    from framereader import VideoReader

    with VideoReader(path, cache_dir=cache_dir) as reader:  # scans once, writes the index
        frames = len(reader)
    drawn = [patterns(frames, seed) for seed in range(seeds)]
    rows = []
    for name in drawn[0]:
        seconds: dict[int, list[float]] = {1: [], 3: []}
        counts: dict[int, dict[str, int]] = {1: {}, 3: {}}
        for rep in range(reps):
            total = {1: 0.0, 3: 0.0}
            for seed, pattern in enumerate(drawn):
                order = (1, 3) if (rep + seed) % 2 == 0 else (3, 1)
                done = {d: read_through(path, pattern[name], d, cache_dir) for d in order}
                if digest(done[3][1]) != digest(done[1][1]):
                    raise AssertionError(f"{path.name}, {name}, seed {seed}: decoders=3 "
                                         "returned other frames than decoders=1")  # fmt: skip
                for d, (took, _, stats) in done.items():
                    total[d] += took
                    if rep == 0:
                        for key in ("decoders", "decoded", "seeks"):
                            counts[d][key] = counts[d].get(key, 0) + stats[key]
            for d in (1, 3):
                seconds[d].append(total[d])
        r = measure.ratio(seconds[3], seconds[1])
        rows.append({
            "pattern": name,
            "reads": sum(len(p[name]) for p in drawn),
            "ratio": r,
            "verdict": measure.verdict(r, TARGET),
            "seconds": {d: measure.summarize(seconds[d]) for d in (1, 3)},
            "counts": counts,
        })  # fmt: skip
    return rows


def report(table: dict[str, list[dict]], seeds: int, reps: int, framereader_at: str,
           load_before: dict) -> str:  # fmt: skip
    lines = [
        "# The decoder pool: decoders=3 against decoders=1\n",
        (f"Total time of each pattern's reads over {seeds} seeds, {reps} repetitions, "
         "each on a freshly opened reader with its index cached, one thread; decoders=3 / "
         "decoders=1 is a ratio of medians with its bootstrap 95% interval. Target: "
         f"<= {TARGET}. Counts (decoders opened, frames decoded, seeks) are of the first "
         f"repetition, over every seed. framereader from `{framereader_at}`.\n"),
        ("| file | pattern | reads | decoders=3 / decoders=1 | 95% interval | "
         f"verdict (<= {TARGET}) | decoders=1 s | decoders=3 s | decoders=3 opened | "
         "decoded, 1 / 3 | seeks, 1 / 3 |"),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for file, rows in table.items():
        for row in rows:
            r, one, three = row["ratio"], row["counts"][1], row["counts"][3]
            lines.append(
                f"| {file} | {row['pattern']} | {row['reads']} | {r.value:.3f} | "
                f"[{r.low:.3f}, {r.high:.3f}] | {row['verdict']} | "
                f"{row['seconds'][1].median:.3f} | {row['seconds'][3].median:.3f} | "
                f"{three['decoders']} | {one['decoded']} / {three['decoded']} | "
                f"{one['seeks']} / {three['seeks']} |"
            )
    lines += ["", f"Load before: {load_before}; after: {measure.load()}; {results.cpu_name({})}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pool_cost",
                                     description=__doc__.split("\n\n")[0])  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("results/pool-cost"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=7, help="repetitions (samples) per pattern")
    parser.add_argument("--ffmpeg", default="ffmpeg")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.reps < 2:
        parser.error(f"need --seeds >= 1 and --reps >= 2, got {args.seeds} and {args.reps}")
    import framereader

    load_before, table = measure.load(), {}
    for label, (name, size, encoding) in FILES.items():
        path = encode(args.out / "videos", name, size, encoding, args.ffmpeg)
        table[label] = measure_file(path, args.out / "index", args.seeds, args.reps)
        print(f"{label}: done", file=sys.stderr)
    text = report(table, args.seeds, args.reps, str(Path(framereader.__file__).parent),
                  load_before)  # fmt: skip
    (args.out / "pool_cost.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
