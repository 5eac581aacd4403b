"""The video suite's results -> tables -> figures -> ``report.md``.

Called by ``python -m benchmarks report DIR`` for a folder the video suite wrote.
The numbers are in ``tables`` and ``access``, the figures in ``plots`` and ``access``;
what every report shares in ``benchmarks.report_kit``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from benchmarks import report_kit as kit
from benchmarks.results import mode_line, read_rows
from benchmarks.video import access, floor, plots, tables
from benchmarks.video.tables import (
    BASELINE,
    EXACT_PEER,
    INTRA_TARGET,
    OURS_VS_WHEEL,
    REFERENCE_READER,
    wrong_cells,
    wrong_note,
)

ACCURACY = (
    "A frame is right when its burned-in code (or, for your own videos, its thumbnail) is "
    "that of the same index in a full sequential decode, its blue and red channels are not "
    "swapped (on colour frames), and its pixels are those of the same reader's own "
    "sequential decode: bit-identical on lossless and intra-only files, PSNR >= {floor} dB "
    "on the rest. Out-of-range probes: index = frame count, count + 10, and -1.\n"
)


def _vmaf_line(vmaf: dict) -> str:
    """Where the VMAF columns come from, or why there are none."""
    if vmaf.get("ffmpeg"):
        return (f"VMAF: {vmaf.get('model', 'libvmaf')} model, every {vmaf.get('every')}th frame, "
                f"computed by `{vmaf['ffmpeg']}`.\n")  # fmt: skip
    return f"VMAF: not computed ({vmaf.get('unavailable') or 'no record of it in this run'}).\n"


def _intra_section(lat: pd.DataFrame, table: pd.DataFrame, intra: set[str]) -> list[str]:
    target = tables.intra_target(lat, table, intra) if len(table) else pd.DataFrame()
    if target.empty:
        return []
    verdict = target.columns[-2]
    met = [c for c, rows in target.groupby("encoding") if (rows[verdict] == "met").all()]
    worst = target.assign(value=[r.value for r in target["measured"]])
    worst = worst.sort_values("value").groupby("encoding").tail(1).sort_values("value")
    rows = zip(worst["encoding"], worst["vs exploded JPEG"], worst[verdict], strict=True)
    listed = "; ".join(f"{e} {r} ({v})" for e, r, v in rows)
    return [(f"**Indexed random access on intra-only codecs vs {BASELINE} (target <= "
            f"{INTRA_TARGET}x): met on every recording by {', '.join(met) or 'none'}; worst "
            f"recording per codec: {listed}.**\n"),
            ("Each ratio is of the warm random-frame medians, with its bootstrap 95% interval; "
            "met when the whole interval is at or below the target, missed when the whole of "
            "it is above, within noise when it straddles.\n"),
            kit.markdown(target.drop(columns="measured"))]  # fmt: skip


def _accuracy_section(acc: pd.DataFrame, provenance: dict) -> list[str]:
    floor = (provenance.get("pixel_check") or {}).get("psnr_floor", "n/a")
    parts = ["## Accuracy: wrong frames per reader and file\n", ACCURACY.format(floor=floor),
             kit.markdown(tables.accuracy_matrix(acc))]  # fmt: skip
    if acc.empty:
        return parts
    errors = acc["errors"].astype(object).fillna("")  # all-empty reads back as floats
    notes = acc[(errors != "") | (acc["wrong"] > 0)]
    if not notes.empty:
        notes = notes.assign(
            errors=errors[notes.index].map(lambda e: e.splitlines()[0] if e else "")
        )
        columns = ["file", "reader", "wrong_examples", "offsets", "errors"]
        parts += ["Details (first wrong indices as requested->returned, errors):\n",
                  kit.markdown(notes[columns])]  # fmt: skip
    adversarial = acc[acc["kind"] == "adversarial"].drop_duplicates("file")
    if not adversarial.empty:
        parts += ["The adversarial files:\n",
                  kit.markdown(adversarial[["file", "frames", "description"]])]  # fmt: skip
    return parts


def _absent(names, provenance: dict) -> str:
    """A section's line when its readers were not all measured: which, and why."""
    skipped = provenance.get("skipped_readers") or {}
    missing = [f"{n} ({skipped.get(n, 'not measured')})" for n in names]
    return f"_not measured in this run: {'; '.join(missing)}_\n"


