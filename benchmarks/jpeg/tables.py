"""The JPEG report's numbers: speed per cell, space savings, bytes at equal SSIM, and
the 2018 study's claims, each a ratio of medians with its interval and a verdict.

A cell is one photo at one size and quality. Figures over several cells are medians
over the photos of each photo's median, with intervals from resampling within every
cell (``benchmarks.measure``): measurement noise, not the variety of the photos.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks import datasets
from benchmarks import report_kit as kit
from benchmarks.jpeg.contenders import OURS_PROGRESSIVE
from benchmarks.measure import Ratio

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
CELL = ["photo", "size", "quality"]
# How the study's words are read as targets for "how many times faster the second is".
STUDY_WORDS = {"3-7x faster": 3.0, "much faster": 1.5}


# Bytes at equal SSIM: (encoder, reference), the encoder's bytes over the reference's.
# jpegli's defaults are progressive with optimized tables: the second pair is the
# comparison on equal terms, the first what each library gives by default.
EQUAL_SSIM = ((JPEGLI, OURS), (JPEGLI, OURS_PROGRESSIVE), (OURS_PROGRESSIVE, OURS))


def size_key(size: str) -> float:
    """Where a size sorts: its megapixels (``datasets.size_order``)."""
    return datasets.size_order(size)


def throughput(rounds: pd.DataFrame) -> pd.DataFrame:
    """Megapixels per second per contender, operation, size and quality: the median over
    the photos with its interval (``median``, ``low``, ``high``)."""
    if rounds.empty:
        return pd.DataFrame()
    return kit.summaries(rounds, ["contender", "operation", "size", "quality"], "mps",
                         over=["photo"])  # fmt: skip


def space_savings(quality: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd of 1 - jpeg/raw (%), by size and quality, from our encoder."""
    if quality.empty:
        return pd.DataFrame()
    ours = quality[(quality["contender"] == OURS) & quality["jpeg_bytes"].notna()].copy()
    ours["savings"] = 100 * (1 - ours["jpeg_bytes"] / ours["raw_bytes"])
    table = ours.groupby(["size", "quality"])["savings"].agg(["mean", "std", "count"]).reset_index()
    return table.sort_values(
        ["size", "quality"], key=lambda c: c.map(size_key) if c.name == "size" else c
    )


def equal_ssim_bytes(rd: pd.DataFrame, contender: str, reference: str = OURS) -> pd.DataFrame:
    """Per photo, size and reference quality: the contender's bytes at the SSIM the
    reference reaches there, interpolated on its own curve (log bytes, linear in SSIM),
    over the reference's bytes. NaN where the contender's curve does not reach."""
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


def _over_cells(pairs: list) -> tuple[Ratio | None, str]:
    """The ratio over the cells and, in words, how many cells and their own range."""
    if not pairs:
        return None, "-"
    own = [np.median(a) / np.median(b) for a, b in pairs]
    return kit.ratio_over(pairs), f"{len(pairs)}, {min(own):.2f}-{max(own):.2f}"


def _speed(rounds: pd.DataFrame, slow: str, fast: str, operation: str) -> tuple:
    """How many times faster ``fast`` is than ``slow``: slow's time over fast's, per cell."""
    if rounds.empty:
        return None, "-"
    rows = rounds[rounds["operation"] == operation]
    return _over_cells(kit.paired(rows, "contender", slow, fast, CELL))


def _per_pixel(rounds: pd.DataFrame) -> tuple[str, tuple]:
    """Ours, decode: seconds per megapixel in the smallest size (or size bin) over the
    largest, per quality: the median over the photos of each photo's median in one
    against the other, resampling the photos (above 1: larger images decode faster
    per pixel). Native photos differ from bin to bin, so the sides are not paired."""
    if rounds.empty:
        return "", (None, "-")
    ours = rounds[(rounds["contender"] == OURS) & (rounds["operation"] == "decode")]
    ours = ours.assign(s_per_mp=ours["seconds"] / ours["megapixels"])
    sizes = sorted(ours["size"].unique(), key=size_key)
    if len(sizes) < 2:
        return "", (None, "one size only")
    cells = ours.groupby(["size", "quality", "photo"])["s_per_mp"].median().reset_index()
    pairs = []
    for _, at in cells.groupby("quality"):
        small, large = (at[at["size"] == s]["s_per_mp"].tolist() for s in (sizes[0], sizes[-1]))
        if small and large:
            pairs.append((small, large))
    return f"{sizes[-1]} / {sizes[0]}", _over_cells(pairs)


