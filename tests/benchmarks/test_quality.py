"""SSIM and PSNR, as both suites score their lossy outputs."""

from __future__ import annotations

import math

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
