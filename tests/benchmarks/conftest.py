"""The fast tests run as on a fresh machine: without the benchmark environments,
even where `bash tools/run.sh main` has installed them in this checkout (the suites
would find them there by default). The slow tests use them, as tools/run.sh
test-slow names them."""

import pytest

from benchmarks import environments


@pytest.fixture(autouse=True)
def _no_benchmark_environments(request, tmp_path_factory, monkeypatch):
    if request.node.get_closest_marker("slow"):
        return
    absent = tmp_path_factory.mktemp("no-benchmark-environments")
    for role, variable in environments.VARIABLES.items():
        # a variable, so that the suites' worker processes see the same
        monkeypatch.setenv(variable, str(absent / role))
