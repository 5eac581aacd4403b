"""Two views of random access in the video report: latency against GOP length (the
``codecs.GOP_SWEEP`` encodings, identical but for their keyframe interval), and what
opening costs (open to the first frame, with the reader's index dropped and kept).

Every figure is a median with its bootstrap 95% interval (``benchmarks.measure``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from benchmarks import figures, measure
from benchmarks.video import codecs

OPEN_MODES = ("open-uncached", "open-cached")
# Issue 23's targets for our cold open with a cached index, against torchcodec's exact
# mode (which scans at every open): at most half its time on mkv and MPEG-TS, and
# never slower on mp4.
OURS, PEER = "indexed", "torchcodec"
OPEN_TARGETS = {"mkv": 0.5, "ts": 0.5, "mp4": 1.0}


def _summaries(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    rows = []
    for key, group in frame.groupby(keys):
        s = measure.summarize(group["seconds"].tolist())
        rows.append({**dict(zip(keys, key, strict=True)), "median_ms": s.median * 1e3,
                     "low_ms": s.low * 1e3, "high_ms": s.high * 1e3, "n": s.n})  # fmt: skip
    return pd.DataFrame(rows)


def gop_table(lat: pd.DataFrame) -> pd.DataFrame:
    """Warm random-read latency per recording, reader and GOP length, on the sweep."""
    if lat.empty or "gop" not in lat:
        return pd.DataFrame()
    sweep = lat[(lat["mode"] == "warm") & lat["encoding"].isin(codecs.GOP_SWEEP)].copy()
    if sweep.empty:
        return pd.DataFrame()
    sweep["recording"] = sweep["file"].str.rsplit(".", n=1).str[0]
    sweep["gop"] = sweep["gop"].astype(int)
    return _summaries(sweep, ["recording", "frames", "reader", "gop"]).sort_values(
        ["recording", "reader", "gop"]
    )


def gop_markdown(table: pd.DataFrame) -> list[str]:
    """Per recording, a row per reader and a column per GOP length: ms, median [interval]."""
    lines = []
    for recording, part in table.groupby("recording", sort=False):
        gops = sorted(part["gop"].unique())
        lines += [f"{recording}, {int(part['frames'].iloc[0])} frames:", "",
                  "| reader | " + " | ".join(f"GOP {g}: ms" for g in gops) + " |",
                  "|---" * (len(gops) + 1) + "|"]  # fmt: skip
        for reader, rows in part.groupby("reader"):
            by_gop = rows.set_index("gop")
            cells = [f"{by_gop.loc[g, 'median_ms']:.2f} [{by_gop.loc[g, 'low_ms']:.2f}, "
                     f"{by_gop.loc[g, 'high_ms']:.2f}]" if g in by_gop.index else "-"
                     for g in gops]  # fmt: skip
            lines.append(f"| {reader} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def gop_figure(table: pd.DataFrame, provenance: dict, path: Path, wrong: dict) -> Path | None:
    """One panel per recording: ms per random frame against GOP length, a line per reader."""
    if table.empty:
        return None
    recordings = list(dict.fromkeys(table["recording"]))
    fig, axes = plt.subplots(1, len(recordings), figsize=(5.5 * len(recordings), 4.4),
                             squeeze=False, sharey=True)  # fmt: skip
    for ax, recording in zip(axes[0], recordings, strict=True):
        part = table[table["recording"] == recording]
        for reader, rows in part.groupby("reader"):
            bad = [g for g in rows["gop"] if wrong.get((f"x264-lossless-k{g}", reader))]
            figures.median_line(ax, rows["gop"], rows["median_ms"], rows["low_ms"],
                                rows["high_ms"], reader, ms=4, lw=1.2,
                                label=reader + (" (wrong frames)" if bad else ""))  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(codecs.GOP_LENGTHS, [str(g) for g in codecs.GOP_LENGTHS])
        ax.set_xlabel("GOP length (frames from one keyframe to the next)")
        ax.set_title(f"{recording}: {int(part['frames'].iloc[0])} frames, lossless x264",
                     fontsize=9)  # fmt: skip
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("ms per random frame (warm handle)")
    axes[0][-1].legend(fontsize=7)
    figures.footer(fig, *figures.system_details(provenance),
                   "median with bootstrap 95% interval",
                   f"GOP lengths {', '.join(map(str, codecs.GOP_LENGTHS))}",
                   f"seed {provenance.get('seed')}")  # fmt: skip
    return figures.save(fig, path)


def open_table(lat: pd.DataFrame) -> pd.DataFrame:
    """Open to the first frame per reader, uncached and cached, over every file."""
    if lat.empty:
        return pd.DataFrame()
    opens = lat[lat["mode"].isin(OPEN_MODES)]
    if opens.empty:
        return pd.DataFrame()
    table = _summaries(opens, ["reader", "mode"])
    wide = table.pivot_table(index="reader", columns="mode", aggfunc="first")
    return wide.sort_values(("median_ms", "open-cached"))


def open_markdown(table: pd.DataFrame) -> list[str]:
    if table.empty:
        return []
    lines = ["| reader | open to first frame, index cached: ms | index dropped first: ms |",
             "|---|---|---|"]  # fmt: skip
    for reader, row in table.iterrows():
        cells = [f"{row[('median_ms', m)]:.1f} [{row[('low_ms', m)]:.1f}, "
                 f"{row[('high_ms', m)]:.1f}] (n={int(row[('n', m)])})" for m in OPEN_MODES[::-1]]  # fmt: skip
        lines.append(f"| {reader} | " + " | ".join(cells) + " |")
    return lines


def open_figure(table: pd.DataFrame, provenance: dict, path: Path) -> Path | None:
    """Bars per reader: open to the first frame with the index kept, and dropped."""
    if table.empty:
        return None
    fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(table) + 2), 4.4))
    for k, mode in enumerate(OPEN_MODES[::-1]):
        med = table[("median_ms", mode)]
        err = [med - table[("low_ms", mode)], table[("high_ms", mode)] - med]
        ax.bar([x + (k - 0.5) * 0.4 for x in range(len(table))], med, 0.38, yerr=err, capsize=2,
               color=[figures.color(r) for r in table.index], alpha=1.0 if k == 0 else 0.45,
               edgecolor="black", lw=0.4, label=mode.replace("open-", "index "))  # fmt: skip
    ax.set_xticks(range(len(table)), table.index, rotation=30, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("ms, open to the first frame")
    ax.set_title("Decoder open cost over every file")
    ax.grid(axis="y", alpha=0.3)
    figures.footer(fig, *figures.system_details(provenance), "solid: index kept; pale: dropped first",
                   "median with bootstrap 95% interval", f"seed {provenance.get('seed')}")  # fmt: skip
    return figures.save(fig, path)


def open_target_rows(lat: pd.DataFrame) -> list[dict]:
    """Per file in a target container: our cached open over torchcodec's, as a ratio of
    medians with its interval, and the verdict against that container's target."""
    if lat.empty or "container" not in lat:
        return []
    opens = lat[(lat["mode"] == "open-cached") & lat["container"].isin(OPEN_TARGETS)]
    rows = []
    for (file, container), part in opens.groupby(["file", "container"]):
        ours = part[part["reader"] == OURS]["seconds"].tolist()
        theirs = part[part["reader"] == PEER]["seconds"].tolist()
        if ours and theirs:
            r = measure.ratio(ours, theirs)
            target = OPEN_TARGETS[container]
            rows.append({"file": file, "container": container, "ratio": r, "target": target,
                         "verdict": measure.verdict(r, target)})  # fmt: skip
    return rows


def open_target_markdown(rows: list[dict]) -> list[str]:
    if not rows:
        return [f"_{OURS} and {PEER} were not both measured on mkv, MPEG-TS or mp4 files_"]
    return [
        f"| file | container | {OURS} / {PEER}, cached open to first frame | target | verdict |",
        "|---|---|---|---|---|",
        *(f"| {r['file']} | {r['container']} | {r['ratio']} | <= {r['target']} | {r['verdict']} |"
          for r in rows),
    ]  # fmt: skip
