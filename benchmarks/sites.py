"""Libraries that live in a benchmark environment, used from a process of their own.

Two builds of one module (the OpenCV wheel's ``cv2`` and our channel's) cannot
be imported into one process. An adapter whose library lives in a conda
prefix names that prefix's site-packages as its *site*; it then runs in a
process started fresh (``spawn``, so nothing imported here carries over) with
the site first on ``sys.path``. ``Worker`` keeps such a process for many calls.
With no site, a library gets a fresh process all the same: the JPEG suite makes
every contender in one, so what each process mapped is that contender's alone.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import sys
import traceback
from typing import Any

from benchmarks import loaded


def context():
    """The start method for site processes: a fresh interpreter, not a fork."""
    return multiprocessing.get_context("spawn")


def enter(site: str | os.PathLike[str] | None) -> None:
    """Put ``site`` first on this process's ``sys.path`` (nothing when None)."""
    if site is not None and os.fspath(site) not in sys.path:
        sys.path.insert(0, os.fspath(site))


class WorkerError(RuntimeError):
    """A call in the worker raised; the message carries the worker's traceback."""


class WorkerTimeout(WorkerError):
    """A call got no answer in time; the worker was killed."""


def _serve(conn, site, factory: str, args: tuple) -> None:
    enter(site)
    try:
        module, _, name = factory.partition(":")
        served = getattr(importlib.import_module(module), name)(*args)
    except loaded.WrongLibrary as exc:  # raised again in the parent: it fails the run
        conn.send(("wrong-library", str(exc)))
        return
    except BaseException as exc:  # noqa: BLE001 - the parent gets the reason
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            method, call_args = conn.recv()
        except EOFError:
            return
        if method is None:
            return
        try:
            conn.send(("ok", getattr(served, method)(*call_args)))
        except Exception as exc:  # noqa: BLE001 - sent back, raised there
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"))


class Worker:
    """An object built by ``factory`` ("module:function") in a site process;
    ``call(method, *args)`` runs one of its methods there and returns the result.
    ``variables`` are set in the worker's environment before its interpreter starts
    (a library path, say); this process's own stays as it was. A worker that starts
    processes of its own (a DataLoader's) is made with ``children=True``: it is then
    not a daemon, which Python forbids to have children, and ``close`` still ends it."""

    def __init__(self, site, factory: str, *args: Any, variables: dict[str, str] | None = None,
                 children: bool = False):  # fmt: skip
        ctx = context()
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child, os.fspath(site) if site else None,
                                                         factory, args), daemon=not children)  # fmt: skip
        saved = {k: os.environ.get(k) for k in variables or {}}
        os.environ.update(variables or {})  # a spawned child starts with them
        try:
            self._process.start()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        child.close()
        status, reason = self._receive()
        if status != "ready":
            self.close()
            raise (loaded.WrongLibrary if status == "wrong-library" else WorkerError)(reason)

    def _receive(self):
        try:
            return self._conn.recv()
        except EOFError:
            self._process.join(5)
            return "error", f"the worker died (exit code {self._process.exitcode})"

    def call(self, method: str, *args: Any, timeout: float | None = None) -> Any:
        """The method's result; WorkerError if it raised or the worker died, and
        WorkerTimeout (the worker killed) if no answer came within ``timeout`` seconds."""
        self._conn.send((method, args))
        if timeout is not None and not self._conn.poll(timeout):
            self._process.kill()
            self._process.join()
            raise WorkerTimeout(f"no answer within {timeout:.0f} s (killed)")
        status, value = self._receive()
        if status != "ok":
            raise WorkerError(value)
        return value

    def alive(self) -> bool:
        return self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(BrokenPipeError, OSError):
                self._conn.send((None, ()))
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._conn.close()
