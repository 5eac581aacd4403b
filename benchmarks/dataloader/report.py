"""The DataLoader report: images (clips) per second by decoder and worker count, each
a median with its bootstrap interval, and each peer against ours as a ratio of
medians with its interval and a verdict for "ours is at least as fast".

    python -m benchmarks report results/dataloader
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import figures, measure, results

REFERENCE = {"jpeg": "turbojpeg", "video": "indexed"}
UNIT = {"jpeg": "photos/s", "video": "clips/s"}


def _table(frame, kind: str, record: dict) -> tuple[list[str], dict]:
    """The markdown rows of one part, and each cell's Summary of items per second."""
    part = frame[frame["kind"] == kind]
    reference = REFERENCE[kind]
    workers = sorted(int(w) for w in part["workers"].unique())
    processes = record.get("processes") or {}
    lines = [
        "| decoder | "
        + " | ".join(f"{w} worker{'s' * (w != 1)}: {UNIT[kind]}" for w in workers)
        + " | ours / it, per worker count (verdict) | library |",
        "|---" * (len(workers) + 3) + "|",
    ]  # fmt: skip
    summaries = {}
    order = (record.get("decoders") or {}).get(kind) or []
    present = dict.fromkeys(part["decoder"])
    for name in [n for n in order if n in present] + [n for n in present if n not in order]:
        cells, ratios = [], []
        rows = part[part["decoder"] == name]
        for w in workers:
            mine = rows[rows["workers"] == w]
            theirs = part[(part["decoder"] == reference) & (part["workers"] == w)]
            rate = measure.summarize(mine["per_second"].tolist())
            summaries[name, w] = rate
            wrong = " **wrong pixels**" if bool(mine["wrong"].any()) else ""
            cells.append(f"{rate.median:.1f} [{rate.low:.1f}, {rate.high:.1f}]{wrong}")
            if name != reference and len(theirs):
                r = measure.ratio(mine["seconds"].tolist(), theirs["seconds"].tolist())
                ratios.append(f"{r} ({measure.verdict(r, 1.0, lower_is_better=False)})")
        library = (processes.get(f"{kind}:{name}") or {}).get("library", "")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {'; '.join(ratios) or 'reference'}"
                     f" | {library} |")  # fmt: skip
    return lines, summaries


def _figure(summaries: dict, kind: str, wrong: set, record: dict, path: Path) -> Path:
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(name for name, _ in summaries))
    workers = sorted({w for _, w in summaries})
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(names) + 2), 4.2))
    width = 0.8 / len(workers)
    for j, w in enumerate(workers):
        for i, name in enumerate(names):
            s = summaries.get((name, w))
            if s is None:
                continue
            bad = (name, w) in wrong
            ax.bar(i + (j - (len(workers) - 1) / 2) * width, s.median, width * 0.95,
                   yerr=[[s.median - s.low], [s.high - s.median]], capsize=2,
                   color="red" if bad else figures.color(name), hatch="//" if bad else None,
                   alpha=0.45 + 0.55 * (j + 1) / len(workers), edgecolor="black", lw=0.4)  # fmt: skip
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel(UNIT[kind])
    shades = ", ".join(f"{w}" for w in workers)
    ax.set_title(f"DataLoader throughput, batch {record['batch']}: {kind} "
                 f"(bars left to right: {shades} workers)")  # fmt: skip
    parts = [*figures.system_details(record), "median with bootstrap 95% interval"]
    if wrong:
        parts.append("hatched red: first item below the PSNR floor against ours")
    figures.footer(fig, *parts)
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
        "as fast. JPEG: each photo read from its file, decoded whole, then its centre "
        f"{record['crop']}x{record['crop']} square as a tensor ({record['items']} per epoch, "
        f"{len(record['photos'])} photos at their own sizes). Video: {record['clips']} clips of "
        f"{record['clip_length']} consecutive frames from seeded starts in {record['footage']}."
    )
    lines += [
        method,
        "",
        f"Load: {record['load']}; {record['cpu']}.",
        "",
    ]
    if len(frame):
        for kind in dict.fromkeys(frame["kind"]):
            table, summaries = _table(frame, kind, record)
            wrong = {(r.decoder, r.workers) for r in frame[(frame["kind"] == kind)
                                                           & frame["wrong"]].itertuples()}  # fmt: skip
            image = _figure(summaries, kind, wrong, record, folder / f"dataloader-{kind}.png")
            lines += [f"## {kind}", "", *table, "", f"![{kind}]({image.name})", ""]
    if record.get("skipped"):
        lines += ["## Not run", ""]
        lines += [f"- {name}: {why}" for name, why in record["skipped"].items()]
    lines += ["", "## Libraries each process mapped", ""]
    for name, info in (record.get("processes") or {}).items():
        mapped = {k: [Path(f).name for f in v] for k, v in (info.get("mapped") or {}).items() if v}
        lines.append(f"- {name}: {mapped or 'none of libturbojpeg, libjpeg, libavcodec, OpenCV'}")
    path = out or folder / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
