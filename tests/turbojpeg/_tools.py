"""PNM files and libjpeg-turbo's command-line tools, for tests that compare with them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np


def read_pnm(data: bytes) -> np.ndarray:
    """A binary PGM or PPM as an (h, w, channels) array: uint8 up to maxval 255,
    else uint16 (PNM stores those samples big-endian). Comments are skipped."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1  # the single whitespace byte before the samples
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    channels = {b"P5": 1, b"P6": 3}[magic]
    count = width * height * channels
    if maxval > 255:
        samples = np.frombuffer(data, ">u2", count, pos).astype(np.uint16)
    else:
        samples = np.frombuffer(data, np.uint8, count, pos).copy()
    return samples.reshape(height, width, channels)


def write_pnm(image: np.ndarray, maxval: int) -> bytes:
    """``image`` ((h, w, 1) or (h, w, 3)) as a binary PGM or PPM with this maxval."""
    height, width, channels = image.shape
    magic = b"P5" if channels == 1 else b"P6"
    body = image.astype(">u2" if maxval > 255 else np.uint8).tobytes()
    return magic + b"\n%d %d\n%d\n" % (width, height, maxval) + body


def run(folder: Path, tool: str, *args: str, data: bytes | None = None) -> bytes:
    """Run ``folder/tool args`` with ``data`` on stdin; its stdout."""
    proc = subprocess.run([str(folder / tool), *args], input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"{tool} {' '.join(args)} failed: {proc.stderr.decode()[-500:]}")
    return proc.stdout
