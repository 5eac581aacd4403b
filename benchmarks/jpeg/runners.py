"""Where a contender's calls run and are timed: each contender in a process of its own.

Every contender is made and timed in a process started fresh for it
(``benchmarks.sites``), so the libraries that process mapped are the contender's
alone (``extra["mapped"]``, read after its first decode), not every other
contender's libjpeg besides, and two builds of one module never meet. A
contender whose library lives in a benchmark environment
(``contenders.ENVIRONMENT``) gets that environment's site-packages first on its
``sys.path``. In the contender's process a ``LocalRunner`` serves it; the suite
holds a ``RemoteRunner`` for it, with the same interface:

    runner.describe()                     what the contender is (name, library, ...)
    runner.load(images)                   the pixels and reference JPEGs, once
    runner.timed(key, quality, op, warm)  one call, timed inside the process that runs it
    runner.roundtrip(key, quality)        its own encode (or the reference), then its decode
    runner.encode(key, quality)           its encoder alone, for bytes at equal SSIM

Images travel once; each timed call sends only a key, and the clock runs where
the call runs, so the pipe never enters a measurement. Ctrl-C is the suite's: a
contender's process ignores SIGINT, so the suite keeps what it measured and then
closes every process.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from benchmarks import environments, peers, sites
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
    process: str = "its own"  # and the site-packages first on its path, if any

    @property
    def needs_rgb(self) -> bool:
        return self.output == "RGB"


class LocalRunner:
    """A contender in this process: what the contender's own process serves."""

    def __init__(self, contender: contenders.Contender, process: str = "its own") -> None:
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
    """A contender made and timed in a process of its own."""

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


def serve(name: str, factory: Callable[[], contenders.Contender], process: str) -> LocalRunner:
    """What a contender's process serves: the contender, made there by ``factory``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the suite's to handle
    return LocalRunner(contenders.make(name, factory), process)


# Raised in a contender's process, these say why it cannot run: the suite gets them
# back as themselves, with their reason alone.
UNAVAILABLE = (peers.PeerUnavailable, environments.EnvironmentUnavailable)


def start(name: str) -> RemoteRunner:
    """The named contender's runner, in a process of its own, with its benchmark
    environment's site-packages first when it has one. Raises PeerUnavailable or
    EnvironmentUnavailable with the reason it cannot run, WorkerError (naming the
    exception) when making it failed otherwise, loaded.WrongLibrary when it loaded
    another library than the one it names."""
    role = contenders.ENVIRONMENT.get(name)
    site = None if role is None else environments.get(role).site_packages
    process = "its own" if site is None else f"its own, with {site} first on sys.path"
    # The suite's own registry entry, which pickles by name: the process imports it.
    factory = contenders.FACTORIES[name]
    try:
        worker = sites.Worker(site, "benchmarks.jpeg.runners:serve", name, factory, process)
    except sites.WorkerError as exc:
        for kind in UNAVAILABLE:  # the worker sends "<type>: <reason>"
            prefix = f"{kind.__name__}: "
            if str(exc).startswith(prefix):
                raise kind(str(exc).removeprefix(prefix)) from None
        raise
    return RemoteRunner(worker)
