"""A batch of 64 distinct 1920x1080 JPEGs: ``decode_many(threads=2)`` against a
serial loop of ``decode`` over the same batch (group ``decode-many``).

Both keep every decoded frame (the loop in a list, decode_many in one
(64, 1080, 1920, 3) array), so both pay for ~400 MB of fresh output memory
per round, though not in the same way: 64 separate allocations against one.
``decode_many(threads=1)`` is there too, as the like-for-like serial baseline
that isolates what the second thread brings.
"""

from __future__ import annotations

import pytest

from benchmarks.micro.common import check_pixels, describe

THREADS = 2


def _batch_info(batch):
    return {
        "frames": len(batch),
        "size": f"{batch[0].width}x{batch[0].height}",
        "megapixels": round(sum(f.megapixels for f in batch), 4),
        "jpeg_bytes": sum(len(f.jpeg) for f in batch),
        "photos": sorted({f.photo for f in batch}),
        "resample": sorted({f.resample for f in batch}),
        "batch": "photos in turn, each a seeded random 90-100 % 16:9 crop at a random offset",
    }


@pytest.mark.parametrize("threads", [THREADS, 1])
def test_decode_many_threads(benchmark, ours, batch, threads):
    tj = ours.handle
    data = [f.jpeg for f in batch]
    result = tj.decode_many(data, threads=threads)
    for i, frame in enumerate(batch):
        check_pixels(f"decode_many frame {i}", result[i], frame.bgr)
    del result
    describe(
        benchmark,
        "decode-many",
        "decode",
        ours,
        None,
        contender=f"decode_many-{threads}",
        threads=threads,
        adapter=f"Turbojpeg.decode_many(batch, threads={threads})",
        **_batch_info(batch),
    )
    benchmark(tj.decode_many, data, threads=threads)


def test_decode_many_serial(benchmark, ours, batch):
    decode = ours.handle.decode
    data = [f.jpeg for f in batch]

    def serial():
        return [decode(b) for b in data]

    describe(
        benchmark,
        "decode-many",
        "decode",
        ours,
        None,
        contender="serial-decode",
        threads=1,
        adapter="[Turbojpeg.decode(b) for b in batch]",
        **_batch_info(batch),
    )
    benchmark(serial)
