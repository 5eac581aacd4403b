"""The micro suite: pytest-benchmark runs the ``test_*.py`` modules beside this one.

    python -m benchmarks micro [--full] [--out results/micro]

The run leaves ``benchmark.json`` (pytest-benchmark's ``--benchmark-json``, with every
round's time) and ``provenance.json`` in the output folder, for ``report.py``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks import results
from benchmarks.micro import images

# Without --full: enough rounds for a median, in a few minutes.
QUICK_TIMING = ("--benchmark-max-time=0.15", "--benchmark-min-rounds=5")


def run(out: Path, *, full: bool = False, command: Sequence[str] | None = None) -> int:
    """Run the suite into ``out``; pytest's exit code. No ``benchmark.json``: it failed early."""
    import pytest

    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "benchmark.json"
    json_path.unlink(missing_ok=True)  # a previous run's must not pass for this one's
    code = pytest.main(
        [
            str(Path(__file__).parent),
            "--benchmark-only",
            f"--benchmark-json={json_path}",
            "--benchmark-save-data",  # every round's time, for the report's intervals
            "-o",
            "testpaths=",
            "-q",
            "-p",
            "no:cacheprovider",
            *([] if full else QUICK_TIMING),
        ]
    )
    if json_path.exists():
        record = results.provenance("micro", command or sys.argv, images.BATCH_SEED)
        record |= {"full": full, "pytest_exit_code": int(code)}
        (out / "provenance.json").write_text(json.dumps(record, indent=1, default=str))
    return int(code)
