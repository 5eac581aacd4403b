"""Helpers shared by the benchmark modules (kept out of conftest so they can be imported)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import peers
from benchmarks.jpeg import contenders
from benchmarks.micro.images import Frame

_made: dict[str, contenders.Contender | str] = {}


def get_contender(name: str) -> contenders.Contender:
    """The named contender, made once per session; skips the test when it is unavailable."""
    if name not in _made:
        try:
            _made[name] = contenders.make(name)
        except peers.PeerUnavailable as exc:
            _made[name] = str(exc)
    found = _made[name]
    if isinstance(found, str):
        pytest.skip(f"{name}: {found}")
    return found


def source_for(contender: contenders.Contender, frame: Frame) -> np.ndarray:
    """The pixels this contender takes: the frame's BGR, or an RGB copy made up front."""
    if contender.needs_rgb:
        return np.ascontiguousarray(frame.bgr[:, :, ::-1])
    return frame.bgr


def check_pixels(who: str, decoded: np.ndarray, expected: np.ndarray, *, tolerance=8.0) -> None:
    """Untimed sanity check: same shape, and values within JPEG's loss of the source."""
    assert decoded.shape == expected.shape, (who, decoded.shape, expected.shape)
    error = float(np.abs(decoded.astype(np.int16) - expected).mean())
    assert error < tolerance, f"{who}: mean absolute error {error:.2f} against the source"


def check_decoded(contender: contenders.Contender, frame: Frame, decoded: np.ndarray) -> None:
    check_pixels(f"{contender.name} decoding {frame.name}", decoded, source_for(contender, frame))


def describe(
    benchmark,
    group: str,
    op: str,
    who: contenders.Contender | str,
    frame: Frame | None = None,
    **extra,
) -> None:
    """Name the group and fill extra_info (what summary.py reads); ``extra`` wins."""
    benchmark.group = group
    info = benchmark.extra_info
    info["op"] = op
    if isinstance(who, str):
        info["contender"] = who
    else:
        info.update(who.info())
    if frame is not None:
        info.update(frame.info())
    info.update(extra)
