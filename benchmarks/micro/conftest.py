"""Fixtures for the micro benchmarks: images, contenders, machine info.

Everything runs single-threaded where the library lets us say so (OpenCV's
own thread pool is set to 1 thread; the JPEG codecs themselves are
single-threaded), except decode_many, which is asked for 2 threads.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from benchmarks import peers, results
from benchmarks.jpeg import contenders
from benchmarks.micro import images

THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "OPENCV_FOR_THREADS_NUM",
    "TURBOJPEG_LIB",
    "LD_LIBRARY_PATH",
)


_load_at_start: list[float] = []


def pytest_configure(config) -> None:
    if hasattr(os, "getloadavg"):
        _load_at_start[:] = os.getloadavg()
    json_path = config.getoption("benchmark_json", None)
    if json_path is not None:  # --benchmark-json=results/... : make results/ if need be
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
    try:
        import cv2
    except ImportError:
        return
    cv2.setNumThreads(1)


@pytest.fixture(scope="session")
def ours() -> contenders.Contender:
    try:
        return contenders.ours()
    except peers.PeerUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def tj(ours):
    """Our Turbojpeg, the one that encodes every benchmark image."""
    return ours.handle


@pytest.fixture(scope="session")
def frames(tj) -> dict[str, images.Frame]:
    """The main photo at each benchmark size, keyed "480x270", ... plus "16x16"."""
    cache: dict = {}
    made = {
        name: images.make_frame(tj, images.MAIN_PHOTO, size, cache=cache)
        for name, size in images.SIZES.items()
    }
    made["16x16"] = images.make_frame(tj, images.MAIN_PHOTO, images.TINY, cache=cache)
    return made


@pytest.fixture(scope="session")
def batch(tj) -> list[images.Frame]:
    return images.make_batch(tj, count=64)


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory, frames):
    """Each frame as ``<size>.jpg`` (the same bytes) and ``<size>.ppm`` (its BGR pixels)."""
    import cv2

    root = tmp_path_factory.mktemp("micro")
    for name, frame in frames.items():
        (root / f"{name}.jpg").write_bytes(frame.jpeg)
        if not cv2.imwrite(str(root / f"{name}.ppm"), frame.bgr):
            raise RuntimeError(f"could not write {name}.ppm")
    return root


# -- machine info -------------------------------------------------------------------


def _version(name: str, attr: str = "__version__") -> str:
    try:
        return str(getattr(peers.import_peer(name), attr))
    except (peers.PeerUnavailable, AttributeError) as exc:
        return f"unavailable ({exc})"


def pytest_benchmark_update_machine_info(config, machine_info) -> None:
    versions = {
        "numpy": np.__version__,
        "simplejpeg": _version("simplejpeg"),
        "Pillow": _version("PIL"),
    }
    try:
        import cv2

        versions["opencv"] = cv2.__version__
        versions["opencv_jpeg"] = contenders.jpeg_build_line(cv2)
        machine_info["opencv_threads"] = cv2.getNumThreads()
    except ImportError as exc:
        versions["opencv"] = f"unavailable ({exc})"
    try:
        from PIL import features

        versions["Pillow_libjpeg_turbo"] = str(features.version("libjpeg_turbo"))
    except ImportError:
        pass
    try:
        versions["PyTurboJPEG"] = peers.load_pyturbojpeg().__version__
    except peers.PeerUnavailable as exc:
        versions["PyTurboJPEG"] = f"unavailable ({exc})"
    try:
        import turbojpeg

        tj = turbojpeg.Turbojpeg(contenders.our_lib_path())
        versions["turbojpeg"] = turbojpeg.__version__
        versions["turbojpeg_lib_path"] = tj.lib_path
        versions["turbojpeg_libjpeg_turbo"] = turbojpeg.version(tj.lib_path)
    except (ImportError, OSError) as exc:  # report it; never break the run over machine info
        versions["turbojpeg"] = f"unavailable ({exc})"
    machine_info["codec_versions"] = versions
    machine_info["cpu_model"] = results.cpu_name(machine_info)
    machine_info["cpu_affinity"] = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    )
    machine_info["thread_env"] = {k: os.environ.get(k) for k in THREAD_VARS}
    # Other work on the machine shows here; it hits the threaded benchmark hardest.
    machine_info["loadavg_at_start"] = [round(x, 2) for x in _load_at_start]
    if hasattr(os, "getloadavg"):
        machine_info["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
