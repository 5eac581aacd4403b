"""The video suite's results -> tables -> figures -> ``report.md``.

Called by ``python -m benchmarks report DIR`` for a folder the video suite wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from benchmarks import figures
from benchmarks.results import mode_line, read_rows
from benchmarks.video import access

BASELINE = "exploded-jpeg"
REFERENCE_READER = "indexed"
INTRA_TARGET = 1.1  # indexed random access on intra codecs vs exploded JPEG
# Our OpenCV with each decoder thread type (our patch), one thread first.
THREAD_READERS = ("opencv-1thread", "opencv-slice", "opencv-frame")
EXACT_PEER = "torchcodec"  # today's reference for exact random access


def with_savings_and_speedup(enc: pd.DataFrame) -> pd.DataFrame:
    """Adds space savings (%) and encode speed-up over the baseline at the same threads."""
    enc = enc.copy()
    enc["savings"] = 100 * (1 - enc["bytes"] / enc["raw_bytes"])
    base = enc[enc["encoding"] == BASELINE].set_index(["recording", "threads"])["seconds"]
    enc["speedup"] = [
        base.get((r, t), float("nan")) / s
        for r, t, s in zip(enc["recording"], enc["threads"], enc["seconds"], strict=True)
    ]
    return enc


def encoding_table(enc: pd.DataFrame) -> pd.DataFrame:
    """Per recording and encoding: savings, encode seconds and speed-up vs the baseline, by threads."""
    if enc.empty:
        return enc
    enc = with_savings_and_speedup(enc)
    wide = enc.pivot_table(
        index=["recording", "encoding"],
        columns="threads",
        values=["seconds", "speedup"],
        aggfunc="first",
    )
    wide.columns = [f"{what} ({t} thread{'s' if t > 1 else ''})" for what, t in wide.columns]
    savings = enc.groupby(["recording", "encoding"])["savings"].first()
    return wide.assign(**{"space savings (%)": savings}).reset_index()


def latency_table(lat: pd.DataFrame) -> pd.DataFrame:
    """Median, p90, p25, p75 seconds per encoding (or file), reader and mode."""
    if lat.empty:
        return lat
    lat = lat.copy()
    lat["what"] = lat["encoding"].fillna(lat["file"])
    lat["recording"] = [
        f.rsplit(".", 1)[0] if k == "encoding" else f
        for f, k in zip(lat["file"], lat["kind"], strict=True)
    ]
    grouped = lat.groupby(["recording", "what", "reader", "mode"])["seconds"]
    return grouped.agg(
        median="median",
        p25=lambda s: s.quantile(0.25),
        p75=lambda s: s.quantile(0.75),
        p90=lambda s: s.quantile(0.9),
        reads="count",
    ).reset_index()


def relative_to_baseline(table: pd.DataFrame, mode: str = "warm") -> pd.DataFrame:
    """Each (recording, encoding, reader) median over the exploded-JPEG median of that recording."""
    rows = table[table["mode"] == mode]
    base = rows[rows["what"] == BASELINE].set_index("recording")["median"]
    rows = rows[rows["what"] != BASELINE].copy()
    rows["relative"] = [
        m / base.get(r, float("nan"))
        for r, m in zip(rows["recording"], rows["median"], strict=True)
    ]
    return rows


def intra_target(table: pd.DataFrame, intra: set[str]) -> pd.DataFrame:
    rel = relative_to_baseline(table)
    rows = rel[(rel["reader"] == REFERENCE_READER) & rel["what"].isin(intra)]
    return (
        rows[["recording", "what", "median", "relative"]]
        .rename(
            columns={
                "what": "encoding",
                "median": "indexed median (s)",
                "relative": "vs exploded JPEG",
            }
        )
        .sort_values(["recording", "encoding"])
    )


def accuracy_matrix(acc: pd.DataFrame) -> pd.DataFrame:
    if acc.empty:
        return acc
    cell = []
    for _, row in acc.iterrows():
        if isinstance(row.get("errors"), str) and row["errors"] and not row["checked"]:
            cell.append("error")
        else:
            text = f"{int(row['wrong'])}/{int(row['checked'])} wrong"
            oor = row.get("out_of_range")
            if isinstance(oor, str) and "returned a frame" in oor:
                text += ", out-of-range returned a frame"
            cell.append(text)
    acc = acc.assign(cell=cell)
    matrix = acc.pivot_table(index="file", columns="reader", values="cell", aggfunc="first")
    return matrix.fillna("n/a").reset_index()


def _vmaf_line(vmaf: dict) -> str:
    """Where the VMAF columns come from, or why there are none."""
    if vmaf.get("ffmpeg"):
        return (
            f"VMAF: {vmaf.get('model', 'libvmaf')} model, every {vmaf.get('every')}th frame, "
            f"computed by `{vmaf['ffmpeg']}`.\n"
        )
    return f"VMAF: not computed ({vmaf.get('unavailable') or 'no record of it in this run'}).\n"


def sequential_table(acc: pd.DataFrame, reader_stats: dict[str, list[str]]) -> pd.DataFrame:
    """Per file: frames, PyAV's threaded sequential decode speed, the frame count the
    reference reader reports, and each reader's own stats as "<stat> (<reader>)" columns."""
    speed = "pyav_sequential_fps" if "pyav_sequential_fps" in acc else "sequential_fps"
    table = acc.drop_duplicates("file")[["file", "frames", speed]]
    columns = [(r, k) for r, keys in reader_stats.items() for k in keys]
    for reader, key in [*columns, (REFERENCE_READER, "header_count")]:
        own = acc[acc["reader"] == reader][["file", key]]
        table = table.merge(own.rename(columns={key: f"{key} ({reader})"}), on="file", how="left")
    return table


