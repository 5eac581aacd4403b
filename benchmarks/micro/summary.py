"""Summarise a micro run: medians per group and contender, and the target ratios.

    python -m benchmarks.micro.summary results/micro/benchmark.json

Prints Markdown and writes it next to the JSON (``results/micro/benchmark_summary.md``).
Every ratio is taken between medians of the same run. Its range comes from
the quartiles (the fastest plausible pairing, p25 over p75, to the slowest,
p75 over p25), so a ratio whose range straddles the target is within noise.
tjbench entries carry tjbench's own rate (it does its own timing), so they
have a median but no quartiles.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

GROUP_ORDER = (
    "decode-480x270",
    "decode-960x540",
    "decode-1920x1080",
    "tjbench-decode",
    "encode-480x270",
    "encode-960x540",
    "encode-1920x1080",
    "tjbench-encode",
    "fixed-cost-decode",
    "fixed-cost-encode",
    "decode-many",
    "crop",
)


def load(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """One row per benchmark: group, contender, size, median, q1, q3 (seconds), ..."""
    with open(path) as f:
        report = json.load(f)
    rows = []
    for bench in report.get("benchmarks", []):
        info, stats = bench.get("extra_info", {}), bench["stats"]
        row = {
            "group": bench.get("group") or "",
            "contender": info.get("contender", bench["name"]),
            "size": info.get("size", ""),
            "megapixels": info.get("megapixels"),
            "library": info.get("library", ""),
            "median": stats["median"],
            "q1": stats.get("q1"),
            "q3": stats.get("q3"),
            "rounds": stats.get("rounds"),
            "name": bench["name"],
        }
        if "tjbench_s_per_image" in info:  # tjbench timed itself; its wall time is not the figure
            row.update(
                median=info["tjbench_s_per_image"],
                q1=None,
                q3=None,
                rounds=None,
                contender="tjbench",
            )
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame, _context(report)
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    frame["order"] = frame["group"].map(lambda g: order.get(g, len(order)))
    frame = frame.sort_values(["order", "group", "median"]).drop(columns="order")
    return frame.reset_index(drop=True), _context(report)


def _context(report: dict) -> dict:
    """machine_info, plus when the run was made and on which commit."""
    commit = report.get("commit_info", {})
    return {
        **report.get("machine_info", {}),
        "datetime": report.get("datetime"),
        "commit": f"{commit.get('id', '?')[:12]}{' (dirty)' if commit.get('dirty') else ''}",
    }


def fmt_time(seconds) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return ""
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.2f} µs"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def medians_table(frame: pd.DataFrame) -> str:
    rows = []
    for group, members in frame.groupby("group", sort=False):
        ours = members.loc[members["contender"] == "turbojpeg", "median"]
        base = float(ours.iloc[0]) if len(ours) else None
        for r in members.itertuples():
            rate = ""
            if r.megapixels and not pd.isna(r.megapixels):
                rate = f"{r.megapixels / r.median:.1f}"
            rel = f"{r.median / base:.2f}" if base else ""
            rows.append(
                [
                    group,
                    r.contender,
                    r.size,
                    fmt_time(r.median),
                    fmt_time(r.q1),
                    fmt_time(r.q3),
                    rate,
                    rel,
                    "" if pd.isna(r.rounds) else int(r.rounds),
                ]
            )
    header = [
        "group",
        "contender",
        "size",
        "median",
        "p25",
        "p75",
        "MP/s",
        "vs turbojpeg",
        "rounds",
    ]
    return markdown_table(header, rows)


@dataclass
class Target:
    label: str
    numerator: tuple[str, str]  # (group, contender)
    denominator: tuple[str, str]
    op: str  # "<=" or ">="
    target: float
    note: str = ""


TARGETS = [
    Target(
        "1. decode time ours / tjbench, 1920x1080",
        ("decode-1920x1080", "turbojpeg"),
        ("tjbench-decode", "tjbench@1920x1080"),
        "<=",
        1.00,
        "tjbench reads the header once and decodes into one reused buffer; each of our "
        "calls reads the header and allocates its output",
    ),
    Target(
        "1. decode time ours / tjbench, 480x270",
        ("decode-480x270", "turbojpeg"),
        ("tjbench-decode", "tjbench@480x270"),
        "<=",
        1.00,
    ),
    Target(
        "2. fixed cost per call (16x16 decode) ours / simplejpeg",
        ("fixed-cost-decode", "turbojpeg"),
        ("fixed-cost-decode", "simplejpeg"),
        "<=",
        0.90,
    ),
    Target(
        "2. fixed cost per call (16x16 encode) ours / simplejpeg",
        ("fixed-cost-encode", "turbojpeg"),
        ("fixed-cost-encode", "simplejpeg"),
        "<=",
        0.90,
    ),
    *[
        Target(
            f"3. encode time ours / PyTurboJPEG, {size}",
            (f"encode-{size}", "turbojpeg"),
            (f"encode-{size}", "pyturbojpeg"),
            "<=",
            0.93,
        )
        for size in ("480x270", "960x540", "1920x1080")
    ],
    Target(
        "4. decode_many(threads=2) speed-up over a serial decode loop (64 x 1080p)",
        ("decode-many", "serial-decode"),
        ("decode-many", "decode_many-2"),
        ">=",
        1.85,
        "the loop makes 64 separate output arrays, decode_many one batch array",
    ),
    Target(
        "5. 480x270 top-left crop / full decode time, 1080p",
        ("crop", "crop-480x270-top-left"),
        ("crop", "full-decode"),
        "<=",
        0.20,
    ),
]

# Context for the targets above: printed with their ratio, never PASS/MISS.
CONTEXT = [
    Target(
        "decode time ours with out= / tjbench, 1920x1080",
        ("decode-1920x1080", "turbojpeg-out"),
        ("tjbench-decode", "tjbench@1920x1080"),
        "<=",
        1.00,
    ),
    Target(
        "decode time ours with out= / tjbench, 480x270",
        ("decode-480x270", "turbojpeg-out"),
        ("tjbench-decode", "tjbench@480x270"),
        "<=",
        1.00,
    ),
    *[
        Target(
            f"encode time ours / tjbench, {size}",
            (f"encode-{size}", "turbojpeg"),
            ("tjbench-encode", f"tjbench@{size}"),
            "<=",
            1.00,
        )
        for size in ("480x270", "1920x1080")
    ],
    Target(
        "decode_many(threads=2) speed-up over decode_many(threads=1)",
        ("decode-many", "decode_many-1"),
        ("decode-many", "decode_many-2"),
        ">=",
        1.85,
    ),
]


def _lookup(frame: pd.DataFrame, group: str, contender: str):
    contender, _, size = contender.partition("@")
    hit = frame[(frame["group"] == group) & (frame["contender"] == contender)]
    if size:
        hit = hit[hit["size"] == size]
    return None if hit.empty else hit.iloc[0]


def evaluate(frame: pd.DataFrame, target: Target) -> dict:
    a, b = _lookup(frame, *target.numerator), _lookup(frame, *target.denominator)
    missing = [
        f"{g}/{c}"
        for (g, c), row in ((target.numerator, a), (target.denominator, b))
        if row is None
    ]
    if missing:
        return {
            "ratio": None,
            "status": "SKIP",
            "range": "",
            "verdict": f"missing: {', '.join(missing)}",
        }
    ratio = a["median"] / b["median"]

    def quartiles(row):
        return (row["median"],) * 2 if pd.isna(row["q1"]) else (row["q1"], row["q3"])

    (lo_a, hi_a), (lo_b, hi_b) = quartiles(a), quartiles(b)
    rng = "" if pd.isna(a["q1"]) and pd.isna(b["q1"]) else f"{lo_a / hi_b:.2f}..{hi_a / lo_b:.2f}"
    meets = ratio <= target.target if target.op == "<=" else ratio >= target.target
    if target.op == "<=":
        off = f"{abs(ratio / target.target - 1):.1%} {'under' if meets else 'above'} the target"
    else:
        off = f"{abs(1 - ratio / target.target):.1%} {'over' if meets else 'below'} the target"
    verdict = f"meets it, {off}" if meets else f"misses it, {off}"
    return {"ratio": ratio, "status": "PASS" if meets else "MISS", "range": rng, "verdict": verdict}


def targets_table(frame: pd.DataFrame, targets: list[Target], *, judged: bool = True) -> str:
    rows = []
    for t in targets:
        e = evaluate(frame, t)
        ratio = "n/a" if e["ratio"] is None else f"{e['ratio']:.3f}"
        row = [t.label, ratio, e["range"]]
        if judged:
            row += [f"{t.op} {t.target:.2f}", e["status"], e["verdict"]]
        rows.append([*row, t.note])
    header = ["ratio", "value", "p25..p75 range"]
    if judged:
        header += ["target", "result", "verdict"]
    return markdown_table([*header, "note"], rows)


def machine_lines(machine: dict) -> list[str]:
    versions = machine.get("codec_versions", {})
    cpu = machine.get("cpu_model") or machine.get("cpu", {}).get("brand_raw", "?")
    lines = [
        f"- CPU: {cpu} ({machine.get('cpu_affinity', '?')} usable cores)",
        f"- Python {machine.get('python_version', '?')} on {machine.get('system', '?')}",
        f"- run at {machine.get('datetime', '?')} on commit {machine.get('commit', '?')}",
    ]
    lines += [f"- {k}: {v}" for k, v in versions.items()]
    threads = {k: v for k, v in machine.get("thread_env", {}).items() if v}
    lines.append(
        f"- thread settings: opencv threads {machine.get('opencv_threads', '?')}; env {threads}"
    )
    if "loadavg_at_start" in machine:
        lines.append(
            f"- load average (1, 5, 15 min) at start {machine['loadavg_at_start']}, "
            f"at end {machine.get('loadavg_at_end')} (this run adds about 1): anything "
            "else running makes the numbers noisy, decode_many's most of all"
        )
    return lines


def render(path: Path) -> str:
    frame, machine = load(path)
    if frame.empty:
        return f"# micro summary\n\nNo benchmarks in {path}.\n"
    parts = [
        "# micro summary",
        "",
        (
            f"From `{path}`. Medians of each benchmark's rounds; p25/p75 are its quartiles. "
            "tjbench rows are tjbench's own Mpixels/s turned into time per image. "
            "`vs turbojpeg` is the median over ours (plain `decode`/`encode`) in the same group. "
            "Pillow decodes to and encodes from RGB (its native order); everyone else uses BGR."
        ),
        "",
        *machine_lines(machine),
        "",
        "## Targets",
        "",
        targets_table(frame, TARGETS),
        "",
        "Context (not targets):",
        "",
        targets_table(frame, CONTEXT, judged=False),
        "",
        "## Medians",
        "",
        medians_table(frame),
        "",
    ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, help="pytest-benchmark --benchmark-json output")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="Markdown file to write (default: <json stem>_summary.md beside it)",
    )
    args = parser.parse_args(argv)
    if not args.json.is_file():
        parser.error(f"{args.json} does not exist; run the benchmarks with --benchmark-json first")
    text = render(args.json)
    output = args.output or args.json.with_name(f"{args.json.stem}_summary.md")
    output.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    print(f"\n(written to {output})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
