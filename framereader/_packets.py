"""Intra-only streams: every packet is a frame of its own, read and decoded alone.

``PacketDecoder`` makes one ``os.pread`` of the frame's packet where the scan
found its bytes in the file (else takes the demuxer's packet) and one decode,
MJPEG by TurboJPEG when it loads: no seek, no other frame; and no container
opened at all where the index vouches for a decoder made of it alone.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import av
import numpy as np

from framereader._source import Converter, Payloads, Video
from framereader.errors import CorruptFrameError, FrameReaderError
from framereader.index import decode_alone, frame_ts

# Without an index of offsets: read on through the demuxer (no decoding) when the
# wanted packet is at most this many packets ahead, else seek.
CONTINUE_WINDOW = 16
CHUNK = 32  # frames decoded at once by frames()


def _turbojpeg():
    """A strict TurboJPEG decoder (warnings are errors) when the package and library load."""
    try:
        from turbojpeg import LibraryNotFoundError, Turbojpeg
    except ImportError:
        return None
    try:
        # fast_upsample: the chroma replication FFmpeg's own conversion does
        return Turbojpeg(strict=True, fast_upsample=True, max_pixels=None)
    except (LibraryNotFoundError, OSError):
        return None


class PacketDecoder:
    """Intra-only frames: one ``pread`` of the packet, one decode (MJPEG by TurboJPEG)."""

    def __init__(self, video: Video, convert: Converter) -> None:
        self.video, self.convert = video, convert
        self.path, self.index, self.counts = video.path, video.index, video.counts
        self._payloads = Payloads(video)
        self._container = self._stream = None
        self._codec = None  # the decoder's context: _context()
        self._bare = False  # it is one made of the index alone
        self._bare_failed = False  # one gave a frame unlike the index's: not again
        self._demux = None  # packets read on from the last one demuxed
        self._demux_at: int | None = None  # the frame whose packet was demuxed last
        self._jpeg = _turbojpeg() if self.index.codec == "mjpeg" else None
        self._jpeg_checked = False
        self._pool: ThreadPoolExecutor | None = None  # TurboJPEG's batch decodes

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        self._payloads.close()
        self._codec = None
        if self._container is not None:
            self._container.close()
            self._container = self._stream = self._demux = None
            self._demux_at = None

    def _bytes(self, i: int) -> bytes:
        """The bytes of frame ``i``'s packet: one ``pread`` where the scan found them, else
        demuxed (an index imported from frame mappings knows no file offsets)."""
        packet = int(self.index.order[i])
        data = self._payloads.read(packet)
        if data is None:
            return self._demuxed(i)
        if len(data) != self.index.size[packet]:
            raise CorruptFrameError(f"{self.path} is shorter than its index says (frame {i})", i)
        return data

    def _demuxed(self, i: int) -> bytes:
        """Frame ``i``'s packet from the demuxer: read on when it lies a few packets ahead,
        else seek to it, else read from the file's start; bounded by the file."""
        target = int(self.index.frame_pts[i])
        self._open_container()
        ahead = self._demux_at is not None and 0 < i - self._demux_at <= CONTINUE_WINDOW
        for attempt in ("ahead", "seek", "start") if ahead else ("seek", "start"):
            if attempt != "ahead":
                self.counts["seeks"] += 1
                try:
                    if attempt == "seek":
                        self._container.seek(target, stream=self._stream, backward=True)
                    else:
                        self._container.seek(0, backward=True)
                except av.FFmpegError:
                    continue
                self._demux = self._container.demux(self._stream)
            self._demux_at = None
            while True:
                try:
                    packet = next(self._demux, None)
                except av.FFmpegError:
                    packet = None
                if packet is None:
                    break
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts is None or packet.size == 0 or ts < target:
                    continue
                if ts == target:
                    self._demux_at = i
                    self.counts["demuxed"] += 1
                    return bytes(packet)
                break  # past it: the demuxer landed after the target
        raise CorruptFrameError(f"{self.path}: the packet of frame {i} (pts {target}) is gone", i)

    def _open_container(self) -> None:
        if self._container is None:
            self._container, self._stream = self.video.open()

    def _context(self) -> av.CodecContext:
        """The decoder's context: one made of the index alone where the scan found that it
        decodes as the demuxer's does (no container opened: the packets come by
        ``pread``), else the container's."""
        if self._codec is None:
            self._codec = None if self._bare_failed else self.video.bare_context()
            self._bare = self._codec is not None
            if self._codec is None:
                self._open_container()
                self._codec = self._stream.codec_context
        return self._codec

    def _packet(self, i: int) -> av.Packet:
        packet = av.Packet(self._bytes(i))
        packet.pts = packet.dts = int(self.index.frame_pts[i])
        packet.time_base = self.index.time_base
        return packet

    def _jpeg_decode(self, i: int, data: bytes, out: np.ndarray | None) -> np.ndarray:
        try:
            image = self._jpeg.decode(data, self.convert.pixel_format, out=out)
        except Exception as exc:  # TurbojpegError, or a size that does not fit `out`
            raise CorruptFrameError(
                f"{self.path}: frame {i} is not a whole JPEG: {exc}", i
            ) from exc
        return image

    def _use_jpeg(self) -> bool:
        """TurboJPEG, unless the stream's JPEGs are not whole frames (interlaced MJPEG
        stores two fields per packet): checked once, on frame 0, whatever is read first,
        so that every frame comes from the same decoder."""
        if self._jpeg is not None and not self._jpeg_checked:
            self._jpeg_checked = True
            try:
                info = self._jpeg.decode_header(self._bytes(0))
            except Exception:  # noqa: BLE001 - a damaged first packet: let FFmpeg judge
                self._jpeg = None
            else:
                if (info.height, info.width) != (self.index.height, self.index.width):
                    self._jpeg = None
        return self._jpeg is not None

    def read(self, i: int, out: np.ndarray | None = None) -> np.ndarray:
        if self._use_jpeg():
            return self._jpeg_decode(i, self._bytes(i), out)
        context = self._context()
        target = int(self.index.frame_pts[i])
        error = None
        try:
            frames = decode_alone(context, self._packet(i))
        except av.FFmpegError as exc:
            frames, error = [], exc
        frames = [f for f in frames if frame_ts(f) == target]
        whole = len(frames) == 1 and not frames[0].is_corrupt
        if self._bare and not (whole and self.video.as_indexed(frames[0])):
            # the container's context, from now on: it has the last word on this frame
            self._bare_failed, self._codec = True, None
            return self.read(i, out)
        if error is not None:
            raise CorruptFrameError(
                f"{self.path}: frame {i} cannot be decoded: {error}", i
            ) from error
        if not whole:
            raise CorruptFrameError(f"{self.path}: frame {i} did not decode cleanly", i)
        return self.convert(frames[0], out)

    def read_many(self, indices: list[int], out: Sequence[np.ndarray]) -> None:
        """Frames ``indices`` into ``out[0], out[1], ...``; on any failure each frame is
        read again alone, so an error names the frame it belongs to."""
        try:
            if self._use_jpeg():
                self._jpeg_many(indices, out)
            else:
                self._decode_stream(indices, out)
        except Exception:  # noqa: BLE001 - the single reads below raise the precise error
            for k, i in enumerate(indices):
                self.read(i, out[k])
        else:
            self.counts["batched"] += len(indices)

    def frames(self, indices: Iterable[int]) -> Iterator[np.ndarray]:
        """Frames ``indices`` (increasing), read ``CHUNK`` at a time by ``read_many``;
        taken from ``indices`` a chunk at a time, never listed whole."""
        shape = (self.index.height, self.index.width, self.convert.channels)
        ahead = iter(indices)
        while chunk := list(itertools.islice(ahead, CHUNK)):
            out = np.empty((len(chunk), *shape), np.uint8)
            self.read_many(chunk, list(out))
            yield from out

    def _jpeg_many(self, indices: list[int], out: Sequence[np.ndarray]) -> None:
        """TurboJPEG decodes on a pool of threads (ctypes lets go of the GIL meanwhile)."""
        items = [self._bytes(i) for i in indices]
        pixel_format = self.convert.pixel_format

        def decode(k: int) -> None:
            self._jpeg.decode(items[k], pixel_format, out=out[k])

        workers = min(len(items), self.video.threads or os.cpu_count() or 1)
        if workers <= 1:
            for k in range(len(items)):
                decode(k)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.video.threads or os.cpu_count() or 1)
        list(self._pool.map(decode, range(len(items))))

    def _decode_stream(self, indices: list[int], out: Sequence[np.ndarray]) -> None:
        context = self._context()
        slot = {int(self.index.frame_pts[i]): k for k, i in enumerate(indices)}
        done = 0
        try:
            for i in [*indices, None]:
                frames = context.decode(None if i is None else self._packet(i))
                for frame in frames:
                    k = slot.pop(frame_ts(frame), None)
                    unlike = self._bare and not self.video.as_indexed(frame)  # read() falls back
                    if k is None or frame.is_corrupt or unlike:
                        raise FrameReaderError("an unexpected or damaged frame")
                    self.convert(frame, out[k])
                    done += 1
        finally:
            context.flush_buffers()
        if done != len(indices):
            raise FrameReaderError("frames missing from a batch")
