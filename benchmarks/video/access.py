"""Two views of random access in the video report: latency against GOP length (the
``codecs.GOP_SWEEP`` encodings, identical but for their keyframe interval), and what
opening costs (open to the first frame, with the reader's index dropped and kept).

Every figure is a median with its bootstrap 95% interval (``benchmarks.report_kit``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from benchmarks import figures, measure
from benchmarks import report_kit as kit
from benchmarks.video import codecs, floor

OPEN_MODES = {"open-cached": "index kept", "open-uncached": "index dropped first"}
# Issue 23's targets for our cold open with a cached index, against torchcodec's exact
# mode (which scans at every open): at most half its time on mkv and MPEG-TS, and
# never slower on mp4.
OURS, PEER = "indexed", "torchcodec"
OPEN_TARGETS = {"mkv": 0.5, "ts": 0.5, "mp4": 1.0}


def gop_table(lat: pd.DataFrame) -> pd.DataFrame:
    """Warm random-read seconds per recording, reader and GOP length, on the sweep."""
    if lat.empty or "gop" not in lat:
        return pd.DataFrame()
    sweep = lat[(lat["mode"] == "warm") & lat["encoding"].isin(codecs.GOP_SWEEP)].copy()
    if sweep.empty:
        return pd.DataFrame()
    sweep["recording"] = sweep["file"].str.rsplit(".", n=1).str[0]
    sweep["gop"] = sweep["gop"].astype(int)
    table = kit.summaries(sweep, ["recording", "frames", "reader", "gop"])
    return table.sort_values(["recording", "reader", "gop"])


def gop_markdown(table: pd.DataFrame) -> list[str]:
    """Per recording, a row per reader and a column per GOP length: ms, median [interval]."""
    lines = []
    for recording, part in table.groupby("recording", sort=False):
        wide = part.assign(ms=[kit.fmt_summary(r, 1e3) for r in part.itertuples()]).pivot_table(
            index="reader", columns="gop", values="ms", aggfunc="first")  # fmt: skip
        wide.columns = [f"GOP {g}: ms" for g in wide.columns]
        lines += [f"{recording}, {int(part['frames'].iloc[0])} frames:", "",
                  kit.markdown(wide.fillna("-").reset_index())]  # fmt: skip
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
            figures.median_line(ax, rows["gop"], rows["median"] * 1e3, rows["low"] * 1e3,
                                rows["high"] * 1e3, reader, ms=4, lw=1.2,
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
    kit.footer(fig, provenance, f"GOP lengths {', '.join(map(str, codecs.GOP_LENGTHS))}")
    return figures.save(fig, path)


def open_table(lat: pd.DataFrame) -> pd.DataFrame:
    """Open to the first frame per reader, index kept and dropped: the median over the
    files of each file's median."""
    opens = lat[lat["mode"].isin(OPEN_MODES)] if len(lat) else lat
    if opens.empty:
        return pd.DataFrame()
    opens = opens.assign(mode=opens["mode"].map(OPEN_MODES))
    table = kit.summaries(opens, ["reader", "mode"], over=["file"])
    kept = table[table["mode"] == OPEN_MODES["open-cached"]].sort_values("median")["reader"]
    order = {r: i for i, r in enumerate([*kept, *table["reader"]])}
    return table.sort_values("reader", key=lambda c: c.map(order), kind="stable")


def open_markdown(table: pd.DataFrame) -> list[str]:
    """A row per reader: open to first frame with the index kept and dropped, ms [interval] (n)."""
    if table.empty:
        return []
    cells = [f"{kit.fmt_summary(r, 1e3, 1)} (n={r.n})" for r in table.itertuples()]
    wide = table.assign(ms=cells).pivot_table(index="reader", columns="mode", values="ms",
                                              aggfunc="first", sort=False)  # fmt: skip
    wide = wide[[m for m in OPEN_MODES.values() if m in wide]]
    wide.columns = [f"open to first frame, {m}: ms" for m in wide.columns]
    return [kit.markdown(wide.reset_index())]


def open_figure(table: pd.DataFrame, provenance: dict, path: Path) -> Path | None:
    """Bars per reader: open to the first frame with the index kept, and dropped."""
    if table.empty:
        return None
    readers = list(dict.fromkeys(table["reader"]))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(readers) + 2), 4.4))
    kit.bars(ax, table, "reader", "mode", groups=readers, members=list(OPEN_MODES.values()),
             scale=1e3, color=lambda reader, _: figures.color(str(reader)),
             shade=lambda mode: 1.0 if mode == OPEN_MODES["open-cached"] else 0.45)  # fmt: skip
    ax.set_yscale("log")
    ax.set_ylabel("ms, open to the first frame")
    ax.set_title("Decoder open cost, median over the files")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    kit.footer(fig, provenance, "solid: index kept; pale: dropped first", over="the files")
    return figures.save(fig, path)


def open_target_rows(lat: pd.DataFrame, floors: pd.DataFrame | None = None) -> list[dict]:
    """Per file in a target container: our cached open over torchcodec's, as a ratio of
    medians with its interval, and the verdict against that container's target; with
    ``floors`` (``floor.CSV``), FFmpeg's floor over torchcodec's open, judged against the
    same target: where the floor alone misses it, no reader decoding with FFmpeg meets it."""
    if lat.empty or "container" not in lat:
        return []
    opens = lat[(lat["mode"] == "open-cached") & lat["container"].isin(OPEN_TARGETS)]
    if floors is not None and not floors.empty:
        opens = pd.concat([opens, floors.assign(reader=floor.NAME, mode="open-cached")])
    rows = []
    for (file, container), part in opens.groupby(["file", "container"]):
        measured = kit.ratio_over(kit.paired(part, "reader", OURS, PEER, ["file"]))
        if not measured:
            continue
        claim = kit.Claim(f"{OURS} / {PEER}, cached open, {container}", OPEN_TARGETS[container])
        ms = part.groupby("reader")["seconds"].median() * 1e3
        row = {"file": file, "container": container, f"{OURS} ms": ms[OURS],
               f"{PEER} ms": ms[PEER], "ratio": measured, "target": claim.wants,
               "verdict": claim.verdict(measured)}  # fmt: skip
        least = kit.ratio_over(kit.paired(part, "reader", floor.NAME, PEER, ["file"]))
        if least:
            row |= {"floor ms": ms[floor.NAME], "floor ratio": least,
                    "reachable": REACHABLE[claim.verdict(least)]}  # fmt: skip
        rows.append(row)
    return rows


# The floor's own verdict against the target, as whether any reader can meet it.
REACHABLE = {"met": "yes", "within noise": "at the edge", "missed": "no"}


def open_target_markdown(rows: list[dict]) -> list[str]:
    if not rows:
        return [f"_{OURS} and {PEER} were not both measured on mkv, MPEG-TS or mp4 files_\n"]
    table = pd.DataFrame(rows).assign(ratio=lambda t: t["ratio"].map(kit.fmt_ratio))
    if "floor ratio" in table:
        table["floor ratio"] = table["floor ratio"].map(
            lambda r: kit.fmt_ratio(r) if isinstance(r, measure.Ratio) else "-"
        )
        table["reachable"] = table["reachable"].fillna("-")
    table = table.round({f"{OURS} ms": 1, f"{PEER} ms": 1, "floor ms": 1})
    return [kit.markdown(table.rename(columns={
        "ratio": f"{OURS} / {PEER}, cached open to first frame",
        "floor ratio": f"floor / {PEER}",
        "reachable": "target reachable"}))]  # fmt: skip
