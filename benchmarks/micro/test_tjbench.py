"""libjpeg-turbo's own tjbench on the same files and the same library build.

tjbench times itself; each test runs it once (``benchmark.pedantic``, one
round) so the entry's own timing is just tjbench's wall time, warm-up
included, and means nothing. The figure that counts is in extra_info:
``tjbench_mpix_per_s`` and ``tjbench_s_per_image`` (the same rate as seconds
per image of this size), which summary.py sets against our median.

* decode: ``tjbench <size>.jpg`` decompresses the very JPEG the decode
  benchmarks use, to BGR with the accurate IDCT ("Decomp Perf").
* encode: ``tjbench <size>.ppm 95 -subsamp 420 -componly`` compresses the
  same BGR pixels at quality 95, 4:2:0 ("Comp Perf").
"""

from __future__ import annotations

import pytest

from benchmarks import peers
from benchmarks.micro import images, tjbench
from benchmarks.micro.common import describe


@pytest.fixture(scope="module")
def exe(ours):
    try:
        return tjbench.locate(ours.extra["lib_path"])
    except peers.PeerUnavailable as exc:
        pytest.skip(str(exc))


def _describe(benchmark, op, frame, ours):
    describe(
        benchmark,
        f"tjbench-{op}",
        op,
        "tjbench",
        frame,
        library=f"tjbench of libjpeg-turbo {ours.extra['libjpeg_turbo']}",
        lib_path=ours.extra["lib_path"],
    )


def _record(benchmark, frame, result, column):
    rate = result.rate(column)
    benchmark.extra_info.update(
        tjbench_command=" ".join(result.command),
        tjbench_columns=result.columns,
        tjbench_column=column,
        tjbench_mpix_per_s=rate,
        tjbench_s_per_image=frame.width * frame.height / (rate * 1e6),
    )


@pytest.mark.parametrize("size", list(images.SIZES))
def test_tjbench_decode(benchmark, exe, ours, frames, image_dir, size):
    frame = frames[size]
    _describe(benchmark, "decode", frame, ours)
    result = benchmark.pedantic(
        tjbench.run, args=(exe, image_dir / f"{size}.jpg"), rounds=1, iterations=1
    )
    _record(benchmark, frame, result, "Decomp Perf")


@pytest.mark.parametrize("size", list(images.SIZES))
def test_tjbench_encode(benchmark, exe, ours, frames, image_dir, size):
    frame = frames[size]
    _describe(benchmark, "encode", frame, ours)
    args = (exe, image_dir / f"{size}.ppm", str(images.QUALITY), "-subsamp", "420", "-componly")
    result = benchmark.pedantic(tjbench.run, args=args, rounds=1, iterations=1)
    _record(benchmark, frame, result, "Comp Perf")
