"""Small videos for the framereader tests, and their ground truth.

Three sets, all made here with the ffmpeg CLI:

* ``SUITE``: every encoding of the video suite (``benchmarks.video.codecs``) of a
  small colour and a small gray recording;
* ``ADVERSARIAL``: the suite's adversarial files (VFR, MPEG-TS, shifted start,
  open GOP, wrong header count, truncated, corrupt);
* ``EXTRA``: what neither set has: MJPEG in AVI, MPEG-2 and HEVC with B-frames, an
  MPEG-TS cut at an open-GOP keyframe (an undecodable leading B-frame) and an
  MP4 with B-frames cut with ``-c copy`` (an edit list discards packets).

The ground truth of a file is a full sequential decode with PyAV, as hashes;
MJPEG's is TurboJPEG's decode of each packet in presentation order when
libjpeg-turbo is found, since the reader then decodes MJPEG with it.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
from pathlib import Path

import av
import numpy as np

from benchmarks.video import adversarial, codecs
from framereader import _packets
from framereader._gop import Costs

FRAMES = 48  # the adversarial files and EXTRA (two GOPs of 30 where there are GOPs)
SUITE_FRAMES = 24  # the suite's encodings: x264 lossless in one GOP costs n * n / 2 decodes
WIDTH, HEIGHT = 320, 180
SUITE = tuple(
    f"{e.name}-{kind}{e.extension}" for e in codecs.ENCODINGS for kind in ("color", "gray")
)
ADVERSARIAL = adversarial.NAMES
SMALL = ["-f", "lavfi", "-i", "testsrc2=size=192x108:rate=30,noise=alls=12:allf=t"]
X264_BFRAMES = ["-c:v", "libx264", "-crf", "18", "-bf", "3", "-g", "30"]
OPEN_GOP = [
    *("-c:v", "libx264", "-crf", "18", "-bf", "3"),
    *("-x264-params", "open-gop=1:keyint=30:min-keyint=30:scenecut=0"),
]
EXTRA = {
    "mjpeg.avi": ["-c:v", "mjpeg", "-q:v", "3"],
    "mpeg2-bframes.ts": ["-c:v", "mpeg2video", "-bf", "2", "-g", "15", "-q:v", "4"],
    "hevc-bframes.mkv": ["-c:v", "libx265", "-x265-params", "log-level=error:bframes=4:keyint=30"],
    "x264-bframes.mp4": X264_BFRAMES,
}
DERIVED = ("opengop-cut.ts", "editlist-bframes.mp4")
DERIVED_FROM = "x264-bframes.mp4"  # the edit-list cut
EXTRA_FILES = (*EXTRA, *DERIVED)
EVERY_FILE = (*SUITE, *ADVERSARIAL, *EXTRA_FILES)
# The adversarial files made damaged on purpose. A frame of theirs comes back exactly or
# raises the package's error, as test_damaged.py judges; where FFmpeg conceals damage
# depends on where decoding starts, so no test may ask them for every frame exactly.
DAMAGED = adversarial.DAMAGED
EXACT_FILES = tuple(name for name in EVERY_FILE if name not in DAMAGED)
PIXEL_FORMATS = {"BGR": ("bgr24", 3), "RGB": ("rgb24", 3), "GRAY": ("gray", 1)}


def ffmpeg(*args: str | os.PathLike[str]) -> None:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", *map(str, args)], check=True, timeout=300
    )


def cut_at_second_keyframe(source: Path, out: Path) -> None:
    """The bytes of an MPEG-TS from the TS packet holding its second keyframe on."""
    with av.open(str(source)) as container:
        keys = [p.pos for p in container.demux(video=0) if p.is_keyframe and p.size]
    data = source.read_bytes()
    out.write_bytes(data[keys[1] - keys[1] % 188 :])


def frame_hash(image: np.ndarray) -> str:
    """A digest of the pixels and the shape: equal hashes, identical frames."""
    digest = hashlib.blake2b(repr((image.shape, image.dtype.str)).encode(), digest_size=16)
    digest.update(np.ascontiguousarray(image).data)
    return digest.hexdigest()


def uses_turbojpeg(path: Path) -> bool:
    with av.open(str(path)) as container:
        codec = container.streams.video[0].codec_context.name
    return codec == "mjpeg" and _packets._turbojpeg() is not None


def sequential_frames(path: Path, pixel_format: str = "BGR") -> list[np.ndarray]:
    """Every frame of a full sequential decode, as the reader should return them."""
    if uses_turbojpeg(path):
        tj = _packets._turbojpeg()
        with av.open(str(path)) as container:
            packets = sorted((p for p in container.demux(video=0) if p.size), key=lambda p: p.pts)
            return [tj.decode(bytes(p), pixel_format) for p in packets]
    av_format, channels = PIXEL_FORMATS[pixel_format]
    with av.open(str(path)) as container:
        return [
            f.to_ndarray(format=av_format).reshape(f.height, f.width, channels)
            for f in container.decode(video=0)
        ]


def orders(count: int, seed: int = 20240607) -> dict[str, list[int]]:
    shuffled = list(range(count))
    random.Random(seed).shuffle(shuffled)
    return {
        "random": shuffled,
        "forward": list(range(count)),
        "backward": list(range(count - 1, -1, -1)),
    }


class FixedCosts(Costs):
    """Cost estimates fixed in packets (a packet: one second), so that whether the pool
    opens a decoder is counted, not timed; the reads still record their own costs."""

    def __init__(self, open_packets: float) -> None:
        super().__init__()
        self.open_packets = open_packets

    def packet_seconds(self) -> float:
        return 1.0

    def open_seconds(self) -> float:
        return float(self.open_packets)


def fix_costs(reader, open_packets: float) -> None:
    """Make a reader's single reads (``threads=1``: batches too) weigh opening a decoder
    as costing ``open_packets`` packets: 0 opens one at every read no decoder reaches,
    ``math.inf`` never opens a second."""
    reader._decoder("single").costs = FixedCosts(open_packets)


# -- counting index scans in other processes (a Dask cluster's workers) -------------

SCANS: list[str] = []  # the videos FrameIndex.scan was called on, in this process


def count_scans() -> int:
    """Wrap FrameIndex.scan in this process so that each call is recorded in SCANS
    (run on every worker with ``client.run``); returns how many were recorded."""
    from framereader import index

    if not getattr(index.FrameIndex.scan, "counted", False):
        original = index.FrameIndex.scan.__func__

        def scan(cls, video):
            SCANS.append(os.fspath(video))
            return original(cls, video)

        scan.counted = True
        index.FrameIndex.scan = classmethod(scan)
    return len(SCANS)
