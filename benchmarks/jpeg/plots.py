"""The JPEG report's figures: speed by quality and by size (medians over the photos
with their intervals), and bytes against SSIM. Several runs share the axes, a line
style each."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from benchmarks import figures
from benchmarks import report_kit as kit
from benchmarks.jpeg.tables import OURS, size_key

LINESTYLES = ("-", "--", ":", "-.")


def _style(runs: list, i: int) -> str | None:
    return LINESTYLES[i % len(LINESTYLES)] if len(runs) > 1 else None


def _finish(fig, axes, runs: list, path: Path, over: str, *notes: str) -> Path:
    """The shared legend on the right, each run's details in the footer, saved."""
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    parts = []
    for i, run in enumerate(runs):
        style = f" [{_style(runs, i)}]" if len(runs) > 1 else ""
        details = [*kit.run_details(run.provenance), f"{run.provenance.get('threads')} thread(s)"]
        parts.append(f"{run.name}{style}: {', '.join(details)}")
    figures.footer(fig, *parts, *notes, *([kit.interval_words(over)] if over else []))
    return figures.save(fig, path, right=0.84)


def _order(name: str) -> int:
    from benchmarks.jpeg.contenders import JPEG_SUITE

    return JPEG_SUITE.index(name) if name in JPEG_SUITE else len(JPEG_SUITE)


def _lines(ax, table: pd.DataFrame, x: str, run_style: str | None, xkey=None) -> None:
    """One line per contender; ``run_style`` set when several runs share the axes."""
    for contender in sorted(table["contender"].unique(), key=_order):
        rows = table[table["contender"] == contender]
        rows = rows.sort_values(x, key=(lambda c: c.map(xkey)) if xkey else None)
        xs = [xkey(v) for v in rows[x]] if xkey else rows[x]
        variant = contender.startswith(f"{OURS}-fast")
        style = {
            "ms": 3.5,
            "capsize": 2.5,
            "ls": run_style or ("--" if variant else "-"),
            "lw": 2.6 if contender == OURS else 1.2 if variant else 1.5,
            "zorder": 5 if contender == OURS else 2,
            "label": contender if run_style in (None, LINESTYLES[0]) else None,
        }
        figures.median_line(ax, xs, rows["median"], rows["low"], rows["high"], contender, **style)


def _panels(count: int):
    return plt.subplots(1, count, figsize=(4.4 * count, 4.2), squeeze=False)


def _speed_label(axes) -> None:
    axes[0][0].set_ylabel("megapixels per second (higher is faster)\nmedian over the photos")


def by_quality_figure(runs: list, operation: str, path: Path) -> Path | None:
    tables = [run.throughput for run in runs]
    sizes = sorted({s for t in tables if not t.empty for s in t["size"]}, key=size_key)
    if not sizes:
        return None
    fig, axes = _panels(len(sizes))
    for ax, size in zip(axes[0], sizes, strict=True):
        for i, table in enumerate(tables):
            if not table.empty:
                rows = table[(table["operation"] == operation) & (table["size"] == size)]
                _lines(ax, rows, "quality", _style(runs, i))
        ax.set_title(f"{operation}, {size}")
        ax.set_xlabel("JPEG quality")
        ax.set_xticks(sorted({q for t in tables if not t.empty for q in t["quality"]}))
        ax.grid(alpha=0.3)
    _speed_label(axes)
    return _finish(fig, axes, runs, path, "the photos")


def by_size_figure(runs: list, path: Path) -> Path | None:
    tables = [run.throughput for run in runs]
    qualities = sorted({q for t in tables if not t.empty for q in t["quality"]})
    if not qualities:
        return None
    fig, axes = _panels(len(qualities))
    sizes = sorted({s for t in tables if not t.empty for s in t["size"]}, key=size_key)
    for ax, quality in zip(axes[0], qualities, strict=True):
        for i, table in enumerate(tables):
            if not table.empty:
                rows = table[(table["operation"] == "decode") & (table["quality"] == quality)]
                _lines(ax, rows, "size", _style(runs, i), xkey=sizes.index)
        # one place per size (or size bin of native photos), smallest first
        ax.set_xticks(range(len(sizes)))
        ax.set_xticklabels(sizes, fontsize=8)
        ax.set_title(f"decode by image size, q{quality}")
        ax.set_xlabel("image size" if all("x" in s for s in sizes) else "native photos by size")
        ax.grid(alpha=0.3)
    _speed_label(axes)
    return _finish(fig, axes, runs, path, "the photos")


def rate_distortion_figure(runs: list, path: Path) -> Path | None:
    """SSIM against bits per pixel, median over the photos, one panel per size."""
    rd = [run for run in runs if not run.rd.empty]
    if not rd:
        return None
    sizes = sorted({s for run in rd for s in run.rd["size"]}, key=size_key)
    fig, axes = _panels(len(sizes))
    for ax, size in zip(axes[0], sizes, strict=True):
        for i, run in enumerate(rd):
            rows = run.rd[run.rd["size"] == size]
            curve = rows.groupby(["contender", "quality"])[["bits_per_pixel", "ssim"]].median()
            for contender in sorted(rows["contender"].unique(), key=_order):
                points = curve.loc[contender].sort_index()
                ax.plot(points["bits_per_pixel"], points["ssim"], marker="o", ms=3.5,
                        color=figures.color(contender), ls=LINESTYLES[i % len(LINESTYLES)],
                        label=contender if i == 0 else None)  # fmt: skip
        ax.set_title(f"bytes against SSIM, {size}")
        ax.set_xlabel("bits per pixel (lower is smaller)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("SSIM against the original (higher is better)")
    return _finish(fig, axes, rd, path, "", "median over the photos at each encoder quality",
                   "every encoding decoded by our turbojpeg")  # fmt: skip
