"""The fast tests run as on a fresh machine: without the benchmark environments,
even where `bash tools/run.sh main` has installed them in this checkout. The slow
tests use them, as tools/run.sh test-slow names them."""

import pytest

from tests.benchmarks.fresh_machine import hide_benchmark_environments


@pytest.fixture(autouse=True)
def _no_benchmark_environments(request, tmp_path_factory, monkeypatch):
    if request.node.get_closest_marker("slow"):
        return
    hide_benchmark_environments(monkeypatch, tmp_path_factory.mktemp("no-benchmark-environments"))
