"""A micro run's report: medians per group and contender, the targets, two figures.

    python -m benchmarks report results/micro

Reads ``benchmark.json`` (pytest-benchmark's, with every round's time:
``--benchmark-save-data``) and ``provenance.json``; writes ``report.md``,
``throughput.png`` and ``fixed_cost.png`` beside them. Every median has its
bootstrap interval and every ratio is a ratio of medians with its interval over the
rounds of both sides (``benchmarks.report_kit``). tjbench entries carry tjbench's
own rate (it does its own timing over many calls): one figure, with no interval.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from benchmarks import figures, measure
from benchmarks import report_kit as kit
from benchmarks.micro.targets import CONTEXT, FRAMEREADER_CONTEXT, FRAMEREADER_TARGETS, TARGETS

GROUP_ORDER = (
    *(f"decode-{s}" for s in ("480x270", "960x540", "1920x1080")), "tjbench-decode",
    *(f"encode-{s}" for s in ("480x270", "960x540", "1920x1080")), "tjbench-encode",
    "fixed-cost-decode", "fixed-cost-decode-mixed", "fixed-cost-encode", "decode-many", "crop",
    "photos-decode",
)  # fmt: skip
NO_SAMPLES = "no rounds in benchmark.json (a run without --benchmark-save-data)"


def load(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """One row per benchmark: group, contender, size, megapixels, library, its rounds'
    seconds (``samples``, per frame for a whole pass; None when not saved), their
    Summary (``summary``) and ``median``; and the run's machine info."""
    report = json.loads(Path(path).read_text())
    rows = []
    for bench in report.get("benchmarks", []):
        info, stats = bench.get("extra_info", {}), bench["stats"]
        per = info.get("frames_per_call") or 1  # a whole sequential pass: time per frame
        samples = [s / per for s in stats["data"]] if stats.get("data") else None
        contender = info.get("contender", bench["name"])
        if "tjbench_s_per_image" in info:  # tjbench timed itself; its wall time is not the figure
            samples, contender = [info["tjbench_s_per_image"]], "tjbench"
        rows.append({"group": bench.get("group") or "", "contender": contender,
                     "size": info.get("size", ""), "megapixels": info.get("megapixels"),
                     "library": info.get("library", ""), "samples": samples,
                     "summary": measure.summarize(samples) if samples else None,
                     "median": float(np.median(samples)) if samples else stats["median"] / per,
                     "rounds": len(samples) if samples else stats.get("rounds")})  # fmt: skip
    frame = pd.DataFrame(rows)
    commit = report.get("commit_info", {})
    revision = f"{commit.get('id', '?')[:12]}{' (dirty)' if commit.get('dirty') else ''}"
    machine = {**report.get("machine_info", {}), "datetime": report.get("datetime"),
               "commit": revision}  # fmt: skip
    if frame.empty:
        return frame, machine
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    frame["order"] = frame["group"].map(lambda g: order.get(g, len(order)))
    frame = frame.sort_values(["order", "group", "median"]).drop(columns="order")
    return frame.reset_index(drop=True), machine


def fmt_time(seconds) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return ""
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.2f} µs"


def _lookup(frame: pd.DataFrame, group: str, contender: str):
    contender, _, size = contender.partition("@")
    hit = frame[(frame["group"] == group) & (frame["contender"] == contender)]
    if size:
        hit = hit[hit["size"] == size]
    return None if hit.empty else hit.iloc[0]


def ratio(a, b) -> tuple[measure.Ratio | None, str]:
    """The ratio of two benchmarks' medians with its interval, or why there is none."""
    if a["samples"] is None or b["samples"] is None:
        return None, NO_SAMPLES
    return measure.ratio(a["samples"], b["samples"]), ""


