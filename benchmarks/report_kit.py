"""What every suite's report shares: cells summarised with their intervals, claims
judged and written the same way, grouped bars with interval whiskers, the figure
footer and the provenance section. Each report keeps only its own tables and figures.

    table = summaries(rows, ["contender", "size"], over=["photo"])  # median, low, high, n
    claim = Claim("ours / theirs, decode", 1.05)                     # lower is better
    row = claim.judged(measure.ratio(ours, theirs))   # {"target", "measured", "verdict"}
    bars(ax, table, "size", "contender")              # whiskers from low to high
    footer(fig, provenance, "q95", over="the photos") # system, seed, load, what the bars are
    provenance_section(provenance, libraries={"turbojpeg": "libjpeg-turbo 3.1.3"})
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmarks import figures, measure

SUMMARY_COLUMNS = ["median", "low", "high", "n", "cells"]
# A cell that returned wrong frames or pixels: its bar is drawn so, and listed under its figure.
WRONG_STYLE = {"hatch": "///", "edgecolor": "red", "facecolor": "#f6c6c6", "linewidth": 1.2}


def interval_words(over: str = "") -> str:
    """What a figure's bars or points are, for its footer or axis label."""
    if over:
        return f"median over {over} of each one's median, bootstrap 95% interval (noise only)"
    return "median with bootstrap 95% interval"


# -- cells ------------------------------------------------------------------------


def _cells(group: pd.DataFrame, over: Sequence[str], value: str) -> list[list[float]]:
    if not over:
        return [group[value].tolist()]
    return [cell[value].tolist() for _, cell in group.groupby(list(over))]


def summaries(frame: pd.DataFrame, by: Sequence[str], value: str = "seconds",
              over: Sequence[str] = ()) -> pd.DataFrame:  # fmt: skip
    """A row per group of ``by``: the median of ``value`` with its interval (``low``,
    ``high``), its samples ``n`` and ``cells``. With ``over`` (say photos), the median
    over those cells of each one's median (``measure.summarize_cells``)."""
    rows = []
    for key, group in frame.groupby(list(by), sort=False):
        cells = _cells(group, over, value)
        s = measure.summarize_cells(cells)
        rows.append({**dict(zip(by, key, strict=True)), "median": s.median, "low": s.low,
                     "high": s.high, "n": s.n, "cells": len(cells)})  # fmt: skip
    return pd.DataFrame(rows, columns=[*by, *SUMMARY_COLUMNS])


def paired(frame: pd.DataFrame, side: str, a: str, b: str, cells: Sequence[str],
           value: str = "seconds") -> list[tuple[list[float], list[float]]]:  # fmt: skip
    """Per cell of ``cells`` (photo, size, ...), the ``value`` samples where ``side`` is
    ``a`` and where it is ``b``, for ``measure.ratio_of_cells``; cells lacking either
    side are left out."""
    pairs = []
    for _, cell in frame[frame[side].isin([a, b])].groupby(list(cells)):
        left, right = cell[cell[side] == a][value], cell[cell[side] == b][value]
        if len(left) and len(right):
            pairs.append((left.tolist(), right.tolist()))
    return pairs


def ratio_over(pairs: list[tuple[list[float], list[float]]]) -> measure.Ratio | None:
    """``measure.ratio_of_cells`` of ``pairs``; None when no cell has both sides."""
    return measure.ratio_of_cells(pairs) if pairs else None


# -- claims -----------------------------------------------------------------------


def fmt_ratio(r: measure.Ratio | None, digits: int = 3) -> str:
    """``1.077x [1.020, 1.130]``: a ratio of medians and its interval."""
    if r is None:
        return "not measured"
    return f"{r.value:.{digits}f}x [{r.low:.{digits}f}, {r.high:.{digits}f}]"


def fmt_summary(s, scale: float = 1.0, digits: int = 2) -> str:
    """``12.30 [11.90, 12.80]``: a median and its interval, from a Summary or a row of
    ``summaries`` (a Series, or a tuple from itertuples)."""
    mid, low, high = (s[c] for c in ("median", "low", "high")) if isinstance(s, pd.Series) else (
        s.median, s.low, s.high)  # fmt: skip
    return f"{mid * scale:.{digits}f} [{low * scale:.{digits}f}, {high * scale:.{digits}f}]"


@dataclass(frozen=True)
class Claim:
    """A target for a ratio of medians: ``ratio <= target`` (``>=`` when higher is better)."""

    label: str
    target: float
    lower_is_better: bool = True
    note: str = ""

    @property
    def wants(self) -> str:
        return f"{'<=' if self.lower_is_better else '>='} {self.target:g}"

    def verdict(self, measured: measure.Ratio | None) -> str:
        """met, missed, within noise (the interval straddles the target), or not measured."""
        if measured is None:
            return "not measured"
        return measure.verdict(measured, self.target, self.lower_is_better)

    def judged(self, measured: measure.Ratio | None, suffix: str = "") -> dict[str, str]:
        """The target, the ratio with its interval and the verdict, as table columns."""
        return {"target": self.wants, f"measured{suffix}": fmt_ratio(measured),
                f"verdict{suffix}": self.verdict(measured)}  # fmt: skip

    def inline(self, measured: measure.Ratio | None) -> str:
        """``1.077x [1.020, 1.130] (within noise)``, for a table cell."""
        return f"{fmt_ratio(measured)} ({self.verdict(measured)})"


def drawn(path: Path, picture: Path | None) -> Path | None:
    """``picture``, as a figure function returned it; when it drew nothing (no data
    for it in this run), a file left at ``path`` by an earlier run into the same
    folder is removed, so no figure beside a report belongs to another run."""
    if picture is None:
        path.unlink(missing_ok=True)
    return picture


