"""SSIM and PSNR, as both suites score their lossy outputs."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from benchmarks import quality


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    rng = np.random.default_rng(7)
    smooth = np.linspace(0, 255, 96, dtype=np.float64)[None, :, None] * np.ones((64, 1, 3))
    return np.clip(smooth + rng.normal(0, 20, smooth.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("channels", [3, 1])
def test_identical_images_score_the_maximum(image, channels):
    same = image if channels == 3 else np.ascontiguousarray(image[:, :, 0])
    assert quality.ssim(same, same.copy()) == pytest.approx(1.0)
    assert quality.psnr(same, same.copy()) == math.inf


def test_psnr_of_a_known_error():
    # Every pixel off by 16: MSE 256, so PSNR = 10 log10(255^2 / 256) dB.
    reference = np.full((32, 48, 3), 100, np.uint8)
    assert quality.psnr(reference, reference + 16) == pytest.approx(
        10 * math.log10(255**2 / 256), abs=1e-9
    )


def test_more_noise_scores_lower(image):
    rng = np.random.default_rng(8)
    scores = []
    for sigma in (2, 10, 40):
        noisy = np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)
        scores.append((quality.ssim(image, noisy), quality.psnr(image, noisy)))
    ssims, psnrs = zip(*scores, strict=True)
    assert 1 > ssims[0] > ssims[1] > ssims[2] > 0
    assert psnrs[0] > psnrs[1] > psnrs[2] > 10
    assert psnrs[1] == pytest.approx(28.1, abs=0.6)  # sigma 10: about 20 log10(255 / 10)
    assert all(isinstance(s, float) for pair in scores for s in pair)


def test_the_scorer_scores_in_workers_as_the_functions_do(image):
    rng = np.random.default_rng(10)
    noisy = [np.clip(image + rng.normal(0, s, image.shape), 0, 255).astype(np.uint8)
             for s in (3, 12, 30, 60, 90)]  # fmt: skip
    gray = np.ascontiguousarray(image[:, :, 0])
    with quality.Scorer(workers=2) as scorer:
        keys = [scorer.submit(image, n) for n in noisy]  # more than 2 * workers wait at once
        again = scorer.submit(image, noisy[0].copy())
        ssim_only = scorer.submit(image, noisy[1], with_psnr=False)
        flat = scorer.submit(gray, np.ascontiguousarray(noisy[0][:, :, 0]))
        for key, n in zip(keys, noisy, strict=True):
            assert scorer.result(key) == (quality.ssim(image, n), quality.psnr(image, n))
        assert again == keys[0]  # the same pixels are scored once
        assert scorer.result(ssim_only) == (quality.ssim(image, noisy[1]),)
        assert flat not in keys
        assert scorer.result(flat)[0] == quality.ssim(gray, noisy[0][:, :, 0])


def test_the_scorer_passes_a_workers_error_on(image):
    with quality.Scorer(workers=1) as scorer:
        key = scorer.submit(image, image[:10])
        with pytest.raises(ValueError, match="same dimensions"):
            scorer.result(key)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_ssim_in_float32_agrees_with_scikit_images_float64(image, dtype):
    from skimage.metrics import structural_similarity

    scale = 1 if dtype == np.uint8 else 257
    reference = image.astype(dtype) * dtype(scale)
    rng = np.random.default_rng(9)
    noisy = np.clip(reference + rng.normal(0, 10 * scale, image.shape), 0, 255 * scale)
    noisy = noisy.astype(dtype)
    full = structural_similarity(
        reference.astype(np.float64),
        noisy.astype(np.float64),
        channel_axis=2,
        data_range=float(np.iinfo(dtype).max),
    )
    assert quality.ssim(reference, noisy) == pytest.approx(full, abs=1e-6)
    assert quality.ssim(reference, noisy) < 0.99


# -- VMAF, through an ffmpeg with libvmaf ------------------------------------------


@pytest.fixture(scope="module")
def recording_and_raw(tmp_path_factory):
    from benchmarks.video import codecs, frames

    folder = tmp_path_factory.mktemp("vmaf")
    recording = frames.Recording("vmaf-color", 320, 180, True, frames=20)
    return recording, codecs.raw_frames_path(recording, folder), folder


def _x264(recording, raw, target, crf: int) -> None:
    import subprocess

    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo",
         "-pix_fmt", recording.pix_fmt, "-s", f"{recording.width}x{recording.height}",
         "-r", str(recording.fps), "-i", str(raw), "-c:v", "libx264", "-crf", str(crf),
         "-pix_fmt", "yuv420p", str(target)],
        check=True,
    )  # fmt: skip


def _score(recording, raw, distorted, **options):
    return quality.vmaf(
        quality.vmaf_ffmpeg(),
        distorted,
        raw,
        width=recording.width,
        height=recording.height,
        pix_fmt=recording.pix_fmt,
        fps=recording.fps,
        **options,
    )


def test_vmaf_scores_a_worse_encode_lower(recording_and_raw):
    recording, raw, folder = recording_and_raw
    _x264(recording, raw, folder / "good.mp4", 12)
    _x264(recording, raw, folder / "bad.mp4", 48)
    good = _score(recording, raw, folder / "good.mp4")
    bad = _score(recording, raw, folder / "bad.mp4")
    assert len(good) == len(bad) == recording.frames  # every frame scored, none dropped
    assert np.mean(good) > 85
    assert np.mean(good) > np.mean(bad) + 15
    # Matroska keeps a millisecond clock: 30 fps frames still meet their own source frame.
    _x264(recording, raw, folder / "good.mkv", 12)
    assert min(_score(recording, raw, folder / "good.mkv")) > 80
    every_fifth = _score(recording, raw, folder / "good.mp4", subsample=5)
    assert len(every_fifth) == recording.frames // 5
    assert every_fifth == pytest.approx(good[::5], abs=1e-3)  # the same frames, subsampled


def test_vmaf_reads_an_image_sequence(recording_and_raw):
    from benchmarks.video import codecs

    recording, raw, folder = recording_and_raw
    exploded = folder / "exploded"
    codecs.encode_exploded_jpeg(recording, exploded, threads=1)
    scores = _score(
        recording,
        raw,
        exploded / "frame_%06d.jpg",
        distorted_options=("-f", "image2", "-framerate", str(recording.fps)),
    )
    assert len(scores) == recording.frames
    assert min(scores) > 80


def test_vmaf_of_a_missing_file_names_it(recording_and_raw, tmp_path):
    recording, raw, _ = recording_and_raw
    with pytest.raises(RuntimeError, match=r"VMAF of .*nothing\.mp4 failed"):
        _score(recording, raw, tmp_path / "nothing.mp4")


def test_the_encoding_ffmpeg_computes_vmaf_when_it_has_libvmaf(monkeypatch):
    import imageio_ffmpeg

    bundled = imageio_ffmpeg.get_ffmpeg_exe()
    assert quality.has_libvmaf(bundled)
    assert quality.vmaf_ffmpeg(bundled) == bundled
    if not quality.has_libvmaf("ffmpeg"):  # Debian's has none: imageio-ffmpeg's steps in
        assert quality.vmaf_ffmpeg("ffmpeg") == bundled
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if not installed
    with pytest.raises(quality.VmafUnavailable, match="no libvmaf; imageio-ffmpeg is not usable"):
        quality.vmaf_ffmpeg("/bin/true")
