"""``Turbojpeg.decode_many``: a batch decoded on a pool of threads.

ctypes releases the GIL in each library call, and each thread decodes on its
own handles, so the threads run in parallel. Every image's header is read
first, to learn whether one ``(N, height, width, channels)`` array holds the
batch. ``codec.Turbojpeg`` passes itself in (``Codec``: what this module uses
of it) with its ``Pool``.
"""

from __future__ import annotations

import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Protocol

import numpy as np

from . import _exif, _warn
from ._backend import Decompressor, HeaderReader
from ._geometry import chunks, decode_geometry
from ._validate import (
    CHANNELS,
    UINT8,
    UINT16,
    check_batch_out,
    input_buffer,
    parse_pixel_format,
    thread_count,
)


class Codec(Protocol):
    """What this module uses of ``codec.Turbojpeg``."""

    _scaling_factors: list[Fraction]

    def decode(self, data, **options) -> np.ndarray: ...

    def _decompressor(self) -> Decompressor: ...

    def _read_header(
        self, d: HeaderReader, buf, size: int, data, whole: bool = False
    ) -> tuple[int, int]: ...


class Pool:
    """A codec's threads for ``decode_many``: made on first use, and made
    again when a call asks for another number of them.

    A forked child (a DataLoader worker, say) inherits the executor but none of
    its threads, so work given to it would wait forever: every pool forgets its
    executor and lock in the child (``_after_fork``), and the child makes its own.
    """

    def __init__(self) -> None:
        self.executor: ThreadPoolExecutor | None = None
        self._size = 0
        self._lock = threading.Lock()
        _POOLS.add(self)

    def _after_fork(self) -> None:
        self.executor, self._size, self._lock = None, 0, threading.Lock()

    def get(self, threads: int) -> ThreadPoolExecutor:
        with self._lock:
            if self.executor is None or self._size != threads:
                if self.executor is not None:
                    self.executor.shutdown(wait=True)
                self.executor = ThreadPoolExecutor(threads, thread_name_prefix="turbojpeg")
                self._size = threads
            return self.executor

    def shutdown(self) -> None:
        """Stop the threads (after the work given to them); ``get`` makes new ones."""
        with self._lock:
            if self.executor is not None:
                self.executor.shutdown(wait=True)
                self.executor = None


_POOLS: weakref.WeakSet[Pool] = weakref.WeakSet()


def _forget_pools_in_child() -> None:
    for pool in list(_POOLS):
        pool._after_fork()


os.register_at_fork(after_in_child=_forget_pools_in_child)


def decode_many(
    tj: Codec, pool: Pool, buffers, threads: int | None, out: np.ndarray | None, options: dict
) -> np.ndarray | list[np.ndarray]:
    """``Turbojpeg.decode_many(buffers, threads=threads, out=out, **options)``."""
    items = list(buffers)
    if "out" in options:
        raise TypeError("decode_many takes out= for the whole batch, not per image")
    threads = thread_count(threads)
    if out is None:
        layouts = set()
        i = 0
        try:
            for i in range(len(items)):
                layouts.add(output_layout(tj, items[i], options))
        except Exception as exc:
            exc.add_note(f"while reading the header of buffer {i} of {len(items)}")
            raise
        if len(layouts) == 1:
            shape, dtype = layouts.pop()
            out = np.empty((len(items), *shape), dtype=dtype)
    else:
        check_batch_out(out, len(items))
    results: list = [None] * len(items)

    def work(indices: range) -> None:
        i = indices.start
        try:
            for i in indices:
                if out is None:
                    results[i] = tj.decode(items[i], **options)
                else:
                    tj.decode(items[i], out=out[i], **options)
        except Exception as exc:
            exc.add_note(f"while decoding buffer {i} of {len(items)}")
            raise

    pieces = chunks(len(items), threads)
    if threads == 1 or len(pieces) <= 1:
        for piece in pieces:
            work(piece)
        return out if out is not None else results

    def work_keeping_warnings(indices: range, kept: list[str]) -> None:
        with _warn.deferred(kept):
            work(indices)

    # A worker's warnings are given here, in the calling thread and in the
    # images' order, so that they point at the user's decode_many line.
    kept: list[list[str]] = [[] for _ in pieces]
    executor = pool.get(threads)
    futures = [
        executor.submit(work_keeping_warnings, *job) for job in zip(pieces, kept, strict=True)
    ]
    for future, messages in zip(futures, kept, strict=True):
        try:
            future.result()
        finally:  # also those of the images before a failing one
            for message in messages:
                _warn.warn(message)
    return out if out is not None else results


def output_layout(tj: Codec, data, options: dict) -> tuple[tuple[int, int, int], np.dtype]:
    """The shape and dtype ``tj.decode(data, **options)`` returns, from the header."""
    buf, size, _keep = input_buffer(data)
    d = tj._decompressor()
    width, height = tj._read_header(d, buf, size, data)
    precision, lossless = d.sample_format()
    pf = parse_pixel_format(options.get("pixel_format", "BGR"))
    orientation = _exif.orientation(data) if options.get("apply_exif_orientation") else None
    _factor, _stored, _rect, (h, w) = decode_geometry(
        tj._scaling_factors,
        width,
        height,
        options.get("scale"),
        options.get("min_size"),
        options.get("crop"),
        orientation,
        lossless,
    )
    return (h, w, CHANNELS[pf]), (UINT8 if precision <= 8 else UINT16)
