"""Site processes: a library from another site-packages, in a fresh process."""

import os
import sys
import time

import pytest

from benchmarks import sites


class Echo:
    """Served in the worker: reports where it runs and what it imported."""

    def __init__(self, module: str) -> None:
        self.module = __import__(module)

    def where(self):
        return self.module.__file__, sys.path[0]

    def sleep(self, seconds):
        time.sleep(seconds)

    def variable(self, name):
        return os.environ.get(name)

    def fail(self):
        raise ValueError("asked to fail")


def make_echo(module: str) -> Echo:
    return Echo(module)


def test_a_site_module_shadows_this_process(tmp_path):
    (tmp_path / "json.py").write_text("MARK = 'shadow'\n")
    worker = sites.Worker(tmp_path, "tests.benchmarks.test_sites:make_echo", "json")
    try:
        path, first = worker.call("where")
    finally:
        worker.close()
    assert path == str(tmp_path / "json.py")
    assert first == str(tmp_path)
    import json

    assert json.__file__ != path  # this process keeps its own


def test_errors_come_back_named(tmp_path):
    worker = sites.Worker(None, "tests.benchmarks.test_sites:make_echo", "json")
    try:
        with pytest.raises(sites.WorkerError, match="ValueError: asked to fail"):
            worker.call("fail")
        assert worker.call("where")[0].endswith("json/__init__.py")  # still serving
    finally:
        worker.close()


def test_a_factory_that_fails_is_a_worker_error():
    with pytest.raises(sites.WorkerError, match="ModuleNotFoundError"):
        sites.Worker(None, "tests.benchmarks.test_sites:make_echo", "no_such_module_here")


def test_an_unknown_method_is_a_worker_error():
    worker = sites.Worker(None, "os:getcwd")
    try:
        with pytest.raises(sites.WorkerError, match="AttributeError"):
            worker.call("no_such_method")
    finally:
        worker.close()


def test_a_worker_that_dies_says_so():
    with pytest.raises(sites.WorkerError, match=r"the worker died \(exit code 3\)"):
        sites.Worker(None, "os:_exit", 3)


def test_a_call_past_its_timeout_kills_the_worker():
    worker = sites.Worker(None, "tests.benchmarks.test_sites:make_echo", "json")
    try:
        with pytest.raises(sites.WorkerTimeout, match="no answer within 1 s"):
            worker.call("sleep", 30, timeout=1)
        assert not worker.alive()
    finally:
        worker.close()


def test_variables_reach_the_worker_and_not_this_process(monkeypatch):
    monkeypatch.delenv("SITES_TEST_MARK", raising=False)
    worker = sites.Worker(
        None, "tests.benchmarks.test_sites:make_echo", "json", variables={"SITES_TEST_MARK": "x"}
    )
    try:
        assert worker.call("variable", "SITES_TEST_MARK") == "x"
    finally:
        worker.close()
    assert "SITES_TEST_MARK" not in os.environ
