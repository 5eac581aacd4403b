"""Streams with GOPs: seek to the keyframe the index names, decode forward to the pts.

``GopDecoder`` drops what the demuxer returns before the keyframe and decodes
forward until the target's pts comes out. It stays warm between calls, so a
target ahead in the current GOP (or just past it) costs no seek. What decoding
since the last seek knows is one ``_SeekState``, made new by every seek.
``GopPool`` keeps a few of them, each left where its last read ended.

While rolling forward, packets shown before the target are fed with
``skip_frame = NONREF`` on codecs whose decoders skip only pictures nothing
references (``SKIP_NONREF_CODECS``): their frames are never output, nor needed
by the target or anything after it, and a later target is always later than
this one, because a decoder is only ever continued forward. A packet is only
fed so when its own bytes say it holds nothing but such pictures (H.264 slices
with ``nal_ref_idc`` 0, MPEG B-pictures): a damaged file can merge a
reference picture into another picture's packet, and skipping would drop it.

Every loop is bounded by the file's packets: past the target's packet at most
``LOOKAHEAD`` more are fed before the decoder is drained, and a frame that
still has not come out is retried from an earlier keyframe and from the
file's start, then reported as a ``CorruptFrameError``.

Damage is told, not passed off as frames: a frame FFmpeg flags as corrupt, and
any frame fed to the decoder after a damaged one (an error, a corrupt frame, a
frame that never came out) with no keyframe between that it is shown after,
raises ``CorruptFrameError`` (``_Damage`` tracks where damage entered). FFmpeg
conceals damage from what it decoded before, which depends on where decoding
started, so such a frame is not what a sequential decode shows.
"""

from __future__ import annotations

import contextlib
import heapq
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from time import perf_counter

import av
import numpy as np

from framereader._source import Converter, Payloads, Video
from framereader.errors import CorruptFrameError
from framereader.index import NO_TS, decode_alone, frame_ts

# FFmpeg decoders whose NONREF skipping drops only pictures that no other picture
# references and that carry no state forward (H.264's nal_ref_idc == 0, MPEG-1/2
# B-pictures). Not HEVC (sub-layer non-reference pictures may be referenced by a
# higher temporal layer), nor codecs whose entropy state carries across frames.
SKIP_NONREF_CODECS = frozenset({"h264", "mpeg1video", "mpeg2video"})
LOOKAHEAD = 64  # packets fed past the target's before the decoder is drained


def _h264_length_size(extradata: bytes | None) -> int:
    """The NAL length prefix of AVCC H.264 (MP4, Matroska), or 0 for Annex B (MPEG-TS)."""
    if extradata and len(extradata) > 4 and extradata[0] == 1:
        return (extradata[4] & 3) + 1
    return 0


def h264_disposable(data: bytes, length_size: int) -> bool:
    """Whether every slice of an H.264 packet has ``nal_ref_idc`` 0 (no picture references
    it); False when the packet does not parse."""
    headers = []
    if length_size:
        at = 0
        while at < len(data):
            size = int.from_bytes(data[at : at + length_size], "big")
            at += length_size
            if size <= 0 or at + size > len(data):
                return False
            headers.append(data[at])
            at += size
    else:
        at = data.find(b"\x00\x00\x01")
        while 0 <= at < len(data) - 3:
            headers.append(data[at + 3])
            at = data.find(b"\x00\x00\x01", at + 3)
    slices = [h for h in headers if 1 <= h & 0x1F <= 5]
    return bool(slices) and all(h & 0xE0 == 0 for h in slices)  # forbidden bit, nal_ref_idc


def mpeg_b_pictures(data: bytes) -> bool:
    """Whether every picture of an MPEG-1/2 packet is a B-picture (coding type 3)."""
    types = []
    at = data.find(b"\x00\x00\x01\x00")
    while at >= 0:
        if at + 5 >= len(data):
            return False
        types.append((data[at + 5] >> 3) & 7)
        at = data.find(b"\x00\x00\x01\x00", at + 4)
    return bool(types) and all(t == 3 for t in types)


