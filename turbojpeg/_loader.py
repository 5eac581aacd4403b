"""Find libturbojpeg and tell which TurboJPEG API generation it offers.

The search order is one sequence, :func:`iter_candidates` (listed whole by
:func:`candidate_paths`). The first library that loads and exports a TurboJPEG
API wins, and the places after it are never computed: the linker's search by name
starts a subprocess, which an explicit path or an installed environment skips. Loading happens once per process and
per path: every ``Turbojpeg()`` shares the same :class:`LoadedLibrary`.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import LibraryNotFoundError

ENV_VAR = "TURBOJPEG_LIB"

_LIB_NAMES = ("libturbojpeg.so.0", "libturbojpeg.so", "libturbojpeg.dylib", "turbojpeg.dll")
_SYSTEM_DIRS = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
    "/opt/libjpeg-turbo/lib64",
    "/opt/libjpeg-turbo/lib",
    "/opt/homebrew/lib",
    "/usr/local/opt/jpeg-turbo/lib",
)


@dataclass(frozen=True)
class LoadedLibrary:
    path: str
    api: int  # 3 for the tj3* API (libjpeg-turbo >= 3.0), 2 for tjInit*/tjDecompress2
    cdll: ctypes.CDLL

    @property
    def version(self) -> str:
        return library_version(self.path)


_VERSION_PATTERN = re.compile(rb"libjpeg-turbo version ([0-9]+\.[0-9]+\.[0-9]+)")


def library_version(path: str) -> str:
    """The version libjpeg-turbo compiles into its message table ("unknown" if absent).

    The TurboJPEG API has no version call, so we read the string from the file.
    """
    resolved = path if os.sep in path else _find_library() or path
    try:
        with open(resolved, "rb") as f:
            match = _VERSION_PATTERN.search(f.read())
    except OSError:
        return "unknown"
    return match.group(1).decode() if match else "unknown"


def _find_library() -> str | None:
    """ctypes' own search by name, the last place tried. ``ctypes.util`` imports
    ``subprocess``, so it is imported here, when a search gets this far, not with
    the package (framereader imports turbojpeg when a reader meets MJPEG)."""
    import ctypes.util

    return ctypes.util.find_library("turbojpeg")


def _prefix_candidates(prefix: str | os.PathLike[str]) -> list[str]:
    root = Path(prefix)
    dirs = (root / "lib", root / "lib" / "libjpeg-turbo" / "lib", root / "Library" / "bin")
    return [str(d / name) for d in dirs for name in _LIB_NAMES]


def installed_prefix(module_file: str | os.PathLike[str] = __file__) -> Path | None:
    """The environment this package is installed in: ``<prefix>`` for a module at
    ``<prefix>/lib/pythonX.Y/site-packages/turbojpeg/``; None anywhere else (a
    source checkout, an editable install, a zip)."""
    package = Path(module_file).resolve().parent
    site, lib = package.parent, package.parent.parent.parent
    if site.name == "site-packages" and site.parent.name.startswith("python") and lib.name == "lib":
        return lib.parent
    return None


def iter_candidates(lib_path: str | os.PathLike[str] | None = None) -> Iterator[tuple[str, str]]:
    """Every place looked at, in order, as ``(origin, path)`` pairs: an explicit path,
    ``$TURBOJPEG_LIB``, the active conda prefix (``$CONDA_PREFIX``), the environment
    this package is installed in, ``sys.prefix``, the linker's search, system places.
    Lazily: each group is computed only when the ones before it were all refused."""
    if lib_path is not None:
        yield "lib_path argument", os.fspath(lib_path)
    if os.environ.get(ENV_VAR):
        yield f"${ENV_VAR}", os.environ[ENV_VAR]
    if os.environ.get("CONDA_PREFIX"):
        yield from (("active conda prefix", p)
                    for p in _prefix_candidates(os.environ["CONDA_PREFIX"]))  # fmt: skip
    installed = installed_prefix()
    if installed is not None:
        yield from (("the environment turbojpeg is installed in", p)
                    for p in _prefix_candidates(installed))  # fmt: skip
    yield from (("sys.prefix", p) for p in _prefix_candidates(sys.prefix))
    by_name = _find_library()
    if by_name:
        yield "ctypes.util.find_library", by_name
    yield from (("system", str(Path(d) / n)) for d in _SYSTEM_DIRS for n in _LIB_NAMES)


def candidate_paths(lib_path: str | os.PathLike[str] | None = None) -> list[tuple[str, str]]:
    """:func:`iter_candidates`, every place listed (the linker's search included)."""
    return list(iter_candidates(lib_path))


def api_generation(cdll: ctypes.CDLL) -> int | None:
    if hasattr(cdll, "tj3Init"):
        return 3
    if hasattr(cdll, "tjInitDecompress") and hasattr(cdll, "tjDecompressHeader3"):
        return 2
    return None


_cache: dict[str, LoadedLibrary] = {}
_lock = threading.Lock()


def _open(path: str) -> LoadedLibrary | str:
    """A LoadedLibrary, or the reason this path is not one."""
    if os.sep in path and not os.path.exists(path):
        return "no such file"
    try:
        cdll = ctypes.CDLL(path)
    except OSError as exc:
        return f"cannot load: {exc}"
    api = api_generation(cdll)
    if api is None:
        return "loads, but exports no TurboJPEG 2 or 3 API"
    return LoadedLibrary(path=path, api=api, cdll=cdll)


def load_library(lib_path: str | os.PathLike[str] | None = None) -> LoadedLibrary:
    """The first usable library in :func:`iter_candidates`, loaded once per process.

    An explicit ``lib_path`` (or ``$TURBOJPEG_LIB``) that does not work is an
    error in itself: we never fall back silently from what the user asked for.
    """
    tried: list[str] = []
    for origin, path in iter_candidates(lib_path):
        with _lock:
            loaded = _cache.get(path)
            if loaded is None:
                result = _open(path)
                if isinstance(result, LoadedLibrary):
                    loaded = _cache[path] = result
        if loaded is not None:
            return loaded
        tried.append(f"  {origin}: {path} ({result})")
        if origin in ("lib_path argument", f"${ENV_VAR}"):
            raise LibraryNotFoundError(
                f"the libturbojpeg requested by {origin} is unusable: {path} ({result})"
            )
    raise LibraryNotFoundError(
        "libturbojpeg was not found. Tried, in order:\n"
        + "\n".join(tried)
        + "\nFix it by one of: installing libjpeg-turbo (`conda install libjpeg-turbo`, "
        "`apt-get install libturbojpeg0`, `brew install jpeg-turbo`), or pointing "
        f"${ENV_VAR} / Turbojpeg(lib_path=...) at a libturbojpeg you built."
    )
