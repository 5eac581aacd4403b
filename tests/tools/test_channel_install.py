"""Our Python packages as a conda user gets them: ``accelerated-codecs`` and ``opencv``
installed from the built channel into a fresh prefix outside this checkout, then used
by that environment's own Python, with no TURBOJPEG_LIB, no PYTHONPATH and nothing
of the checkout on sys.path.

Slow: it needs the whole channel (``bash tools/run.sh test-slow`` builds it).
"""

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from tools.offline_build.environment import install_environment

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = ROOT / ".build" / "channel"
ASTRONAUT = ROOT / "recipes" / "libjpeg-turbo" / "test" / "astronaut.jpg"

pytestmark = pytest.mark.slow

# Run by the environment's own bin/python; prints one JSON line of what it found.
PROBE = textwrap.dedent("""\
    import json, os, sys
    from pathlib import Path

    import av
    import cv2
    import numpy as np
    from framereader import VideoReader
    from turbojpeg import Turbojpeg

    def mapped(name):
        return sorted({str(Path(line.split()[-1]).resolve())
                       for line in open("/proc/self/maps") if f"/{name}.so" in line})

    image = Turbojpeg().decode(open(sys.argv[1], "rb").read())
    path = Path(sys.argv[2]) / "count.mkv"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(30):
            frame = np.zeros((48, 64, 3), np.uint8)
            frame[:, :, 2] = i * 8
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        out.mux(stream.encode(None))
    with av.open(str(path)) as container:
        truth = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    with VideoReader(path, cache_dir=Path(sys.argv[2]) / "index") as video:
        exact = all(np.array_equal(video[i], truth[i]) for i in (29, 0, 13, 14, 2))
        frames = len(video)
    print(json.dumps({
        "shape": list(image.shape), "frames": frames, "exact": exact,
        "sys_path": sys.path, "prefix": sys.prefix,
        "modules": {m.__name__: m.__file__ for m in (av, cv2, np)}
                   | {"turbojpeg": sys.modules["turbojpeg"].__file__,
                      "framereader": sys.modules["framereader"].__file__},
        "libturbojpeg": mapped("libturbojpeg"), "libavcodec": mapped("libavcodec"),
        "farneback": hasattr(cv2, "calcOpticalFlowFarneback"),
        "env": {k: os.environ.get(k) for k in ("TURBOJPEG_LIB", "PYTHONPATH", "CONDA_PREFIX")},
    }))
""")


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    if not (CHANNEL / "noarch" / "repodata.json").is_file():
        pytest.fail(f"no channel at {CHANNEL}: bash tools/run.sh test-slow builds it")
    prefix = tmp_path_factory.mktemp("user") / "codecs"
    install_environment(None, prefix, CHANNEL, ["accelerated-codecs", "opencv"])
    return prefix


def clean_env() -> dict[str, str]:
    drop = {"TURBOJPEG_LIB", "TURBOJPEG_TJ2_LIB", "PYTHONPATH", "CONDA_PREFIX", "VIRTUAL_ENV",
            "LD_LIBRARY_PATH", "BENCH_PREFIX", "BENCH_IJG_PREFIX"}  # fmt: skip
    return {k: v for k, v in os.environ.items() if k not in drop}


def test_the_environment_decodes_jpeg_and_reads_frames_on_its_own_libraries(environment, tmp_path):
    python = environment / "bin" / "python"
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    proc = subprocess.run([python, script, ASTRONAUT, tmp_path], capture_output=True, text=True,
                          cwd=tmp_path, env=clean_env(), check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["shape"] == [160, 240, 3]
    assert found["frames"] == 30
    assert found["exact"] is True
    assert found["farneback"] is True
    assert found["env"] == {"TURBOJPEG_LIB": None, "PYTHONPATH": None, "CONDA_PREFIX": None}
    assert Path(found["prefix"]) == environment
    checkout = str(ROOT) + os.sep
    assert not [p for p in found["sys_path"] if p.startswith(checkout)], found["sys_path"]
    for name in ("turbojpeg", "framereader", "av", "cv2"):
        assert found["modules"][name].startswith(str(environment)), found["modules"]
    for lib in ("libturbojpeg", "libavcodec"):
        assert len(found[lib]) == 1, found[lib]
        assert found[lib][0].startswith(str(environment.resolve())), found[lib]


def test_pip_sees_a_consistent_environment(environment):
    python = environment / "bin" / "python"
    check = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True,
                           env=clean_env(), check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    listed = subprocess.run([python, "-m", "pip", "list", "--format", "json"], capture_output=True,
                            text=True, env=clean_env(), check=True).stdout  # fmt: skip
    names = {p["name"].lower() for p in json.loads(listed)}
    assert {"accelerated-codecs", "av", "opencv-python-headless", "numpy"} <= names, names
