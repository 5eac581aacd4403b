"""The DataLoader report: images (clips) per second by decoder and worker count, each
a median with its bootstrap interval, and each peer against ours as a ratio of
medians with its interval and a verdict for "ours is at least as fast".

    python -m benchmarks report results/dataloader
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from benchmarks import figures, measure, results
from benchmarks import report_kit as kit

REFERENCE = {"jpeg": "turbojpeg", "video": "indexed"}
UNIT = {"jpeg": "photos/s", "video": "clips/s"}
AS_FAST = kit.Claim("ours at least as fast", 1.0, lower_is_better=False)


def _table(frame, kind: str, record: dict) -> tuple[list[str], pd.DataFrame]:
    """The markdown of one part, and each cell's items per second (``summaries`` rows)."""
    part = frame[frame["kind"] == kind]
    reference = REFERENCE[kind]
    workers = sorted(int(w) for w in part["workers"].unique())
    order = (record.get("decoders") or {}).get(kind) or []
    present = dict.fromkeys(part["decoder"])
    names = [n for n in order if n in present] + [n for n in present if n not in order]
    rates = kit.summaries(part, ["decoder", "workers"], "per_second")
    processes = record.get("processes") or {}
    rows = []
    for name in names:
        row = {"decoder": name}
        ratios = []
        for w in workers:
            mine = part[(part["decoder"] == name) & (part["workers"] == w)]
            theirs = part[(part["decoder"] == reference) & (part["workers"] == w)]
            rate = rates[(rates["decoder"] == name) & (rates["workers"] == w)]
            wrong = " **wrong pixels**" if bool(mine["wrong"].any()) else ""
            label = f"{w} worker{'s' * (w != 1)}: {UNIT[kind]}"
            row[label] = kit.fmt_summary(rate.iloc[0], digits=1) + wrong if len(rate) else ""
            if name != reference and len(theirs) and len(mine):
                r = measure.ratio(mine["seconds"].tolist(), theirs["seconds"].tolist())
                ratios.append(AS_FAST.inline(r))
        row["ours / it, per worker count (verdict)"] = "; ".join(ratios) or "reference"
        row["library"] = (processes.get(f"{kind}:{name}") or {}).get("library", "")
        rows.append(row)
    return [kit.markdown(pd.DataFrame(rows))], rates


def _figure(rates: pd.DataFrame, kind: str, wrong: set, record: dict, path: Path) -> Path:
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(rates["decoder"]))
    workers = sorted(rates["workers"].unique())
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(names) + 2), 4.2))
    kit.bars(ax, rates, "decoder", "workers", groups=names, members=workers,
             color=lambda name, _: figures.color(str(name)),
             shade=lambda w: 0.45 + 0.55 * (workers.index(w) + 1) / len(workers),
             marked=wrong)  # fmt: skip
    ax.set_ylabel(UNIT[kind])
    shades = ", ".join(f"{w}" for w in workers)
    ax.set_title(f"DataLoader throughput, batch {record['batch']}: {kind} "
                 f"(bars left to right: {shades} workers)")  # fmt: skip
    notes = ["hatched red: first item below the PSNR floor against ours"] if wrong else []
    kit.footer(fig, record, *notes)
    return figures.save(fig, path)


def write(folders: list[Path], out: Path | None = None) -> Path:
    if len(folders) != 1:
        raise ValueError("the DataLoader report reads one results folder at a time")
    folder = folders[0]
    record = json.loads((folder / "provenance.json").read_text())
    frame = results.read_rows(folder / "throughput.csv")
    lines = ["# DataLoader throughput", "", results.mode_line(record)]
    method = (
        f"`torch.utils.data.DataLoader`, batch {record['batch']}, at "
        f"{', '.join(map(str, record['workers']))} workers; {record['rounds']} timed epochs per "
        "cell after an untimed one (imports, worker start, caches), interleaved in a seeded "
        "order. Each cell is the median with its bootstrap 95% interval; each ratio is "
        "a ratio of medians with its interval, and the verdict is for ours being at least "
        "as fast (met, missed, or within noise when the interval straddles 1). JPEG: each "
        "photo read from its file, decoded whole, then its centre "
        f"{record['crop']}x{record['crop']} square as a tensor ({record['items']} per epoch, "
        f"{len(record['photos'])} photos at their own sizes). Video: {record['clips']} clips of "
        f"{record['clip_length']} consecutive frames from seeded starts in {record['footage']}."
    )
    if record["rounds"] < 2:
        method += (" With one timed epoch a cell there is no interval: each verdict then "
                   "rests on the two medians alone.")  # fmt: skip
    lines += [method, ""]
    if len(frame):
        for kind in dict.fromkeys(frame["kind"]):
            table, rates = _table(frame, kind, record)
            bad = frame[(frame["kind"] == kind) & frame["wrong"]]
            wrong = {(r.decoder, r.workers) for r in bad.itertuples()}
            image = _figure(rates, kind, wrong, record, folder / f"dataloader-{kind}.png")
            lines += [f"## {kind}", "", *table, f"![{kind}]({image.name})", ""]
    if record.get("skipped"):
        lines += ["## Not run", ""]
        lines += [f"- {name}: {why}" for name, why in record["skipped"].items()]
    mapped = {}
    for name, info in (record.get("processes") or {}).items():
        found = [
            f"{k}: {', '.join(Path(f).name for f in v)}"
            for k, v in (info.get("mapped") or {}).items()
            if v
        ]
        mapped[name] = "; ".join(found) or "none of libturbojpeg, libjpeg, libavcodec, OpenCV"
    lines += ["", kit.provenance_section(record, libraries=mapped)]
    path = out or folder / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
