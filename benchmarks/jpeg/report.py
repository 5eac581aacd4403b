"""Results -> pandas tables -> matplotlib figures -> one Markdown report.

    python -m benchmarks report DIR [DIR ...]

One folder gives its report (``DIR/report.md``). Several folders (two machines,
two builds) are compared side by side: tables get a column per run, figures a
line style per run, and the report goes to the first folder as
``report-compare.md`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from benchmarks import figures, results

# The 2018 study this suite follows: space savings (%) at q80, q95, q99.
STUDY_SAVINGS = {80: (94.1, 2.8), 95: (87.2, 5.4), 99: (77.6, 8.4)}
OURS = "turbojpeg"
BASELINE_9 = "jpeglib-9e"
TURBO_SAME_WRAPPER = "jpeglib-turbo210"
OLD_TURBO = "turbojpeg-system-2.x"
# Our channel's OpenCV on libjpeg-turbo and on IJG libjpeg 9f: the study's
# opencv_with_turbo and opencv_without_turbo, one recipe, one variant key apart.
OPENCV_TURBO, OPENCV_IJG, OPENCV_WHEEL = "opencv-turbo", "opencv-ijg", "opencv-wheel"
JPEGLI = "jpegli"
LINESTYLES = ("-", "--", ":", "-.")


@dataclass
class Run:
    name: str
    folder: Path
    rounds: pd.DataFrame  # one row per timed call
    quality: pd.DataFrame  # one row per roundtrip check
    provenance: dict
    rd: pd.DataFrame = field(default_factory=pd.DataFrame)  # bytes and SSIM per encoder quality


def load(folder: str | Path) -> Run:
    folder = Path(folder)
    missing = [f for f in ("rounds.csv", "provenance.json") if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} is not a results folder: missing {', '.join(missing)}")
    rounds = results.read_rows(folder / "rounds.csv")
    if not rounds.empty:
        rounds["mps"] = rounds["megapixels"] / rounds["seconds"]
    quality = results.read_rows(folder / "quality.csv")
    provenance = json.loads((folder / "provenance.json").read_text())
    rd = results.read_rows(folder / "rate_distortion.csv")
    return Run(folder.resolve().name, folder, rounds, quality, provenance, rd)


def _size_key(size: str) -> int:
    width, _, height = size.partition("x")
    return int(width) * int(height)


# -- tables ---------------------------------------------------------------------


def throughput(run: Run) -> pd.DataFrame:
    """Median and p25/p75 of megapixels per second, per contender, operation, size, quality."""
    if run.rounds.empty:
        return pd.DataFrame()
    grouped = run.rounds.groupby(["contender", "operation", "size", "quality"])["mps"]
    return grouped.agg(
        p25=lambda s: s.quantile(0.25), median="median", p75=lambda s: s.quantile(0.75)
    ).reset_index()


def cell_medians(run: Run) -> pd.DataFrame:
    """Median seconds per (photo, size, quality, contender, operation)."""
    keys = ["photo", "size", "quality", "contender", "operation"]
    return run.rounds.groupby(keys)["seconds"].median().reset_index()


def speed_ratio(run: Run, slow: str, fast: str, operation: str) -> pd.Series:
    """Per cell, slow's median time over fast's: how many times faster ``fast`` is."""
    medians = cell_medians(run)
    medians = medians[medians["operation"] == operation]
    wide = medians.pivot_table(
        index=["photo", "size", "quality"], columns="contender", values="seconds"
    )
    if slow not in wide or fast not in wide:
        return pd.Series(dtype=float)
    return (wide[slow] / wide[fast]).dropna()


def space_savings(run: Run) -> pd.DataFrame:
    """Mean and sd of 1 - jpeg/raw (%), by size and quality, from our encoder."""
    q = run.quality
    if q.empty:
        return pd.DataFrame()
    ours = q[(q["contender"] == OURS) & q["jpeg_bytes"].notna()].copy()
    ours["savings"] = 100 * (1 - ours["jpeg_bytes"] / ours["raw_bytes"])
    table = ours.groupby(["size", "quality"])["savings"].agg(["mean", "std", "count"]).reset_index()
    return table.sort_values(
        ["size", "quality"], key=lambda c: c.map(_size_key) if c.name == "size" else c
    )


def equal_ssim_bytes(run: Run, contender: str, reference: str = OURS) -> pd.DataFrame:
    """Per photo, size and reference quality: the contender's bytes at the SSIM the
    reference reaches there, interpolated on its own curve (log bytes, linear in SSIM),
    over the reference's bytes. NaN where the contender's curve does not reach."""
    rd = run.rd
    if rd.empty or contender not in set(rd["contender"]) or reference not in set(rd["contender"]):
        return pd.DataFrame()
    rows = []
    for (photo, size), group in rd.groupby(["photo", "size"]):
        ref = group[group["contender"] == reference].sort_values("quality")
        other = group[group["contender"] == contender].sort_values("ssim")
        for quality, ssim, size_bytes in zip(ref["quality"], ref["ssim"], ref["jpeg_bytes"],
                                             strict=True):  # fmt: skip
            inside = other["ssim"].min() <= ssim <= other["ssim"].max()
            matched = (float(np.exp(np.interp(ssim, other["ssim"], np.log(other["jpeg_bytes"]))))
                       if inside else np.nan)  # fmt: skip
            rows.append({"photo": photo, "size": size, "quality": quality, "ssim": ssim,
                         "reference_bytes": size_bytes, "bytes": matched,
                         "ratio": matched / size_bytes})  # fmt: skip
    return pd.DataFrame(rows)


def _fmt_ratio(values: pd.Series, unit: str = "x") -> str:
    if values.empty:
        return "not measured"
    return (
        f"{values.median():.2f}{unit} (range {values.min():.2f}-{values.max():.2f}, "
        f"{len(values)} cells)"
    )


def claims(run: Run) -> list[tuple[str, str, str]]:
    """(claim, the study's figure, today's measured figure)."""
    same_opencv = f"same OpenCV, our two builds ({OPENCV_TURBO} vs {OPENCV_IJG})"
    rows = [
        (
            f"libjpeg-turbo vs IJG libjpeg 9, {op}, {same_opencv}",
            "3-7x faster" if op == "encode" else "(not stated)",
            _fmt_ratio(speed_ratio(run, OPENCV_IJG, OPENCV_TURBO, op)),
        )
        for op in ("encode", "decode")
    ]
    rows += [
        (f"our OpenCV vs the pip wheel's, {op} ({OPENCV_TURBO} vs {OPENCV_WHEEL})", "-",
         _fmt_ratio(speed_ratio(run, OPENCV_WHEEL, OPENCV_TURBO, op)))
        for op in ("encode", "decode")
    ]  # fmt: skip
    same_wrapper = f"second witness, jpeglib ({TURBO_SAME_WRAPPER} vs {BASELINE_9})"
    rows += [
        (
            f"libjpeg-turbo vs IJG libjpeg 9, encode, {same_wrapper}",
            "3-7x faster",
            _fmt_ratio(speed_ratio(run, BASELINE_9, TURBO_SAME_WRAPPER, "encode")),
        ),
        (
            f"libjpeg-turbo vs IJG libjpeg 9, decode, {same_wrapper}",
            "(not stated)",
            _fmt_ratio(speed_ratio(run, BASELINE_9, TURBO_SAME_WRAPPER, "decode")),
        ),
    ]
    rows += [
        (
            f"our turbojpeg vs IJG libjpeg 9 ({BASELINE_9}), {op}",
            "-",
            _fmt_ratio(speed_ratio(run, BASELINE_9, OURS, op)),
        )
        for op in ("encode", "decode")
    ]
    rows += [
        (
            f"the ctypes wrapper vs OpenCV ({OPENCV_TURBO}, the same turbo), {op}",
            "much faster",
            _fmt_ratio(speed_ratio(run, OPENCV_TURBO, OURS, op)),
        )
        for op in ("decode", "encode")
    ]
    rows += [
        (
            f"fast mode {v.removeprefix('turbojpeg-')} vs the default, decode",
            "faster",
            _fmt_ratio(speed_ratio(run, OURS, v, "decode")),
        )
        for v in (
            "turbojpeg-fast_dct",
            "turbojpeg-fast_upsample",
            "turbojpeg-fast_dct+fast_upsample",
        )
    ]
    old = run.provenance.get("contenders", {}).get(OLD_TURBO, {}).get("libjpeg_turbo", "2.x")
    ours = run.provenance.get("contenders", {}).get(OURS, {}).get("libjpeg_turbo", "3.x")
    rows += [
        (
            f"new turbo ({ours}) vs old ({old}), same wrapper, {op}",
            "beta vs stable",
            _fmt_ratio(speed_ratio(run, OLD_TURBO, OURS, op)),
        )
        for op in ("decode", "encode")
    ]
    at_equal = equal_ssim_bytes(run, JPEGLI)
    for quality in (80, 95):
        ratios = at_equal[at_equal["quality"] == quality]["ratio"].dropna() if len(at_equal) else []
        rows.append((
            f"jpegli's bytes at the SSIM of our turbojpeg at q{quality} (ratio of bytes)",
            "-",
            _fmt_ratio(pd.Series(ratios, dtype=float), unit=""),
        ))  # fmt: skip
    rows.append(
        (
            "larger images decode faster per pixel (ours, MP/s 1920x1080 / 480x270)",
            "yes",
            _per_pixel_gain(run),
        )
    )
    return rows


def _per_pixel_gain(run: Run) -> str:
    table = throughput(run)
    if table.empty:
        return "not measured"
    ours = table[(table["contender"] == OURS) & (table["operation"] == "decode")]
    sizes = sorted(ours["size"].unique(), key=_size_key)
    if len(sizes) < 2:
        return "not measured (one size only)"
    small, large = sizes[0], sizes[-1]
    by = ours.set_index(["size", "quality"])["median"]
    gains = [
        by[(large, q)] / by[(small, q)]
        for q in sorted(ours["quality"].unique())
        if (large, q) in by and (small, q) in by
    ]
    text = ", ".join(f"{g:.2f}x" for g in gains)
    verdict = "yes" if all(g > 1 for g in gains) else "no"
    return f"{verdict}: {large} vs {small}: {text} (per quality)"


def markdown(frame: pd.DataFrame, floatfmt: str = ".1f") -> str:
    if frame.empty:
        return "_no data_\n"
    return frame.to_markdown(index=False, floatfmt=floatfmt) + "\n"


# -- figures --------------------------------------------------------------------


def _finish(fig, axes, runs: list[Run], path: Path) -> Path:
    """The shared legend on the right, the runs' footer, saved."""
    axes[0][0].set_ylabel("megapixels per second (higher is faster)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    parts = []
    for i, run in enumerate(runs):
        p = run.provenance
        style = f" [{LINESTYLES[i % len(LINESTYLES)]}]" if len(runs) > 1 else ""
        details = [
            *figures.system_details(p),
            f"{p.get('threads')} thread(s)",
            f"seed {p.get('seed')}",
        ]
        parts.append(f"{run.name}{style}: {', '.join(details)}")
    figures.footer(fig, *parts, "median with p25-p75")
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
        low, high = rows["p25"], rows["p75"]
        figures.median_line(ax, xs, rows["median"], low, high, contender, **style)


def by_quality_figure(runs: list[Run], operation: str, path: Path) -> Path | None:
    tables = [(run, throughput(run)) for run in runs]
    sizes = sorted({s for _, t in tables if not t.empty for s in t["size"].unique()}, key=_size_key)
    if not sizes:
        return None
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.4 * len(sizes), 4.2), squeeze=False)
    for ax, size in zip(axes[0], sizes, strict=True):
        for i, (_run, table) in enumerate(tables):
            if table.empty:
                continue
            rows = table[(table["operation"] == operation) & (table["size"] == size)]
            _lines(ax, rows, "quality", LINESTYLES[i % len(LINESTYLES)] if len(runs) > 1 else None)
        ax.set_title(f"{operation}, {size}")
        ax.set_xlabel("JPEG quality")
        ax.set_xticks(sorted({q for _, t in tables if not t.empty for q in t["quality"].unique()}))
        ax.grid(alpha=0.3)
    return _finish(fig, axes, runs, path)


