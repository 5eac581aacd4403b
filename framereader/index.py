"""The frame index: one scan of the packets of a video's first video stream.

Frame ``i`` of a video is the ``i``-th frame a full sequential decode outputs,
in presentation order. Frame numbers derived from a frame rate are wrong on
variable frame rate files, on files whose timestamps do not start at zero, and
wherever a demuxer's seek lands somewhere else than asked (MPEG-TS). So the
index lists the packets once (demuxing, no decoding), frame ``i`` is the shown
packet with the ``i``-th smallest pts, and the reader decodes until exactly
that pts comes out, or raises.

Packets that are no frames, because a sequential decode does not output them:

* empty packets and packets with neither pts nor dts;
* packets flagged discard (an edit list trims them, e.g. an MP4 cut with
  ``-c copy``): decoders drop their frames;
* at the head of the stream, packets the decoder cannot reconstruct: those
  before the first keyframe in decode order, and the leading frames of an
  open-GOP first keyframe (decoded after it, shown before it, referencing a
  GOP that is not in the file, as in a recording cut from a broadcast). When
  such packets exist, the scan decodes the head of the stream until a frame at
  or after the first keyframe's pts comes out and drops every earlier packet
  the decoder did not output. Past the head every frame's references precede
  it in the file, so a sequential decode outputs it: nothing else is decoded.

A damaged file is indexed up to the point where demuxing fails
(``demux_error`` says why); a packet whose frame cannot be decoded stays a
frame number, and reading it raises, so the frames after it keep their numbers.

The scan also keeps what FFmpeg's full probe (``avformat_find_stream_info``)
found of the stream (``StreamParams``), so that a decoder can open the file
again without one, and check what the demuxer reports against it. And where a
keyframe's bytes lie in the file, checked byte for byte: a keyframe read alone
then needs no container at all, where the scan found that its first keyframe
(of at most ``BARE_CHECK_BYTES``) decodes and converts alike from a codec
context made of the index alone and from the demuxer's (``StreamParams.bare``).
That context misses what the index does not keep of the container (its chroma
siting, say, which FFmpeg's converter may use), so only that comparison can
vouch for it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np

from framereader.errors import CorruptVideoError, UnsupportedVideoError

NO_TS = np.iinfo(np.int64).min  # "no timestamp" in the int64 arrays
HEAD_BYTES = 1 << 16  # how much of the file's head its stamp hashes
PAYLOAD_WINDOW = 256  # how far past FFmpeg's packet position the payload may start (headers)
# The scan vouches for a bare decoder by decoding the first keyframe twice, a cost that
# grows with its bytes, to save one container open (about 2 ms) on each later cold read
# of a keyframe. Past this size the check costs more than ten such opens save: an 86 KB
# x264 keyframe at 768x576 decodes in about 7 ms, a 200 KB lossless one at 480x270 in
# 7 to 20 ms (where the decode dominates the open anyway).
BARE_CHECK_BYTES = 128 * 1024
PACKET_ARRAYS = ("pts", "dts", "duration", "keyframe", "size", "pos", "shown", "payload_offset")
BOOL_ARRAYS = frozenset({"keyframe", "shown"})
COLOR_FIELDS = ("color_range", "colorspace", "color_primaries", "color_trc")  # StreamParams.color


@dataclass(frozen=True)
class FileStamp:
    """What identifies a file's content cheaply: size, mtime and a hash of its head."""

    size: int
    mtime_ns: int
    head: str  # blake2b (16 bytes, hex) of the first HEAD_BYTES bytes

    @classmethod
    def of(cls, video: str | os.PathLike[str]) -> FileStamp:
        return cls._read(video, None)

    def matches(self, video: str | os.PathLike[str]) -> bool:
        """Whether ``video`` still has this size, mtime and head (False when it is gone)."""
        try:
            return FileStamp._read(video, self) == self
        except OSError:
            return False

    @classmethod
    def _read(cls, video: str | os.PathLike[str], expected: FileStamp | None) -> FileStamp | None:
        """The file's stamp from one open; None when its size or mtime already differ
        from ``expected``'s (its head is then not read)."""
        with open(video, "rb", buffering=0) as file:
            stat = os.fstat(file.fileno())
            if expected is not None and (stat.st_size, stat.st_mtime_ns) != (
                expected.size, expected.mtime_ns):  # fmt: skip
                return None
            head = file.read(HEAD_BYTES)
        return cls(
            stat.st_size, stat.st_mtime_ns, hashlib.blake2b(head, digest_size=16).hexdigest()
        )


