"""A ``TurbojpegWarning`` that points at the user's line, from any depth and thread.

A fixed ``stacklevel`` is right for one call path only: decode reaches the
library through two to five of our frames depending on its options. So the
level is counted here, up to the first frame outside this package. A
``decode_many`` worker thread has no user frame: it keeps its warnings for the
calling thread to give (``deferred``), which then points at the user's
``decode_many`` line.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import warnings
from collections.abc import Iterator

from .errors import TurbojpegWarning

_PACKAGE = os.path.dirname(__file__) + os.sep
_kept = threading.local()


def warn(message: str) -> None:
    """Give ``message`` as a TurbojpegWarning at the first caller outside the package,
    or keep it when this thread runs under ``deferred``."""
    kept = getattr(_kept, "messages", None)
    if kept is not None:
        kept.append(message)
        return
    frame = sys._getframe(1)
    level = 2  # 1 is this function, 2 its caller
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(TurbojpegWarning(message), stacklevel=level)


@contextlib.contextmanager
def deferred(into: list[str]) -> Iterator[None]:
    """Keep this thread's warnings in ``into`` (in order) instead of giving them."""
    _kept.messages = into
    try:
        yield
    finally:
        _kept.messages = None