def claims(rounds: pd.DataFrame, rd: pd.DataFrame, provenance: dict) -> list[tuple]:
    """(Claim, the study's words, the ratio with its interval, cells and their range)."""
    rows = []

    def speed(label: str, study: str, slow: str, fast: str, operation: str) -> None:
        claim = kit.Claim(label, STUDY_WORDS.get(study, 1.0), lower_is_better=False)
        rows.append((claim, study, *_speed(rounds, slow, fast, operation)))

    same_opencv = f"same OpenCV, our two builds ({OPENCV_TURBO} vs {OPENCV_IJG})"
    study = {"encode": "3-7x faster", "decode": "(not stated)"}
    for op in ("encode", "decode"):
        speed(f"libjpeg-turbo vs IJG libjpeg 9, {op}, {same_opencv}", study[op], OPENCV_IJG,
              OPENCV_TURBO, op)  # fmt: skip
    for op in ("encode", "decode"):
        speed(f"our OpenCV vs the pip wheel's, {op} ({OPENCV_TURBO} vs {OPENCV_WHEEL})", "-",
              OPENCV_WHEEL, OPENCV_TURBO, op)  # fmt: skip
    same_wrapper = f"second witness, jpeglib ({TURBO_SAME_WRAPPER} vs {BASELINE_9})"
    for op in ("encode", "decode"):
        speed(f"libjpeg-turbo vs IJG libjpeg 9, {op}, {same_wrapper}", study[op], BASELINE_9,
              TURBO_SAME_WRAPPER, op)  # fmt: skip
    for op in ("encode", "decode"):
        speed(f"our turbojpeg vs IJG libjpeg 9 ({BASELINE_9}), {op}", "-", BASELINE_9, OURS, op)
    for op in ("decode", "encode"):
        speed(f"the ctypes wrapper vs OpenCV ({OPENCV_TURBO}, the same turbo), {op}",
              "much faster", OPENCV_TURBO, OURS, op)  # fmt: skip
    for variant in ("fast_dct", "fast_upsample", "fast_dct+fast_upsample"):
        speed(f"fast mode {variant} vs the default, decode", "faster", OURS,
              f"{OURS}-{variant}", "decode")  # fmt: skip
    described = provenance.get("contenders", {})
    old = described.get(OLD_TURBO, {}).get("libjpeg_turbo", "2.x")
    new = described.get(OURS, {}).get("libjpeg_turbo", "3.x")
    for op in ("decode", "encode"):
        speed(f"new turbo ({new}) vs old ({old}), same wrapper, {op}", "beta vs stable",
              OLD_TURBO, OURS, op)  # fmt: skip
    terms = {OURS: "baseline, as ours encodes by default",
             OURS_PROGRESSIVE: "progressive + optimized, jpegli's own options"}  # fmt: skip
    for reference in (OURS, OURS_PROGRESSIVE):
        at_equal = equal_ssim_bytes(rd, JPEGLI, reference)
        for quality in (80, 95):
            cells = at_equal[at_equal["quality"] == quality].dropna() if len(at_equal) else at_equal
            sides = zip(cells.get("bytes", []), cells.get("reference_bytes", []), strict=True)
            pairs = [([b], [r]) for b, r in sides]
            claim = kit.Claim(f"jpegli's bytes at the SSIM of our turbojpeg at q{quality}, "
                              f"{terms[reference]} (ratio of bytes)", 1.0)  # fmt: skip
            rows.append((claim, "-", *_over_cells(pairs)))
    pair, measured = _per_pixel(rounds)
    label = f"larger images decode faster per pixel (ours, MP/s {pair or 'large / small'})"
    claim = kit.Claim(label, 1.0, lower_is_better=False)
    rows.append((claim, "yes", *measured))
    return rows
