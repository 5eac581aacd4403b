"""A frame index for exact random access in video files, and the reader built on it.

Frame ``i`` of a video is the ``i``-th frame a full sequential decode outputs,
in presentation order. Frame numbers derived from a frame rate are wrong on
variable frame rate files, on files whose timestamps do not start at zero, and
wherever a demuxer's seek lands somewhere else than asked (MPEG-TS). So the
index lists the packets of the first video stream once (demuxing, no decoding),
frame ``i`` is the packet with the ``i``-th smallest pts, and
:class:`IndexedReader` decodes until exactly that pts comes out, or raises.

Packets that are no frames, because a sequential decode does not output them:

* empty packets and packets with neither pts nor dts;
* packets flagged discard (an edit list trims them, e.g. an MP4 cut with
  ``-c copy``): decoders drop their frames;
* at the head of the stream, packets the decoder cannot reconstruct: those
  before the first keyframe in decode order, and the leading frames of an
  open-GOP first keyframe (decoded after it, shown before it, referencing a
  GOP that is not in the file, as in a recording cut from a broadcast). When
  such packets exist, the build decodes the head of the stream until a frame at
  or after the first keyframe's pts comes out and drops every earlier packet
  the decoder did not output. Past the head every frame's references precede
  it in the file, so a sequential decode outputs it: nothing else is decoded.
"""

from __future__ import annotations

import contextlib
import json
import operator
import os
import zipfile
from collections import Counter, deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from time import perf_counter
from typing import Self

import av
import numpy as np

from turbojpeg import LibraryNotFoundError, Turbojpeg

NO_TS = np.iinfo(np.int64).min  # "no timestamp" in the int64 arrays
SIDECAR_SUFFIX = ".frameindex.npz"
FORMAT_VERSION = 1
PAYLOAD_WINDOW = 256  # how far past FFmpeg's packet position the payload may start (headers)
_ARRAYS = ("pts", "dts", "keyframe", "size", "pos", "shown", "payload_offset")


def sidecar_path(video: str | os.PathLike[str]) -> Path:
    """Where the index of ``video`` is kept: ``<video>.frameindex.npz`` next to it."""
    video = Path(video)
    return video.with_name(video.name + SIDECAR_SUFFIX)


def _frame_ts(frame: av.VideoFrame) -> int | None:
    return frame.pts if frame.pts is not None else frame.dts


def _payload_offset(fd: int, packet: av.Packet) -> int:
    """The file offset of the packet's bytes, checked byte for byte, or -1."""
    if packet.pos is None or packet.pos < 0:
        return -1
    data = bytes(packet)
    at = os.pread(fd, len(data) + PAYLOAD_WINDOW, packet.pos).find(data)
    return packet.pos + at if at >= 0 else -1


def _undecodable_head(path: str, pts: np.ndarray, keyframe: np.ndarray) -> list[int]:
    """Packets before the first keyframe (in decode or presentation order) not decoded."""
    keys = np.flatnonzero(keyframe)
    if keys.size:
        first = int(keys[0])
        head = np.flatnonzero((np.arange(len(pts)) < first) | (pts < pts[first]))
        until = int(pts[first])
    else:
        head, until = np.arange(len(pts)), None
    if head.size == 0:
        return []
    out: set[int] = set()
    reached = None
    with av.open(path) as container:
        for frame in container.decode(container.streams.video[0]):
            ts = _frame_ts(frame)
            out.add(ts)
            if until is not None and ts is not None and ts >= until:
                reached = ts
                break
    return [
        int(p) for p in head if int(pts[p]) not in out and (reached is None or pts[p] < reached)
    ]