def thread_type_table(table: pd.DataFrame, acc: pd.DataFrame) -> pd.DataFrame:
    """Per encoding (median over its recordings): our OpenCV's warm random-frame time and
    sequential fps with each thread type, and each relative to one thread."""
    if table.empty or acc.empty:
        return pd.DataFrame()
    present = [r for r in THREAD_READERS if r in set(table["reader"])]
    if len(present) < 2:
        return pd.DataFrame()
    warm = table[(table["mode"] == "warm") & table["reader"].isin(present)]
    random_ms = warm.pivot_table(index="what", columns="reader", values="median", aggfunc="median")
    acc = acc.assign(what=acc["encoding"].fillna(acc["file"]))
    seq = acc[acc["reader"].isin(present)].pivot_table(
        index="what", columns="reader", values="sequential_fps", aggfunc="median")  # fmt: skip
    out = pd.DataFrame(index=random_ms.index)
    for reader in present:
        kind = reader.removeprefix("opencv-")
        out[f"random ms, {kind}"] = random_ms[reader] * 1e3
    for reader in present[1:]:
        kind = reader.removeprefix("opencv-")
        out[f"random, {kind} / 1thread"] = random_ms[reader] / random_ms[present[0]]
    for reader in present:
        kind = reader.removeprefix("opencv-")
        out[f"sequential fps, {kind}"] = seq.get(reader)
    for reader in present[1:]:
        kind = reader.removeprefix("opencv-")
        if reader in seq and present[0] in seq:
            out[f"sequential, {kind} / 1thread"] = seq[reader] / seq[present[0]]
    return out.reset_index().rename(columns={"what": "encoding or file"})


