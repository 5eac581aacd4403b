"""The video report's numbers: encodings, random-frame latency, ratios against exploded
JPEG and between readers, each a median (or a ratio of medians) with its bootstrap
interval, and the cells that returned wrong frames.

A cell is one reader on one file. Figures over several recordings are medians over
them of each one's median, with intervals from resampling within every cell.
"""

from __future__ import annotations

import pandas as pd

from benchmarks import measure
from benchmarks import report_kit as kit

BASELINE = "exploded-jpeg"
REFERENCE_READER = "indexed"
INTRA_TARGET = 1.1  # indexed random access on intra codecs vs exploded JPEG
# Our OpenCV with each decoder thread type (our patch), one thread first.
THREAD_READERS = ("opencv-1thread", "opencv-slice", "opencv-frame")
EXACT_PEER = "torchcodec"  # today's reference for exact random access
# Each reader on our FFmpeg (bench environment), and the same reader on PyAV's wheel.
OURS_VS_WHEEL = {"pyav-naive": "pyav-wheel", "indexed": "indexed-pyav-wheel"}


def encode_samples(enc: pd.DataFrame) -> pd.DataFrame:
    """One row per encode: ``seconds`` from each row's ``net_samples`` (the encode less
    its null run), or the row's own ``seconds`` where a run kept no samples."""
    kept = enc["net_samples"] if "net_samples" in enc else [None] * len(enc)
    each = [[float(x) for x in n.split()] if isinstance(n, str) and n else [s]
            for n, s in zip(kept, enc["seconds"], strict=True)]  # fmt: skip
    return (
        enc.drop(columns="seconds")
        .assign(seconds=each)
        .explode("seconds")
        .astype({"seconds": float})
    )


def speedups(enc: pd.DataFrame, by: tuple[str, ...] = ("recording", "encoding", "threads")
             ) -> pd.DataFrame:  # fmt: skip
    """Per group of ``by``: space savings (%), the median encode seconds with its interval,
    the encodes per cell, and the speed-up over the baseline at the same threads (a Ratio;
    None where an encode took no longer than its null run); over several recordings, their
    median."""
    rows = []
    samples = encode_samples(enc)
    base = samples[samples["encoding"] == BASELINE]
    for key, group in samples.groupby(list(by)):
        cells, savings = [], []
        for (recording, threads), cell in group.groupby(["recording", "threads"]):
            theirs = base[(base["recording"] == recording) & (base["threads"] == threads)]
            savings.append(100 * (1 - cell["bytes"].iloc[0] / cell["raw_bytes"].iloc[0]))
            if len(theirs) and min(cell["seconds"].min(), theirs["seconds"].min()) > 0:
                cells.append((theirs["seconds"].tolist(), cell["seconds"].tolist()))
        s = measure.summarize_cells(
            [c["seconds"].tolist() for _, c in group.groupby(["recording", "threads"])]
        )
        rows.append({**dict(zip(by, key, strict=True)), "savings": pd.Series(savings).median(),
                     "seconds": kit.fmt_summary(s, digits=4),
                     "encodes": int(group.groupby(["recording", "threads"]).size().max()),
                     "speedup": kit.ratio_over(cells)})  # fmt: skip
    return pd.DataFrame(rows)


def encoding_table(enc: pd.DataFrame) -> pd.DataFrame:
    """Per recording and encoding: savings, encode seconds and speed-up vs the baseline,
    by threads."""
    if enc.empty:
        return enc
    table = speedups(enc)
    table["speedup"] = table["speedup"].map(kit.fmt_ratio)
    wide = table.pivot_table(index=["recording", "encoding"], columns="threads",
                             values=["seconds", "speedup"], aggfunc="first")  # fmt: skip
    wide.columns = [f"{what} ({t} thread{'s' if t > 1 else ''})" for what, t in wide.columns]
    savings = table.groupby(["recording", "encoding"])["savings"].first()
    return wide.assign(**{"space savings (%)": savings}).reset_index()


def with_recording(lat: pd.DataFrame) -> pd.DataFrame:
    """Latency rows with ``what`` (the encoding, else the file) and ``recording``."""
    lat = lat.copy()
    lat["what"] = lat["encoding"].fillna(lat["file"])
    lat["recording"] = [f.rsplit(".", 1)[0] if k == "encoding" else f
                        for f, k in zip(lat["file"], lat["kind"], strict=True)]  # fmt: skip
    return lat


def latency_table(lat: pd.DataFrame) -> pd.DataFrame:
    """Median seconds with its interval per recording, encoding (or file), reader and mode."""
    if lat.empty:
        return lat
    table = kit.summaries(with_recording(lat), ["recording", "what", "reader", "mode"])
    return table.drop(columns="cells").rename(columns={"n": "reads"})


WRONG_MARK = " (wrong)"