def rate_distortion_figure(runs: list[Run], path: Path) -> Path | None:
    """SSIM against bits per pixel, median over the photos, one panel per size."""
    rd = [(run, run.rd) for run in runs if not run.rd.empty]
    if not rd:
        return None
    sizes = sorted({s for _, t in rd for s in t["size"].unique()}, key=_size_key)
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.4 * len(sizes), 4.2), squeeze=False)
    for ax, size in zip(axes[0], sizes, strict=True):
        for i, (_run, table) in enumerate(rd):
            rows = table[table["size"] == size]
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
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    parts = [f"{run.name}: {', '.join(figures.system_details(run.provenance))}" for run, _ in rd]
    figures.footer(fig, *parts, "median over the photos at each encoder quality",
                   "every encoding decoded by our turbojpeg")  # fmt: skip
    return figures.save(fig, path, right=0.84)


def by_size_figure(runs: list[Run], path: Path) -> Path | None:
    tables = [(run, throughput(run)) for run in runs]
    qualities = sorted({q for _, t in tables if not t.empty for q in t["quality"].unique()})
    if not qualities:
        return None
    fig, axes = plt.subplots(1, len(qualities), figsize=(4.4 * len(qualities), 4.2), squeeze=False)
    all_sizes = sorted(
        {s for _, t in tables if not t.empty for s in t["size"].unique()}, key=_size_key
    )
    for ax, quality in zip(axes[0], qualities, strict=True):
        for i, (_run, table) in enumerate(tables):
            if table.empty:
                continue
            rows = table[(table["operation"] == "decode") & (table["quality"] == quality)]
            _lines(
                ax,
                rows,
                "size",
                LINESTYLES[i % len(LINESTYLES)] if len(runs) > 1 else None,
                xkey=lambda s: _size_key(s) / 1e6,
            )
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks([_size_key(s) / 1e6 for s in all_sizes])
        ax.set_xticklabels(all_sizes)
        ax.set_title(f"decode by image size, q{quality}")
        ax.set_xlabel("image size")
        ax.grid(alpha=0.3)
    return _finish(fig, axes, runs, path)


