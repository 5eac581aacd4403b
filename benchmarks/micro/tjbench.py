"""Run libjpeg-turbo's own ``tjbench`` and read its table.

``tjbench`` comes from the same build as the library we load: it sits in
``<prefix>/bin`` next to ``<prefix>/lib/libturbojpeg.so.0``. With ``-quiet``
it prints a table, all rates in Mpixels/s, whose header is two lines of
column names and whose data rows line up with them, e.g. (3.1.3)::

    Pixel     JPEG             Image  Image   Xform   Comp    Decomp
    Format    Format           Width  Height  Perf    Ratio   Perf

    BGR (TD)  8 /YCbCr/4:2:0   960    540     N/A     N/A     332.1

for a JPEG input (decompression only), and for a PPM/BMP input::

    Pixel     JPEG      JPEG  Image  Image   Comp    Comp    Decomp
    Format    Format    Qual  Width  Height  Perf    Ratio   Perf

    BGR (TD)  8 /4:2:0  95    960    540     372.5   10.67   N/A
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchmarks.peers import PeerUnavailable

BENCHTIME = 2.0  # seconds timed per test (tjbench -benchtime)
WARMUP = 1.0  # seconds run before timing (tjbench -warmup)


def locate(lib_path: str | os.PathLike[str]) -> Path:
    """``tjbench`` of the build that holds ``lib_path``; PeerUnavailable if there is none."""
    lib = Path(lib_path).resolve()
    exe = lib.parent.parent / "bin" / "tjbench"
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        raise PeerUnavailable(
            f"no tjbench next to {lib_path} (looked for {exe}); it comes with a libjpeg-turbo build"
        )
    return exe


@dataclass(frozen=True)
class Result:
    command: list[str]
    columns: dict[str, str]  # "Comp Perf" -> "372.5", ... for the first data row
    output: str

    def rate(self, column: str) -> float:
        """A column in Mpixels/s (ValueError when tjbench printed N/A or nothing)."""
        value = self.columns.get(column)
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(
                f"tjbench printed {value!r} for {column!r}; its output was:\n{self.output}"
            ) from None


def run(exe: Path, image: Path, *args: str, timeout: float = 300) -> Result:
    """``tjbench image *args -quiet -nowrite -benchtime .. -warmup ..``, parsed."""
    command = [
        str(exe),
        str(image),
        *args,
        "-quiet",
        "-nowrite",
        "-benchtime",
        str(BENCHTIME),
        "-warmup",
        str(WARMUP),
    ]
    lib_dir = str(exe.parent.parent / "lib")
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [lib_dir, env.get("LD_LIBRARY_PATH")]))
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 or "ERROR" in output:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{output}")
    return Result(command=command, columns=parse_table(output), output=output)


_WORD = re.compile(r"\S+")


def parse_table(output: str) -> dict[str, str]:
    """Column name -> value of the first data row of a ``tjbench -quiet`` table.

    Columns are found by position: each header word starts a column that
    reaches to the next header word, and a data value belongs to the column
    it starts in (values such as "BGR (TD)" hold spaces, so splitting on
    whitespace would not do).
    """
    lines = output.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith("Pixel") and lines[i + 1].startswith("Format"):
            top, bottom = line, lines[i + 1]
            rows = [r for r in lines[i + 2 :] if r.strip()]
            break
    else:
        raise ValueError(f"no tjbench table in:\n{output}")
    if not rows:
        raise ValueError(f"the tjbench table has no data row:\n{output}")
    starts = sorted(
        {m.start() for m in _WORD.finditer(top)} | {m.start() for m in _WORD.finditer(bottom)}
    )
    names = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else None
        names.append(" ".join(filter(None, (top[start:end].strip(), bottom[start:end].strip()))))
    values: dict[str, list[str]] = {name: [] for name in names}
    for m in _WORD.finditer(rows[0]):
        column = max((k for k, s in enumerate(starts) if s <= m.start()), default=0)
        values[names[column]].append(m.group())
    return {name: " ".join(v) for name, v in values.items()}
