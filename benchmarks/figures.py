"""What every report's figures share: one palette, the system footer, and the save step.

fig, ax = plt.subplots()
ax.plot(xs, ys, color=figures.color("turbojpeg"))
figures.footer(fig, *figures.system_details(provenance), "median with bootstrap 95% interval")
figures.save(fig, folder / "speed.png")
"""

from __future__ import annotations

import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

DPI = 110
FOOTER = "footer"  # the gid of the footer's text, which save() keeps room for
FOOTER_POINTS = 7

# One colour per contender or reader name, the same in every figure. Readers and
# JPEG contenders never share a figure: ours is red in both, each suite's reference black.
PALETTE = {
    # JPEG contenders (benchmarks/jpeg/contenders.py) and tjbench (benchmarks/micro)
    "turbojpeg": "#d62728",
    "turbojpeg-fast_dct": "#ff7f0e",
    "turbojpeg-fast_upsample": "#e377c2",
    "turbojpeg-fast_dct+fast_upsample": "#ff9896",
    "turbojpeg-system-2.x": "#17becf",
    "pyturbojpeg": "#1f77b4",
    "simplejpeg": "#2ca02c",
    "opencv-wheel": "#9467bd",
    "opencv-turbo": "#54278f",
    "opencv-ijg": "#bcbddc",
    "pillow": "#8c564b",
    "jpegli": "#e7ba52",
    "jpeglib-9e": "#7f7f7f",
    "jpeglib-turbo210": "#bcbd22",
    "turbojpeg-decode_many": "#8b0000",
    "turbojpeg-progressive": "#a50f15",
    "torchvision": "#e6550d",
    "torchcodec-jpeg": "#fdae6b",
    "tjbench": "black",
    # video readers (benchmarks/video/readers.py); opencv-wheel is above
    "opencv-frame": "#54278f",
    "opencv-slice": "#807dba",
    "opencv-1thread": "#bcbddc",
    "torchcodec-approximate": "#fdae6b",
    "video-reader-rs": "#8c564b",
    "indexed": "#d62728",
    "indexed-1-decoder": "#ff9896",  # ours with one decoder (run by name only): a lighter red
    "indexed-1-decoder-pyav-wheel": "#c49c94",
    "pyav-naive": "#1f77b4",
    "decord": "#2ca02c",
    "torchcodec": "#ff7f0e",
    "exploded-jpeg": "black",
}
# For names the palette does not know (a new adapter, a test's): picked by a checksum
# of the name, so a name keeps its colour from run to run.
SPARE_COLORS = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#31a354")


def color(name: str) -> str:
    """The colour of a contender or reader, stable across figures and runs."""
    if name in PALETTE:
        return PALETTE[name]
    return SPARE_COLORS[zlib.crc32(name.encode()) % len(SPARE_COLORS)]


def median_line(ax, x, median, low, high, name: str, **style) -> None:
    """``name``'s medians joined by a line in its colour, with bars from ``low`` to ``high``
    (each median's interval); ``style`` goes to matplotlib (ls, lw, ms, label, ...)."""
    bars = [median - low, high - median]
    ax.errorbar(x, median, yerr=bars, marker="o", color=color(name), **style)


def system_details(provenance: dict) -> list[str]:
    """CPU, commit and date of a run, from its provenance record."""
    commit = provenance.get("commit_info") or {}
    revision = str(commit.get("id") or "?")[:12] + (" (dirty)" if commit.get("dirty") else "")
    return [
        str(provenance.get("cpu") or "unknown CPU"),
        f"commit {revision}",
        str(provenance.get("finished") or "?")[:10],
    ]


def footer(fig, *parts: str) -> None:
    """Grey text along the bottom of ``fig``: ``parts`` joined by dots, in as many lines
    as the figure's width needs."""
    width = int(fig.get_figwidth() * 72 / (0.6 * FOOTER_POINTS))  # characters that fit
    lines = [parts[0] if parts else ""]
    for part in parts[1:]:
        if len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += f" · {part}"
        else:
            lines.append(part)
    fig.text(0.01, 0.005, "\n".join(lines), fontsize=FOOTER_POINTS, color="0.35", gid=FOOTER)


def save(fig, path: Path, right: float = 1.0) -> Path:
    """Lay out (keeping the footer's lines, and ``right`` of the width for the plots), save, close."""
    lines = sum(t.get_text().count("\n") + 1 for t in fig.texts if t.get_gid() == FOOTER)
    footer_inches = 0.03 + lines * 1.2 * FOOTER_POINTS / 72
    fig.tight_layout(rect=(0, footer_inches / fig.get_figheight(), right, 1))
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
