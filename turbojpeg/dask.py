"""Folders of JPEGs as Dask arrays, in the style of dask-image's ``imread``.

>>> from turbojpeg.dask import imread
>>> frames = imread("frames/*.jpg")                  # (N, height, width, 3) uint8, lazy
>>> means = frames.mean(axis=(1, 2, 3)).compute()

Every file's header is read here, up front (the first 64 kB, the whole file only
when its header lies further in), so a folder of mixed sizes fails at once with
an error that names the first odd file, unless ``crop=`` or ``scale=`` /
``min_size=`` make the outputs equal. Each chunk is ``files_per_chunk`` files,
decoded with ``Turbojpeg.decode_many`` by the task that owns it; the graph holds
the file names and the options, never pixels. Works on the threaded scheduler
(the decoder releases the GIL) and on ``distributed`` clusters alike. Needs
``pip install accelerated-codecs[dask]``.
"""

from __future__ import annotations

import glob
import os
import threading
from collections.abc import Iterable

import numpy as np

from . import _batch
from .codec import Turbojpeg

HEAD_BYTES = 64 << 10  # where a JPEG's header almost always ends
_DECODERS: dict[str | None, Turbojpeg] = {}  # one per library, per process
_DECODERS_LOCK = threading.Lock()


def _files(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        pattern = os.fspath(paths)
        found = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not found:
            raise FileNotFoundError(f"no file matches {pattern!r}")
        return found
    found = [os.fspath(p) for p in paths]
    if not found:
        raise ValueError("imread needs at least one file")
    return found


def _decoder(lib_path: str | None) -> Turbojpeg:
    with _DECODERS_LOCK:
        if lib_path not in _DECODERS:
            _DECODERS[lib_path] = Turbojpeg(lib_path)
        return _DECODERS[lib_path]


def _layout(tj: Turbojpeg, path: str, options: dict) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype ``decode`` gives for the file, from its header."""
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
        try:
            return _batch.output_layout(tj, head, options)
        except Exception:  # noqa: BLE001 - the header lies further in, or is broken: all of it
            head += f.read()
    try:
        return _batch.output_layout(tj, head, options)
    except Exception as exc:
        exc.add_note(f"while reading the header of {path}")
        raise


def _decode_chunk(paths: list[str], options: dict, lib_path: str | None) -> np.ndarray:
    """A task: its files, decoded into one array on this thread."""
    data = []
    for path in paths:
        with open(path, "rb") as f:
            data.append(f.read())
    return _decoder(lib_path).decode_many(data, threads=1, **options)


def imread(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    files_per_chunk: int = 64,
    lib_path: str | None = None,
    **decode_options,
):
    """JPEG files (a list, or a glob pattern: sorted) as one lazy ``(N, height, width,
    channels)`` Dask array. ``decode_options`` are ``Turbojpeg.decode``'s keywords,
    the same for every file; ``lib_path`` picks the libturbojpeg (default: found as
    ``Turbojpeg()`` finds it)."""
    import operator

    try:
        import dask.array as da
        from dask.base import tokenize
        from dask.highlevelgraph import HighLevelGraph
    except ImportError as exc:
        raise ImportError(
            "turbojpeg.dask needs Dask: pip install accelerated-codecs[dask]"
        ) from exc
    if "out" in decode_options:
        raise TypeError("imread takes no out=: each chunk makes its own array")
    per_chunk = operator.index(files_per_chunk)
    if per_chunk < 1:
        raise ValueError(f"files_per_chunk must be 1 or more, not {files_per_chunk}")
    files = _files(paths)
    tj = _decoder(lib_path)
    shape, dtype = _layout(tj, files[0], decode_options)
    for path in files[1:]:
        other = _layout(tj, path, decode_options)
        if other != (shape, dtype):
            raise ValueError(
                f"{path} decodes to {other[0]} {other[1]}, unlike the first file {files[0]} "
                f"({shape} {dtype}): the files must decode to one size; crop= (or scale= / "
                f"min_size=) can make them equal"
            )
    name = "turbojpeg-imread-" + tokenize(files, decode_options, lib_path, per_chunk)
    layer = {}
    starts = range(0, len(files), per_chunk)
    for k, start in enumerate(starts):
        chunk = files[start : start + per_chunk]
        layer[(name, k, *(0,) * len(shape))] = (_decode_chunk, chunk, decode_options, lib_path)
    chunks = (tuple(min(per_chunk, len(files) - s) for s in starts), *((n,) for n in shape))
    graph = HighLevelGraph.from_collections(name, layer, dependencies=())
    return da.Array(graph, name, chunks, meta=np.empty((0,) * (1 + len(shape)), dtype))