@dataclass(eq=False)
class FrameIndex:
    """Every packet of the first video stream, in decode order; frame ``i`` is ``order[i]``."""

    file_size: int
    file_mtime_ns: int
    codec: str
    time_base: Fraction
    intra_only: bool  # every packet is a keyframe
    pts: np.ndarray  # int64: the packet's pts, its dts when it has none
    dts: np.ndarray  # int64, NO_TS when unknown
    keyframe: np.ndarray  # bool
    size: np.ndarray  # int64 bytes
    pos: np.ndarray  # int64: the byte position FFmpeg reports, -1 when unknown
    shown: np.ndarray  # bool: a sequential decode outputs this packet's frame
    payload_offset: np.ndarray  # int64: verified offset of the packet's bytes in the file, or -1
    order: np.ndarray = field(init=False, repr=False)  # frame number -> packet number

    def __post_init__(self) -> None:
        if len({len(getattr(self, name)) for name in _ARRAYS}) != 1:
            raise ValueError("the per-packet arrays differ in length")
        shown = np.flatnonzero(self.shown)
        self.order = shown[np.argsort(self.pts[shown], kind="stable")]
        twins = np.flatnonzero(np.diff(self.pts[self.order]) == 0)
        if twins.size:
            ts = int(self.pts[self.order[twins[0]]])
            raise ValueError(f"two frames share pts {ts}: they cannot be told apart")

    def __len__(self) -> int:
        return len(self.order)

    @property
    def frame_pts(self) -> np.ndarray:
        """The pts of each frame, frame 0 first."""
        return self.pts[self.order]

    @property
    def start_pts(self) -> int | None:
        """The pts of frame 0 (often not 0: MPEG-TS, shifted or cut files)."""
        return int(self.pts[self.order[0]]) if len(self) else None

    def matches(self, video: str | os.PathLike[str]) -> bool:
        """Whether ``video`` still has the size and mtime it had when indexed."""
        stat = os.stat(video)
        return (stat.st_size, stat.st_mtime_ns) == (self.file_size, self.file_mtime_ns)

    @classmethod
    def build(cls, video: str | os.PathLike[str]) -> FrameIndex:
        """Scan the packets of the first video stream once."""
        path = os.fspath(video)
        stat = os.stat(path)
        rows = []
        intra = True
        with av.open(path) as container, open(path, "rb") as file:
            stream = container.streams.video[0]
            for packet in container.demux(stream):
                ts = packet.pts if packet.pts is not None else packet.dts
                if packet.size == 0 or ts is None:
                    continue
                intra = intra and packet.is_keyframe
                rows.append(
                    (
                        ts,
                        NO_TS if packet.dts is None else packet.dts,
                        packet.is_keyframe,
                        packet.size,
                        -1 if packet.pos is None else packet.pos,
                        not packet.is_discard,
                        _payload_offset(file.fileno(), packet) if intra else -1,
                    )
                )
            codec, time_base = stream.codec_context.name, stream.time_base
        columns = list(zip(*rows, strict=True)) or [()] * len(_ARRAYS)
        arrays = {
            name: np.array(column, dtype=bool if name in ("keyframe", "shown") else np.int64)
            for name, column in zip(_ARRAYS, columns, strict=True)
        }
        intra = intra and bool(rows)
        if not intra:
            arrays["payload_offset"][:] = -1
            arrays["shown"][_undecodable_head(path, arrays["pts"], arrays["keyframe"])] = False
        return cls(stat.st_size, stat.st_mtime_ns, codec, time_base, intra, **arrays)

    def save(self, sidecar: str | os.PathLike[str]) -> None:
        """Write the index atomically (a temporary file, then a rename)."""
        sidecar = Path(sidecar)
        meta = {
            "version": FORMAT_VERSION,
            "file_size": self.file_size,
            "file_mtime_ns": self.file_mtime_ns,
            "codec": self.codec,
            "time_base": str(self.time_base),
            "intra_only": self.intra_only,
        }
        temporary = sidecar.with_name(f"{sidecar.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as file:
                np.savez(
                    file,
                    meta=np.array(json.dumps(meta)),
                    **{name: getattr(self, name) for name in _ARRAYS},
                )
            os.replace(temporary, sidecar)
        finally:
            temporary.unlink(missing_ok=True)

    @classmethod
    def load(cls, sidecar: str | os.PathLike[str]) -> FrameIndex:
        with np.load(sidecar, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.pop("version") != FORMAT_VERSION:
                raise ValueError(f"{sidecar} was written by another version of the index")
            arrays = {name: data[name] for name in _ARRAYS}
        meta["time_base"] = Fraction(meta["time_base"])
        return cls(**meta, **arrays)

    @classmethod
    def load_or_build(cls, video: str | os.PathLike[str]) -> tuple[FrameIndex, float, bool]:
        """``(index, seconds, from_sidecar)``: the sidecar's index if it is current, else a
        new one (saved next to the video when the directory is writable)."""
        started = perf_counter()
        sidecar = sidecar_path(video)
        try:
            index = cls.load(sidecar)
            if index.matches(video):
                return index, perf_counter() - started, True
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
            pass  # missing, unreadable or from another version: rebuild
        index = cls.build(video)
        with contextlib.suppress(OSError):  # a read-only dataset: index again next time
            index.save(sidecar)
        return index, perf_counter() - started, False


class IndexedReader:
    """``read(i)`` returns frame ``i`` of a sequential decode as BGR, exactly, or raises.

    Indices run from 0 to ``len(reader) - 1``; negative indices are out of range
    (``IndexError``), not counted from the end. Intra-only streams whose packet
    bytes were found in the file are read with one ``os.pread`` per frame and
    decoded alone (MJPEG by TurboJPEG, others by a PyAV codec context). Other
    streams are decoded from a keyframe; the decoder stays warm between calls,
    so reading forward within a GOP costs no seek. ``counts`` tells which paths
    served the reads ("pread", "continued", "seeks", "retries", "decoded").
    """

    def __init__(self, path: str | os.PathLike[str], *, index: FrameIndex | None = None):
        self.path = os.fspath(path)
        if index is None:
            index, self.index_seconds, self.from_sidecar = FrameIndex.load_or_build(self.path)
        else:
            if not index.matches(self.path):
                raise ValueError(f"the index is stale: {self.path} changed after it was built")
            self.index_seconds, self.from_sidecar = 0.0, False
        self.index = index
        self.counts: Counter[str] = Counter()
        self._keys = np.flatnonzero(index.keyframe)
        self._number = {int(ts): n for n, ts in enumerate(index.pts)}
        self._fd: int | None = None
        self._codec: av.CodecContext | None = None
        self._jpeg: Turbojpeg | bool | None = False  # False: not tried yet
        self._container = self._stream = self._packets = None
        self._pending: deque[av.VideoFrame] = deque()
        self._start = -1  # the keyframe the decoder started from (-1: the file's start)
        self._skip_to: int | None = None  # the keyframe packet demuxing must reach first
        self._fed = -1  # the last packet fed to the decoder
        self._last: int | None = None  # the pts of the last frame returned
        self._by_dts = False  # seek by the keyframe's dts (MPEG-TS), not its pts

    def __len__(self) -> int:
        return len(self.index)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._container is not None:
            self._container.close()
            self._container = self._stream = self._packets = None
        self._pending.clear()

    def read(self, i: int) -> np.ndarray:
        i = operator.index(i)
        if not 0 <= i < len(self):
            raise IndexError(
                f"frame {i} is out of range: {self.path} has {len(self)} frames, "
                f"valid indices are 0 to {len(self) - 1} (negative indices are not accepted)"
            )
        packet = int(self.index.order[i])
        if self.index.payload_offset[packet] >= 0:
            return self._read_payload(packet)
        return self._read_decoding(packet)

    # -- intra-only: one pread, one decode ------------------------------------------

    def _read_payload(self, packet: int) -> np.ndarray:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        size = int(self.index.size[packet])
        data = os.pread(self._fd, size, int(self.index.payload_offset[packet]))
        if len(data) != size:
            raise OSError(f"{self.path} is shorter than its index says")
        self.counts["pread"] += 1
        if self.index.codec == "mjpeg" and self._turbojpeg() is not None:
            # fast_upsample: the chroma replication FFmpeg's own conversion does
            return self._jpeg.decode(data, "BGR", fast_upsample=True)
        frames = self._intra_codec().decode(av.Packet(data))
        if len(frames) != 1:
            raise RuntimeError(f"packet {packet} decoded to {len(frames)} frames, not 1")
        return frames[0].to_ndarray(format="bgr24")

    def _turbojpeg(self) -> Turbojpeg | None:
        if self._jpeg is False:
            try:
                self._jpeg = Turbojpeg()
            except LibraryNotFoundError:
                self._jpeg = None
        return self._jpeg

    def _intra_codec(self) -> av.CodecContext:
        if self._codec is None:
            with av.open(self.path) as container:
                source = container.streams.video[0].codec_context
                codec = av.CodecContext.create(source.name, "r")
                codec.extradata = source.extradata
                codec.width, codec.height = source.width, source.height
                codec.bits_per_coded_sample = source.bits_per_coded_sample
                if source.pix_fmt is not None:
                    codec.pix_fmt = source.pix_fmt
            self._codec = codec
        return self._codec

    # -- everything else: decode from a keyframe -------------------------------------

    def _keyframe_at_or_before(self, packet: int, ts: int) -> int:
        """The last keyframe at or before ``packet`` in decode order with pts <= ``ts``."""
        at = int(np.searchsorted(self._keys, packet, side="right"))
        for k in self._keys[:at][::-1]:
            if self.index.pts[k] <= ts:
                return int(k)
        return -1

    def _read_decoding(self, packet: int) -> np.ndarray:
        target = int(self.index.pts[packet])
        key = self._keyframe_at_or_before(packet, target)
        at = int(np.searchsorted(self._keys, self._fed, side="right"))
        current = int(self._keys[at - 1]) if at else -1  # the GOP of the last packet fed
        if (
            self._packets is not None
            and self._last is not None
            and target > self._last
            and self._start <= key <= current
        ):
            # the decoder started at or before the target's keyframe and is in its GOP
            self.counts["continued"] += 1
            frame = self._decode_until(target)
            if frame is not None:
                return self._returned(frame)
        starts = [key]
        if key >= 0:
            earlier = self._keyframe_at_or_before(key - 1, target)
            starts += [earlier, -1] if earlier >= 0 else [-1]
        for start in starts:
            for by_dts in self._seek_modes(start):
                self._restart(start, by_dts)
                frame = self._decode_until(target)
                if frame is not None:
                    self._by_dts = by_dts
                    return self._returned(frame)
                self.counts["retries"] += 1
        raise RuntimeError(
            f"{self.path}: the decoder never output pts {target} (frame of packet {packet})"
        )

    def _seek_modes(self, start: int) -> list[bool]:
        """Seek by the keyframe's pts or its dts, the mode that worked last first.

        Matroska's cues hold pts; MPEG-TS seeks by dts and lands past the
        keyframe when given its pts."""
        if start < 0:
            return [False]
        if self.index.dts[start] in (NO_TS, self.index.pts[start]):
            return [False]
        return [self._by_dts, not self._by_dts]

    def _returned(self, frame: av.VideoFrame) -> np.ndarray:
        self._last = _frame_ts(frame)
        return frame.to_ndarray(format="bgr24")

    def _restart(self, start: int, by_dts: bool) -> None:
        """Seek to keyframe ``start``, or reopen the file for ``start == -1``."""
        self.counts["seeks"] += 1
        if start < 0 or self._container is None:
            if self._container is not None:
                self._container.close()
            self._container = av.open(self.path)
            self._stream = self._container.streams.video[0]
        if start >= 0:
            ts = self.index.dts[start] if by_dts else self.index.pts[start]
            self._container.seek(int(ts), stream=self._stream, backward=True)
        self._packets = self._container.demux(self._stream)
        self._pending.clear()
        self._start, self._fed, self._last = start, -1, None
        self._skip_to = start if start >= 0 else None

    def _decode_until(self, target: int) -> av.VideoFrame | None:
        """Decode forward to the frame with pts ``target``; None when it cannot come out
        from here (the demuxer landed after the keyframe, the decoder skipped it, EOF)."""
        while True:
            while self._pending:
                frame = self._pending.popleft()
                ts = _frame_ts(frame)
                if ts == target:
                    return frame
                if ts is not None and ts > target:
                    self._pending.appendleft(frame)
                    return None
            packet = next(self._packets, None)
            if packet is None:
                self._packets = None
                return None
            ts = packet.pts if packet.pts is not None else packet.dts
            number = self._number.get(ts) if ts is not None else None
            if self._skip_to is not None:
                # discard, without decoding, what the demuxer returns before the keyframe
                if number == self._skip_to:
                    self._skip_to = None
                elif packet.size == 0 or (number is not None and number > self._skip_to):
                    return None
                else:
                    continue
            if number is not None:
                self._fed = max(self._fed, number)
            frames = self._stream.decode(packet)
            self.counts["decoded"] += len(frames)
            self._pending.extend(frames)