# -- the report -----------------------------------------------------------------


def _savings_section(runs: list[Run]) -> str:
    out = [
        "## Space savings\n",
        (
            "1 - JPEG size / raw BGR size, our encoder (accurate DCT, 4:2:0), mean ± sd over "
            "the photos. The study's figures are for its 23 photos.\n"
        ),
    ]
    for run in runs:
        table = space_savings(run)
        if table.empty:
            out.append(f"_{run.name}: no quality check in this run_\n")
            continue
        wide = table.assign(
            cell=[
                f"{m:.1f} ± {0 if pd.isna(s) else s:.1f}"
                for m, s in zip(table["mean"], table["std"], strict=True)
            ]
        )
        wide = wide.pivot_table(index="size", columns="quality", values="cell", aggfunc="first")
        wide = wide.loc[sorted(wide.index, key=_size_key)]
        wide.columns = [f"q{q} (%)" for q in wide.columns]
        wide.loc["study (2018)"] = [
            f"{m} ± {s}"
            for m, s in (STUDY_SAVINGS.get(int(c[1:3]), ("-", "-")) for c in wide.columns)
        ]
        if len(runs) > 1:
            out.append(f"**{run.name}**\n")
        out.append(
            wide.reset_index().rename(columns={"size": "size"}).to_markdown(index=False) + "\n"
        )
    return "\n".join(out)