class _Damage:
    """Where damage may have entered since the last seek, by place: the count of
    packets fed so far. A frame fed after a damaged one may reference it unless a
    keyframe fed between is shown at or before the frame. ``in_flight``: how many
    packets fed before the last one may still be decoding (frame threading), so
    that what the decoder reports now may belong to any of them."""

    def __init__(self, start_pts: int | None) -> None:
        self._start_pts = start_pts  # frames shown before it may never come out
        self.place = 0  # packets fed since the seek
        self.fed_at: dict[int, int] = {}  # pts -> the place its packet was fed at
        self.keys_fed: list[tuple[int, int]] = []  # (place, pts) of the keyframes fed
        self.awaited: list[tuple[int, int]] = []  # heap of (pts, place): fed, not out yet
        self.first: int | None = None  # the first place whose frame may be damaged

    def feed(self, ts: int | None, keyframe: bool, expect: bool) -> None:
        """One more packet fed, of pts ``ts``; ``expect``: its frame must come out (a
        frame of the index, fed without skipping), unless it is shown before the
        keyframe decoding started from (it may reference a GOP the decoder never saw)."""
        self.place += 1
        if ts is None:
            return
        self.fed_at[ts] = self.place
        if keyframe:
            self.keys_fed.append((self.place, ts))
        if expect and (self._start_pts is None or ts >= self._start_pts):
            heapq.heappush(self.awaited, (ts, self.place))

    def mark(self, place: int) -> None:
        place = max(place, 1)
        self.first = place if self.first is None else min(self.first, place)

    def here(self, in_flight: int) -> None:
        """The decoder raised: the packet fed last is damaged, or one still in flight."""
        self.mark(self.place - in_flight)

    def out(self, frame: av.VideoFrame, in_flight: int) -> None:
        """A frame out of the decoder. A corrupt one marks where damage began, and so
        does a frame that never came out although a later one did (frames come out in
        pts order): the decoder dropped it."""
        ts = frame_ts(frame)
        if frame.is_corrupt:
            self.mark(self.fed_at.get(ts, self.place - in_flight))
        while self.awaited and ts is not None and self.awaited[0][0] <= ts:
            missing, place = heapq.heappop(self.awaited)
            if missing != ts:
                self.mark(place)

    def taints(self, ts: int) -> bool:
        """Whether the frame with pts ``ts`` was fed after damage, with no keyframe between
        that it is shown at or after (which would make it independent of the damage)."""
        place = self.fed_at.get(ts)
        if self.first is None or place is None or place < self.first:
            return False
        return not any(
            self.first < key_place <= place and ts >= key_ts for key_place, key_ts in self.keys_fed
        )

    def forget(self, target: int, in_flight: int) -> None:
        """Drop what no later read can use, so that it stays as small as the decoder's
        window however long a recording is read through: where frames at or before
        ``target`` were fed (frames come out in pts order, so they are out), and the
        keyframes fed before any place damage can still be given (every later ``mark``
        is at a place still tracked, or at the packets in flight) that cannot make a
        later frame independent of the damage already recorded."""
        for ts in [ts for ts in self.fed_at if ts <= target]:
            del self.fed_at[ts]
        floor = min(
            min(self.fed_at.values(), default=self.place),
            min((place for _, place in self.awaited), default=self.place),
            self.place - in_flight,
        )
        if self.first is not None:
            floor = min(floor, self.first + 1)
        if self.keys_fed and self.keys_fed[0][0] < floor:
            self.keys_fed = [key for key in self.keys_fed if key[0] >= floor]


@dataclass
class _SeekState:
    """What decoding since the last seek knows; every seek (and a reopen) makes a new one."""

    start: int  # the keyframe packet decoding started from (-1: the file's start)
    damage: _Damage
    skip_to: int | None  # the keyframe packet demuxing must reach first
    packets: Iterator[av.Packet] | None = None  # the demuxer; None once the decoder is drained
    pending: deque[av.VideoFrame] = field(default_factory=deque)  # out, not yet returned
    fed: int = -1  # the highest packet number fed to the decoder
    expect: int = 0  # the packet the demuxer should return next, in file order
    last: int | None = None  # the pts of the last frame returned
    errors: list[str] = field(default_factory=list)  # what FFmpeg raised
    by_dts: bool | None = None  # how it seeked: by the keyframe's dts, its pts, or None: no seek


@dataclass(frozen=True)
class Place:
    """Where a read left a decoder that can decode on: enough to tell whether a frame
    is reached from there with no seek, and with how many packets."""

    start: int  # the keyframe packet decoding started from (-1: the file's start)
    fed: int  # the highest packet number fed
    last: int  # the pts of the frame returned last