def _ms(value: float) -> str:
    """Three significant figures, never in exponent form."""
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def warm_wide(table: pd.DataFrame, acc: pd.DataFrame) -> pd.DataFrame:
    """``latency_table``'s warm random reads as a grid: a row per recording and encoding
    (or file), a column per reader, each the median ms; a cell that returned any wrong
    frame is marked, and a reader that did not read that file shows "-"."""
    warm = table[table["mode"] == "warm"] if not table.empty else table
    if warm.empty:
        return pd.DataFrame()
    wrong = set()
    if not acc.empty and "wrong" in acc:
        bad = with_recording(acc[acc["wrong"] > 0])
        wrong = set(zip(bad["recording"], bad["what"], bad["reader"], strict=True))
    cells = {(r.recording, r.what, r.reader): _ms(r.median * 1e3)
             + (WRONG_MARK if (r.recording, r.what, r.reader) in wrong else "")
             for r in warm.itertuples()}  # fmt: skip
    readers = list(dict.fromkeys(warm["reader"]))
    rows = list(dict.fromkeys(zip(warm["recording"], warm["what"], strict=True)))
    return pd.DataFrame(
        [{"recording": rec, "encoding or file": what,
          **{reader: cells.get((rec, what, reader), "-") for reader in readers}}
         for rec, what in rows]
    )  # fmt: skip


def ratios(lat: pd.DataFrame, pairs: list[tuple[tuple, tuple]], per_recording: bool = False,
           mode: str = "warm") -> pd.DataFrame:  # fmt: skip
    """For each ((what, reader), (other what, other reader)) in ``pairs``: the first's
    times over the second's on the recordings both read, a ratio of medians with its
    interval (``ratio``, ``low``, ``high``; the Ratio as ``measured``), one row per
    recording or one over all of them (the median over the recordings)."""
    rows = with_recording(lat[lat["mode"] == mode]) if len(lat) else lat
    if rows.empty:
        return pd.DataFrame()
    samples = {k: g["seconds"].tolist() for k, g in rows.groupby(["what", "reader", "recording"])}
    out = []
    for mine, theirs in pairs:
        cells = {rec: (times, samples[(*theirs, rec)]) for (*key, rec), times in samples.items()
                 if tuple(key) == tuple(mine) and (*theirs, rec) in samples}  # fmt: skip
        groups = [[rec] for rec in cells] if per_recording else [list(cells)] if cells else []
        for recordings in groups:
            r = kit.ratio_over([cells[rec] for rec in recordings])
            where = (
                {"recording": recordings[0]} if per_recording else {"recordings": len(recordings)}
            )
            out.append({"what": mine[0], "reader": mine[1], **where, "ratio": r.value,
                        "low": r.low, "high": r.high, "measured": r})  # fmt: skip
    return pd.DataFrame(out)


def cells_read(lat: pd.DataFrame) -> set[tuple[str, str]]:
    """The (encoding or file, reader) pairs with warm reads."""
    warm = lat[lat["mode"] == "warm"] if len(lat) else lat
    if warm.empty:
        return set()
    return set(zip(warm["encoding"].fillna(warm["file"]), warm["reader"], strict=True))


def random_access(lat: pd.DataFrame) -> pd.DataFrame:
    """Each reader's warm random-frame time on each encoding over exploded JPEG's,
    the median over the recordings."""
    pairs = [((w, r), (BASELINE, BASELINE)) for w, r in sorted(cells_read(lat)) if w != BASELINE]
    return ratios(lat, pairs)


def intra_target(lat: pd.DataFrame, table: pd.DataFrame, intra: set[str]) -> pd.DataFrame:
    """Our indexed reader on each intra-only encoding over exploded JPEG, per recording:
    its median ms, the ratio with its interval, and the verdict on INTRA_TARGET."""
    pairs = [((w, REFERENCE_READER), (BASELINE, BASELINE)) for w in sorted(intra)]
    found = ratios(lat, pairs, per_recording=True)
    if found.empty:
        return found
    claim = kit.Claim("indexed / exploded JPEG", INTRA_TARGET)
    ours = table[table["mode"] == "warm"].set_index(["recording", "what", "reader"])
    return pd.DataFrame({
        "recording": found["recording"], "encoding": found["what"],
        "indexed ms": [kit.fmt_summary(ours.loc[(r, w, REFERENCE_READER)], 1e3)
                       for r, w in zip(found["recording"], found["what"], strict=True)],
        "vs exploded JPEG": found["measured"].map(kit.fmt_ratio),
        f"verdict ({claim.wants})": found["measured"].map(claim.verdict),
        "measured": found["measured"]}).sort_values(["recording", "encoding"])  # fmt: skip


# Every pair's verdict: is the reader at least as fast as the one it is held against?
PAIR_CLAIM = kit.Claim("reader / against", 1.0)


