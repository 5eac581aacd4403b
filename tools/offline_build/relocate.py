"""Relocation: the rpaths of a build's ELF files made ``$ORIGIN``-relative, as
conda-build's post-processing makes them, with patchelf."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from . import BuildError
from .elf import is_dynamic_elf


def ensure_patchelf() -> str:
    found = shutil.which("patchelf")
    if found:
        return found
    command = ["apt-get", "install", "-y", "patchelf"]
    if os.geteuid() != 0:
        raise BuildError(f"patchelf is not installed; run: sudo {' '.join(command)}")
    print(f"relocate: patchelf missing, running: {' '.join(command)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    installed = subprocess.run(command, env=env, check=False).returncode == 0
    if not installed or not shutil.which("patchelf"):
        raise BuildError(f"could not install patchelf ({' '.join(command)} failed)")
    return shutil.which("patchelf")


def _origin(target: Path, origin: Path) -> str:
    """target as an rpath entry relative to the directory origin: $ORIGIN/../lib."""
    rel = os.path.relpath(target, origin)
    return "$ORIGIN" if rel == "." else f"$ORIGIN/{rel}"


def relocate(prefix: Path, skip: set[str] = frozenset()) -> None:
    """What conda-build's post-processing does to rpaths: $ORIGIN-relative to lib/.

    Paths in skip (relative to prefix: the host packages' files) are left alone.
    """
    patchelf = ensure_patchelf()
    for sub in ("bin", "lib"):
        for path in sorted((prefix / sub).rglob("*")):
            if path.is_symlink() or not path.is_file() or not is_dynamic_elf(path):
                continue
            if path.relative_to(prefix).as_posix() in skip:
                continue
            entries = [_origin(prefix / "lib", path.parent)]
            # Like conda-build: the build's own entries that point inside the prefix
            # become $ORIGIN-relative (a nested layout needs them); others go.
            current = subprocess.run([patchelf, "--print-rpath", str(path)], capture_output=True,
                                     text=True, check=False).stdout.strip()  # fmt: skip
            for entry in filter(None, current.split(":")):
                if entry.startswith(str(prefix)):  # -Wl,-rpath,$PREFIX/lib from LDFLAGS
                    entry = _origin(Path(entry), path.parent)
                if entry.startswith("$ORIGIN") and entry not in entries:
                    entries.append(entry)
            rpath = ":".join(entries)
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
            proc = subprocess.run([patchelf, "--force-rpath", "--set-rpath", rpath, str(path)],
                                  capture_output=True, text=True, check=False)  # fmt: skip
            if proc.returncode != 0:
                raise BuildError(f"patchelf failed on {path}: {proc.stderr.strip()}")
            print(f"relocate: {path.relative_to(prefix)} rpath={rpath}")
