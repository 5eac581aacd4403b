"""Where a contender's calls run and are timed: here, or in a process of its own.

A contender whose library lives in a benchmark environment
(``contenders.ENVIRONMENT``) cannot be imported here, so it is made and timed in
a site process (``benchmarks.sites``). The suite sees one interface either way:

    runner.describe()                     what the contender is (name, library, ...)
    runner.load(images)                   the pixels and reference JPEGs, once
    runner.timed(key, quality, op, warm)  one call, timed inside the process that runs it
    runner.roundtrip(key, quality)        its own encode (or the reference), then its decode
    runner.encode(key, quality)           its encoder alone, for bytes at equal SSIM

Images travel once; each timed call sends only a key, and the clock runs where
the call runs, so the pipe never enters a measurement.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from benchmarks import environments, sites
from benchmarks.jpeg import contenders

Key = tuple[str, str]  # (photo, size)


@dataclass(frozen=True)
class Description:
    name: str
    library: str
    notes: str
    output: str
    operations: tuple[str, ...]
    rate_distortion: bool
    extra: dict = field(default_factory=dict)
    process: str = "the suite's"  # or the site-packages the contender runs from

    @property
    def needs_rgb(self) -> bool:
        return self.output == "RGB"


class LocalRunner:
    """A contender in this process."""

    def __init__(self, contender: contenders.Contender, process: str = "the suite's") -> None:
        self.contender = contender
        self.process = process
        self.images: dict[Key, tuple[np.ndarray, dict[int, bytes]]] = {}

    def describe(self) -> Description:
        c = self.contender
        return Description(c.name, c.library, c.notes, c.output, c.operations,
                           c.rate_distortion, dict(c.extra), self.process)  # fmt: skip

    def load(self, images: list[tuple[Key, np.ndarray, dict[int, bytes]]]) -> None:
        rgb = self.contender.needs_rgb
        for key, bgr, reference in images:
            pixels = np.ascontiguousarray(bgr[:, :, ::-1]) if rgb else bgr
            self.images[key] = (pixels, reference)

    def _call(self, key: Key, quality: int, operation: str):
        pixels, reference = self.images[key]
        if operation == "decode":
            data = reference[quality]
            return lambda: self.contender.decode(data)
        return lambda: self.contender.encode(pixels, quality)

    def timed(self, key: Key, quality: int, operation: str, warm: int = 0) -> float:
        call = self._call(key, quality, operation)
        for _ in range(warm):
            call()
        start = time.perf_counter()
        call()
        return time.perf_counter() - start

    def roundtrip(self, key: Key, quality: int) -> tuple[int, np.ndarray]:
        pixels, reference = self.images[key]
        encode = self.contender.encode
        data = encode(pixels, quality) if encode else reference[quality]
        decoded = self.contender.decode(data)
        if decoded.shape != pixels.shape:
            raise ValueError(f"decoded shape {decoded.shape} != {pixels.shape}")
        return len(data), decoded

    def encode(self, key: Key, quality: int) -> bytes:
        return self.contender.encode(self.images[key][0], quality)

    def close(self) -> None:
        """Nothing to stop: the contender lives in this process."""


class RemoteRunner:
    """A contender made and timed in a site process."""

    def __init__(self, worker: sites.Worker) -> None:
        self.worker = worker
        self._description = worker.call("describe")

    def describe(self) -> Description:
        return self._description

    def load(self, images) -> None:
        self.worker.call("load", images)

    def timed(self, key: Key, quality: int, operation: str, warm: int = 0) -> float:
        return self.worker.call("timed", key, quality, operation, warm)

    def roundtrip(self, key: Key, quality: int) -> tuple[int, np.ndarray]:
        return self.worker.call("roundtrip", key, quality)

    def encode(self, key: Key, quality: int) -> bytes:
        return self.worker.call("encode", key, quality)

    def close(self) -> None:
        self.worker.close()


def serve(name: str, process: str) -> LocalRunner:
    """What a site process serves: the named contender, made there."""
    return LocalRunner(contenders.make(name), process)


def start(name: str) -> LocalRunner | RemoteRunner:
    """The named contender's runner: in its benchmark environment's process when it
    has one, else here. Raises PeerUnavailable, EnvironmentUnavailable or WorkerError
    with the reason it cannot run."""
    role = contenders.ENVIRONMENT.get(name)
    if role is None:
        return LocalRunner(contenders.make(name))
    site = environments.get(role).site_packages
    return RemoteRunner(sites.Worker(site, "benchmarks.jpeg.runners:serve", name, str(site)))
