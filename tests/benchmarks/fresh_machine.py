"""The benchmark environments hidden, as on a fresh machine where `bash tools/run.sh
main` has not installed them (the suites would find this checkout's by default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import environments


def hide_benchmark_environments(patch: pytest.MonkeyPatch, folder: Path) -> None:
    """Point every environment's variable into ``folder``, where none exists: set in the
    environment, so that the suites' worker processes see the same."""
    for role, variable in environments.VARIABLES.items():
        patch.setenv(variable, str(folder / role))
