"""Find libturbojpeg and tell which TurboJPEG API generation it offers.

The search order is one list, :func:`candidate_paths`. The first library that
loads and exports a TurboJPEG API wins. Loading happens once per process and
per path: every ``Turbojpeg()`` shares the same :class:`LoadedLibrary`.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import threading
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


def candidate_paths(lib_path: str | os.PathLike[str] | None = None) -> list[tuple[str, str]]:
    """Every place looked at, in order, as ``(origin, path)`` pairs: an explicit path,
    ``$TURBOJPEG_LIB``, the active conda prefix (``$CONDA_PREFIX``), the environment
    this package is installed in, ``sys.prefix``, the linker's search, system places."""
    found: list[tuple[str, str]] = []
    if lib_path is not None:
        found.append(("lib_path argument", os.fspath(lib_path)))
    if os.environ.get(ENV_VAR):
        found.append((f"${ENV_VAR}", os.environ[ENV_VAR]))
    if os.environ.get("CONDA_PREFIX"):
        found += [
            ("active conda prefix", p) for p in _prefix_candidates(os.environ["CONDA_PREFIX"])
        ]
    installed = installed_prefix()
    if installed is not None:
        found += [("the environment turbojpeg is installed in", p)
                  for p in _prefix_candidates(installed)]  # fmt: skip
    found += [("sys.prefix", p) for p in _prefix_candidates(sys.prefix)]
    by_name = _find_library()
    if by_name:
        found.append(("ctypes.util.find_library", by_name))
    found += [("system", str(Path(d) / n)) for d in _SYSTEM_DIRS for n in _LIB_NAMES]
    return found


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
    """The first usable library in :func:`candidate_paths`, loaded once per process.

    An explicit ``lib_path`` (or ``$TURBOJPEG_LIB``) that does not work is an
    error in itself: we never fall back silently from what the user asked for.
    """
    tried: list[str] = []
    for origin, path in candidate_paths(lib_path):
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