class Costs:
    """What opening a decoder and decoding a packet cost on one file, measured on
    the decoders' own reads (``perf_counter``), as running averages; and how the
    file's demuxer seeks (``by_dts``), learned by whichever decoder seeked first,
    so that no other one tries the wrong way again.

    A read is timed up to its decoded frame (not the conversion), less the
    container opens inside it, against the packets it fed. A read that opened a
    container also set up the codec (FFmpeg opens it on the first packet) and
    allocated its first frames, so it is kept apart: what it took beyond what
    reads that seeked took for as many packets (they too start at a keyframe,
    which costs more than the packets after it) counts as opening."""

    def __init__(self) -> None:
        self.by_dts = False  # seek by the keyframe's dts (MPEG-TS), not its pts
        self.opens = 0  # containers opened
        self.open_time = 0.0  # seconds in the opens themselves
        # packets fed and seconds: in reads that opened, that seeked, that decoded on
        self.first, self.sought, self.onward = [0, 0.0], [0, 0.0], [0, 0.0]

    def record(self, packets: int, seconds: float, opens: int = 0, open_time: float = 0.0,
               sought: bool = False) -> None:  # fmt: skip
        """A read that fed ``packets`` in ``seconds``, and besides opened ``opens``
        containers in ``open_time`` seconds; ``sought``: it seeked."""
        self.opens += opens
        self.open_time += open_time
        kind = self.first if opens else self.sought if sought else self.onward
        kind[0] += packets
        kind[1] += seconds

    @staticmethod
    def _per(*kinds: list) -> float | None:
        packets, seconds = sum(k[0] for k in kinds), sum(k[1] for k in kinds)
        return seconds / packets if packets else None

    def packet_seconds(self) -> float | None:
        """Seconds per packet fed (None: nothing fed yet); until a read that opened
        nothing has fed packets, the opening reads' average, setup included."""
        per = self._per(self.sought, self.onward)
        return self._per(self.first) if per is None else per

    def open_seconds(self) -> float | None:
        """Seconds per open, setup included (None: none yet)."""
        per = self._per(self.sought) or self.packet_seconds()
        if not self.opens or per is None:
            return None
        setup = max(self.first[1] - self.first[0] * per, 0.0)
        return (self.open_time + setup) / self.opens


