"""Loading the other JPEG libraries we compare against.

PyTurboJPEG's module is called ``turbojpeg``, like ours, so tools/run.sh
installs it outside site-packages (``.build/peers``) and we import it from
that file under the name ``pyturbojpeg``. Every loader here raises
:class:`PeerUnavailable` with a readable reason instead of failing some other
way, so a benchmark can skip a missing peer and go on with the rest.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
PEERS_DIR = ROOT / ".build" / "peers"
PYTURBOJPEG_MODULE = "pyturbojpeg"


class PeerUnavailable(RuntimeError):
    """A peer library is not installed or cannot run here; the message says why."""


def load_pyturbojpeg(peers_dir: str | os.PathLike[str] | None = None) -> ModuleType:
    """PyTurboJPEG's ``turbojpeg.py``, imported as the module ``pyturbojpeg``."""
    if PYTURBOJPEG_MODULE in sys.modules:
        return sys.modules[PYTURBOJPEG_MODULE]
    path = Path(peers_dir if peers_dir is not None else PEERS_DIR) / "turbojpeg.py"
    if not path.is_file():
        raise PeerUnavailable(
            f"PyTurboJPEG is not installed at {path} (tools/run.sh setup puts it there)"
        )
    spec = importlib.util.spec_from_file_location(PYTURBOJPEG_MODULE, path)
    if spec is None or spec.loader is None:
        raise PeerUnavailable(f"cannot import {path} as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[PYTURBOJPEG_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[PYTURBOJPEG_MODULE]
        raise PeerUnavailable(f"importing PyTurboJPEG from {path} failed: {exc!r}") from exc
    return module


def pyturbojpeg(lib_path: str | os.PathLike[str]):
    """A ``pyturbojpeg.TurboJPEG`` on the given libturbojpeg (it needs libjpeg-turbo >= 3)."""
    module = load_pyturbojpeg()
    try:
        return module.TurboJPEG(lib_path=os.fspath(lib_path))
    except Exception as exc:  # RuntimeError for a 2.x library, OSError if it will not load
        raise PeerUnavailable(f"PyTurboJPEG cannot use {lib_path}: {exc}") from exc


def import_peer(name: str) -> ModuleType:
    """``importlib.import_module`` that raises PeerUnavailable when the package is missing."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise PeerUnavailable(f"{name} is not installed: {exc}") from exc