def _equal_ssim_section(runs: list[Run]) -> str:
    out = [
        "## Bytes at equal SSIM\n",
        (
            f"Each encoder over qualities {', '.join(map(str, runs[0].provenance.get('rd_qualities', [])))}, "
            "every encoding decoded by our turbojpeg and compared with the original (SSIM). "
            f"For each photo and size, {JPEGLI}'s bytes are read off its own curve at the SSIM "
            f"our turbojpeg reaches at q80 and q95; below 1.0, {JPEGLI} is smaller for the "
            "same quality. Medians over the photos, p25-p75 in brackets.\n"
        ),
    ]
    for run in runs:
        table = equal_ssim_bytes(run, JPEGLI)
        if table.empty:
            out.append(f"_{run.name}: {JPEGLI} or {OURS} not measured_\n")
            continue
        summary = table.dropna().groupby(["size", "quality"])["ratio"].agg(
            median="median", p25=lambda v: v.quantile(0.25), p75=lambda v: v.quantile(0.75),
            photos="count").reset_index()  # fmt: skip
        summary = summary.sort_values(["size", "quality"],
                                      key=lambda c: c.map(_size_key) if c.name == "size" else c)  # fmt: skip
        summary["jpegli bytes / turbojpeg bytes"] = [
            f"{m:.3f} ({a:.3f}-{b:.3f})"
            for m, a, b in zip(summary["median"], summary["p25"], summary["p75"], strict=True)
        ]
        if len(runs) > 1:
            out.append(f"**{run.name}**\n")
        out.append(
            markdown(summary[["size", "quality", "jpegli bytes / turbojpeg bytes", "photos"]])
        )
    return "\n".join(out)