class GopDecoder:
    """One container and its decoder: seek to the keyframe, decode forward to the exact pts."""

    def __init__(self, video: Video, convert: Converter, skip_nonref: bool, costs: Costs) -> None:
        self.video, self.convert, self.costs = video, convert, costs  # its reads' costs go there
        self.path, self.index, self.counts = video.path, video.index, video.counts
        self.counts["decoders"] += 1
        self._skip = skip_nonref and self.index.codec in SKIP_NONREF_CODECS
        self._container = self._stream = None
        self._bare = None  # a context of the index alone, for keyframes read alone
        self._bare_failed = False  # none, or one failed: never again for this decoder
        self._payloads = Payloads(video)  # their bytes
        self._fed_total = 0  # packets fed, ever
        self._opens, self._open_time = 0, 0.0  # containers opened, ever, and in how long
        self._seek = self._fresh(-1)

    def _fresh(self, start: int) -> _SeekState:
        """The state of a decoder about to start at keyframe ``start`` (-1: the file's start)."""
        start_pts = int(self.index.pts[start]) if start >= 0 else None
        return _SeekState(start, _Damage(start_pts), skip_to=start if start >= 0 else None,
                          expect=max(start, 0))  # fmt: skip

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = self._stream = None
        self._bare = None
        self._payloads.close()
        self._seek = self._fresh(-1)

    # -- which keyframe, and whether to seek ------------------------------------------

    def _gop(self, packet: int) -> int:
        """The last keyframe at or before ``packet`` (-1: none)."""
        keys = self.index.keyframe_packets
        at = int(np.searchsorted(keys, packet, side="right"))
        return int(keys[at - 1]) if at else -1

    def _keyframe_for(self, packet: int, ts: int) -> int:
        """The last keyframe at or before ``packet`` with pts <= ``ts`` (-1: the file's start)."""
        if self.index.keyframe[packet] and self.index.pts[packet] <= ts:
            return packet  # itself (a fresh reader's frame 0, a thumbnail): nothing to search
        keys = self.index.keyframe_packets
        at = int(np.searchsorted(keys, packet, side="right"))
        for k in keys[:at][::-1]:
            if self.index.pts[k] <= ts:
                return int(k)
        return -1

    def _in_flight(self) -> int:
        """How many packets fed before the current one may still be decoding: an error
        raised now may belong to any of them (frame threading), else to this one."""
        context = self._stream.codec_context
        return max(context.thread_count, 1) if self.video.thread_type == "frame" else 0

    def _reaches(self, key: int, fed: int) -> bool:
        """Whether a decoder that has fed up to packet ``fed`` reaches a frame whose keyframe
        is ``key`` by decoding on, at no more cost than a seek: ``key`` is in its GOP, or
        is the next packet, or (frame threading) within the frames a seek's flush would
        waste. Decoding on into a later GOP decodes every packet before its keyframe,
        which a seek skips: on lossless H.264 at 17 ms a frame, a window of 16 packets
        cost 15% of the median random read."""
        flight = self._in_flight() if self._stream is not None else 0  # none open: no flush
        return key <= self._gop(fed) or key - fed <= 1 + flight

    def place(self) -> Place | None:
        """Where the last read left this decoder; None when it cannot decode on (none
        yet, or drained)."""
        seek = self._seek
        if seek.packets is None or seek.last is None:
            return None
        return Place(seek.start, seek.fed, seek.last)

    def _continues_to(self, place: Place | None, key: int, target: int) -> bool:
        """Whether the frame with pts ``target`` (keyframe ``key``) is reached by decoding
        on from ``place``, with no seek."""
        return (
            place is not None
            and target > place.last
            and place.start <= key
            and self._reaches(key, place.fed)
        )

    def ahead(self, i: int, place: Place | None = None) -> int | None:
        """How many packets past the last one fed frame ``i``'s packet is, when decoding
        on reaches it with no seek; None when reading it would seek. ``place``: from
        there (a place this or another decoder of the file was left at), not from
        where this decoder is."""
        packet = int(self.index.order[i])
        target = int(self.index.pts[packet])
        start = self.place() if place is None else place
        if not self._continues_to(start, self._keyframe_for(packet, target), target):
            return None
        return max(packet - start.fed, 0)

    def from_keyframe(self, i: int) -> int:
        """How many packets a seek feeds to reach frame ``i``'s packet: from its
        keyframe's (or the file's first) to it."""
        packet = int(self.index.order[i])
        key = self._keyframe_for(packet, int(self.index.pts[packet]))
        return packet - max(key, 0) + 1

    def read(self, i: int, out: np.ndarray | None = None, then: int | None = None) -> np.ndarray:
        """Frame ``i``; ``then`` is the frame that will be asked for next, if known (a batch),
        so that the decoder can be drained at once when that frame needs a seek anyway."""
        packet = int(self.index.order[i])
        target = int(self.index.pts[packet])
        key = self._keyframe_for(packet, target)
        drain = False
        if then is not None:
            after = int(self.index.order[then])
            drain = not self._reaches(
                self._keyframe_for(after, int(self.index.pts[after])), max(self._seek.fed, packet)
            )
        if then is None and key == packet and self._container is None:
            frame = self._read_bare(packet, target)
            if frame is not None:  # the container is opened by a read that needs it
                return self.convert(frame, out)
        before = (perf_counter(), self._fed_total, self._opens, self._open_time, self._seek)
        frame = None
        if self._continues_to(self.place(), key, target):
            self.counts["continued"] += 1
            frame = self._decode_until(target, packet, drain)
        if frame is None:
            frame = self._seek_and_decode(i, key, target, packet, drain, alone=then is None)
        self._record(*before)
        seek = self._seek
        seek.last = target
        if frame.is_corrupt:
            raise CorruptFrameError(f"{self.path}: frame {i} decoded with errors (concealed)", i)
        if seek.damage.taints(target):
            raise CorruptFrameError(
                f"{self.path}: frame {i} was decoded after a damaged frame it may reference", i
            )
        seek.damage.forget(target, self._in_flight())
        return self.convert(frame, out)

    def _read_bare(self, packet: int, target: int) -> av.VideoFrame | None:
        """Keyframe ``packet`` (pts ``target``) decoded alone from its bytes at the offset
        the scan checked, by a context of the index alone: no container, no demuxer (the
        first read of a fresh reader, a thumbnail). None where the index cannot vouch
        for that context or the frame does not come out whole: the container's route
        then reads it, and says what is wrong."""
        if self._bare_failed or self.index.payload_offset[packet] < 0:
            return None
        if self._bare is None:
            self._bare = self.video.bare_context()
            if self._bare is None:
                self._bare_failed = True
                return None
        try:
            data = self._payloads.read(packet)
        except OSError:
            data = None
        frames = []
        if data is not None and len(data) == self.index.size[packet]:
            bare = av.Packet(data)
            bare.pts = bare.dts = target
            bare.time_base = self.index.time_base
            self._fed_total += 1
            self.counts["fed"] += 1
            with contextlib.suppress(av.FFmpegError):  # the container's route says what
                frames = decode_alone(self._bare, bare)
            self._bare.flush_buffers()  # empty for the next keyframe, from another GOP
        self.counts["decoded"] += len(frames)
        whole = [f for f in frames if frame_ts(f) == target and not f.is_corrupt]
        if len(whole) != 1 or not self.video.as_indexed(whole[0]):
            # the container's route, from now on: it has the last word on this frame
            self._bare, self._bare_failed = None, True
            return None
        return whole[0]

    def _record(self, started: float, fed: int, opens: int, open_time: float, seek) -> None:
        """Tell ``costs`` what the read begun at ``started`` (with those counts, and that
        seek state) took."""
        opens, open_time = self._opens - opens, self._open_time - open_time
        seconds = perf_counter() - started - open_time
        sought = self._seek is not seek
        self.costs.record(self._fed_total - fed, seconds, opens, open_time, sought)

    def _seek_and_decode(self, i: int, key: int, target: int, packet: int, drain: bool,
                         alone: bool = False):  # fmt: skip
        """Restart at ``key`` (else an earlier keyframe, else the file's start) and decode
        to ``target``. ``alone``: no next frame is known; a frame whose own packet is the
        keyframe decoding restarts from then comes out of a drain at once, not after the
        reorder depth's packets more (two whole decodes on x264 with B-frames, most of
        opening a small file to its first frame). A read after it in that GOP seeks
        again and decodes the keyframe a second time, about what the drain saved."""
        starts = [key]
        if key >= 0:
            earlier = self._keyframe_for(key - 1, target)
            starts += [earlier, -1] if earlier >= 0 else [-1]
        for start in starts:
            for by_dts in self._seek_modes(start):
                if not self._restart(start, by_dts):
                    continue
                frame = self._decode_until(target, packet, drain or (alone and start == packet))
                if frame is not None:
                    if self._seek.by_dts is not None:
                        self.costs.by_dts = by_dts
                    return frame
                self.counts["retries"] += 1
        said = self._seek.errors[-3:]
        errors = f"; the decoder said: {'; '.join(said)}" if said else ""
        raise CorruptFrameError(
            f"{self.path}: frame {i} (pts {target}) never came out of the decoder{errors}", i
        )

    def _seek_modes(self, start: int) -> list[bool]:
        """Seek by the keyframe's pts or its dts, the mode that worked last first.

        Matroska's cues hold pts; MPEG-TS seeks by dts and lands past the
        keyframe when given its pts."""
        if start < 0:
            return [False]
        if self.index.dts[start] in (NO_TS, self.index.pts[start]):
            return [False]
        return [self.costs.by_dts, not self.costs.by_dts]

    def _restart(self, start: int, by_dts: bool) -> bool:
        """Start decoding again at keyframe ``start``: seek to it, or reopen the file for
        ``start == -1``; False when the demuxer refuses the seek."""
        self.counts["seeks"] += 1
        self._seek = seek = self._fresh(start)
        opened = start < 0 or self._container is None
        if opened:
            if self._container is not None:
                self._container.close()
                self._container = None
            started = perf_counter()
            self._container, self._stream = self.video.open()
            self._opens += 1
            self._open_time += perf_counter() - started
        # A container just opened demuxes from the file's first packet: a keyframe there
        # needs no seek (which costs Matroska a read of its cues, MPEG-TS a search).
        if start > 0 or (start == 0 and not opened):
            seek.by_dts = by_dts
            ts = self.index.dts[start] if by_dts else self.index.pts[start]
            try:
                self._container.seek(int(ts), stream=self._stream, backward=True)
            except av.FFmpegError as exc:
                seek.errors.append(f"seek: {exc}")
                return False
        seek.packets = self._container.demux(self._stream)
        return True

    # -- decoding ------------------------------------------------------------------

    def _next_packet(self) -> av.Packet | None:
        try:
            return next(self._seek.packets, None)
        except av.FFmpegError as exc:  # a damaged file: its packets end here
            self._seek.errors.append(f"demux: {exc}")
            return None

    def _number(self, ts: int | None) -> int | None:
        """The number of the packet with pts ``ts`` the demuxer just returned: the one
        after the last it returned, when that has this pts (demuxers return packets in
        file order, and a seek lands on the keyframe sought), else the index's search."""
        if ts is None:
            return None
        seek, pts = self._seek, self.index.pts
        number = seek.expect
        if not (number < len(pts) and pts[number] == ts):
            self.counts["packet_searches"] += 1
            number = self.index.packet_with_pts(ts)
            if number is None:
                return None
        seek.expect = number + 1
        return number

    def _drain(self) -> None:
        """Take every frame the decoder still holds; it must be reset (a seek) before reuse."""
        self._seek.packets = None
        try:
            self._take(self._stream.codec_context.decode(None))
        except av.FFmpegError as exc:
            self._seek.errors.append(f"drain: {exc}")
            self._seek.damage.here(self._in_flight())

    def _take(self, frames: list[av.VideoFrame]) -> None:
        """Frames out of the decoder, into ``pending``, each told to the damage count."""
        in_flight = self._in_flight()
        for frame in frames:
            self._seek.damage.out(frame, in_flight)
        self.counts["decoded"] += len(frames)
        self._seek.pending.extend(frames)

    def _disposable(self, packet: av.Packet) -> bool:
        """Whether the packet holds only pictures no other picture references."""
        if self.index.codec == "h264":
            length_size = _h264_length_size(self._stream.codec_context.extradata)
            return h264_disposable(bytes(packet), length_size)
        return mpeg_b_pictures(bytes(packet))

    def _decode_until(self, target: int, target_packet: int, drain: bool) -> av.VideoFrame | None:
        """Decode forward to the frame with pts ``target``; None when it cannot come out
        from here (the demuxer landed after the keyframe, the decoder skipped it, EOF).

        ``drain``: empty the decoder as soon as the target's packet is in, rather than
        feeding more packets until it comes out."""
        seek = self._seek
        context = self._stream.codec_context
        past = -1  # packets fed since the target's packet (-1: not fed yet)
        while True:
            while seek.pending:
                frame = seek.pending.popleft()
                ts = frame_ts(frame)
                if ts == target:
                    return frame
                if ts is not None and ts > target:
                    seek.pending.appendleft(frame)
                    return None
            if seek.packets is None:
                return None
            if past >= 0 and (drain or past >= LOOKAHEAD):
                self._drain()
                continue
            packet = self._next_packet()
            if packet is None:
                self._drain()
                continue
            ts = packet.pts if packet.pts is not None else packet.dts
            number = self._number(ts)
            if seek.skip_to is not None:
                # drop, undecoded, what the demuxer returns before the keyframe
                if number == seek.skip_to:
                    seek.skip_to = None
                elif packet.size == 0 or (number is not None and number > seek.skip_to):
                    return None  # it landed after the keyframe
                else:
                    continue
            if number is not None:
                seek.fed = max(seek.fed, number)
            self._fed_total += 1
            self.counts["fed"] += 1
            skip = self._skip and ts is not None and ts < target and self._disposable(packet)
            if self._skip:
                context.skip_frame = "NONREF" if skip else "DEFAULT"
            shown = number is not None and bool(self.index.shown[number])
            seek.damage.feed(ts, packet.is_keyframe, expect=shown and not skip)
            try:
                frames = context.decode(packet)
            except av.FFmpegError as exc:  # this packet's frame is lost; the others may not be
                seek.errors.append(f"decode: {exc}")
                seek.damage.here(self._in_flight())
                frames = []
            self._take(frames)
            if packet.size == 0:  # the demuxer's last, empty packet drained the decoder
                seek.packets = None
            if number == target_packet:
                past = 0
            elif past >= 0:
                past += 1


