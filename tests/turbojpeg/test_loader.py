"""Finding libturbojpeg: the search order, the override and the error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import turbojpeg
from turbojpeg import LibraryNotFoundError, _loader


def test_environment_variable_overrides_everything(lib_path, monkeypatch):
    monkeypatch.setenv("TURBOJPEG_LIB", lib_path)
    origin, first = _loader.candidate_paths()[0]
    assert (origin, first) == ("$TURBOJPEG_LIB", lib_path)
    assert turbojpeg.Turbojpeg().lib_path == lib_path


def test_a_usable_early_place_skips_the_linker_search(lib_path, monkeypatch):
    # ctypes.util.find_library starts a subprocess (ldconfig), about 8 ms of a cold open
    # of an MJPEG video: it runs only when every place before it was refused.
    def searched():
        raise AssertionError("the linker's search ran although an earlier place was usable")

    monkeypatch.setattr(_loader, "_find_library", searched)
    monkeypatch.setattr(_loader, "_cache", {})
    monkeypatch.setenv("TURBOJPEG_LIB", lib_path)
    assert _loader.load_library().path == lib_path
    monkeypatch.delenv("TURBOJPEG_LIB")
    assert _loader.load_library(lib_path).path == lib_path


def test_explicit_path_beats_environment(lib_path, tj3_path, monkeypatch):
    monkeypatch.setenv("TURBOJPEG_LIB", tj3_path)
    assert turbojpeg.Turbojpeg(lib_path).lib_path == lib_path


def test_search_order(monkeypatch, tmp_path):
    monkeypatch.setenv("TURBOJPEG_LIB", "/from/env/libturbojpeg.so.0")
    monkeypatch.setenv("CONDA_PREFIX", str(tmp_path / "env"))
    origins = [origin for origin, _ in _loader.candidate_paths("/explicit.so")]
    order = [
        "lib_path argument",
        "$TURBOJPEG_LIB",
        "active conda prefix",
        "sys.prefix",
        "system",
    ]
    positions = [origins.index(o) for o in order]
    assert positions == sorted(positions)
    paths = [p for _, p in _loader.candidate_paths()]
    # The prefixed (noclob) layout is searched inside a conda prefix.
    assert str(tmp_path / "env" / "lib" / "libjpeg-turbo" / "lib" / "libturbojpeg.so.0") in paths


def test_unusable_explicit_path_is_an_error_not_a_fallback(tmp_path):
    with pytest.raises(LibraryNotFoundError, match="requested by lib_path argument is unusable"):
        turbojpeg.Turbojpeg(tmp_path / "missing.so")
    not_a_library = tmp_path / "libturbojpeg.so.0"
    not_a_library.write_bytes(b"\x7fELF nonsense")
    with pytest.raises(LibraryNotFoundError, match="cannot load"):
        turbojpeg.Turbojpeg(not_a_library)


def test_a_library_without_turbojpeg_is_refused():
    libc = "libc.so.6"
    with pytest.raises(LibraryNotFoundError, match="exports no TurboJPEG 2 or 3 API"):
        turbojpeg.Turbojpeg(libc)


def test_nothing_found_lists_every_path_and_the_fix(monkeypatch, tmp_path):
    tried = [("system", str(tmp_path / f"lib{i}.so")) for i in range(3)]
    monkeypatch.setattr(_loader, "iter_candidates", lambda lib_path=None: iter(tried))
    with pytest.raises(LibraryNotFoundError) as caught:
        _loader.load_library()
    message = str(caught.value)
    for _, path in tried:
        assert path in message
    assert "conda install libjpeg-turbo" in message
    assert "TURBOJPEG_LIB" in message
    assert "run.sh" not in message  # the library knows nothing about this checkout


def test_loaded_once_per_process(lib_path):
    assert turbojpeg.load_library(lib_path) is turbojpeg.load_library(lib_path)
    a, b = turbojpeg.Turbojpeg(lib_path), turbojpeg.Turbojpeg(lib_path)
    assert a.library is b.library
    assert a._api is b._api


def test_version_and_generation(lib_path):
    codec = turbojpeg.Turbojpeg(lib_path)
    version = turbojpeg.version(lib_path)
    assert version.split(".")[0] == str(codec.api_generation)
    assert f"api={codec.api_generation}" in repr(codec)


def test_fresh_interpreter_without_any_library(tmp_path):
    # No env var, no conda, nothing on the system paths.
    code = (
        "import turbojpeg, turbojpeg._loader as L\n"
        "L._SYSTEM_DIRS = ()\n"
        "import ctypes.util; ctypes.util.find_library = lambda name: None\n"
        "try:\n"
        "    turbojpeg.Turbojpeg()\n"
        "except turbojpeg.LibraryNotFoundError as e:\n"
        "    print('ERR', e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("TURBOJPEG_LIB", "CONDA_PREFIX")}
    env["PYTHONPATH"] = os.getcwd()
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert result.stdout.startswith("ERR libturbojpeg was not found. Tried, in order:")
    assert ".build" not in result.stdout  # no path of this checkout is searched


def test_prefixed_turbo_and_libjpeg9_in_one_process(tmp_path):
    """The prefixed (noclob) layout is found in a conda prefix, and decodes in a
    process that also has IJG libjpeg 9e loaded (through jpeglib), each correctly."""
    import os

    import jpeglib
    import numpy as np
    from skimage import data

    prefix = os.environ.get("TURBOJPEG_PREFIXED_PREFIX")
    if not prefix:
        pytest.fail(
            "TURBOJPEG_PREFIXED_PREFIX is not set: run the tests with bash tools/run.sh test"
        )
    code = "import turbojpeg\ntj = turbojpeg.Turbojpeg()\nprint(tj.lib_path)\n"
    env = {k: v for k, v in os.environ.items() if k != "TURBOJPEG_LIB"} | {
        "CONDA_PREFIX": prefix,
        "PYTHONPATH": os.getcwd(),
    }
    found = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == f"{prefix}/lib/libjpeg-turbo/lib/libturbojpeg.so.0"

    rgb = np.ascontiguousarray(data.astronaut()[:128, :192])
    turbo = turbojpeg.Turbojpeg(found)
    with jpeglib.version("9e"):
        path = str(tmp_path / "nine.jpg")
        jpeglib.from_spatial(rgb).write_spatial(path, qt=95)
        nine = jpeglib.read_spatial(path).spatial
    ours = turbo.decode((tmp_path / "nine.jpg").read_bytes(), "RGB")
    assert turbojpeg.version(found).startswith("3.")
    # Both decoders read libjpeg 9's file to nearly the same pixels (their IDCTs differ slightly).
    assert np.abs(ours.astype(int) - nine).mean() < 1.0
    assert (
        np.abs(
            turbo.decode(turbo.encode(rgb, 95, pixel_format="RGB"), "RGB").astype(int) - rgb
        ).mean()
        < 3
    )


def test_the_version_is_written_once():
    import importlib.metadata
    import tomllib

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert "version" not in project["project"]  # dynamic: from turbojpeg.__version__
    assert importlib.metadata.version("accelerated-codecs") == turbojpeg.__version__


def test_a_missing_library_is_a_turbojpeg_error_and_an_os_error():
    """One ``except TurbojpegError`` catches every error of the package, this one too."""
    from turbojpeg import TurbojpegError

    assert issubclass(LibraryNotFoundError, TurbojpegError)
    assert issubclass(LibraryNotFoundError, OSError)
    with pytest.raises(TurbojpegError, match="requested by lib_path argument is unusable") as info:
        _loader.load_library("/nonexistent/libturbojpeg.so.0")
    assert info.value.code is None  # raised before any library call


def test_the_environment_turbojpeg_is_installed_in(tmp_path):
    module = tmp_path / "env" / "lib" / "python3.11" / "site-packages" / "turbojpeg" / "_loader.py"
    module.parent.mkdir(parents=True)
    module.write_text("")
    assert _loader.installed_prefix(module) == tmp_path / "env"
    checkout = tmp_path / "src" / "turbojpeg" / "_loader.py"
    checkout.parent.mkdir(parents=True)
    checkout.write_text("")
    assert _loader.installed_prefix(checkout) is None
