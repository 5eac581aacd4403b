"""What a contender's process really loaded: the shared libraries behind its name.

A contender says which library it measures: our libjpeg-turbo, our FFmpeg from the
bench environment, the copy a wheel bundles. Its own process reads
``/proc/self/maps`` for the files it mapped, and ``expect_under`` /
``expect_outside`` fail the run when they are not the claimed ones, rather than
letting a figure carry a label it did not earn (our OpenCV that loaded the wheel's
FFmpeg, our wrapper that found Debian's libturbojpeg 2.x).
"""

from __future__ import annotations

import os
from pathlib import Path

MAPS = Path("/proc/self/maps")


class WrongLibrary(RuntimeError):
    """A contender loaded another library than the one it claims to measure."""


def mapped(fragment: str | tuple[str, ...], maps: Path = MAPS) -> list[str] | None:
    """The files this process has mapped whose name contains ``fragment`` (for
    example ``libavcodec``), or any one of several, sorted; None where there is no
    maps file to read."""
    if not maps.is_file():
        return None
    fragments = (fragment,) if isinstance(fragment, str) else fragment
    files = set()
    for line in maps.read_text().splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and any(f in os.path.basename(fields[5]) for f in fragments):
            files.add(fields[5])
    return sorted(files)


def _inside(path: str, prefix: Path) -> bool:
    real, root = os.path.realpath(path), os.path.realpath(prefix)
    return real == root or real.startswith(root + os.sep)


def expect_under(contender: str, library: str, files: list[str] | None, prefix: Path) -> None:
    """Every mapped ``library`` file of the contender lies in ``prefix`` (a directory
    or the file itself), and there is at least one. Nothing to check without maps."""
    if files is None:
        return
    if not files:
        raise WrongLibrary(f"{contender} claims {library} from {prefix}, but its process "
                           f"mapped no {library} at all")  # fmt: skip
    stray = [f for f in files if not _inside(f, prefix)]
    if stray:
        raise WrongLibrary(f"{contender} claims {library} from {prefix}, but its process "
                           f"mapped {', '.join(stray)}")  # fmt: skip


def expect_outside(contender: str, library: str, files: list[str] | None, prefix: Path) -> None:
    """No mapped ``library`` file of the contender lies in ``prefix``: a wheel that
    claims its bundled copy must not be measuring ours."""
    inside = [f for f in files or [] if _inside(f, prefix)]
    if inside:
        raise WrongLibrary(f"{contender} claims its own {library}, but its process mapped "
                           f"{', '.join(inside)} from {prefix}")  # fmt: skip
