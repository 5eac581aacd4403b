"""Figures for a micro run: throughput by image size, and fixed cost per call.

    python -m benchmarks.micro.plots results/micro/benchmark.json

Medians with p25-p75 bars, one line per contender, the machine on the figure.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from .summary import load

# Ours first and bold; the peers in a fixed colour each so figures compare.
STYLE = {
    "turbojpeg": {"color": "#d62728", "lw": 2.6, "zorder": 5},
    "turbojpeg-fast_dct+fast_upsample": {"color": "#ff9896", "lw": 1.6, "ls": "--"},
    "tjbench": {"color": "black", "lw": 1.4, "ls": ":"},
    "pyturbojpeg": {"color": "#1f77b4", "lw": 1.6},
    "simplejpeg": {"color": "#2ca02c", "lw": 1.6},
    "opencv": {"color": "#9467bd", "lw": 1.6},
    "pillow": {"color": "#8c564b", "lw": 1.6},
}


def _throughput(frame: pd.DataFrame, operation: str) -> pd.DataFrame:
    rows = frame[
        frame["group"].str.startswith(f"{operation}-") | (frame["group"] == f"tjbench-{operation}")
    ].copy()
    rows = rows[rows["contender"].isin(STYLE) & rows["megapixels"].notna()]
    rows["mps"] = rows["megapixels"] / rows["median"]
    # Quartiles of time become the opposite quartiles of throughput.
    rows["mps_lo"] = rows["megapixels"] / rows["q3"].fillna(rows["median"])
    rows["mps_hi"] = rows["megapixels"] / rows["q1"].fillna(rows["median"])
    return rows.sort_values("megapixels")


def _footer(fig, machine: dict) -> None:
    cpu = machine.get("cpu_model") or machine.get("cpu", {}).get("brand_raw") or "unknown CPU"
    lib = machine.get("codec_versions", {}).get("turbojpeg_libjpeg_turbo", "?")
    fig.text(
        0.01,
        0.01,
        f"{cpu} · libjpeg-turbo {lib} · single-threaded · q95 4:2:0 BGR · median with p25-p75",
        fontsize=7,
        color="0.35",
    )


def throughput_figure(frame: pd.DataFrame, machine: dict, path: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=False)
    for ax, operation in zip(axes, ("decode", "encode"), strict=True):
        data = _throughput(frame, operation)
        for contender, rows in data.groupby("contender", sort=False):
            ax.errorbar(
                rows["megapixels"],
                rows["mps"],
                yerr=[rows["mps"] - rows["mps_lo"], rows["mps_hi"] - rows["mps"]],
                marker="o",
                ms=4,
                capsize=3,
                label=contender,
                **STYLE[contender],
            )
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(sorted(data["megapixels"].unique()))
        ax.set_xticklabels(sorted(data["size"].unique(), key=lambda s: int(s.split("x")[0])))
        ax.set_xlabel("image size")
        ax.set_ylabel("megapixels per second (higher is faster)")
        ax.set_title(f"JPEG {operation}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right")
    _footer(fig, machine)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def fixed_cost_figure(frame: pd.DataFrame, machine: dict, path: Path) -> Path:
    rows = frame[frame["group"].str.startswith("fixed-cost-")].copy()
    rows["us"] = rows["median"] * 1e6
    rows["operation"] = rows["group"].str.removeprefix("fixed-cost-")
    table = rows.pivot_table(index="contender", columns="operation", values="us")
    table = table.sort_values(table.columns[0])
    fig, ax = plt.subplots(figsize=(7, 3.6))
    table.plot.barh(ax=ax, color=["#1f77b4", "#ff7f0e"][: len(table.columns)])
    ax.set_xlabel("microseconds per call on a 16x16 image (lower is better)")
    ax.set_ylabel("")
    ax.set_title("Fixed cost per call")
    ax.grid(axis="x", alpha=0.3)
    _footer(fig, machine)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def make_figures(json_path: Path, out_dir: Path) -> list[Path]:
    frame, machine = load(json_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        throughput_figure(frame, machine, out_dir / "throughput.png"),
        fixed_cost_figure(frame, machine, out_dir / "fixed_cost.png"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="folder (default: beside the JSON)")
    args = parser.parse_args(argv)
    for path in make_figures(args.json, args.out or args.json.parent):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