def _photos_section(runs: list[Run]) -> str:
    """Where each photo came from, and at which sizes it had to be enlarged."""
    images = runs[0].provenance.get("images", [])
    if not images:
        return ""
    by_photo: dict[str, dict] = {}
    for i in images:
        entry = by_photo.setdefault(i["photo"], {"photo": i["photo"], "source": i["source"]})
        entry[i["size"]] = (
            "upscaled" if "upscaled" in i.get("resample", "") else "native or smaller"
        )
    table = pd.DataFrame(list(by_photo.values()))
    return (
        "## The photos\n\nCut to 16:9 around the centre, then resized to each size.\n\n"
        + markdown(table)
    )


def _quality_section(runs: list[Run]) -> str:
    out = ["## Quality check\n"]
    for run in runs:
        q = run.quality
        thresholds = run.provenance.get("quality_thresholds", {})
        if q.empty:
            out.append(f"_{run.name}: not run_\n")
            continue
        flagged = q[q["flagged"].astype(bool)]
        summary = (
            q.groupby("contender")
            .agg(min_ssim=("ssim", "min"), min_psnr=("psnr", "min"), flagged=("flagged", "sum"))
            .reset_index()
        )
        prefix = f"**{run.name}**: " if len(runs) > 1 else ""
        out.append(
            f"{prefix}each contender's own roundtrip against the original. Flagged below "
            f"SSIM {thresholds.get('min_ssim')} or PSNR {thresholds.get('min_psnr')} dB.\n"
        )
        out.append(markdown(summary, ".3f"))
        if flagged.empty:
            out.append("No cell was flagged.\n")
        else:
            out.append(f"**{len(flagged)} flagged cells:**\n")
            out.append(
                markdown(
                    flagged[["contender", "photo", "size", "quality", "ssim", "psnr", "problem"]],
                    ".3f",
                )
            )
    return "\n".join(out)


def _claims_section(runs: list[Run]) -> str:
    header = ["claim", "study (2018)", *[f"measured: {r.name}" for r in runs]]
    per_run = [claims(r) for r in runs]
    rows = [[c, s, *[pr[i][2] for pr in per_run]] for i, (c, s, _) in enumerate(per_run[0])]
    return (
        "## The study's claims, measured today\n\n"
        "Ratios of median times per cell (photo x size x quality), then the median over "
        "cells; >1 means the second-named is faster.\n\n"
        + pd.DataFrame(rows, columns=header).to_markdown(index=False)
        + "\n"
    )