@dataclass(frozen=True)
class StreamParams:
    """What a full probe found of the stream beyond the index's codec, size and time
    base: what the decoder's context starts from."""

    number: int  # the stream's index in the container
    container: str  # the demuxer's name (FFmpeg's format name)
    pixel_format: str | None
    extradata: bytes  # b"" when there is none
    reorder_depth: int  # frames the decoder holds back to reorder (FFmpeg's has_b_frames)
    color: tuple[int, int, int, int]  # range, space, primaries, transfer characteristic
    # The decoder and converter versions (``LIBRARIES``) with which the scan decoded the
    # first keyframe from a context of these fields alone (no container) and from the
    # demuxer's, to the same frame and the same RGB pixels; None: it did not.
    bare: str | None = None

    @classmethod
    def of(cls, stream: av.VideoStream) -> StreamParams:
        context = stream.codec_context
        return cls(
            stream.index,
            stream.container.format.name,
            context.pix_fmt,
            context.extradata or b"",
            reorder_depth(context),
            tuple(getattr(context, name) for name in COLOR_FIELDS),
        )


def reorder_depth(context: av.VideoCodecContext) -> int:
    """FFmpeg's ``has_b_frames`` of a codec context: the depth where PyAV has
    ``reorder_depth``, else only whether it is 0."""
    depth = getattr(context, "reorder_depth", None)
    return int(context.has_b_frames) if depth is None else int(depth)


def _libraries() -> str:
    versions = av.library_versions
    return ", ".join(
        f"{name} {'.'.join(map(str, versions[name]))}" for name in ("libavcodec", "libswscale")
    )


# What decodes and converts frames here: a bare context the scan vouched for with other
# versions is not used (another FFmpeg's decoder may take more from the container).
LIBRARIES = _libraries()


def adopt(context: av.VideoCodecContext, known: StreamParams) -> bool:
    """Set the context's fields the index keeps to the index's; False where this PyAV
    cannot set one that differs."""
    wanted = {
        "extradata": known.extradata or None,
        "pix_fmt": known.pixel_format,
        "reorder_depth": known.reorder_depth,
        **dict(zip(COLOR_FIELDS, known.color, strict=True)),
    }
    try:
        for name, value in wanted.items():
            if getattr(context, name, None) != value:
                setattr(context, name, value)
    except (AttributeError, TypeError, ValueError):
        return False
    return True


def codec_context(codec: str, width: int, height: int, params: StreamParams):
    """A decoder's context of ``codec`` set from the index's fields alone, opened on
    its first packet; no container is involved (ValueError where this PyAV cannot)."""
    context = av.CodecContext.create(codec, "r")
    context.width, context.height = width, height
    if not adopt(context, params):
        raise ValueError(f"this PyAV cannot set a {codec} context from the index")
    return context


def stream_fields(path: str, stream: av.VideoStream) -> dict:
    """The fields of a ``FrameIndex`` a fully probed stream gives: codec, time base,
    size and params (UnsupportedVideoError without a decoder or a time base)."""
    context = stream.codec_context
    if context is None:
        raise UnsupportedVideoError(f"{path}: FFmpeg has no decoder for its video stream")
    if stream.time_base is None:
        raise UnsupportedVideoError(f"{path}: the video stream has no time base")
    return {
        "codec": context.name,
        "time_base": stream.time_base,
        "width": context.width,
        "height": context.height,
        "params": StreamParams.of(stream),
    }


