"""A pytest plugin for PyAV's own suite on a machine without network.

PyAV's tests fetch FFmpeg's FATE samples on first use (av.datasets.cached_download).
Where that download cannot be made, the test is skipped, naming the sample, rather
than failing on a network error; where it can (conda-build with network, or a
PYAV_TESTDATA_DIR that holds the samples), nothing changes.

A few tests name a GPL encoder (libx264, libx265). With the LGPL FFmpeg, which has
none by design, such a test is skipped, naming the encoder; with the GPL one it runs.
The summary line counts both kinds.
"""

import urllib.error

import av.datasets
import pytest

_download = av.datasets.cached_download
_skipped: list[str] = []
_gpl_only: list[str] = []
GPL_ENCODERS = ("libx264", "libx265")


def _cached_download_or_skip(url: str, name: str) -> str:
    try:
        return _download(url, name)
    except (urllib.error.URLError, OSError) as exc:
        _skipped.append(name)
        # allow_module_level: some test modules fetch a sample when they are imported.
        pytest.skip(f"FATE sample {name} cannot be downloaded here: {exc}", allow_module_level=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that failed on a missing GPL encoder, in an FFmpeg without them, is
    reported as skipped with that reason (unittest-style tests too: their error
    reaches pytest only here)."""
    report = yield
    error = call.excinfo.value if call.excinfo is not None else None
    if report.when == "call" and isinstance(error, av.codec.codec.UnknownCodecError):
        name = str(error.args[0]) if error.args else ""
        if name in GPL_ENCODERS and name not in av.codecs_available:
            _gpl_only.append(item.nodeid)
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0,
                               f"needs the GPL encoder {name}; this FFmpeg is the LGPL build")  # fmt: skip
    return report


def pytest_configure(config):
    av.datasets.cached_download = _cached_download_or_skip


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(
        f"pyav_offline: {len(set(_skipped))} FATE samples could not be downloaded; "
        f"the tests that need them were skipped; {len(_gpl_only)} tests need a GPL encoder "
        f"this FFmpeg does not have: {', '.join(_gpl_only) or 'none'}"
    )
