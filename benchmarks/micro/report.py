"""A micro run's report: medians per group and contender, the target ratios, two figures.

    python -m benchmarks report results/micro

Reads ``benchmark.json`` (pytest-benchmark's) and ``provenance.json``; writes
``report.md``, ``throughput.png`` and ``fixed_cost.png`` beside them.
Every ratio is taken between medians of the same run. Its range comes from
the quartiles (the fastest plausible pairing, p25 over p75, to the slowest,
p75 over p25), so a ratio whose range straddles the target is within noise.
tjbench entries carry tjbench's own rate (it does its own timing), so they
have a median but no quartiles.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from benchmarks import figures

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
    "fixed-cost-decode-mixed",
    "fixed-cost-encode",
    "decode-many",
    "crop",
    "photos-decode",
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
        per = info.get("frames_per_call")
        if per:  # a whole sequential pass: the figure is its time per frame
            row.update({k: row[k] / per for k in ("median", "q1", "q3") if row[k] is not None})
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
        1.35,
        "issue 10's figure; simplejpeg is compiled Cython, four C calls per decode; "
        "ours makes one, as this JPEG repeats its header and the handle is kept",
    ),
    Target(
        "2. fixed cost per call, 16x16 JPEGs of different tables in turn, ours / simplejpeg",
        ("fixed-cost-decode-mixed", "turbojpeg"),
        ("fixed-cost-decode-mixed", "simplejpeg"),
        "<=",
        1.35,
        "a new handle per image: eight C calls through ctypes",
    ),
    Target(
        "2. whole real photos, one thread, ours / simplejpeg",
        ("photos-decode", "turbojpeg"),
        ("photos-decode", "simplejpeg"),
        "<=",
        1.00,
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

# framereader (issue 11): every reader on one decoder thread, on the same files
# (the file keys are test_framereader's).
GOP_FILES = ("arena.x264-crf18-bframes", "vtest.x264-crf18-bframes", "arena.x264-lossless-k30")
INTRA_FILES = ("arena.ffv1-g1", "arena.ffvhuff", "arena.x264-lossless-k1", "arena.mjpeg")
FRAMEREADER_TARGETS = [
    *[
        Target(
            f"framereader: random frame ours / torchcodec exact, {key}",
            (f"frame-random-{key}", "framereader"),
            (f"frame-random-{key}", "torchcodec-exact"),
            "<=",
            0.80,
        )
        for key in GOP_FILES
    ],
    *[
        Target(
            f"framereader: random frame / sequential time per frame, {key}",
            (f"frame-intra-{key}", "framereader"),
            (f"frame-intra-{key}", "sequential"),
            "<=",
            1.10,
        )
        for key in INTRA_FILES
    ],
    Target(
        "framereader: random MJPEG frame / exploded JPEG through turbojpeg",
        ("frame-mjpeg", "framereader"),
        ("frame-mjpeg", "exploded-jpeg"),
        "<=",
        1.00,
    ),
    Target(
        "framereader: 32 single reads / get_batch(32), x264 keyint 30",
        ("frame-batch-32", "single-reads"),
        ("frame-batch-32", "get_batch"),
        ">=",
        2.00,
    ),
    Target(
        "framereader: get_batch(32) / torchcodec get_frames_at(32), x264 keyint 30",
        ("frame-batch-32", "get_batch"),
        ("frame-batch-32", "torchcodec-get_frames_at"),
        "<=",
        1.00,
    ),
    Target(
        "framereader: fresh scan / open with the cached index, 10-minute recording",
        ("frame-open-10min", "fresh-scan"),
        ("frame-open-10min", "cached-index"),
        ">=",
        10.0,
    ),
]

# What the parked decoders add: the random reads again with ``decoders=1``.
FRAMEREADER_CONTEXT = [
    Target(
        f"framereader with one decoder: random frame / torchcodec exact, {key}",
        (f"frame-random-{key}", "framereader-1-decoder"),
        (f"frame-random-{key}", "torchcodec-exact"),
        "<=",
        0.80,
    )
    for key in GOP_FILES
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


def render(frame: pd.DataFrame, machine: dict, path: Path) -> str:
    """The Markdown summary of the run ``path`` holds."""
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
        "## framereader",
        "",
        (
            "Every reader on one decoder thread, on the same files, one seeded index list; "
            "a sequential row is a whole pass's time per frame."
        ),
        "",
        targets_table(frame, FRAMEREADER_TARGETS),
        "",
        (
            "Context (not targets): the same random reads with `VideoReader(decoders=1)`, "
            "one decoder rather than up to three parked ones."
        ),
        "",
        targets_table(frame, FRAMEREADER_CONTEXT, judged=False),
        "",
        "## Medians",
        "",
        medians_table(frame),
        "",
    ]
    return "\n".join(parts)


# -- figures --------------------------------------------------------------------


# The contenders the throughput figure draws: ours first and bold.
LINES = {
    "turbojpeg": {"lw": 2.6, "zorder": 5},
    "turbojpeg-fast_dct+fast_upsample": {"lw": 1.6, "ls": "--"},
    "tjbench": {"lw": 1.4, "ls": ":"},
    "pyturbojpeg": {"lw": 1.6},
    "simplejpeg": {"lw": 1.6},
    "opencv-wheel": {"lw": 1.6},
    "pillow": {"lw": 1.6},
}


def _throughput(frame: pd.DataFrame, operation: str) -> pd.DataFrame:
    rows = frame[
        frame["group"].str.startswith(f"{operation}-") | (frame["group"] == f"tjbench-{operation}")
    ].copy()
    rows = rows[rows["contender"].isin(LINES) & rows["megapixels"].notna()]
    rows["mps"] = rows["megapixels"] / rows["median"]
    # Quartiles of time become the opposite quartiles of throughput.
    rows["mps_lo"] = rows["megapixels"] / rows["q3"].fillna(rows["median"])
    rows["mps_hi"] = rows["megapixels"] / rows["q1"].fillna(rows["median"])
    return rows.sort_values("megapixels")


def _finish(fig, machine: dict, provenance: dict, path: Path) -> Path:
    lib = machine.get("codec_versions", {}).get("turbojpeg_libjpeg_turbo", "?")
    figures.footer(
        fig,
        *figures.system_details(provenance),
        f"libjpeg-turbo {lib}",
        "single-threaded",
        "q95 4:2:0 BGR",
        "median with p25-p75",
    )
    return figures.save(fig, path)


def throughput_figure(frame: pd.DataFrame, machine: dict, provenance: dict, path: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=False)
    for ax, operation in zip(axes, ("decode", "encode"), strict=True):
        data = _throughput(frame, operation)
        for contender, rows in data.groupby("contender", sort=False):
            style = {"ms": 4, "capsize": 3, "label": contender, **LINES[contender]}
            low, high = rows["mps_lo"], rows["mps_hi"]
            figures.median_line(ax, rows["megapixels"], rows["mps"], low, high, contender, **style)
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(sorted(data["megapixels"].unique()))
        ax.set_xticklabels(sorted(data["size"].unique(), key=lambda s: int(s.split("x")[0])))
        ax.set_xlabel("image size")
        ax.set_ylabel("megapixels per second (higher is faster)")
        ax.set_title(f"JPEG {operation}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right")
    return _finish(fig, machine, provenance, path)


def fixed_cost_figure(frame: pd.DataFrame, machine: dict, provenance: dict, path: Path) -> Path:
    rows = frame[frame["group"].str.startswith("fixed-cost-")].copy()
    rows["us"] = rows["median"] * 1e6
    rows["operation"] = rows["group"].str.removeprefix("fixed-cost-")
    table = rows.pivot_table(index="contender", columns="operation", values="us")
    table = table.sort_values(table.columns[0])
    fig, ax = plt.subplots(figsize=(7, 3.6))
    table.plot.barh(ax=ax, color=["#1f77b4", "#aec7e8", "#ff7f0e"][: len(table.columns)])
    ax.set_xlabel("microseconds per call on a 16x16 image (lower is better)")
    ax.set_ylabel("")
    ax.set_title("Fixed cost per call")
    ax.grid(axis="x", alpha=0.3)
    return _finish(fig, machine, provenance, path)


# -- the report -----------------------------------------------------------------


def write(folders: list[str | Path], out: Path | None = None) -> Path:
    """``report.md`` (or ``out``) and the figures beside it, for one micro run's folder."""
    if len(folders) != 1:
        raise ValueError("compare micro results one folder at a time")
    folder = Path(folders[0])
    provenance = json.loads((folder / "provenance.json").read_text())
    json_path = folder / "benchmark.json"
    frame, machine = load(json_path)
    target = out or folder / "report.md"
    pictures = []
    if not frame.empty:
        pictures = [
            throughput_figure(frame, machine, provenance, target.parent / "throughput.png"),
            fixed_cost_figure(frame, machine, provenance, target.parent / "fixed_cost.png"),
        ]
    text = render(frame, machine, json_path)
    text += "\n## Figures\n\n" + "".join(f"![{p.stem}]({p.name})\n\n" for p in pictures)
    target.write_text(text, encoding="utf-8")
    return target
