"""Threads: decode_many, concurrent use of one Turbojpeg, and memory over time."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import psutil
import pytest

import turbojpeg
from turbojpeg import TurbojpegError, UnsupportedFeatureError

from .conftest import pil_jpeg


@pytest.fixture(scope="module")
def batch(photo) -> list[bytes]:
    """Distinct JPEGs of one size: different crops of the photo."""
    rng = np.random.default_rng(11)
    return [
        pil_jpeg(photo[y : y + 200, x : x + 300], 85, "420")
        for y, x in rng.integers(0, 200, size=(24, 2))
    ]


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_decode_many_equals_serial_decode(tj, batch, threads):
    stacked = tj.decode_many(batch, threads=threads)
    assert isinstance(stacked, np.ndarray)
    assert stacked.shape == (len(batch), 200, 300, 3)
    for i, data in enumerate(batch):
        assert np.array_equal(stacked[i], tj.decode(data))


def test_decode_many_works_in_a_forked_child(lib_path, batch):
    """A DataLoader worker is a fork of a process whose decode_many already made its
    threads; the child inherits the pool but not the threads, and must make its own
    instead of waiting on threads that do not exist."""
    codec = turbojpeg.Turbojpeg(lib_path)
    expected = codec.decode_many(batch[:6], threads=2)
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only with the same pixels, never back into pytest
        code = 3
        try:
            if np.array_equal(codec.decode_many(batch[:6], threads=2), expected):
                code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("decode_many in a forked child hung (the parent's pool threads)")
    assert os.waitstatus_to_exitcode(done[1]) == 0
    codec.close()


def test_decode_many_passes_decode_options(tj, batch):
    stacked = tj.decode_many(batch, threads=2, pixel_format="GRAY", scale=0.5, fast_dct=True)
    assert stacked.shape == (len(batch), 100, 150, 1)
    assert np.array_equal(stacked[3], tj.decode(batch[3], "GRAY", scale=0.5, fast_dct=True))
    crops = tj.decode_many(batch, threads=2, crop=(17, 5, 40, 30))
    assert np.array_equal(crops[5], tj.decode(batch[5])[5:35, 17:57])


def test_decode_many_into_out(tj, batch):
    out = np.zeros((len(batch), 200, 300, 3), np.uint8)
    assert tj.decode_many(batch, threads=2, out=out) is out
    assert np.array_equal(out[-1], tj.decode(batch[-1]))
    with pytest.raises(
        ValueError, match="out must be an \\(N, height, width, channels\\) array with N=24"
    ):
        tj.decode_many(batch, out=out[:3])


def test_decode_many_with_mixed_sizes_returns_a_list(tj, batch, photo):
    mixed = [*batch[:3], pil_jpeg(photo[:50, :70], 85, "444")]
    result = tj.decode_many(mixed, threads=2)
    assert isinstance(result, list)
    assert [a.shape for a in result] == [(200, 300, 3)] * 3 + [(50, 70, 3)]
    assert np.array_equal(result[3], tj.decode(mixed[3]))
    assert tj.decode_many([], threads=2) == []


def test_decode_many_names_the_bad_buffer(tj, batch):
    broken = [*batch[:5], b"not a jpeg", *batch[5:]]
    with pytest.raises(TurbojpegError, match="Not a JPEG file") as caught:
        tj.decode_many(broken, threads=2)
    assert any("buffer 5 of 25" in note for note in caught.value.__notes__)
    # Bad data met while decoding (after the header pass) is named too.
    out = np.zeros((25, 200, 300, 3), np.uint8)
    with pytest.raises(TurbojpegError) as caught:
        tj.decode_many(broken, threads=2, out=out)
    assert any("buffer 5 of 25" in note for note in caught.value.__notes__)
    with pytest.raises(ValueError, match="threads must be a positive int"):
        tj.decode_many(batch, threads=0)


def test_many_threads_on_one_instance_match_serial(lib_path, batch):
    codec = turbojpeg.Turbojpeg(lib_path)
    expected = [codec.decode(d, fast_dct=i % 2 == 0) for i, d in enumerate(batch)]
    encoded = [codec.encode(e, 80 + i % 15) for i, e in enumerate(expected)]
    barrier = threading.Barrier(8)

    def work(offset: int) -> bool:
        barrier.wait()
        ok = True
        for round_ in range(6):
            for j in range(len(batch)):
                i = (j + offset + round_) % len(batch)
                # Alternate modes so every thread's handle changes parameters.
                ok &= np.array_equal(codec.decode(batch[i], fast_dct=i % 2 == 0), expected[i])
                ok &= codec.encode(expected[i], 80 + i % 15) == encoded[i]
        return ok

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(8)))


def test_memory_stays_flat_over_many_calls(lib_path, photo):
    codec = turbojpeg.Turbojpeg(lib_path)
    data = pil_jpeg(photo, 90, "420")
    small = pil_jpeg(photo[:16, :16], 90, "420")
    out = np.empty((512, 512, 3), np.uint8)

    def churn(n: int) -> None:
        for _ in range(n):
            codec.decode(data)
            codec.decode(data, crop=(8, 8, 64, 64), scale=0.5)
            codec.decode(small, out=np.empty((16, 16, 3), np.uint8))
            codec.decode(data, out=out)
            codec.encode(out, 90)
            codec.decode_yuv(small)
            with contextlib.suppress(TurbojpegError):
                codec.decode(data[:200])

    process = psutil.Process()
    churn(100)  # warm up allocators and handles
    before = process.memory_info().rss
    churn(1500)
    grown = process.memory_info().rss - before
    # A leak of one image (768 KB) per call would add > 1 GB; allow 40 MB of noise.
    assert grown < 40 * 2**20, f"RSS grew by {grown / 2**20:.1f} MB"


def test_close_and_context_manager(lib_path, batch):
    with turbojpeg.Turbojpeg(lib_path) as codec:
        codec.decode_many(batch, threads=2)
        assert codec._pool.executor is not None
    assert codec._pool.executor is None
    # Closed handles are made again on demand.
    assert codec.decode(batch[0]).shape == (200, 300, 3)


# -- ICC profiles, 12-bit and lossless -------------------------------------------------


def test_threads_share_profiles_and_wide_samples(lib_path, batch, testimages):
    """Each thread's compressor holds its own profile and lossless settings;
    switching them from call to call never leaks into another call's bytes."""
    codec = turbojpeg.Turbojpeg(lib_path)
    icc = (testimages / "test3.icc").read_bytes()
    jpeg12 = (testimages / "testorig12.jpg").read_bytes()
    images = [codec.decode(d) for d in batch[:8]]
    wide = codec.api_generation == 3

    def profile(i: int) -> bytes | None:
        return icc if i % 2 else None

    with_icc = [codec.encode(img, 85, icc_profile=profile(i)) for i, img in enumerate(images)]
    if wide:
        lossless = [
            codec.encode(img, lossless=True, predictor=1 + i % 7) for i, img in enumerate(images)
        ]
        twelve = codec.decode(jpeg12)
    barrier = threading.Barrier(6)

    def work(offset: int) -> bool:
        barrier.wait()
        ok = True
        for round_ in range(4):
            for j in range(len(images)):
                i = (j + offset + round_) % len(images)
                ok &= codec.encode(images[i], 85, icc_profile=profile(i)) == with_icc[i]
                ok &= codec.decode_header(with_icc[i]).icc_profile == profile(i)
                if wide:
                    ok &= codec.encode(images[i], lossless=True, predictor=1 + i % 7) == lossless[i]
                    ok &= np.array_equal(codec.decode(lossless[i]), images[i])
                    ok &= np.array_equal(codec.decode(jpeg12), twelve)
                else:
                    with pytest.raises(UnsupportedFeatureError):
                        codec.decode(jpeg12)
        return ok

    with ThreadPoolExecutor(6) as pool:
        assert all(pool.map(work, range(6)))


