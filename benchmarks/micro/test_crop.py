"""Decoding only a 480x270 region at the top-left of a 1920x1080 JPEG, against
decoding all of it (group ``crop``)."""

from __future__ import annotations

from benchmarks.micro.common import check_pixels, describe

CROP = (0, 0, 480, 270)


def test_crop_decode(benchmark, ours, frames):
    frame = frames["1920x1080"]
    decode = ours.handle.decode
    x, y, w, h = CROP
    check_pixels("crop", decode(frame.jpeg, crop=CROP), frame.bgr[y : y + h, x : x + w])
    describe(
        benchmark,
        "crop",
        "decode",
        ours,
        frame,
        contender="crop-480x270-top-left",
        crop=list(CROP),
        adapter=f"Turbojpeg.decode(data, crop={CROP})",
        megapixels=round(w * h / 1e6, 4),
    )  # pixels delivered, for the MP/s column
    benchmark(decode, frame.jpeg, crop=CROP)


def test_crop_full(benchmark, ours, frames):
    frame = frames["1920x1080"]
    describe(
        benchmark,
        "crop",
        "decode",
        ours,
        frame,
        contender="full-decode",
        adapter="Turbojpeg.decode(data)",
    )
    benchmark(ours.handle.decode, frame.jpeg)
