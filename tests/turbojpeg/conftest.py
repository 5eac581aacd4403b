"""Fixtures shared by the tests: the two library generations and real photos."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import turbojpeg

TJ2_DEFAULT = "/usr/lib/x86_64-linux-gnu/libturbojpeg.so.0"


def _tj3_path() -> str | None:
    """The libjpeg-turbo 3.x under test: $TURBOJPEG_LIB, which tools/run.sh sets."""
    return os.environ.get("TURBOJPEG_LIB") or None


def _tj2_path() -> str | None:
    path = os.environ.get("TURBOJPEG_TJ2_LIB", TJ2_DEFAULT)
    return path if Path(path).exists() else None


@pytest.fixture(scope="session", params=["tj3", "tj2"])
def lib_path(request) -> str:
    """Each test using this runs once per TurboJPEG API generation."""
    path = _tj3_path() if request.param == "tj3" else _tj2_path()
    if path is None:
        pytest.skip(f"no {request.param} library here (CI installs both: bash tools/run.sh test)")
    generation = turbojpeg.load_library(path).api
    assert generation == int(request.param[-1]), f"{path} offers API {generation}"
    return path


@pytest.fixture(scope="session")
def tj(lib_path) -> turbojpeg.Turbojpeg:
    return turbojpeg.Turbojpeg(lib_path)


@pytest.fixture(scope="session")
def tj3_path() -> str:
    path = _tj3_path()
    if path is None:
        pytest.skip("$TURBOJPEG_LIB is not set (bash tools/run.sh test builds 3.x and sets it)")
    return path


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real photo (RGB, 512x512) with skin, texture and flat areas."""
    from skimage import data

    return data.astronaut()


def pil_jpeg(rgb: np.ndarray, quality: int = 90, subsampling: str = "420", **save) -> bytes:
    """A JPEG written by Pillow: an encoder independent of ours."""
    modes = {"444": 0, "422": 1, "420": 2}
    buf = io.BytesIO()
    if subsampling == "gray" or rgb.ndim == 2:
        gray = rgb if rgb.ndim == 2 else np.asarray(Image.fromarray(rgb).convert("L"))
        Image.fromarray(gray).save(buf, "JPEG", quality=quality, **save)
    else:
        Image.fromarray(rgb).save(
            buf, "JPEG", quality=quality, subsampling=modes[subsampling], **save
        )
    return buf.getvalue()


@pytest.fixture(scope="session")
def photo_jpeg(photo) -> bytes:
    return pil_jpeg(photo, 90, "420")


@pytest.fixture(scope="session")
def jpeg_tools(tj3_path) -> Path:
    """The folder of cjpeg, djpeg and jpegtran from the same libjpeg-turbo 3.x build
    as ``tj3_path`` (``<prefix>/lib/libturbojpeg.so.0`` -> ``<prefix>/bin``): the
    independent reference for precision, lossless and transforms."""
    folder = Path(tj3_path).resolve().parent.parent / "bin"
    missing = [t for t in ("cjpeg", "djpeg", "jpegtran") if not (folder / t).is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing from {folder}, the libjpeg-turbo build's bin")
    return folder


@pytest.fixture(scope="session")
def testimages(tmp_path_factory) -> Path:
    """libjpeg-turbo's own test images (testimages/ of the source tarball the recipe
    builds from, fetched and verified by sha256 through the offline runner)."""
    import tarfile

    from benchmarks import datasets

    try:
        source = datasets.recipe_source(datasets.ROOT / "recipes" / "libjpeg-turbo")
    except OSError as exc:
        pytest.fail(f"cannot fetch libjpeg-turbo's source: {exc}")
    folder = tmp_path_factory.mktemp("testimages")
    with tarfile.open(source) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if member.isfile() and len(parts) == 3 and parts[1] == "testimages":
                (folder / parts[2]).write_bytes(tar.extractfile(member).read())
    return folder
