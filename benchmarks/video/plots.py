"""The video report's figures: space savings against encode speed, random access
against exploded JPEG, latency by reader and codec, and our OpenCV's thread types.
Bars are medians over the recordings with their bootstrap intervals; cells that
returned wrong frames are hatched red."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from benchmarks import figures
from benchmarks import report_kit as kit
from benchmarks.video import tables
from benchmarks.video.tables import BASELINE, INTRA_TARGET, REFERENCE_READER


def _finish(fig, ax, provenance: dict, path: Path, over: str = "the recordings") -> Path:
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    kit.footer(fig, provenance,
               provenance.get("ffmpeg", {}).get("version", "ffmpeg ?").split(" Copyright")[0],
               f"PyAV {provenance.get('pyav', {}).get('version')}",
               f"OpenCV {provenance.get('opencv', {}).get('version')}", over=over)  # fmt: skip
    return figures.save(fig, path)


def savings_vs_speedup_figure(enc: pd.DataFrame, provenance: dict, path: Path) -> Path | None:
    """Per encoding and thread count: savings against the speed-up over the baseline,
    the median over the recordings, the speed-up's interval as a whisker."""
    if enc.empty:
        return None
    every = tables.speedups(enc, ("encoding", "threads"))
    table = every[every["speedup"].notna()]
    fig, ax = plt.subplots(figsize=(8, 5.2))
    for (threads, marker), color in zip(zip(sorted(table["threads"].unique()), "os", strict=False),
                                        ("C0", "C1"), strict=False):  # fmt: skip
        rows = table[table["threads"] == threads]
        x = [r.value for r in rows["speedup"]]
        xerr = [
            [r.value - r.low for r in rows["speedup"]],
            [r.high - r.value for r in rows["speedup"]],
        ]
        label = f"{threads} thread{'s' if threads > 1 else ''} (both sides)"
        ax.errorbar(x, rows["savings"], xerr=xerr, marker=marker, ms=7, ls="none", capsize=2,
                    color=color, label=label)  # fmt: skip
        if threads == 1:
            for value, savings, encoding in zip(x, rows["savings"], rows["encoding"], strict=True):
                ax.annotate(encoding, (value, savings), fontsize=7, xytext=(4, 3),
                            textcoords="offset points")  # fmt: skip
    left_out = sorted(set(every["encoding"]) - set(table["encoding"]))
    if left_out:  # an encode no longer than its null run has no speed-up to draw
        ax.text(0.02, 0.02, "no speed-up (an encode no longer than its null run): "
                + ", ".join(left_out), transform=ax.transAxes, fontsize=7, wrap=True)  # fmt: skip
    if len(table):
        ax.legend(fontsize=8)
    ax.axvline(1, color="0.5", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel(f"encode speed-up relative to {BASELINE} (x, log scale; right is faster)")
    ax.set_ylabel("space savings vs raw frames (%)")
    ax.set_title("Space savings vs encode speed (median over recordings)")
    ax.grid(alpha=0.3)
    kit.footer(
        fig, provenance, f"{every['encodes'].max()} encode(s) per cell", over="the recordings"
    )
    return figures.save(fig, path)


def _order(table: pd.DataFrame, value: str) -> list:
    return list(table.groupby("what")[value].min().sort_values().index)


def random_access_figure(lat: pd.DataFrame, provenance: dict, path: Path,
                         wrong: dict | None = None) -> Path | None:  # fmt: skip
    table = tables.random_access(lat)
    if table.empty:
        return None
    readers = sorted(table["reader"].unique(), key=lambda r: (r != REFERENCE_READER, r))
    fig, ax = plt.subplots(figsize=(10, 4.8))
    kit.bars(ax, table, "what", "reader", value="ratio", groups=_order(table, "ratio"),
             members=readers, marked=wrong or {})  # fmt: skip
    ax.axhline(1, color="black", lw=1)
    ax.axhline(INTRA_TARGET, color="black", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_ylabel(f"random frame time / {BASELINE}\n(log; median over recordings; lower is better)")
    ax.set_title(f"Random single-frame access, warm handle, relative to {BASELINE} "
                 f"(dashed: the {INTRA_TARGET}x target)")  # fmt: skip
    ax.grid(axis="y", alpha=0.3)
    return _finish(fig, ax, provenance, path)


def latency_figure(lat: pd.DataFrame, provenance: dict, path: Path,
                   wrong: dict | None = None) -> Path | None:  # fmt: skip
    warm = lat[lat["mode"] == "warm"] if len(lat) else lat
    if warm.empty:
        return None
    table = kit.summaries(tables.with_recording(warm), ["what", "reader"], over=["recording"])
    readers = sorted(table["reader"].unique(), key=lambda r: (r != REFERENCE_READER, r))
    fig, ax = plt.subplots(figsize=(10, 4.8))
    kit.bars(ax, table, "what", "reader", groups=_order(table, "median"), members=readers,
             scale=1e3, marked=wrong or {})  # fmt: skip
    ax.set_yscale("log")
    ax.set_ylabel("ms per random frame\n(log; median over recordings)")
    ax.set_title("Random-frame latency by reader and codec (warm handle)")
    ax.grid(axis="y", alpha=0.3)
    return _finish(fig, ax, provenance, path)


def thread_type_figure(lat: pd.DataFrame, acc: pd.DataFrame, provenance: dict,
                       path: Path) -> Path | None:  # fmt: skip
    """What the decoder's thread type does: random-frame time and sequential fps per codec."""
    if lat.empty or acc.empty or lat["reader"].isin(tables.THREAD_READERS).sum() == 0:
        return None
    random, seq = tables.thread_random(lat), tables.thread_sequential(acc)
    members = [r for r in tables.THREAD_READERS if r in set(random["reader"])]
    if len(members) < 2:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    groups = list(dict.fromkeys(random["what"]))
    kit.bars(left, random, "what", "reader", groups=groups, members=members, scale=1e3)
    kit.bars(right, seq, "what", "reader", groups=groups, members=members)
    for ax, label, title in (
        (left, "ms per random frame (log; warm handle)", "random access (lower is better)"),
        (right, "frames per second (log; one pass per file)",
         "reading straight through (higher is better)"),
    ):  # fmt: skip
        ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    left.legend(fontsize=8, title="OPENCV_FFMPEG_THREAD_TYPE", title_fontsize=8)
    fig.suptitle("Our OpenCV by decoder thread type", fontsize=11)
    kit.footer(fig, provenance, f"{provenance.get('cpu_count')} cores; one thread vs every core",
               over="the recordings")  # fmt: skip
    return figures.save(fig, path)
