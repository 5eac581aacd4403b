"""Results -> pandas tables -> matplotlib figures -> one Markdown report.

    python -m benchmarks report DIR [DIR ...]

One folder gives its report (``DIR/report.md``). Several folders (two machines,
two builds) are compared side by side: tables get a column per run, figures a
line style per run, and the report goes to the first folder as
``report-compare.md`` unless ``--out`` says otherwise. The numbers are in
``tables``, the figures in ``plots``; what every report shares in ``report_kit``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from benchmarks import datasets, results
from benchmarks import report_kit as kit
from benchmarks.jpeg import plots, tables
from benchmarks.jpeg.tables import JPEGLI, OURS, OURS_PROGRESSIVE, STUDY_SAVINGS, size_key


@dataclass
class Run:
    name: str
    folder: Path
    rounds: pd.DataFrame  # one row per timed call
    quality: pd.DataFrame  # one row per roundtrip check
    provenance: dict
    rd: pd.DataFrame = field(default_factory=pd.DataFrame)  # bytes and SSIM per encoder quality

    @cached_property
    def throughput(self) -> pd.DataFrame:
        return tables.throughput(self.rounds)


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


def _by_size(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["size", "quality"],
                             key=lambda c: c.map(size_key) if c.name == "size" else c)  # fmt: skip


def _claims_section(runs: list[Run]) -> str:
    per_run = [tables.claims(r.rounds, r.rd, r.provenance) for r in runs]
    rows = []
    for i, (claim, study, *_) in enumerate(per_run[0]):
        row = {"claim": claim.label, "study (2018)": study}
        for run, measured in zip(runs, per_run, strict=True):
            suffix = f": {run.name}"
            row |= claim.judged(measured[i][2], suffix) | {f"cells (range){suffix}": measured[i][3]}
        rows.append(row)
    return (
        "## The study's claims, measured today\n\n"
        "Each ratio is the median over cells (photo x size x quality) of the cell's ratio of "
        "median times, with its bootstrap 95% interval from resampling within every cell; >1 "
        "means the second-named is faster. The study's words are read as targets: 3-7x "
        f"faster as >= {tables.STUDY_WORDS['3-7x faster']:g}, much faster as >= "
        f"{tables.STUDY_WORDS['much faster']:g}, anything else as faster at all (>= 1; bytes: "
        "<= 1). A verdict is met when the whole interval is past the target, missed when "
        "the whole of it falls short, and within noise when it straddles the target. The "
        "last column gives the cells and the range of their own ratios (photo variety).\n\n"
        + pd.DataFrame(rows).to_markdown(index=False) + "\n"
    )  # fmt: skip


def _savings_section(runs: list[Run]) -> str:
    out = ["## Space savings\n",
           ("1 - JPEG size / raw BGR size, our encoder (accurate DCT, 4:2:0), mean ± sd over "
           "the photos. The study's figures are for its 23 photos.\n")]  # fmt: skip
    for run in runs:
        table = tables.space_savings(run.quality)
        if table.empty:
            out.append(f"_{run.name}: no quality check in this run_\n")
            continue
        cells = [f"{m:.1f} ± {0 if pd.isna(s) else s:.1f}"
                 for m, s in zip(table["mean"], table["std"], strict=True)]  # fmt: skip
        wide = table.assign(cell=cells).pivot_table(index="size", columns="quality",
                                                    values="cell", aggfunc="first")  # fmt: skip
        wide = wide.loc[sorted(wide.index, key=size_key)]
        wide.columns = [f"q{q} (%)" for q in wide.columns]
        study = (STUDY_SAVINGS.get(int(c[1:3]), ("-", "-")) for c in wide.columns)
        wide.loc["study (2018)"] = [f"{m} ± {s}" for m, s in study]
        if len(runs) > 1:
            out.append(f"**{run.name}**\n")
        out.append(wide.reset_index().to_markdown(index=False) + "\n")
    return "\n".join(out)


def _equal_ssim_section(runs: list[Run]) -> str:
    qualities = ", ".join(map(str, runs[0].provenance.get("rd_qualities", [])))
    out = ["## Bytes at equal SSIM\n",
           (f"Each encoder over qualities {qualities}, every encoding decoded by our turbojpeg "
           "and compared with the original (SSIM). For each photo and size, an encoder's "
           "bytes are read off its own curve at the SSIM the reference reaches at each of "
           "the reference's qualities; below 1.0, the encoder is smaller for the same "
           f"quality. {JPEGLI} encodes progressive with optimized Huffman tables by default, "
           f"our turbojpeg baseline: `{JPEGLI} / {OURS_PROGRESSIVE}` compares them with the "
           "same coding options. Byte counts have no noise: medians over the photos, p25-p75 "
           "over the photos in brackets, and how many photos the encoder's curve reached.\n")]  # fmt: skip
    for run in runs:
        merged = None
        for encoder, reference in tables.EQUAL_SSIM:
            table = tables.equal_ssim_bytes(run.rd, encoder, reference)
            if table.empty:
                continue
            column = f"{encoder} / {reference}"
            summary = table.dropna().groupby(["size", "quality"])["ratio"].agg(
                median="median", p25=lambda v: v.quantile(0.25),
                p75=lambda v: v.quantile(0.75), photos="count").reset_index()  # fmt: skip
            summary[column] = [f"{r.median:.3f} ({r.p25:.3f}-{r.p75:.3f}), {r.photos}"
                               for r in summary.itertuples()]  # fmt: skip
            part = summary[["size", "quality", column]]
            merged = part if merged is None else merged.merge(part, how="outer")
        if merged is None:
            out.append(f"_{run.name}: {JPEGLI} or {OURS} not measured_\n")
            continue
        if len(runs) > 1:
            out.append(f"**{run.name}**\n")
        out.append(kit.markdown(_by_size(merged).fillna("-"), ".1f"))
    return "\n".join(out)


def _photos_section(runs: list[Run]) -> str:
    """Where each photo came from, and its size bin (native photos) or the sizes at
    which it had to be enlarged."""
    provenance = runs[0].provenance
    native = provenance.get("sizes") == datasets.NATIVE
    by_photo: dict[str, dict] = {}
    for i in provenance.get("images", []):
        entry = by_photo.setdefault(i["photo"], {"photo": i["photo"], "source": i["source"]})
        if native:
            entry["size bin"] = i["size"]
        else:
            entry[i["size"]] = (
                "upscaled" if "upscaled" in i.get("resample", "") else "native or smaller"
            )
    if not by_photo:
        return ""
    how = ("Each photo at its native size (no crop, no resampling); compared by size in "
           f"{datasets.SIZE_BINS} bins of about as many photos each, by pixel count."
           if native
           else "Cut to 16:9 around the centre, then resized to each size.")  # fmt: skip
    return f"## The photos\n\n{how}\n\n" + kit.markdown(pd.DataFrame(list(by_photo.values())))


def _quality_section(runs: list[Run]) -> str:
    out = ["## Quality check\n"]
    for run in runs:
        q, thresholds = run.quality, run.provenance.get("quality_thresholds", {})
        if q.empty:
            out.append(f"_{run.name}: not run_\n")
            continue
        flagged = q[q["flagged"].astype(bool)]
        summary = q.groupby("contender").agg(min_ssim=("ssim", "min"), min_psnr=("psnr", "min"),
                                             flagged=("flagged", "sum")).reset_index()  # fmt: skip
        prefix = f"**{run.name}**: " if len(runs) > 1 else ""
        out.append(f"{prefix}each contender's own roundtrip against the original. Flagged "
                   f"below SSIM {thresholds.get('min_ssim')} or PSNR "
                   f"{thresholds.get('min_psnr')} dB.\n")  # fmt: skip
        out.append(kit.markdown(summary, ".3f"))
        if flagged.empty:
            out.append("No cell was flagged.\n")
        else:
            out.append(f"**{len(flagged)} flagged cells:**\n")
            columns = ["contender", "photo", "size", "quality", "ssim", "psnr", "problem"]
            out.append(kit.markdown(flagged[columns], ".3f"))
    return "\n".join(out)


def _speed_section(runs: list[Run]) -> str:
    out = ["## Speed (median megapixels per second)\n",
           ("The median over the photos of each photo's median; the figures show their "
           "bootstrap 95% intervals.\n")]  # fmt: skip
    for run in runs:
        table = run.throughput
        if table.empty:
            out.append(f"_{run.name}: no timings_\n")
            continue
        for operation in ("decode", "encode"):
            rows = table[table["operation"] == operation]
            wide = rows.pivot_table(index="contender", columns=["size", "quality"], values="median")
            wide = wide[sorted(wide.columns, key=lambda c: (size_key(c[0]), c[1]))]
            wide = wide.sort_values(wide.columns[-1], ascending=False)
            wide.columns = [f"{s} q{q}" for s, q in wide.columns]
            out.append(f"**{operation}" + (f" ({run.name})" if len(runs) > 1 else "") + "**\n")
            out.append(wide.reset_index().to_markdown(index=False, floatfmt=".0f") + "\n")
    return "\n".join(out)


def _provenance_lines(run: Run) -> list[str]:
    p = run.provenance
    lines = [(f"- {p.get('rounds')} rounds per cell after {p.get('warmup')} warm-up call(s), "
              f"all rounds in one shuffled order; {p.get('threads')} thread(s) "
              f"{p.get('thread_env')}")]  # fmt: skip
    for role, e in p.get("environments", {}).items():
        if "prefix" in e:
            packages = ", ".join(
                f"{n} {v['version']} {v['build']}" for n, v in e["packages"].items()
            )
            lines.append(f"- environment {role}: {e['prefix']}: {packages}")
        else:
            lines.append(f"- environment {role}: {e.get('unavailable')}")
    upscaled = sorted({f"{i['photo']} at {i['size']}" for i in p.get("images", [])
                       if "upscaled" in i.get("resample", "")})  # fmt: skip
    if upscaled:
        lines.append("- upscaled (INTER_CUBIC, the photo is smaller than the size): "
                     + ", ".join(upscaled))  # fmt: skip
    lines += [f"- **skipped {name}**: {why}" for name, why in p.get("skipped", {}).items()]
    described = p.get("contenders", {}).items()
    libraries = {n: f"{c['library']} — {c['adapter']}; {_mapped(c)}" for n, c in described}
    return kit.provenance_lines(p, lines, libraries)


def _mapped(contender: dict) -> str:
    """The JPEG library files a contender's own process mapped, by name."""
    files = contender.get("mapped")
    if files is None:  # a run from before the suite recorded it, or no maps to read
        return "mapped: not recorded"
    return "its process mapped " + (", ".join(Path(f).name for f in files) or "no JPEG library")