def markdown(frame: pd.DataFrame, floatfmt: str = ".3g") -> str:
    """A table for the report; ``_no data_`` when there is none."""
    if frame.empty:
        return "_no data_\n"
    return frame.to_markdown(index=False, floatfmt=floatfmt) + "\n"


# -- figures ----------------------------------------------------------------------


def bars(ax, table: pd.DataFrame, group: str, member: str, *, value: str = "median",
         groups: Sequence | None = None, members: Sequence | None = None, scale: float = 1.0,
         color: Callable[[object, object], str] | None = None,
         shade: Callable[[object], float] | None = None,
         marked: Collection[tuple] = ()) -> None:  # fmt: skip
    """Grouped bars: along x a group per ``group`` value, in it a bar per ``member`` (in
    its palette colour, or ``color(group, member)``; ``shade(member)`` its alpha), each
    with whiskers from ``low`` to ``high``. (group, member) pairs in ``marked`` are
    drawn hatched red: cells that returned wrong frames or pixels."""
    groups = list(dict.fromkeys(table[group])) if groups is None else list(groups)
    members = list(dict.fromkeys(table[member])) if members is None else list(members)
    cells = table.set_index([group, member])
    width = 0.8 / max(1, len(members))
    for k, m in enumerate(members):
        present = [(i, g) for i, g in enumerate(groups) if (g, m) in cells.index]
        if not present:
            continue
        rows = cells.loc[[(g, m) for _, g in present]]
        mid = rows[value].to_numpy() * scale
        whiskers = [mid - rows["low"].to_numpy() * scale, rows["high"].to_numpy() * scale - mid]
        drawn = ax.bar([i + k * width for i, _ in present], mid, width * 0.95, yerr=whiskers,
                       capsize=2, label=str(m), alpha=shade(m) if shade else None,
                       color=[color(g, m) if color else figures.color(str(m))
                              for _, g in present])  # fmt: skip
        for bar, (_, g) in zip(drawn, present, strict=True):
            if (g, m) in marked:
                bar.set(**WRONG_STYLE)
    ax.set_xticks([i + width * (len(members) - 1) / 2 for i in range(len(groups))])
    ax.set_xticklabels([str(g) for g in groups], rotation=30, ha="right", fontsize=8)


def load_words(provenance: dict) -> str:
    """``load 2.22, 2.55, 3.33 on CPUs 0-1``, or that the run did not record it."""
    load = provenance.get("load") or {}
    if not load.get("load_average"):
        return "load not recorded"
    cpus = _cpu_list(load.get("cpu_affinity"))
    return f"load {', '.join(map(str, load['load_average']))} on CPUs {cpus}"


def run_details(provenance: dict) -> list[str]:
    """CPU, commit, date, seed and load of a run, for a figure's footer."""
    seed = f"seed {provenance.get('seed')}"
    return [*figures.system_details(provenance), seed, load_words(provenance)]


def footer(fig, provenance: dict, *parts: str, over: str = "") -> None:
    """The footer every figure carries: ``run_details``, ``parts``, and what the bars or
    points are (``over``: the cells a median is taken over, such as "the photos")."""
    figures.footer(fig, *run_details(provenance), *parts, interval_words(over))


# -- provenance -------------------------------------------------------------------


def _cpu_list(cpus: Sequence[int] | None) -> str:
    """``0-3, 6``: CPU numbers as ranges."""
    if not cpus:
        return "?"
    spans: list[list[int]] = []
    for cpu in sorted(cpus):
        if spans and cpu == spans[-1][1] + 1:
            spans[-1][1] = cpu
        else:
            spans.append([cpu, cpu])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)


def load_line(provenance: dict) -> str:
    """The load average as the run ended and the CPUs it could use."""
    load = provenance.get("load") or {}
    if not load.get("load_average"):
        return "- load average: not recorded (a run from before runs kept it)"
    cpus = load.get("cpu_affinity")
    affinity = (f"{_cpu_list(cpus)} ({len(cpus)} of {load.get('cpu_count') or '?'} CPUs)"
                if cpus else "not recorded")  # fmt: skip
    averages = ", ".join(map(str, load["load_average"]))
    return f"- load average (1, 5, 15 min) as the run ended: {averages}; CPU affinity: {affinity}"


def provenance_lines(p: dict, extra: Sequence[str] = (),
                     libraries: Mapping[str, str] | None = None) -> list[str]:  # fmt: skip
    """What every run records, then the suite's ``extra`` lines, then what each
    contender loaded (``libraries``: name -> its library)."""
    commit = p.get("commit_info") or {}
    left_out = "; ".join(p.get("left_out") or [])
    revision = str(commit.get("id") or "?")[:12] + (" (dirty)" if commit.get("dirty") else "")
    lines = [
        f"- command: `{p.get('command')}`",
        f"- mode: {p.get('mode', 'not recorded')}"
        + (f" (left out: {left_out})" if left_out else ""),
        f"- seed: {p.get('seed')}",
        f"- CPU: {p.get('cpu')} ({p.get('cpu_count')} cores)",
        load_line(p),
        f"- commit: {revision}, finished {p.get('finished')}",
        *extra,
    ]
    lines += [f"- {name} loaded: {library}" for name, library in (libraries or {}).items()]
    if p.get("interrupted"):
        lines.append(
            "- **interrupted (Ctrl-C or SIGTERM): the tables hold what was measured so far**"
        )
    return lines


def provenance_section(p: dict, extra: Sequence[str] = (),
                       libraries: Mapping[str, str] | None = None) -> str:  # fmt: skip
    """``## Provenance`` and ``provenance_lines``."""
    return "## Provenance\n\n" + "\n".join(provenance_lines(p, extra, libraries)) + "\n"
