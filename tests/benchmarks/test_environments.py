"""benchmarks/environments.py: the suites find the benchmark environments where
tools/run.sh installs them, and a variable overrides the place."""

import pytest

from benchmarks import environments


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setattr(environments, "DEFAULT_ROOT", tmp_path / "envs")
    for variable in environments.VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("TURBOJPEG_LIB", raising=False)
    return tmp_path / "envs"


def test_the_default_place_is_used_without_a_variable(root):
    (root / "bench" / "conda-meta").mkdir(parents=True)
    assert environments.get("bench").prefix == root / "bench"


def test_a_missing_environment_names_its_place_and_the_command(root):
    with pytest.raises(environments.EnvironmentUnavailable) as caught:
        environments.get("bench-ijg")
    message = str(caught.value)
    assert str(root / "bench-ijg") in message
    assert "does not exist" in message
    assert "bash tools/run.sh main" in message
    assert "environment-ijg.yml" in message
    assert "$BENCH_IJG_PREFIX overrides it" in message


def test_the_variable_overrides_the_default(root, tmp_path, monkeypatch):
    (root / "bench" / "conda-meta").mkdir(parents=True)
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("BENCH_PREFIX", str(other))
    with pytest.raises(
        environments.EnvironmentUnavailable, match=r"no conda-meta.*\$BENCH_PREFIX="
    ):
        environments.get("bench")
    (other / "conda-meta").mkdir()
    assert environments.get("bench").prefix == other


def test_our_libturbojpeg_is_the_bench_environments_unless_named(root, monkeypatch):
    assert environments.turbojpeg_library() is None  # no environment: turbojpeg's own search
    lib = root / "bench" / "lib"
    (root / "bench" / "conda-meta").mkdir(parents=True)
    lib.mkdir()
    (lib / "libturbojpeg.so.0").write_bytes(b"")
    assert environments.turbojpeg_library() == str(lib / "libturbojpeg.so.0")
    monkeypatch.setenv("TURBOJPEG_LIB", "/somewhere/libturbojpeg.so.0")
    assert environments.turbojpeg_library() == "/somewhere/libturbojpeg.so.0"