def write(folders: list[str | Path], out: Path | None = None) -> Path:
    runs = [load(f) for f in folders]
    target = out or (runs[0].folder / ("report.md" if len(runs) == 1 else "report-compare.md"))
    folder, stem = target.parent, "" if len(runs) == 1 else "compare-"
    names = ("encode_by_quality", "decode_by_quality", "decode_by_size", "bytes_at_equal_ssim")
    paths = [folder / f"{stem}{name}.png" for name in names]
    pictures = [kit.drawn(path, picture) for path, picture in zip(paths, [
        plots.by_quality_figure(runs, "encode", paths[0]),
        plots.by_quality_figure(runs, "decode", paths[1]),
        plots.by_size_figure(runs, paths[2]),
        plots.rate_distortion_figure(runs, paths[3]),
    ], strict=True)]  # fmt: skip
    title = "JPEG roundtrip" + ("" if len(runs) == 1 else ": " + " vs ".join(r.name for r in runs))
    provenance = ["## Provenance\n"]
    for run in runs:
        provenance += [
            f"**{run.name}** (`{run.folder}`)\n",
            "\n".join(_provenance_lines(run)) + "\n",
        ]
    parts = [
        f"# {title}\n",
        *filter(None, (results.mode_line(r.provenance) for r in runs)),
        _claims_section(runs),
        _savings_section(runs),
        _equal_ssim_section(runs),
        "## Figures\n\n" + "".join(f"![{p.stem}]({p.name})\n\n" for p in pictures if p),
        _speed_section(runs),
        _quality_section(runs),
        _photos_section(runs),
        "\n".join(provenance),
    ]
    target.write_text("\n".join(parts), encoding="utf-8")
    return target
