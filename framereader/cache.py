"""The index on disk: one file per video, beside it or in a cache directory.

A cache file holds, in this order:

* 8 bytes of magic, ``b"FRMINDEX"``;
* the header's length in bytes (4 bytes, little-endian);
* the header, JSON: the format version, the stamp of the video it describes
  (size, mtime in ns, hash of its first 64 KiB), the stream's codec, time base
  (numerator and denominator), size and intra-only flag, its ``StreamParams``
  (extradata in hex; null when unknown), the packet and frame counts and each
  array's name and dtype;
* a CRC-32 of the header and the arrays (4 bytes, little-endian);
* the arrays, raw, in the header's order: the int64 ones (the per-packet ones,
  then ``order``, one per frame), then the per-packet booleans.

A cache file is used only when its version is this one, its checksum holds and
its stamp matches the video now; anything else (missing, truncated, corrupt,
older, another file under the same name) means a new scan, never an error.
What the checksum vouches for is used as the scan made it: the frame order is
read, not sorted again (an hour with B-frames sorts 108,000 timestamps).
Files are written to a temporary name and renamed into place, so a reader in
another process sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import zlib
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from framereader.errors import FrameReaderError, IndexFileError
from framereader.index import BOOL_ARRAYS, PACKET_ARRAYS, FileStamp, FrameIndex, StreamParams

# Bump when the file layout or the scan's rules change (2: params; 3: container, depth;
# 4: every keyframe's offset, and whether a bare context decodes as the demuxer's;
# 5: the frame order, the arrays grouped by dtype, the time base as two integers).
FORMAT_VERSION = 5
MAGIC = b"FRMINDEX"
SUFFIX = ".frameindex"
_DIGEST = 4  # a CRC-32 of the header and the arrays, little-endian: _seal

_INTS = (*(name for name in PACKET_ARRAYS if name not in BOOL_ARRAYS), "order")
_BOOLS = tuple(name for name in PACKET_ARRAYS if name in BOOL_ARRAYS)
_LAYOUT = [[name, "<i8"] for name in _INTS] + [[name, "|b1"] for name in _BOOLS]


def _seal(head: bytes, body: bytes | memoryview) -> bytes:
    """The checksum a cache file carries. CRC-32 catches what it is for (a file cut
    short, bytes flipped on disk) at 10 ms for 10 hours' 63 MB, where blake2b took
    55 ms; the stamp, not this, tells one video from another."""
    return zlib.crc32(body, zlib.crc32(head)).to_bytes(_DIGEST, "little")


def default_cache_dir() -> Path:
    """Where indices go when the video's own folder is read-only:
    ``$FRAMEREADER_CACHE_DIR``, else ``$XDG_CACHE_HOME/framereader``, else
    ``~/.cache/framereader``."""
    if os.environ.get("FRAMEREADER_CACHE_DIR"):
        return Path(os.environ["FRAMEREADER_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "framereader"


def index_path(
    video: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """The cache file of ``video``: ``<video>.frameindex`` beside it, or in ``cache_dir``
    ``<name>.<hash of the absolute path>.frameindex`` (two videos never share one)."""
    return Path(_place(video, cache_dir))


def _place(video: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None) -> str:
    """``index_path`` as a string: a cached open makes no ``Path`` (a fresh process pays
    for pathlib's first use, a fifth of a ms)."""
    video = os.fspath(video)
    if cache_dir is None:
        return video + SUFFIX
    key = hashlib.sha256(os.fsencode(os.path.abspath(video))).hexdigest()[:32]
    return os.path.join(cache_dir, f"{os.path.basename(video)}.{key}{SUFFIX}")


def _candidates(video: str | os.PathLike[str], cache_dir) -> Iterator[str]:
    """Where the cache file of ``video`` may be, the likeliest first; each place made only
    when asked for (hashing the path costs a fresh process's open a part of a ms)."""
    if cache_dir is not None:
        yield _place(video, cache_dir)
        return
    yield _place(video, None)
    yield _place(video, default_cache_dir())


def save_index(index: FrameIndex, path: str | os.PathLike[str]) -> None:
    """Write ``index`` to ``path`` atomically; OSError when the folder is not writable."""
    path = Path(path)
    header = {
        "format": FORMAT_VERSION,
        "stamp": {
            "size": index.stamp.size,
            "mtime_ns": index.stamp.mtime_ns,
            "head": index.stamp.head,
        },
        "codec": index.codec,
        "time_base": [index.time_base.numerator, index.time_base.denominator],
        "width": index.width,
        "height": index.height,
        "intra_only": index.intra_only,
        "demux_error": index.demux_error,
        "params": _params_to_json(index.params),
        "packets": len(index.pts),
        "frames": len(index.order),
        "arrays": _LAYOUT,
    }
    head = json.dumps(header, sort_keys=True).encode()
    body = b"".join(
        np.ascontiguousarray(getattr(index, name), dtype=dtype).tobytes() for name, dtype in _LAYOUT
    )
    digest = _seal(head, body)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(MAGIC + len(head).to_bytes(4, "little") + head + digest + body)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def load_index(path: str | os.PathLike[str]) -> FrameIndex:
    """Read an index file; IndexFileError when it is not a whole one of this version."""
    try:
        with open(path, "rb", buffering=0) as file:
            data = file.readall()
    except OSError as exc:
        raise IndexFileError(f"cannot read {path}: {exc}") from exc
    try:
        return _parse(data)
    except IndexFileError:
        raise
    except (ValueError, TypeError, KeyError, ArithmeticError, FrameReaderError) as exc:
        raise IndexFileError(f"{path} is not a valid index file: {exc}") from exc


def _parse(data: bytes) -> FrameIndex:
    if data[: len(MAGIC)] != MAGIC:
        raise IndexFileError("not an index file (no magic)")
    at = len(MAGIC) + 4
    length = int.from_bytes(data[len(MAGIC) : at], "little")
    view = memoryview(data)  # slices of it copy nothing: 10 hours at 30 fps is 63 MB
    head = bytes(view[at : at + length])
    if len(head) != length:
        raise IndexFileError("the index file is truncated (in its header)")
    header = json.loads(head)
    if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
        found = header.get("format") if isinstance(header, dict) else None
        raise IndexFileError(f"index format {found!r}, not {FORMAT_VERSION}")
    digest = bytes(view[at + length : at + length + _DIGEST])
    body = view[at + length + _DIGEST :]
    if _seal(head, body) != digest:
        raise IndexFileError("the index file is truncated or corrupt (checksum mismatch)")
    if header["arrays"] != _LAYOUT:
        raise IndexFileError("the index file's arrays are not this version's")
    count, frames = int(header["packets"]), int(header["frames"])
    if not 0 <= frames <= count:
        raise IndexFileError(f"the index file lists {frames} frames of {count} packets")
    ints = (len(_INTS) - 1) * count + frames
    if len(body) != 8 * ints + len(_BOOLS) * count:
        raise IndexFileError("the index file's arrays do not fill it")
    # two arrays over the file's bytes, and views of them: no copy, and few numpy calls
    # (a fresh process pays for each new one it makes)
    whole = np.frombuffer(body, "<i8", ints)
    flags = np.frombuffer(body, "|b1", len(_BOOLS) * count, 8 * ints)
    arrays = {name: whole[k * count : (k + 1) * count] for k, name in enumerate(_INTS[:-1])}
    arrays.update((name, flags[k * count : (k + 1) * count]) for k, name in enumerate(_BOOLS))
    stamp = header["stamp"]
    numerator, denominator = header["time_base"]
    return FrameIndex.restored(
        whole[ints - frames :],
        stamp=FileStamp(int(stamp["size"]), int(stamp["mtime_ns"]), str(stamp["head"])),
        codec=str(header["codec"]),
        time_base=Fraction(int(numerator), int(denominator)),
        width=int(header["width"]),
        height=int(header["height"]),
        intra_only=bool(header["intra_only"]),
        **arrays,
        demux_error=header["demux_error"],
        params=_params_from_json(header["params"]),
    )


def _params_to_json(params: StreamParams | None) -> dict | None:
    if params is None:
        return None
    return {
        "number": params.number,
        "container": params.container,
        "pixel_format": params.pixel_format,
        "extradata": params.extradata.hex(),
        "reorder_depth": params.reorder_depth,
        "color": list(params.color),
        "bare": params.bare,
    }


def _params_from_json(data: dict | None) -> StreamParams | None:
    if data is None:
        return None
    color = tuple(int(c) for c in data["color"])
    if len(color) != 4:
        raise ValueError(f"the stream's colour holds {len(color)} values, not 4")
    pixel_format = data["pixel_format"]
    depth = int(data["reorder_depth"])
    if depth < 0:
        raise ValueError(f"the stream's reorder depth is {depth}")
    bare = data["bare"]
    if bare is not None and not isinstance(bare, str):
        raise ValueError(f"the libraries a bare context decoded with are {bare!r}, not a name")
    return StreamParams(
        int(data["number"]),
        str(data["container"]),
        None if pixel_format is None else str(pixel_format),
        bytes.fromhex(data["extradata"]),
        depth,
        color,
        bare,
    )


def cached_index(video: str | os.PathLike[str], path: str | os.PathLike[str]) -> FrameIndex | None:
    """The index in ``path`` when it is whole and describes ``video`` as it is now, else None."""
    try:
        index = load_index(path)
    except IndexFileError:
        return None
    return index if index.matches(video) else None


def write_index(index: FrameIndex, path: str | os.PathLike[str]) -> bool:
    """``save_index``, creating ``path``'s folder; False instead of an OSError."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        save_index(index, path)
    except OSError:
        return False
    return True


def load_or_scan(
    video: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> tuple[FrameIndex, str | None, bool]:
    """``(index, cache file, loaded)``: a current cached index, else a new scan, saved.

    Without ``cache_dir`` the cache file sits beside the video, or in
    ``default_cache_dir()`` when the video's folder is read-only; ``cache file``
    is None when neither could be written.
    """
    for place in _candidates(video, cache_dir):
        index = cached_index(video, place)
        if index is not None:
            return index, place, True
    index = FrameIndex.scan(video)
    for place in _candidates(video, cache_dir):
        if write_index(index, place):
            return index, place, False
    return index, None, False


def remove_cached_index(
    video: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> None:
    """Delete the cache files of ``video`` (beside it and in the cache directory), if any."""
    for place in _candidates(video, cache_dir):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(place)
