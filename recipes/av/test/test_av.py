"""PyAV on our FFmpeg: the libraries it loaded, and what each variant can do.

Run as the recipe's test, in the environment under test (PREFIX). The variant is
not passed in: it is read from the libavcodec this process mapped, so the same
script checks the build against the LGPL FFmpeg and the installs with either.
"""

import ctypes
import os
import sys
import tempfile
from pathlib import Path

import av
import numpy as np

PREFIX = Path(os.environ["PREFIX"]).resolve()


def mapped(name: str) -> Path:
    """The one file of that library this process has mapped."""
    found = set()
    for line in Path("/proc/self/maps").read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and Path(parts[5]).name.startswith(f"{name}.so"):
            found.add(Path(parts[5]).resolve())
    assert len(found) == 1, f"{name}: expected one mapped file, got {sorted(found)}"
    return found.pop()


def loaded_from_prefix() -> ctypes.CDLL:
    for lib in ("libavcodec", "libavformat", "libavutil", "libswscale"):
        path = mapped(lib)
        assert path.is_relative_to(PREFIX), f"{lib} came from {path}, not from {PREFIX}"
    avcodec = ctypes.CDLL(str(mapped("libavcodec")))
    avcodec.avcodec_version.restype = ctypes.c_uint
    avcodec.avcodec_license.restype = ctypes.c_char_p
    packed = avcodec.avcodec_version()
    version = (packed >> 16, (packed >> 8) & 0xFF, packed & 0xFF)
    assert av.library_versions["libavcodec"] == version, (av.library_versions, version)
    print(f"libavcodec {'.'.join(map(str, version))} from {mapped('libavcodec')}")
    return avcodec


def encode(path: Path, codec: str, frames: int = 12, **options) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=12, options=options)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            image = np.full((48, 64, 3), (i * 20) % 256, np.uint8)
            image[:, : 4 + i * 4] = 255
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))


def decode(path: Path, codec: str | None = None) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if codec:  # a decoder other than FFmpeg's default for the stream
            ctx = av.CodecContext.create(codec, "r")
            ctx.extradata = stream.codec_context.extradata
            # demux() ends with an empty packet, which flushes the decoder.
            return [
                f.to_ndarray(format="gray") for p in container.demux(stream) for f in ctx.decode(p)
            ]
        return [f.to_ndarray(format="gray") for f in container.decode(stream)]


def main() -> None:
    avcodec = loaded_from_prefix()
    licence = avcodec.avcodec_license().decode()
    gpl = licence.startswith("GPL")
    print(f"variant: {'gpl' if gpl else 'lgpl'} ({licence})")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # H.264 without GPL code: openh264, in both variants; decoded by FFmpeg's h264.
        encode(tmp / "openh264.mp4", "libopenh264")
        frames = decode(tmp / "openh264.mp4")
        assert len(frames) == 12, len(frames)
        # AV1: aom encodes; dav1d and aom decode the same pictures.
        encode(tmp / "av1.mkv", "libaom-av1", frames=6, **{"cpu-used": "8", "usage": "realtime"})
        by_dav1d, by_aom = (
            decode(tmp / "av1.mkv", "libdav1d"),
            decode(tmp / "av1.mkv", "libaom-av1"),
        )
        assert len(by_dav1d) == 6, len(by_dav1d)
        assert all(np.array_equal(a, b) for a, b in zip(by_dav1d, by_aom, strict=True))
        if gpl:
            assert "libx264" in av.codecs_available
            encode(tmp / "x264.mp4", "libx264", preset="ultrafast")
            assert len(decode(tmp / "x264.mp4")) == 12
        else:
            assert "libx264" not in av.codecs_available, "libx264 in an LGPL FFmpeg"
            assert "libx265" not in av.codecs_available, "libx265 in an LGPL FFmpeg"
    print("test_av: all checks passed")


if __name__ == "__main__":
    sys.exit(main())