def evaluate(frame: pd.DataFrame, target) -> tuple[measure.Ratio | None, str]:
    """A target's ratio with its interval, or why it was not measured."""
    a, b = _lookup(frame, *target.numerator), _lookup(frame, *target.denominator)
    missing = [f"{g}/{c}" for (g, c), row in ((target.numerator, a), (target.denominator, b))
               if row is None]  # fmt: skip
    return (None, f"missing: {', '.join(missing)}") if missing else ratio(a, b)


def targets_table(frame: pd.DataFrame, targets: list, *, judged: bool = True) -> str:
    rows = []
    for t in targets:
        measured, why = evaluate(frame, t)
        row = {"ratio": t.label}
        if judged:
            row |= t.claim.judged(measured)
        else:
            row["measured"] = kit.fmt_ratio(measured)
        rows.append(row | {"note": "; ".join(filter(None, (why, t.note)))})
    return kit.markdown(pd.DataFrame(rows))


def medians_table(frame: pd.DataFrame) -> str:
    """Every benchmark's median with its interval, MP/s, and its ratio to ours in the group."""
    rows = []
    for group, members in frame.groupby("group", sort=False):
        ours = members[members["contender"] == "turbojpeg"]
        for r in members.to_dict("records"):
            s, mp = r["summary"], r["megapixels"]
            mine = (
                ratio(r, ours.iloc[0])[0] if len(ours) and r["contender"] != "turbojpeg" else None
            )
            rows.append({"group": group, "contender": r["contender"], "size": r["size"],
                         "median": fmt_time(r["median"]),
                         "95% interval": f"{fmt_time(s.low)} - {fmt_time(s.high)}" if s else "",
                         "MP/s": f"{mp / r['median']:.1f}" if mp and not pd.isna(mp) else "",
                         "vs turbojpeg": kit.fmt_ratio(mine) if mine else "",
                         "rounds": "" if pd.isna(r["rounds"]) else int(r["rounds"])})  # fmt: skip
    return kit.markdown(pd.DataFrame(rows))


# -- figures --------------------------------------------------------------------

# The contenders the throughput figure draws: ours first and bold.
LINES = {
    "turbojpeg": {"lw": 2.6, "zorder": 5},
    "turbojpeg-fast_dct+fast_upsample": {"lw": 1.6, "ls": "--"},
    "tjbench": {"lw": 1.4, "ls": ":"},
    **{name: {"lw": 1.6} for name in ("pyturbojpeg", "simplejpeg", "opencv-wheel", "pillow")},
}


def _finish(fig, machine: dict, provenance: dict, path: Path, *notes: str) -> Path:
    lib = machine.get("codec_versions", {}).get("turbojpeg_libjpeg_turbo", "?")
    kit.footer(fig, provenance, f"libjpeg-turbo {lib}", "single-threaded", "q95 4:2:0 BGR",
               *notes)  # fmt: skip
    return figures.save(fig, path)


def throughput_figure(frame: pd.DataFrame, machine: dict, provenance: dict,
                      path: Path) -> Path | None:  # fmt: skip
    drawn = frame[frame["contender"].isin(LINES) & frame["megapixels"].notna()
                  & frame["summary"].notna()].sort_values("megapixels")  # fmt: skip
    if drawn.empty:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=False)
    for ax, operation in zip(axes, ("decode", "encode"), strict=True):
        rows = drawn[drawn["group"].str.startswith(f"{operation}-")
                     | (drawn["group"] == f"tjbench-{operation}")]  # fmt: skip
        for contender, part in rows.groupby("contender", sort=False):
            # The interval of the time becomes the opposite ends of the throughput's.
            mp, s = part["megapixels"], part["summary"]
            figures.median_line(ax, mp, mp / part["median"], mp / [x.high for x in s],
                                mp / [x.low for x in s], contender, ms=4, capsize=3,
                                label=contender, **LINES[contender])  # fmt: skip
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(sorted(rows["megapixels"].unique()))
        ax.set_xticklabels(sorted(rows["size"].unique(), key=lambda s: int(s.split("x")[0])))
        ax.set_xlabel("image size")
        ax.set_ylabel("megapixels per second (higher is faster)")
        ax.set_title(f"JPEG {operation}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right")
    return _finish(fig, machine, provenance, path, "tjbench: its own rate, no interval")