def _readers_sections(lat: pd.DataFrame, table: pd.DataFrame, acc: pd.DataFrame,
                      provenance: dict) -> list[str]:  # fmt: skip
    threads = tables.thread_type_table(lat, acc)
    measured = set(lat["reader"]) if not lat.empty else set()
    peer = tables.pair_table(lat, table, {REFERENCE_READER: EXACT_PEER})
    builds = tables.pair_table(lat, table, OURS_VS_WHEEL)
    pairs = ", ".join(f"{o} and {w}" for o, w in OURS_VS_WHEEL.items())
    return [
        "## Our OpenCV's decoder thread type\n",
        ("Our channel's OpenCV with `OPENCV_FFMPEG_THREAD_TYPE` (our patch) set to frame or "
        "slice on every core, and with one decoding thread. Random access: the warm median "
        "per frame, the median over the recordings, with its interval; sequential: frames per "
        "second from a fresh open, one pass per file (no interval). Ratios below 1 mean "
        "faster random access than one thread; above 1, faster reading straight through.\n"),
        kit.markdown(threads) if len(threads)
        else _absent([r for r in tables.THREAD_READERS if r not in measured], provenance),
        f"## {REFERENCE_READER} vs {EXACT_PEER} (exact mode)\n",
        (f"Warm random-frame medians per file, the same seeded indices for both; below 1, "
        f"{REFERENCE_READER} is faster. Accuracy is in the table above.\n"),
        kit.markdown(peer) if not peer.empty else _absent([EXACT_PEER], provenance),
        "## Our FFmpeg against the PyAV wheel's\n",
        ("The same reader twice: on our PyAV and FFmpeg (the bench environment) and on PyAV's "
        f"wheel with the FFmpeg it bundles ({pairs}). Warm random-frame medians per file; "
        "below 1, ours is faster. Which libavcodec each process loaded is under Provenance.\n"),
        kit.markdown(builds) if not builds.empty else _absent(
            [r for pair in OURS_VS_WHEEL.items() for r in pair if r not in measured], provenance),
    ]  # fmt: skip


def _floor_words(provenance: dict) -> str:
    """What the floor columns are, or why this run has none."""
    record = provenance.get("open_floor") or {}
    if "what" not in record:
        why = record.get("unavailable", "a run from before floors were measured")
        return f"{floor.NAME} was not measured: {why}."
    errors = "".join(f" No floor for {name}: {why}." for name, why in record["errors"].items())
    return (f"{floor.NAME} is {record['what']} ({record['samples']} samples a file). Where "
            "the floor alone misses the target, no reader decoding with FFmpeg meets it (MJPEG "
            "aside: ours decodes it with libjpeg-turbo)." + errors)  # fmt: skip


def _access_sections(lat: pd.DataFrame, provenance: dict, folder: Path, wrong: dict) -> list[str]:
    floors = read_rows(folder / floor.CSV)  # empty in a run from before floors
    gops = access.gop_table(lat)
    gop_path, open_path = folder / "latency_vs_gop.png", folder / "open_cost.png"
    gop_picture = kit.drawn(gop_path, access.gop_figure(gops, provenance, gop_path, wrong))
    opens = access.open_table(lat)
    open_picture = kit.drawn(open_path, access.open_figure(opens, provenance, open_path))
    parts = ["## Random access against GOP length\n",
             ("The same recording as lossless x264 at each keyframe interval, all else equal: "
             "what reaching a random frame costs each reader as the GOP grows (warm handle; "
             "median with its bootstrap 95% interval, in ms).\n")]  # fmt: skip
    if gop_picture:
        parts += [
            "\n".join(access.gop_markdown(gops)),
            f"![{gop_picture.stem}]({gop_picture.name})\n",
        ]
    else:
        parts.append("_the GOP-length encodings were not measured in this run_\n")
    parts += ["## Decoder open cost\n",
              ("Open to the first frame: with what the reader keeps between opens (its index) "
              "kept, and dropped first (the index scan included). The median over the files of "
              "each file's median, with its bootstrap 95% interval, in ms; readers that keep "
              "nothing pay the same both ways.\n"),
              *(access.open_markdown(opens) or ["_opens were not measured in this run_\n"]),
              f"Against {access.PEER}'s exact mode, which scans at every open (targets: "
              + ", ".join(f"{c} <= {t}" for c, t in access.OPEN_TARGETS.items()) + "). "
              + _floor_words(provenance) + "\n",
              *access.open_target_markdown(access.open_target_rows(lat, floors))]  # fmt: skip
    if open_picture:
        parts.append(f"![{open_picture.stem}]({open_picture.name})\n")
    return parts


def _provenance(provenance: dict) -> list[str]:
    ff, pyav, cv = (provenance.get(k) or {} for k in ("ffmpeg", "pyav", "opencv"))
    lines = [
        (f"- {provenance.get('random_frames')} warm random reads and "
         f"{provenance.get('cold_frames')} cold opens per (reader, file), one index list per "
         "file for every reader"),
        f"- ffmpeg: {ff.get('path')}: {ff.get('version')} ({ff.get('license')})",
        f"- PyAV {pyav.get('version')}: {pyav.get('libraries')}",
        f"- OpenCV {cv.get('version')}: {cv.get('video_io')}",
        *[f"- **skipped reader {n}**: {why}"
          for n, why in provenance.get("skipped_readers", {}).items()],
    ]  # fmt: skip
    libraries = {n: "libavcodec " + ", ".join(files)
                 for n, files in provenance.get("reader_libavcodec", {}).items()}  # fmt: skip
    return [kit.provenance_section(provenance, lines, libraries),
            ("<details><summary>ffmpeg -buildconf</summary>\n\n```\n"
            f"{ff.get('buildconf', '')}\n```\n</details>\n")]  # fmt: skip


