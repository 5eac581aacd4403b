"""One measurement kit for every suite: a median with a bootstrap interval, a ratio of
medians with its interval, a three-state verdict, and the machine's load.

    summary = summarize(seconds)                  # Summary(median, low, high, n)
    r = ratio(ours_seconds, theirs_seconds)       # Ratio(value, low, high)
    ratio_of_cells([(ours_a, theirs_a), ...])     # the median over cells (photos, files)
    verdict(r, target=1.05)                       # "met", "missed" or "within noise"
    load()                                        # {"load_average": [...], "cpu_affinity": [...]}

The interval is a percentile bootstrap of the median (2,000 resamples, a fixed seed,
so a report rebuilt from the same samples says the same thing). A ratio's interval
resamples both sides independently. Over several cells (photos, files), the figure
is the median of the cells' medians (or ratios), and its interval comes from
resampling within every cell: it shows measurement noise, not how the cells differ.
A verdict is "met" only when the whole interval is on the target's good side,
"missed" only when the whole of it is on the bad side, and "within noise" when the
interval straddles the target.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 20261206

Verdict = Literal["met", "missed", "within noise"]


@dataclass(frozen=True)
class Summary:
    median: float
    low: float  # the interval around the median, at CONFIDENCE
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.median:.4g} [{self.low:.4g}, {self.high:.4g}] (n={self.n})"


@dataclass(frozen=True)
class Ratio:
    value: float  # median of a over median of b
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f}x [{self.low:.3f}, {self.high:.3f}]"


def _samples(values: Sequence[float], what: str) -> np.ndarray:
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or data.size == 0:
        raise ValueError(f"{what}: need at least one sample, got {data.size}")
    if not np.isfinite(data).all():
        raise ValueError(f"{what}: samples must be finite numbers")
    return data


def _bootstrap_medians(data: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    picks = rng.integers(0, data.size, size=(RESAMPLES, data.size))
    return np.median(data[picks], axis=1)


def _bounds(medians: np.ndarray) -> tuple[float, float]:
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(medians, [tail, 100 - tail])
    return float(low), float(high)


def summarize(values: Sequence[float], seed: int = SEED) -> Summary:
    """The median of ``values`` and its bootstrap interval; with one sample the
    interval is that sample (no spread can be claimed from it)."""
    return summarize_cells([values], seed)


def summarize_cells(cells: Sequence[Sequence[float]], seed: int = SEED) -> Summary:
    """The median over ``cells`` of each cell's median, with its interval from
    resampling within every cell; ``n`` counts the samples of all cells."""
    data = [_samples(c, "summarize") for c in cells]
    if not data:
        raise ValueError("summarize: need at least one cell of samples")
    median = float(np.median([np.median(d) for d in data]))
    rng = np.random.default_rng(seed)
    low, high = _bounds(np.median([_bootstrap_medians(d, rng) for d in data], axis=0))
    return Summary(median, low, high, sum(d.size for d in data))


def ratio(a: Sequence[float], b: Sequence[float], seed: int = SEED) -> Ratio:
    """median(a) / median(b), with the interval of that ratio over both sides' resamples."""
    return ratio_of_cells([(a, b)], seed)


def ratio_of_cells(pairs: Sequence[tuple[Sequence[float], Sequence[float]]],
                   seed: int = SEED) -> Ratio:  # fmt: skip
    """The median over cells of each cell's median(a) / median(b), with its interval
    from resampling both sides within every cell."""
    sides = [(_samples(a, "ratio: a"), _samples(b, "ratio: b")) for a, b in pairs]
    if not sides:
        raise ValueError("ratio: need at least one cell of samples")
    if any(np.median(right) <= 0 for _, right in sides):
        raise ValueError("ratio: the median of b must be positive")
    rng = np.random.default_rng(seed)
    value = float(np.median([np.median(left) / np.median(right) for left, right in sides]))
    resampled = [_bootstrap_medians(left, rng) / _bootstrap_medians(right, rng)
                 for left, right in sides]  # fmt: skip
    low, high = _bounds(np.median(resampled, axis=0))
    return Ratio(value, low, high)


def verdict(measured: Ratio | Summary, target: float, lower_is_better: bool = True) -> Verdict:
    """Whether a target (say ``ours / theirs <= 1.05``) is met, missed or within noise."""
    low, high = measured.low, measured.high
    if lower_is_better:
        return "met" if high <= target else "missed" if low > target else "within noise"
    return "met" if low >= target else "missed" if high < target else "within noise"


def load() -> dict:
    """What else the machine was doing: the load averages and this process's CPUs."""
    try:
        averages = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        averages = None
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"load_average": averages, "cpu_affinity": affinity, "cpu_count": os.cpu_count()}