def fixed_cost_figure(frame: pd.DataFrame, machine: dict, provenance: dict,
                      path: Path) -> Path | None:  # fmt: skip
    rows = frame[frame["group"].str.startswith("fixed-cost-") & frame["summary"].notna()]
    if rows.empty:
        return None
    table = pd.DataFrame({"operation": rows["group"].str.removeprefix("fixed-cost-"),
                          "contender": rows["contender"],
                          **{k: [getattr(s, k) for s in rows["summary"]]
                             for k in ("median", "low", "high")}})  # fmt: skip
    fig, ax = plt.subplots(figsize=(7, 3.8))
    kit.bars(ax, table, "operation", "contender", scale=1e6)
    ax.set_ylabel("µs per call on a 16x16 image\n(lower is better)")
    ax.set_title("Fixed cost per call")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _finish(fig, machine, provenance, path)


# -- the report -----------------------------------------------------------------


def _machine_lines(machine: dict) -> list[str]:
    threads = {k: v for k, v in machine.get("thread_env", {}).items() if v}
    lines = [f"- Python {machine.get('python_version', '?')} on {machine.get('system', '?')}",
             *[f"- {k}: {v}" for k, v in machine.get("codec_versions", {}).items()],
             (f"- thread settings: opencv threads {machine.get('opencv_threads', '?')}; "
             f"env {threads}")]  # fmt: skip
    if "loadavg_at_start" in machine:
        lines.append(f"- load average (1, 5, 15 min) as the benchmarks started "
                     f"{machine['loadavg_at_start']}, as they ended "
                     f"{machine.get('loadavg_at_end')} (this run adds about 1): anything else "
                     "running makes the numbers noisy, decode_many's most of all")  # fmt: skip
    return lines


def render(frame: pd.DataFrame, machine: dict, provenance: dict, path: Path) -> str:
    """The Markdown summary of the run ``path`` holds."""
    if frame.empty:
        return f"# micro summary\n\nNo benchmarks in {path}.\n"
    libraries = dict(
        frame[frame["library"] != ""].drop_duplicates("contender")[["contender", "library"]].values
    )
    return "\n".join([
        "# micro summary\n",
        (f"From `{path}`. Medians of each benchmark's rounds with their bootstrap 95% intervals. "
        "tjbench rows are tjbench's own Mpixels/s turned into time per image: one figure. "
        "`vs turbojpeg` is the ratio of medians to ours (plain `decode`/`encode`) in the same "
        "group. A target is met when the ratio's whole interval is on its side, missed when "
        "the whole of it is not, and within noise when it straddles. Pillow decodes to and "
        "encodes from RGB (its native order); everyone else uses BGR.\n"),
        "## Targets\n", targets_table(frame, TARGETS),
        "Context (not targets):\n", targets_table(frame, CONTEXT, judged=False),
        "## framereader\n",
        ("Every reader on one decoder thread, on the same files, one seeded index list; "
        "a sequential row is a whole pass's time per frame.\n"),
        targets_table(frame, FRAMEREADER_TARGETS),
        ("Context (not targets): the same random reads with `VideoReader(decoders=1)`, "
        "one decoder rather than up to three parked ones.\n"),
        targets_table(frame, FRAMEREADER_CONTEXT, judged=False),
        "## Medians\n", medians_table(frame),
        kit.provenance_section(provenance, _machine_lines(machine), libraries),
    ])  # fmt: skip


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
    text = render(frame, machine, provenance, json_path)
    text += "\n## Figures\n\n" + "".join(f"![{p.stem}]({p.name})\n\n" for p in pictures if p)
    target.write_text(text, encoding="utf-8")
    return target
