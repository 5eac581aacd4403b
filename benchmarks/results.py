"""What the suites write and the reports read: row files, pytest-benchmark's JSON, provenance."""

from __future__ import annotations

import csv
import os
import platform
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from benchmarks import measure


def write_rows(path: Path, rows: list[dict]) -> None:
    """Rows as CSV; columns are every key any row has, in first-seen order. No rows, empty file."""
    if not rows:
        path.write_text("")
        return
    keys = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)


def read_rows(path: Path) -> pd.DataFrame:
    """A file ``write_rows`` wrote; an empty frame when it is missing or has no rows."""
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame()
    return pd.read_csv(path)


def stats_by(rows: Iterable[dict], key: Callable[[dict], Hashable]) -> dict:
    """pytest-benchmark's Stats of each group's ``seconds``, by ``key(row)``, sorted."""
    from pytest_benchmark.stats import Stats

    cells: dict = {}
    for row in rows:
        cells.setdefault(key(row), Stats()).update(row["seconds"])
    return dict(sorted(cells.items()))


def cpu_name(machine: dict) -> str:
    """The CPU's model name from pytest-benchmark's machine info, else the platform's word."""
    return (machine.get("cpu") or {}).get("brand_raw") or platform.processor() or platform.machine()


def provenance(suite: str, command: Sequence[str], seed: int | None,
               left_out: Sequence[str] = ()) -> dict:  # fmt: skip
    """What every suite records about its run; each suite adds its own fields.

    ``suite`` says which report reads the folder (``python -m benchmarks report``).
    ``left_out`` is what a quick run leaves out of the full one, in words: a run with
    any is recorded as ``mode: quick``, and its report says so first (``mode_line``).
    ``load`` is the machine's load average and this process's CPUs as the run ends.
    """
    import numpy
    from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info
    from pytest_benchmark.utils import get_commit_info

    machine = pytest_benchmark_generate_machine_info()
    return {
        "suite": suite,
        "mode": "quick" if left_out else "full",
        "left_out": list(left_out),
        "command": " ".join(command),
        "seed": seed,
        "cpu": cpu_name(machine),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "machine_info": machine,
        "commit_info": get_commit_info(),
        "finished": datetime.now(UTC).isoformat(),
        "load": measure.load(),
    }


def benchmark_document(entries: list[dict], provenance: dict) -> dict:
    """The envelope of pytest-benchmark's ``--benchmark-json`` around our entries."""
    import pytest_benchmark

    return {
        "machine_info": provenance["machine_info"],
        "commit_info": provenance["commit_info"],
        "benchmarks": entries,
        "datetime": provenance["finished"],
        "version": pytest_benchmark.__version__,
    }


def mode_line(provenance: dict) -> str:
    """A report's opening line for a quick run, saying what it left out; empty for a
    full run (and for folders written before runs recorded their mode)."""
    if provenance.get("mode") != "quick":
        return ""
    return ("**Quick run.** It left out: " + "; ".join(provenance.get("left_out") or ["?"])
            + ". `--full-run` (tools/run.sh) or no `--quick` measures everything.\n")  # fmt: skip
