"""accelerated-codecs as installed from the channel: the package's own modules, the
environment's libturbojpeg found with no variable set, and exact frames through
the environment's PyAV and FFmpeg.

Usage: python test/test_installed.py VERSION (run in the environment, PREFIX set).
"""

import os
import sys
import tempfile
from pathlib import Path

os.environ.pop("TURBOJPEG_LIB", None)  # the environment's library, found unaided

import av
import numpy as np

import framereader
import turbojpeg

PREFIX = Path(os.environ["PREFIX"]).resolve()
HERE = Path(__file__).resolve().parent


def mapped(name: str) -> set[Path]:
    """The files of that library this process has mapped, by /proc/self/maps."""
    found = set()
    for line in Path("/proc/self/maps").read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and Path(parts[5]).name.startswith(f"{name}.so"):
            found.add(Path(parts[5]).resolve())
    return found


def check_modules(version: str) -> None:
    for module in (turbojpeg, framereader, av):
        where = Path(module.__file__).resolve()
        assert where.is_relative_to(PREFIX), f"{module.__name__} imported from {where}"
    assert turbojpeg.__version__ == version, (turbojpeg.__version__, version)


def check_jpeg() -> None:
    tj = turbojpeg.Turbojpeg()
    image = tj.decode((HERE / "astronaut.jpg").read_bytes())
    assert image.shape == (160, 240, 3), image.shape
    assert image.dtype == np.uint8, image.dtype
    (lib,) = mapped("libturbojpeg")
    assert lib.is_relative_to(PREFIX), f"libturbojpeg mapped from {lib}, not from {PREFIX}"
    assert tj.library.api == 3, tj.library
    again = tj.decode(tj.encode(image, 95))
    assert np.abs(again.astype(int) - image).mean() < 3


def check_video(tmp: Path) -> None:
    path = tmp / "counter.mkv"
    with av.open(str(path), "w") as out:  # ffv1: lossless, in both FFmpeg variants
        stream = out.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(40):
            frame = np.zeros((48, 64, 3), np.uint8)
            frame[:, :, 1] = i * 6
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        out.mux(stream.encode(None))
    with av.open(str(path)) as container:
        sequential = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    with framereader.VideoReader(path, cache_dir=tmp / "index") as video:
        assert len(video) == len(sequential) == 40, (len(video), len(sequential))
        for i in (39, 0, 17, 18, 3):
            assert np.array_equal(video[i], sequential[i]), f"frame {i} differs"
        batch = video.get_batch([5, 30, 5])
        assert np.array_equal(batch[1], sequential[30])
    (lib,) = mapped("libavcodec")
    assert lib.is_relative_to(PREFIX), f"libavcodec mapped from {lib}, not from {PREFIX}"


def main() -> None:
    check_modules(sys.argv[1])
    check_jpeg()
    with tempfile.TemporaryDirectory() as tmp:
        check_video(Path(tmp))
    print("accelerated-codecs: all checks passed in", PREFIX)


if __name__ == "__main__":
    main()