@dataclass(eq=False)
class FrameIndex:
    """Every packet of the first video stream, in file order; frame ``i`` is packet ``order[i]``.

    The per-packet arrays are in the order the demuxer returns packets (decode
    order), except in an index imported from frame mappings, which lists frames.
    """

    stamp: FileStamp  # the file this index describes
    codec: str
    time_base: Fraction
    width: int
    height: int
    intra_only: bool  # every packet is a keyframe
    pts: np.ndarray  # int64: the packet's pts, its dts when it has none
    dts: np.ndarray  # int64, NO_TS when unknown
    duration: np.ndarray  # int64, 0 when unknown
    keyframe: np.ndarray  # bool
    size: np.ndarray  # int64 bytes, -1 when unknown
    pos: np.ndarray  # int64: the byte position FFmpeg reports, -1 when unknown
    shown: np.ndarray  # bool: a sequential decode outputs this packet's frame
    payload_offset: np.ndarray  # int64: a keyframe's bytes' offset in the file (checked), or -1
    demux_error: str | None = None  # why demuxing stopped before the end of the file
    params: StreamParams | None = None  # None: unknown, decoders open with a full probe
    order: np.ndarray = field(init=False, repr=False)  # frame number -> packet number

    def __post_init__(self) -> None:
        for name in PACKET_ARRAYS:
            dtype = bool if name in BOOL_ARRAYS else np.int64
            setattr(self, name, np.asarray(getattr(self, name), dtype=dtype))
        if len({len(getattr(self, name)) for name in PACKET_ARRAYS}) != 1:
            raise ValueError("the per-packet arrays differ in length")
        self.time_base = Fraction(self.time_base)
        shown = np.flatnonzero(self.shown)
        shown_pts = self.pts[shown]
        if np.all(shown_pts[1:] > shown_pts[:-1]):
            # Decode order is presentation order (no B-frames): what the sort would give,
            # without sorting a million packets when a ten-hour index opens.
            self.order = shown
            return
        self.order = shown[np.argsort(shown_pts, kind="stable")]
        twins = np.flatnonzero(np.diff(self.pts[self.order]) == 0)
        if twins.size:
            ts = int(self.pts[self.order[twins[0]]])
            raise UnsupportedVideoError(
                f"two frames share pts {ts}: nothing tells them apart, so no frame number is exact"
            )

    @classmethod
    def restored(cls, order: np.ndarray, **fields) -> FrameIndex:
        """An index as a scan made it and ``cache`` saved it, with the frame order that
        scan derived: nothing is checked or derived again (sorting an hour with B-frames
        costs more than the rest of its open). For ``cache``, whose checksum vouches that
        the arrays are the ones the scan checked; ``fields`` must be every field."""
        index = object.__new__(cls)
        index.__dict__.update(fields, order=order)
        return index

    def __len__(self) -> int:
        return len(self.order)

    # Derived once, on first use, and shared by every decoder and read: nothing a read
    # does may cost work in proportion to the number of frames (hour-long recordings).

    @functools.cached_property
    def frame_pts(self) -> np.ndarray:
        """The pts of each frame, frame 0 first (increasing); read-only."""
        return _frozen(self.pts[self.order])

    @functools.cached_property
    def frame_keyframe(self) -> np.ndarray:
        """Whether each frame's packet is a keyframe, frame 0 first; read-only."""
        return _frozen(self.keyframe[self.order])

    @functools.cached_property
    def keyframe_packets(self) -> np.ndarray:
        """The numbers of the keyframes' packets, increasing; read-only."""
        return _frozen(np.flatnonzero(self.keyframe))

    @functools.cached_property
    def _pts_sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """Every packet's pts in increasing order, and the packet number of each (stable:
        packets that share a pts stay in file order). 16 bytes a packet, where a dict
        from pts to packet took about 100 (over 100 MB for 10 hours at 30 fps)."""
        by_pts = np.argsort(self.pts, kind="stable")
        return _frozen(self.pts[by_pts]), _frozen(by_pts)

    def packet_with_pts(self, ts: int) -> int | None:
        """The number of the packet whose pts is ``ts`` (the last in file order, should
        two share it), or None; a binary search, with no per-call work in proportion to
        the packet count. Decoders try the packet after the last one they saw first."""
        ordered, numbers = self._pts_sorted
        at = int(np.searchsorted(ordered, ts, side="right")) - 1
        return int(numbers[at]) if at >= 0 and ordered[at] == ts else None

    def bare_context(self):
        """A decoder's context for this stream with no container opened (``codec_context``),
        or None where a scan with this FFmpeg did not find it decodes as the demuxer's does."""
        if self.params is None or self.params.bare != LIBRARIES:
            return None
        return codec_context(self.codec, self.width, self.height, self.params)

    def __getstate__(self) -> dict:
        """The index without its derived tables: a pickle (a DataLoader worker's, a Dask
        task's) carries what the file holds, and each process derives the rest once."""
        derived = {
            k for k, v in vars(type(self)).items() if isinstance(v, functools.cached_property)
        }
        return {k: v for k, v in self.__dict__.items() if k not in derived}

    @property
    def start_pts(self) -> int | None:
        """The pts of frame 0 (often not 0: MPEG-TS, shifted or cut files)."""
        return int(self.pts[self.order[0]]) if len(self) else None

    def matches(self, video: str | os.PathLike[str]) -> bool:
        """Whether ``video`` is still the file this index was built from."""
        return self.stamp.matches(video)

    @classmethod
    def scan(cls, video: str | os.PathLike[str]) -> FrameIndex:
        """Demux every packet of the first video stream once (decoding only an
        undecodable head, if any)."""
        path = os.fspath(video)
        stamp = FileStamp.of(path)
        rows = []
        intra = True
        demux_error = None
        first_key = None  # the first keyframe, to try a bare context on (False: none fits)
        try:
            container = av.open(path)
        except av.FFmpegError as exc:
            raise CorruptVideoError(f"{path} cannot be opened as a video: {exc}") from exc
        with container, open(path, "rb") as file:
            if not container.streams.video:
                raise UnsupportedVideoError(f"{path} has no video stream")
            stream = container.streams.video[0]
            fields = stream_fields(path, stream)
            packets = container.demux(stream)
            while True:
                try:
                    packet = next(packets, None)
                except av.FFmpegError as exc:  # damaged past here: index what came before
                    demux_error = f"{type(exc).__name__}: {exc}"
                    break
                if packet is None:
                    break
                ts = packet.pts if packet.pts is not None else packet.dts
                if packet.size == 0 or ts is None:
                    continue
                intra = intra and packet.is_keyframe
                offset = _payload_offset(file.fileno(), packet) if packet.is_keyframe else -1
                if first_key is None and packet.is_keyframe and not packet.is_discard:
                    first_key = packet if offset >= 0 and packet.size <= BARE_CHECK_BYTES else False
                rows.append(
                    (
                        ts,
                        NO_TS if packet.dts is None else packet.dts,
                        packet.duration or 0,
                        packet.is_keyframe,
                        packet.size,
                        -1 if packet.pos is None else packet.pos,
                        not packet.is_discard,
                        offset,
                    )
                )
            if first_key and _decodes_bare(stream, fields, first_key):
                fields["params"] = dataclasses.replace(fields["params"], bare=LIBRARIES)
        columns = list(zip(*rows, strict=True)) or [()] * len(PACKET_ARRAYS)
        arrays = {
            name: np.array(column, dtype=bool if name in BOOL_ARRAYS else np.int64)
            for name, column in zip(PACKET_ARRAYS, columns, strict=True)
        }
        intra = intra and bool(rows)
        if not intra:
            head = _undecodable_head(path, arrays["pts"], arrays["keyframe"])
            arrays["shown"][head] = False
        return cls(stamp, **fields, intra_only=intra, **arrays, demux_error=demux_error)


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _payload_offset(fd: int, packet: av.Packet) -> int:
    """The file offset of the packet's bytes, checked byte for byte, or -1."""
    if packet.pos is None or packet.pos < 0:
        return -1
    data = bytes(packet)
    at = os.pread(fd, len(data) + PAYLOAD_WINDOW, packet.pos).find(data)
    return packet.pos + at if at >= 0 else -1