def test_memory_stays_flat_with_profiles_and_wide_samples(lib_path, photo, testimages):
    codec = turbojpeg.Turbojpeg(lib_path)
    icc = (testimages / "test1.icc").read_bytes()  # 557 KB: a leaked copy per call shows
    jpeg12 = (testimages / "testorig12.jpg").read_bytes()
    small = np.ascontiguousarray(photo[:64, :64])
    small16 = small.astype(np.uint16) << 8
    with_icc = codec.encode(small, 90, icc_profile=icc)
    wide = codec.api_generation == 3
    lossless16 = codec.encode(small16, lossless=True) if wide else None
    out12 = np.empty((149, 227, 3), np.uint16)

    def churn(n: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", turbojpeg.TurbojpegWarning)
            for _ in range(n):
                codec.encode(small, 90, icc_profile=icc)
                codec.encode(small, 90)  # the handle drops the profile
                codec.decode_header(with_icc)
                codec.decode(with_icc)
                with contextlib.suppress(TurbojpegError):
                    codec.decode(jpeg12[:400])
                if wide:
                    codec.decode(jpeg12, out=out12)
                    codec.decode(jpeg12, scale=0.5, crop=(9, 9, 50, 40))
                    codec.decode(lossless16)
                    codec.encode(small16, lossless=True, icc_profile=icc)
                    codec.encode(small16 >> 4, 90)  # 12-bit
                    with contextlib.suppress(UnsupportedFeatureError):
                        codec.decode(lossless16, scale=0.5)
                else:
                    with contextlib.suppress(UnsupportedFeatureError):
                        codec.decode(jpeg12)
                    with contextlib.suppress(UnsupportedFeatureError):
                        codec.encode(small16, lossless=True)

    process = psutil.Process()
    churn(30)  # warm up allocators and handles
    before = process.memory_info().rss
    churn(300)
    grown = process.memory_info().rss - before
    # A leaked profile (557 KB) or 12-bit image (200 KB) per call would add > 60 MB.
    assert grown < 40 * 2**20, f"RSS grew by {grown / 2**20:.1f} MB"
