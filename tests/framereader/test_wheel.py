"""``pip install`` of the project gives ``VideoReader`` and ``Turbojpeg``, with PyAV
as the ``video`` extra, and nothing of the checkout beside them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_installs_framereader_and_turbojpeg(tmp_path, videos, truth):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("turbojpeg", "framereader"):
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(dist)],
        check=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = archive.read(metadata).decode()
    packages = {
        name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")
    }
    assert packages == {"turbojpeg", "framereader"}
    assert "Provides-Extra: video" in meta
    assert 'Requires-Dist: av!=18.1.1,>=12; extra == "video"' in meta  # see pyproject.toml

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    name = "x264-bframes.mp4"
    script = (
        "import sys, hashlib, framereader, turbojpeg\n"
        "from framereader import VideoReader\n"
        f"assert framereader.__file__.startswith({str(site)!r}), framereader.__file__\n"
        f"assert turbojpeg.__file__.startswith({str(site)!r}), turbojpeg.__file__\n"
        f"with VideoReader({str(videos[name])!r}, index=None) as reader:\n"
        "    print(len(reader))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, cwd=tmp_path, env=env, capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(truth(name))