class GopPool:
    """Frames of a GOP stream from up to ``size`` ``GopDecoder``s, each on a
    container of its own and left where its last read ended.

    A read goes to the decoder that reaches the frame by decoding on with the
    fewest packets. When none does, the least recently used one seeks, or a new
    one opens while fewer than ``size`` are open. Each decoder is exact on its
    own, so the frames are the same as with one.

    When to open: a new decoder decodes from the frame's keyframe as the seek
    would, and costs an open besides; it pays only by keeping the place the
    seeking decoder would leave, for a later read. So, while there is room,
    the pool remembers the last ``2 * size`` places decoders left and, at each
    read, adds up the packets that decoding on from the nearest of them would
    have saved over what the read costs now. A decoder opens when that sum, at
    the measured cost per packet, reaches the measured cost of an open
    (``Costs``, both measured on this file's reads); the sum then starts again
    from zero. Reads that never come back just behind a place left (random
    reads in far-apart GOPs, sorted reads, runs that only go forward) open
    none; alternating between two or three places opens one at the first
    return to each. The cost of more decoders is memory: each keeps its
    reference frames (a few frames' worth) and a file handle.
    """

    def __init__(self, make: Callable[[], GopDecoder], size: int, costs: Costs) -> None:
        self._make = make
        self.size = size
        self.costs = costs  # what an open and a packet cost: what opening is weighed with
        self._decoders: list[GopDecoder] = []  # the least recently used first
        self._left: deque[Place] = deque(maxlen=2 * size)  # places decoders left, the latest last
        self._unkept = 0  # packets the places left would have saved since the last open

    def _for(self, i: int) -> GopDecoder:
        best, fewest = None, None
        for decoder in self._decoders:
            packets = decoder.ahead(i)
            if packets is not None and (fewest is None or packets < fewest):
                best, fewest = decoder, packets
        room = len(self._decoders) < self.size  # once full, nothing is weighed, nor kept
        if room and self._decoders:
            self._unkept += self._saving(i, fewest)
        if not self._decoders or (room and best is None and self._pays_to_open()):
            self._unkept = 0
            chosen = self._make()
        else:
            chosen = self._decoders.pop(0) if best is None else best
            if best is not None:
                self._decoders.remove(best)
            place = chosen.place()
            if room and place is not None:
                self._left.append(place)
        self._decoders.append(chosen)
        return chosen

    def _saving(self, i: int, fewest: int | None) -> int:
        """The packets that decoding on from the nearest place left would save on frame
        ``i`` over the plan: decoding on ``fewest`` packets, or a seek (None)."""
        anchor = self._decoders[-1]
        kept = [anchor.ahead(i, place) for place in self._left]
        nearest = min((packets for packets in kept if packets is not None), default=None)
        if nearest is None:
            return 0
        planned = anchor.from_keyframe(i) if fewest is None else fewest
        return max(planned - nearest, 0)

    def _pays_to_open(self) -> bool:
        """Whether the packets the places left would have saved cost an open."""
        per, opening = self.costs.packet_seconds(), self.costs.open_seconds()
        return per is not None and opening is not None and self._unkept * per >= opening

    def read(self, i: int, out: np.ndarray | None = None, then: int | None = None) -> np.ndarray:
        """Frame ``i``; ``then``: the frame asked for next, if known."""
        return self._for(i).read(i, out, then)

    def read_many(self, indices: list[int], out: Sequence[np.ndarray]) -> None:
        """Frames ``indices`` (sorted, distinct) into ``out[0], out[1], ...``: each GOP
        is decoded once, and the decoder never seeks backwards."""
        for k, i in enumerate(indices):
            then = indices[k + 1] if k + 1 < len(indices) else None
            self.read(i, out[k], then)

    def frames(self, indices: Iterable[int]) -> Iterator[np.ndarray]:
        """Frames ``indices`` (increasing), each read with the next one known; taken
        from ``indices`` one ahead, never listed (a 10-hour recording has a million)."""
        ahead = iter(indices)
        i = next(ahead, None)
        while i is not None:
            following = next(ahead, None)
            yield self.read(i, then=following)
            i = following

    def close(self) -> None:
        decoders, self._decoders = self._decoders, []
        self._left.clear()
        self._unkept = 0
        for decoder in decoders:
            decoder.close()