def _speed_section(runs: list[Run]) -> str:
    out = ["## Speed (median megapixels per second)\n"]
    for run in runs:
        table = throughput(run)
        if table.empty:
            out.append(f"_{run.name}: no timings_\n")
            continue
        for operation in ("decode", "encode"):
            rows = table[table["operation"] == operation]
            wide = rows.pivot_table(index="contender", columns=["size", "quality"], values="median")
            wide = wide[sorted(wide.columns, key=lambda c: (_size_key(c[0]), c[1]))]
            wide = wide.sort_values(wide.columns[-1], ascending=False)
            wide.columns = [f"{s} q{q}" for s, q in wide.columns]
            title = f"{operation}" + (f" ({run.name})" if len(runs) > 1 else "")
            out.append(f"**{title}**\n")
            out.append(wide.reset_index().to_markdown(index=False, floatfmt=".0f") + "\n")
    return "\n".join(out)


def _provenance_section(runs: list[Run]) -> str:
    out = ["## Provenance\n"]
    for run in runs:
        p = run.provenance
        out.append(f"**{run.name}** (`{run.folder}`)\n")
        commit = p.get("commit_info", {})
        lines = [
            f"- command: `{p.get('command')}`",
            (
                f"- seed {p.get('seed')}, {p.get('rounds')} rounds per cell after {p.get('warmup')} "
                "warm-up call(s), all rounds in one shuffled order"
            ),
            (
                f"- CPU: {p.get('cpu')} ({p.get('cpu_count')} cores), {p.get('threads')} thread(s) "
                f"{p.get('thread_env')}"
            ),
            *[
                f"- environment {role}: {e['prefix']}: "
                + ", ".join(f"{n} {v['version']} {v['build']}" for n, v in e["packages"].items())
                if "prefix" in e
                else f"- environment {role}: {e.get('unavailable')}"
                for role, e in p.get("environments", {}).items()
            ],
            (
                f"- commit: {str(commit.get('id', '?'))[:12]}{' (dirty)' if commit.get('dirty') else ''},"
                f" finished {p.get('finished')}"
            ),
        ]
        if p.get("interrupted"):
            lines.append(
                "- **interrupted with Ctrl-C: the tables hold the rounds measured so far**"
            )
        upscaled = sorted(
            {
                f"{i['photo']} at {i['size']}"
                for i in p.get("images", [])
                if "upscaled" in i.get("resample", "")
            }
        )
        if upscaled:
            lines.append(
                f"- upscaled (INTER_CUBIC, the photo is smaller than the size): "
                f"{', '.join(upscaled)}"
            )
        lines += [
            f"- {name}: {c['library']} — {c['adapter']}"
            for name, c in p.get("contenders", {}).items()
        ]
        lines += [f"- **skipped {name}**: {why}" for name, why in p.get("skipped", {}).items()]
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def write(folders: list[str | Path], out: Path | None = None) -> Path:
    runs = [load(f) for f in folders]
    target = out or (runs[0].folder / ("report.md" if len(runs) == 1 else "report-compare.md"))
    figures_dir = target.parent
    stem = "" if len(runs) == 1 else "compare-"
    figures = [
        by_quality_figure(runs, "encode", figures_dir / f"{stem}encode_by_quality.png"),
        by_quality_figure(runs, "decode", figures_dir / f"{stem}decode_by_quality.png"),
        by_size_figure(runs, figures_dir / f"{stem}decode_by_size.png"),
        rate_distortion_figure(runs, figures_dir / f"{stem}bytes_at_equal_ssim.png"),
    ]
    title = "JPEG roundtrip" + ("" if len(runs) == 1 else ": " + " vs ".join(r.name for r in runs))
    parts = [
        f"# {title}\n",
        *filter(None, (results.mode_line(r.provenance) for r in runs)),
        _claims_section(runs),
        _savings_section(runs),
        _equal_ssim_section(runs),
        "## Figures\n\n" + "".join(f"![{p.stem}]({p.name})\n\n" for p in figures if p),
        _speed_section(runs),
        _quality_section(runs),
        _photos_section(runs),
        _provenance_section(runs),
    ]
    target.write_text("\n".join(parts), encoding="utf-8")
    return target