def pair_table(lat: pd.DataFrame, table: pd.DataFrame, pairs: dict[str, str]) -> pd.DataFrame:
    """Per file: each reader in ``pairs`` against the one it maps to, both on the same
    seeded indices: warm random-frame medians in ms and their ratio, with intervals."""
    read = cells_read(lat)
    wanted = [((w, a), (w, pairs[a])) for w, a in sorted(read) if (w, pairs.get(a)) in read]
    found = ratios(lat, wanted, per_recording=True)
    if found.empty:
        return found
    warm = table[table["mode"] == "warm"].set_index(["recording", "what", "reader"])
    keys = list(zip(found["recording"], found["what"], found["reader"], strict=True))
    return pd.DataFrame({
        "recording": found["recording"], "encoding or file": found["what"],
        "reader": found["reader"], "ms": [kit.fmt_summary(warm.loc[k], 1e3) for k in keys],
        "against": [pairs[r] for r in found["reader"]],
        "its ms": [kit.fmt_summary(warm.loc[(r, w, pairs[a])], 1e3) for r, w, a in keys],
        "reader / against": found["measured"].map(kit.fmt_ratio),
        f"verdict ({PAIR_CLAIM.wants})": found["measured"].map(PAIR_CLAIM.verdict)})  # fmt: skip


def thread_random(lat: pd.DataFrame) -> pd.DataFrame:
    """Our OpenCV's warm random-frame seconds per encoding and thread type, the median
    over the recordings."""
    warm = with_recording(lat[(lat["mode"] == "warm") & lat["reader"].isin(THREAD_READERS)])
    return kit.summaries(warm, ["what", "reader"], over=["recording"])


def thread_sequential(acc: pd.DataFrame) -> pd.DataFrame:
    """Our OpenCV's sequential frames per second per encoding and thread type: one pass
    per file, the median over the files."""
    rows = acc[acc["reader"].isin(THREAD_READERS) & acc["sequential_fps"].notna()]
    rows = rows.assign(what=rows["encoding"].fillna(rows["file"]))
    return kit.summaries(rows, ["what", "reader"], "sequential_fps", over=["file"])


def thread_type_table(lat: pd.DataFrame, acc: pd.DataFrame) -> pd.DataFrame:
    """Per encoding: our OpenCV's random-frame ms and sequential fps with each thread
    type, and each relative to one thread (medians over the recordings)."""
    if lat.empty or acc.empty:
        return pd.DataFrame()
    present = [r for r in THREAD_READERS if r in set(lat["reader"])]
    if len(present) < 2:
        return pd.DataFrame()
    random, seq = thread_random(lat), thread_sequential(acc)
    one = present[0]
    whats = list(dict.fromkeys(random["what"]))
    faster = ratios(lat, [((w, r), (w, one)) for w in whats for r in present[1:]])
    out = pd.DataFrame({"encoding or file": whats})
    for reader in present:
        kind = reader.removeprefix("opencv-")
        mine = random[random["reader"] == reader].set_index("what")
        out[f"random ms, {kind}"] = [kit.fmt_summary(mine.loc[w], 1e3) if w in mine.index
                                     else "" for w in whats]  # fmt: skip
        if reader != one and len(faster):
            by = faster[faster["reader"] == reader].set_index("what")["measured"]
            out[f"random, {kind} / 1thread"] = [PAIR_CLAIM.inline(by.get(w)) if w in by.index
                                                 else "" for w in whats]  # fmt: skip
    for reader in present:
        kind = reader.removeprefix("opencv-")
        fps = seq[seq["reader"] == reader].set_index("what")["median"]
        out[f"sequential fps, {kind}"] = [fps.get(w) for w in whats]
        if reader != one:
            base = seq[seq["reader"] == one].set_index("what")["median"]
            per_file = [fps.get(w, float("nan")) / base.get(w, float("nan")) for w in whats]
            out[f"sequential, {kind} / 1thread"] = per_file
    return out


def accuracy_matrix(acc: pd.DataFrame) -> pd.DataFrame:
    if acc.empty:
        return acc
    cell = []
    for _, row in acc.iterrows():
        if isinstance(row.get("errors"), str) and row["errors"] and not row["checked"]:
            cell.append("error")
            continue
        text = f"{int(row['wrong'])}/{int(row['checked'])} wrong"
        oor = row.get("out_of_range")
        if isinstance(oor, str) and "returned a frame" in oor:
            text += ", out-of-range returned a frame"
        cell.append(text)
    matrix = acc.assign(cell=cell).pivot_table(index="file", columns="reader", values="cell",
                                               aggfunc="first")  # fmt: skip
    return matrix.fillna("n/a").reset_index()


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


def wrong_cells(acc: pd.DataFrame) -> dict[tuple[str, str], int]:
    """(encoding, reader) -> the wrong frames that cell returned, where any: such a cell's
    bar is drawn hatched and red, and listed under its figure."""
    if acc.empty or "wrong" not in acc:
        return {}
    rows = acc[(acc["wrong"] > 0) & acc["encoding"].notna()]
    return {(str(e), str(r)): int(n) for (e, r), n in
            rows.groupby(["encoding", "reader"])["wrong"].sum().items()}  # fmt: skip


def wrong_note(wrong: dict[tuple[str, str], int], shown: set[tuple[str, str]]) -> str:
    """The line under a figure naming its hatched cells, or nothing when there are none."""
    cells = sorted((k, n) for k, n in wrong.items() if k in shown)
    if not cells:
        return ""
    listed = "; ".join(f"{reader} on {what}: {n} wrong" for (what, reader), n in cells)
    return f"Hatched red: cells that returned wrong frames ({listed}). Their times do not count.\n"