def _decodes_bare(stream: av.VideoStream, fields: dict, packet: av.Packet) -> bool:
    """Whether keyframe ``packet`` decodes alone to the same frame, and converts to the
    same RGB pixels, from ``codec_context`` (its bytes alone) as from the demuxer's
    context (the packet as demuxed)."""
    ts = packet.pts if packet.pts is not None else packet.dts
    bare = av.Packet(bytes(packet))
    bare.pts = bare.dts = ts
    try:
        context = codec_context(fields["codec"], fields["width"], fields["height"],
                                fields["params"])  # fmt: skip
        theirs = _alone(stream.codec_context, packet, ts)
        ours = _alone(context, bare, ts)
    except (av.FFmpegError, AttributeError, TypeError, ValueError):
        return False
    return theirs is not None and ours == theirs


def decode_alone(context, packet: av.Packet) -> list[av.VideoFrame]:
    """What ``context`` makes of ``packet`` on its own: the frames it lets out, or where
    it holds the frame back (reordering, frame threads) what a drain lets out, after
    which (or an error) it is flushed so that it decodes again. A decoder that let
    the frame out at once is not flushed: on an intra-only stream's reads a flush
    each cost 7% to 15% of a 128x96 frame. ``av.FFmpegError`` as ``decode``."""
    drained = True
    try:
        frames = context.decode(packet)
        drained = not frames
        return frames or context.decode(None)
    finally:
        if drained:
            context.flush_buffers()


def _alone(context, packet: av.Packet, ts: int) -> tuple | None:
    """What decoding ``packet`` alone gives of the frame ``ts``: its fields and a digest
    of its RGB pixels; None when it does not come out whole."""
    try:
        frames = [f for f in decode_alone(context, packet) if frame_ts(f) == ts]
    finally:
        context.flush_buffers()  # the demuxer's context is the scan's: left as found
    if len(frames) != 1 or frames[0].is_corrupt:
        return None
    frame = frames[0]
    rgb = frame.reformat(format="rgb24").to_ndarray()
    fields = (frame.width, frame.height, frame.format.name, frame.interlaced_frame,
              frame.color_range, frame.colorspace, frame.color_primaries, frame.color_trc)  # fmt: skip
    return fields, hashlib.blake2b(rgb.tobytes(), digest_size=16).digest()


def frame_ts(frame: av.VideoFrame) -> int | None:
    """A decoded frame's timestamp: its pts, else its dts."""
    return frame.pts if frame.pts is not None else frame.dts


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
        frames = container.decode(container.streams.video[0])
        while True:
            try:
                frame = next(frames, None)
            except av.FFmpegError:  # a damaged head: what came out so far is all there is
                break
            if frame is None:
                break
            ts = frame_ts(frame)
            out.add(ts)
            if until is not None and ts is not None and ts >= until:
                reached = ts
                break
    return [
        int(p) for p in head if int(pts[p]) not in out and (reached is None or pts[p] < reached)
    ]