# The figures drawn beside the tables, in order.
SUMMARY = "latency_summary.csv"  # every (file, reader, mode) cell's median and interval
FIGURES = ("savings_vs_encode_speed", "random_access_vs_baseline", "latency_by_reader",
           "thread_type")  # fmt: skip


def write(folders: list[str | Path], out: Path | None = None) -> Path:
    """``report.md`` (or ``out``) and the figures, for one video run's folder."""
    if len(folders) != 1:
        raise ValueError("compare video results one folder at a time")
    folder = Path(folders[0])
    provenance = json.loads((folder / "provenance.json").read_text())
    enc, lat = read_rows(folder / "encodings.csv"), read_rows(folder / "latency.csv")
    acc, qual = read_rows(folder / "accuracy.csv"), read_rows(folder / "quality.csv")
    table = tables.latency_table(lat)
    intra = (set(enc[enc["intra_only"].astype(bool)]["encoding"]) - {BASELINE, "exploded-png"}
             if not enc.empty else set())  # fmt: skip
    wrong = wrong_cells(acc)
    paths = [folder / f"{stem}.png" for stem in FIGURES]
    pictures = [kit.drawn(path, picture) for path, picture in zip(paths, [
        plots.savings_vs_speedup_figure(enc, provenance, paths[0]),
        plots.random_access_figure(lat, provenance, paths[1], wrong),
        plots.latency_figure(lat, provenance, paths[2], wrong),
        plots.thread_type_figure(lat, acc, provenance, paths[3]),
    ], strict=True)]  # fmt: skip
    shown = tables.cells_read(lat)
    note = wrong_note(wrong, shown)
    under = {"random_access_vs_baseline", "latency_by_reader"}  # the figures that hatch
    figures_text = "".join(f"![{p.stem}]({p.name})\n\n"
                           + (note + "\n" if note and p.stem in under else "")
                           for p in pictures if p)  # fmt: skip
    encodes = tables.speedups(enc)["encodes"].max() if len(enc) else 0
    parts = [
        "# Video: storage, encode speed and random access, every frame checked\n",
        *([mode_line(provenance)] if mode_line(provenance) else []),
        *_intra_section(lat, table, intra),
        *_accuracy_section(acc, provenance),
        *_readers_sections(lat, table, acc, provenance),
        "## Figures\n\n" + figures_text,
        *_access_sections(lat, provenance, folder, wrong),
        "## Encodings\n",
        (f"Encode seconds: {provenance['encode_timing']}. " if provenance.get("encode_timing")
         else "How the encodes were timed is not recorded (a run from before it was). ")
        + f"{encodes} encode(s) per cell, the median with its bootstrap 95% interval; each "
        f"speed-up over {BASELINE} is a ratio of medians with its interval (one encode a side "
        "gives none; not measured where an encode took no longer than its null run).\n",
        kit.markdown(tables.encoding_table(enc)),
        "".join(f"- **skipped {n}**: {why}\n"
                for n, why in provenance.get("skipped_encodings", {}).items()),
        "## Random-frame latency (ms, warm reads)\n",
        (f"The median ms of a warm random read, per file and reader; marked{tables.WRONG_MARK} "
         "where the cell returned wrong frames (see Accuracy), \"-\" where the reader did not "
         "read the file. Every mode (opens with the index kept and dropped, cold reads, warm "
         f"reads), each with its bootstrap 95% interval and read count: [{SUMMARY}]({SUMMARY}).\n"),
        kit.markdown(tables.warm_wide(table, acc)),
    ]  # fmt: skip
    table.to_csv(folder / SUMMARY, index=False)
    if not acc.empty:
        parts += [
            "## Sequential decode and what each reader reports\n",
            (
                "Each reader's own stats come from its first open of the file, a cold one "
                f"({REFERENCE_READER}: index_seconds is its index build).\n"
            ),
            kit.markdown(tables.sequential_table(acc, provenance.get("reader_stats", {}))),
        ]
    dask = folder / "dask" / "dask_scaling.md"  # the full run's (benchmarks/dask_scaling.py)
    if dask.is_file():
        parts += [dask.read_text(), "![dask_scaling](dask/dask_scaling.png)\n"]
    parts += ["## Quality of the lossy encodings (every 10th frame against the source)\n",
              kit.markdown(qual), _vmaf_line(provenance.get("vmaf") or {}),
              *_provenance(provenance)]  # fmt: skip
    target_path = out or folder / "report.md"
    target_path.write_text("\n".join(parts), encoding="utf-8")
    return target_path