def exact_peer_table(table: pd.DataFrame, acc: pd.DataFrame) -> pd.DataFrame:
    """Per file: our indexed reader's warm random-frame median over torchcodec's exact
    mode's, with both readers' wrong frames."""
    if table.empty:
        return pd.DataFrame()
    warm = table[table["mode"] == "warm"]
    wide = warm.pivot_table(index=["recording", "what"], columns="reader", values="median")
    if REFERENCE_READER not in wide or EXACT_PEER not in wide:
        return pd.DataFrame()
    out = pd.DataFrame({
        f"{REFERENCE_READER} ms": wide[REFERENCE_READER] * 1e3,
        f"{EXACT_PEER} ms": wide[EXACT_PEER] * 1e3,
        f"{REFERENCE_READER} / {EXACT_PEER}": wide[REFERENCE_READER] / wide[EXACT_PEER],
    }).dropna().reset_index()  # fmt: skip
    return out


# Each reader on our FFmpeg (bench environment), and the same reader on PyAV's wheel.
OURS_VS_WHEEL = {"pyav-naive": "pyav-wheel", "indexed": "indexed-pyav-wheel"}


def ffmpeg_builds_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per file and reader: the warm random-frame median on our FFmpeg over the same
    reader's on the PyAV wheel's FFmpeg (below 1: ours is faster)."""
    if table.empty:
        return pd.DataFrame()
    warm = table[table["mode"] == "warm"]
    wide = warm.pivot_table(index=["recording", "what"], columns="reader", values="median")
    frames = []
    for ours, wheel in OURS_VS_WHEEL.items():
        if ours in wide and wheel in wide:
            frames.append(pd.DataFrame({
                "reader": ours, "ours ms": wide[ours] * 1e3, "wheel ms": wide[wheel] * 1e3,
                "ours / wheel": wide[ours] / wide[wheel],
            }).dropna().reset_index())  # fmt: skip
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# -- figures --------------------------------------------------------------------


def _finish(fig, ax, provenance: dict, path: Path) -> Path:
    ax.legend(fontsize=8)
    figures.footer(
        fig,
        *figures.system_details(provenance),
        provenance.get("ffmpeg", {}).get("version", "ffmpeg ?").split(" Copyright")[0],
        f"PyAV {provenance.get('pyav', {}).get('version')}",
        f"OpenCV {provenance.get('opencv', {}).get('version')}",
        f"seed {provenance.get('seed')}",
    )
    return figures.save(fig, path)


def savings_vs_speedup_figure(enc: pd.DataFrame, provenance: dict, path: Path) -> Path | None:
    if enc.empty:
        return None
    enc = with_savings_and_speedup(enc)
    points = enc.groupby(["encoding", "threads"])[["savings", "speedup"]].median().reset_index()
    fig, ax = plt.subplots(figsize=(8, 5.2))
    for threads, marker in zip(sorted(points["threads"].unique()), "os", strict=False):
        rows = points[points["threads"] == threads]
        ax.scatter(
            rows["speedup"],
            rows["savings"],
            marker=marker,
            s=50,
            label=f"{threads} thread{'s' if threads > 1 else ''} (both sides)",
        )
        if threads == 1:
            for _, r in rows.iterrows():
                ax.annotate(
                    r["encoding"],
                    (r["speedup"], r["savings"]),
                    fontsize=7,
                    xytext=(4, 3),
                    textcoords="offset points",
                )
    ax.axvline(1, color="0.5", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel(f"encode speed-up relative to {BASELINE} (x, log scale; right is faster)")
    ax.set_ylabel("space savings vs raw frames (%)")
    ax.set_title("Space savings vs encode speed (median over recordings)")
    ax.grid(alpha=0.3)
    return _finish(fig, ax, provenance, path)


def wrong_cells(acc: pd.DataFrame) -> dict[tuple[str, str], int]:
    """(encoding, reader) -> the wrong frames that cell returned, where any: such a cell's
    bar is drawn hatched and red, and listed under its figure."""
    if acc.empty or "wrong" not in acc:
        return {}
    rows = acc[(acc["wrong"] > 0) & acc["encoding"].notna()]
    return {(str(e), str(r)): int(n) for (e, r), n in
            rows.groupby(["encoding", "reader"])["wrong"].sum().items()}  # fmt: skip


WRONG_STYLE = {"hatch": "///", "edgecolor": "red", "facecolor": "#f6c6c6", "linewidth": 1.2}


def _mark_wrong(bars, whats, reader: str, wrong: dict[tuple[str, str], int]) -> None:
    for bar, what in zip(bars, whats, strict=True):
        if (what, reader) in wrong:
            bar.set(**WRONG_STYLE)


def wrong_note(wrong: dict[tuple[str, str], int], shown: set[tuple[str, str]]) -> str:
    """The line under a figure naming its hatched cells, or nothing when there are none."""
    cells = sorted((k, n) for k, n in wrong.items() if k in shown)
    if not cells:
        return ""
    listed = "; ".join(f"{reader} on {what}: {n} wrong" for (what, reader), n in cells)
    return f"Hatched red: cells that returned wrong frames ({listed}). Their times do not count.\n"


def random_access_figure(table: pd.DataFrame, provenance: dict, path: Path,
                         wrong: dict | None = None) -> Path | None:  # fmt: skip
    if table.empty:
        return None
    rel = relative_to_baseline(table)
    rel = rel[rel["recording"].isin(set(table[table["what"] == BASELINE]["recording"]))]
    if rel.empty:
        return None
    med = rel.pivot_table(index="what", columns="reader", values="relative", aggfunc="median")
    med = med.loc[med.min(axis=1).sort_values().index]
    fig, ax = plt.subplots(figsize=(10, 4.8))
    width = 0.8 / max(1, len(med.columns))
    for k, reader in enumerate(med.columns):
        bars = ax.bar(
            [x + k * width for x in range(len(med))],
            med[reader],
            width=width,
            color=figures.color(reader),
            label=reader,
        )
        _mark_wrong(bars, list(med.index), reader, wrong or {})
    ax.axhline(1, color="black", lw=1)
    ax.axhline(INTRA_TARGET, color="black", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_xticks([x + width * (len(med.columns) - 1) / 2 for x in range(len(med))])
    ax.set_xticklabels(med.index, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"random frame time / {BASELINE} (log; lower is better)")
    ax.set_title(
        f"Random single-frame access, warm handle, relative to {BASELINE} "
        f"(dashed: the {INTRA_TARGET}x target)"
    )
    ax.grid(axis="y", alpha=0.3)
    return _finish(fig, ax, provenance, path)


def latency_figure(table: pd.DataFrame, provenance: dict, path: Path,
                   wrong: dict | None = None) -> Path | None:  # fmt: skip
    if table.empty:
        return None
    rows = table[(table["mode"] == "warm")]
    if rows.empty:
        return None
    agg = rows.groupby(["what", "reader"])[["median", "p25", "p75"]].median().reset_index()
    order = agg.groupby("what")["median"].min().sort_values().index
    readers = sorted(agg["reader"].unique(), key=lambda r: (r != REFERENCE_READER, r))
    fig, ax = plt.subplots(figsize=(10, 4.8))
    width = 0.8 / max(1, len(readers))
    for k, reader in enumerate(readers):
        sub = agg[agg["reader"] == reader].set_index("what").reindex(order)
        xs = [x + k * width for x in range(len(order))]
        bars = ax.bar(
            xs,
            sub["median"] * 1e3,
            width=width,
            color=figures.color(reader),
            label=reader,
            yerr=[(sub["median"] - sub["p25"]) * 1e3, (sub["p75"] - sub["median"]) * 1e3],
            capsize=2,
        )
        _mark_wrong(bars, list(order), reader, wrong or {})
    ax.set_yscale("log")
    ax.set_xticks([x + width * (len(readers) - 1) / 2 for x in range(len(order))])
    ax.set_xticklabels(order, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("ms per random frame (log; median, p25-p75)")
    ax.set_title("Random-frame latency by reader and codec (warm handle, median over recordings)")
    ax.grid(axis="y", alpha=0.3)
    return _finish(fig, ax, provenance, path)


def thread_type_figure(threads: pd.DataFrame, provenance: dict, path: Path) -> Path | None:
    """What the decoder's thread type does: random-frame time and sequential fps per codec."""
    if threads.empty:
        return None
    kinds = [r.removeprefix("opencv-") for r in THREAD_READERS
             if f"random ms, {r.removeprefix('opencv-')}" in threads]  # fmt: skip
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    names = threads["encoding or file"]
    width = 0.8 / len(kinds)
    for k, kind in enumerate(kinds):
        xs = [x + k * width for x in range(len(names))]
        reader = f"opencv-{kind}"
        left.bar(xs, threads[f"random ms, {kind}"], width=width, color=figures.color(reader),
                 label=kind)  # fmt: skip
        if f"sequential fps, {kind}" in threads:
            right.bar(xs, threads[f"sequential fps, {kind}"], width=width,
                      color=figures.color(reader), label=kind)  # fmt: skip
    for ax, label, title in (
        (left, "ms per random frame (log; median, warm handle)", "random access (lower is better)"),
        (right, "frames per second (log)", "reading straight through (higher is better)"),
    ):
        ax.set_yscale("log")
        ax.set_xticks([x + width * (len(kinds) - 1) / 2 for x in range(len(names))])
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(label)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    left.legend(fontsize=8, title="OPENCV_FFMPEG_THREAD_TYPE", title_fontsize=8)
    fig.suptitle("Our OpenCV by decoder thread type", fontsize=11)
    figures.footer(fig, *figures.system_details(provenance),
                   f"{provenance.get('cpu_count')} cores; one thread vs every core")  # fmt: skip
    return figures.save(fig, path)


