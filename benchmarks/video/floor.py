"""FFmpeg's floor for opening a video to its first frame: the least work any reader
that decodes with FFmpeg does, timed the way the suite times the readers' opens.

In a fresh forked process (``fresh``) of the bench environment (our channel's
PyAV on our FFmpeg, the libraries the readers of the open target load), with the
packets already demuxed into memory and the codec's parameters taken from the
container: open the decoder with one thread (as the readers are given), feed
the file's packets up to the first frame's own, drain, and convert that frame
to BGR. Nothing is opened, scanned or read from disk in the timed part.

A reader's cached open can approach this but not beat it. Where the floor alone
takes more than a target's share of a peer's open, no reader decoding with
FFmpeg can meet that target. MJPEG is the exception: framereader decodes it with
libjpeg-turbo, which does less than FFmpeg's decoder and conversion.

The frame the floor decodes must equal the first frame of a sequential decode,
else the file's floor is an error, not a time.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.video import fresh, readers

CSV = "open_floor.csv"
NAME = "FFmpeg's floor"  # how the report names it
DESCRIPTION = (
    "the least a reader decoding with FFmpeg does to show frame 0, timed as the readers' "
    "opens: in a fresh forked process, with the packets already in memory, open the decoder "
    "(one thread), feed the packets up to frame 0's own, drain, convert to BGR"
)


def first_frame(path: str) -> tuple[int, str]:
    """The pts of the first frame a sequential decode outputs, and its BGR pixels' digest."""
    import av

    with av.open(path) as container:
        for frame in container.decode(video=0):
            if frame.pts is None:
                raise ValueError(f"{path}: the first frame has no pts")
            return frame.pts, readers.frame_hash(frame.to_ndarray(format="bgr24"))
    raise ValueError(f"{path}: no frame decodes")


class FloorHost:
    """Served in a process of the bench environment (``sites.Worker``)."""

    def __init__(self) -> None:
        import av.video.stream  # noqa: F401 - imported before any fork, as readers' prepare()

    def measure(self, path: str, samples: int, timeout: float = 60.0) -> dict:
        """``{"seconds": [...], "packets": n}``: ``samples`` floors, each in a fresh process."""
        import av

        pts, digest = first_frame(path)
        with av.open(path) as container:
            stream = container.streams.video[0]
            packets = []
            for packet in container.demux(stream):
                if packet.size:
                    packets.append(packet)
                if packet.pts == pts:
                    break
            else:
                raise ValueError(f"{path}: no packet has the first frame's pts {pts}")

            def decode() -> tuple[float, str]:
                start = time.perf_counter()
                context = stream.codec_context  # FFmpeg opens the codec on the first packet
                context.thread_count = 1
                frames = []
                for packet in packets:
                    frames += context.decode(packet)
                frames += context.decode(None)
                chosen = [f for f in frames if f.pts == pts]
                if not chosen:
                    raise ValueError(f"{path}: the first frame did not come out of the decoder")
                image = chosen[0].to_ndarray(format="bgr24")
                return time.perf_counter() - start, readers.frame_hash(image)

            seconds = []
            for _ in range(samples):
                took, got = fresh.in_fresh_process(decode, timeout)
                if got != digest:
                    raise ValueError(f"{path}: the floor's frame is not the first frame decoded")
                seconds.append(took)
        return {"seconds": seconds, "packets": len(packets)}


class Floors:
    """The floor of each video file of a run, measured in one worker process of the bench
    environment (started on first use, started again after a worker dies): ``rows`` for
    ``CSV``, one per sample, and why any file or the whole run has none."""

    def __init__(self, samples: int, timeout: float) -> None:
        self.samples, self.timeout = samples, timeout
        self.unavailable = readers.channel_package_unavailable("bench", "av")
        self.rows: list[dict] = []
        self.errors: dict[str, str] = {}
        self._worker = None

    def measure(self, name: str, path: Path) -> None:
        from benchmarks import environments, sites

        if self.unavailable is not None or not path.is_file():
            return
        try:
            if self._worker is None or not self._worker.alive():
                site = environments.get("bench").site_packages
                self._worker = sites.Worker(site, "benchmarks.video.floor:FloorHost")
            got = self._worker.call("measure", str(path), self.samples, timeout=self.timeout)
        except sites.WorkerError as exc:
            self.errors[name] = str(exc).splitlines()[0]
            return
        container = path.suffix.lstrip(".")
        self.rows += [{"file": name, "container": container, "packets": got["packets"],
                       "seconds": s} for s in got["seconds"]]  # fmt: skip

    def record(self) -> dict:
        """What the provenance says of the floors."""
        if self.unavailable is not None:
            return {"unavailable": self.unavailable}
        return {"what": DESCRIPTION, "samples": self.samples, "errors": self.errors}

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None
