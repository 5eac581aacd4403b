"""What the suites write and the reports read: row files and pytest-benchmark's JSON."""

from __future__ import annotations

import csv
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path

import pandas as pd


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


def machine_and_commit() -> tuple[dict, dict]:
    """pytest-benchmark's machine info and commit info, for provenance records."""
    from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info
    from pytest_benchmark.utils import get_commit_info

    return pytest_benchmark_generate_machine_info(), get_commit_info()


def benchmark_document(entries: list[dict], machine: dict, commit: dict, when: str) -> dict:
    """The envelope of pytest-benchmark's ``--benchmark-json`` around our entries."""
    import pytest_benchmark

    return {
        "machine_info": machine,
        "commit_info": commit,
        "benchmarks": entries,
        "datetime": when,
        "version": pytest_benchmark.__version__,
    }