# -- the report -----------------------------------------------------------------


def _md(frame: pd.DataFrame, floatfmt: str = ".3g") -> str:
    return (
        "_no data_\n" if frame.empty else frame.to_markdown(index=False, floatfmt=floatfmt) + "\n"
    )


def write(folders: list[str | Path], out: Path | None = None) -> Path:
    """``report.md`` (or ``out``) and the figures, for one video run's folder."""
    if len(folders) != 1:
        raise ValueError("compare video results one folder at a time")
    folder = Path(folders[0])
    provenance = json.loads((folder / "provenance.json").read_text())
    enc, lat = read_rows(folder / "encodings.csv"), read_rows(folder / "latency.csv")
    acc, qual = read_rows(folder / "accuracy.csv"), read_rows(folder / "quality.csv")
    table = latency_table(lat)
    intra = (
        set(enc[enc["intra_only"].astype(bool)]["encoding"]) - {BASELINE, "exploded-png"}
        if not enc.empty
        else set()
    )
    wrong = wrong_cells(acc)
    pictures = [
        savings_vs_speedup_figure(enc, provenance, folder / "savings_vs_encode_speed.png"),
        random_access_figure(table, provenance, folder / "random_access_vs_baseline.png", wrong),
        latency_figure(table, provenance, folder / "latency_by_reader.png", wrong),
        thread_type_figure(thread_type_table(table, acc), provenance, folder / "thread_type.png"),
    ]
    parts = ["# Video: storage, encode speed and random access, every frame checked\n"]
    if mode_line(provenance):
        parts.append(mode_line(provenance))
    target = intra_target(table, intra) if not table.empty else pd.DataFrame()
    if not target.empty:
        by_codec = target.groupby("encoding")["vs exploded JPEG"].max()
        met = [c for c, r in by_codec.items() if r <= INTRA_TARGET]
        parts.append(
            f"**Indexed random access on intra-only codecs vs {BASELINE} (target <= "
            f"{INTRA_TARGET}x): met by {', '.join(met) or 'none'}; "
            + "; ".join(f"{c} {r:.2f}x" for c, r in by_codec.sort_values().items())
            + " (worst recording).**\n"
        )
        parts.append(_md(target))
    parts.append("## Accuracy: wrong frames per reader and file\n")
    floor = (provenance.get("pixel_check") or {}).get("psnr_floor", "n/a")
    parts.append(
        "A frame is right when its burned-in code (or, for your own videos, its thumbnail) is "
        "that of the same index in a full sequential decode, its blue and red channels are not "
        "swapped (on colour frames), and its pixels are those of the same reader's own "
        f"sequential decode: bit-identical on lossless and intra-only files, PSNR >= "
        f"{floor} dB on the rest. Out-of-range probes: index = frame count, count + 10, "
        "and -1.\n"
    )
    parts.append(_md(accuracy_matrix(acc)))
    if not acc.empty:
        errors = acc["errors"].astype(object).fillna("")  # all-empty reads back as floats
        notes = acc[(errors != "") | (acc["wrong"] > 0)]
        if not notes.empty:
            parts.append("Details (first wrong indices as requested->returned, errors):\n")
            notes = notes.assign(
                errors=errors[notes.index].map(lambda e: e.splitlines()[0] if e else "")
            )
            parts.append(_md(notes[["file", "reader", "wrong_examples", "offsets", "errors"]]))
        adversarial = acc[acc["kind"] == "adversarial"].drop_duplicates("file")
        if not adversarial.empty:
            parts.append("The adversarial files:\n")
            parts.append(_md(adversarial[["file", "frames", "description"]]))
    threads = thread_type_table(table, acc)
    parts.append("## Our OpenCV's decoder thread type\n")
    parts.append(
        "Our channel's OpenCV with `OPENCV_FFMPEG_THREAD_TYPE` (our patch) set to frame or "
        "slice on every core, and with one decoding thread. Random access: the warm median "
        "per frame; sequential: frames per second from a fresh open. Ratios below 1 mean "
        "faster random access than one thread; above 1, faster reading straight through.\n"
    )
    parts.append(
        _md(threads) if not threads.empty else "_our OpenCV was not measured in this run_\n"
    )
    peer = exact_peer_table(table, acc)
    parts.append(f"## {REFERENCE_READER} vs {EXACT_PEER} (exact mode)\n")
    parts.append(
        f"Warm random-frame medians per file, the same seeded indices for both; below 1, "
        f"{REFERENCE_READER} is faster. Accuracy is in the table above.\n"
    )
    parts.append(_md(peer) if not peer.empty else f"_{EXACT_PEER} was not measured in this run_\n")
    builds = ffmpeg_builds_table(table)
    parts.append("## Our FFmpeg against the PyAV wheel's\n")
    parts.append(
        "The same reader twice: on our PyAV and FFmpeg (the bench environment) and on PyAV's "
        "wheel with the FFmpeg it bundles (" + ", ".join(
            f"{o} and {w}" for o, w in OURS_VS_WHEEL.items()) + "). Warm random-frame "
        "medians per file; below 1, ours is faster. Which libavcodec each process loaded is "
        "under Provenance.\n"
    )  # fmt: skip
    parts.append(_md(builds) if not builds.empty else "_not both builds were measured_\n")
    shown = (
        set(table[["what", "reader"]].itertuples(index=False, name=None)) if len(table) else set()
    )
    note = wrong_note(wrong, shown)
    under = {"random_access_vs_baseline", "latency_by_reader"}  # the figures that hatch
    parts.append("## Figures\n\n" + "".join(
        f"![{p.stem}]({p.name})\n\n" + (note + "\n" if note and p.stem in under else "")
        for p in pictures if p))  # fmt: skip
    gops = access.gop_table(lat)
    gop_picture = access.gop_figure(gops, provenance, folder / "latency_vs_gop.png", wrong)
    parts.append("## Random access against GOP length\n")
    parts.append(
        "The same recording as lossless x264 at each keyframe interval, all else equal: "
        "what reaching a random frame costs each reader as the GOP grows (warm handle; "
        "median with its bootstrap 95% interval, in ms).\n"
    )
    if gop_picture:
        parts.append("\n".join(access.gop_markdown(gops)))
        parts.append(f"![{gop_picture.stem}]({gop_picture.name})\n")
    else:
        parts.append("_the GOP-length encodings were not measured in this run_\n")
    opens = access.open_table(lat)
    open_picture = access.open_figure(opens, provenance, folder / "open_cost.png")
    parts.append("## Decoder open cost\n")
    parts.append(
        "Open to the first frame, over every file: with what the reader keeps between opens "
        "(its index) kept, and dropped first (the index scan included). Medians with their "
        "bootstrap 95% intervals, in ms; readers that keep nothing pay the same both ways.\n"
    )
    parts.append("\n".join(access.open_markdown(opens)) + "\n")
    parts.append(
        f"Against {access.PEER}'s exact mode, which scans at every open (targets: "
        + ", ".join(f"{c} <= {t}" for c, t in access.OPEN_TARGETS.items())
        + "):\n"
    )
    parts.append("\n".join(access.open_target_markdown(access.open_target_rows(lat))) + "\n")
    if open_picture:
        parts.append(f"![{open_picture.stem}]({open_picture.name})\n")
    parts.append("## Encodings\n")
    if provenance.get("encode_timing"):
        parts.append(f"Encode seconds: {provenance['encode_timing']}; the median, with "
                     "its bootstrap 95% interval in encodings.csv.\n")  # fmt: skip
    parts.append(_md(encoding_table(enc)))
    skipped = provenance.get("skipped_encodings", {})
    if skipped:
        parts.append("\n".join(f"- **skipped {n}**: {why}" for n, why in skipped.items()) + "\n")
    parts.append("## Random-frame latency (seconds)\n")
    parts.append(_md(table))
    if not acc.empty:
        parts.append("## Sequential decode and what each reader reports\n")
        parts.append(
            "Each reader's own stats come from its first open of the file, a cold one "
            f"({REFERENCE_READER}: index_seconds is its index build).\n"
        )
        parts.append(_md(sequential_table(acc, provenance.get("reader_stats", {}))))
    parts.append("## Quality of the lossy encodings (every 10th frame against the source)\n")
    parts.append(_md(qual))
    parts.append(_vmaf_line(provenance.get("vmaf") or {}))
    parts.append("## Provenance\n")
    ff = provenance.get("ffmpeg", {})
    lines = [
        f"- command: `{provenance.get('command')}`",
        (
            f"- seed {provenance.get('seed')}: {provenance.get('random_frames')} warm random reads and "
            f"{provenance.get('cold_frames')} cold opens per (reader, file), one index list per file "
            "for every reader"
        ),
        f"- CPU: {provenance.get('cpu')} ({provenance.get('cpu_count')} cores)",
        f"- ffmpeg: {ff.get('path')}: {ff.get('version')} ({ff.get('license')})",
        f"- PyAV {provenance.get('pyav', {}).get('version')}: {provenance.get('pyav', {}).get('libraries')}",
        f"- OpenCV {provenance.get('opencv', {}).get('version')}: {provenance.get('opencv', {}).get('video_io')}",
    ]
    lines += [
        f"- {n} loaded libavcodec: {', '.join(files)}"
        for n, files in provenance.get("reader_libavcodec", {}).items()
    ]
    lines += [
        f"- **skipped reader {n}**: {why}"
        for n, why in provenance.get("skipped_readers", {}).items()
    ]
    if provenance.get("interrupted"):
        lines.append("- **interrupted with Ctrl-C: the tables hold what was measured so far**")
    parts.append("\n".join(lines) + "\n")
    parts.append(
        "<details><summary>ffmpeg -buildconf</summary>\n\n```\n"
        f"{ff.get('buildconf', '')}\n```\n</details>\n"
    )
    target_path = out or folder / "report.md"
    target_path.write_text("\n".join(parts), encoding="utf-8")
    return target_path
