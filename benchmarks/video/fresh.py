"""Work timed in a fresh forked process: the parent's imports (what ``prepare``
loaded), none of the state its earlier calls left. A DataLoader worker, or a
Dask worker's task process, starts the same way."""

from __future__ import annotations

import os
import pickle
import select
import signal
import time


def in_fresh_process(work, timeout: float = 120.0):
    """``work()`` in a forked child, whose result comes back pickled: a process with the
    parent's imports (``prepare``) and none of its readers' state. An exception in the
    child is raised here as RuntimeError; a child silent for ``timeout`` s is killed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: it never returns into the caller's code
        try:
            os.close(read_end)
            try:
                payload = pickle.dumps(("ok", work()))
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
                payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(0)
    os.close(write_end)
    data, deadline = b"", time.monotonic() + timeout
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))[0]:
            chunk = pipe.read(1 << 20)
            if not chunk:
                break
            data += chunk
    if time.monotonic() >= deadline:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    try:
        status, value = pickle.loads(data)
    except Exception:  # noqa: BLE001 - nothing, or part of an answer
        raise RuntimeError(f"the fresh process gave no answer within {timeout:.0f} s") from None
    if status != "ok":
        raise RuntimeError(value)
    return value
