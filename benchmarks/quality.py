"""How close a decoded image is to its source: SSIM and PSNR from scikit-image.

Both suites score with these: the JPEG suite each contender's roundtrip, the
video suite the frames of its lossy encodings. Every metric is a function
``metric(reference, test) -> float`` on two arrays of the same shape (uint8,
gray (h, w) or colour (h, w, 3)); higher is closer. A metric over a whole
video rather than one frame (VMAF, through ffmpeg's libvmaf) belongs here too,
under its own name, taking the two files.
"""

from __future__ import annotations

import math

import numpy as np


def ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """Structural similarity, 1.0 for identical images; colour channels are averaged.

    Integer images are scored in float32 over their dtype's range: scikit-image keeps
    float32 as it is, which halves the time of its float64 default on a 1080p photo
    and moves the score by about 1e-8."""
    from skimage.metrics import structural_similarity

    channel_axis = 2 if reference.ndim == 3 else None
    if reference.dtype != test.dtype or not np.issubdtype(reference.dtype, np.integer):
        return float(structural_similarity(reference, test, channel_axis=channel_axis))
    info = np.iinfo(reference.dtype)
    return float(
        structural_similarity(
            reference.astype(np.float32),
            test.astype(np.float32),
            channel_axis=channel_axis,
            data_range=float(info.max - info.min),
        )
    )


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB over the dtype's range; inf for identical images."""
    from skimage.metrics import peak_signal_noise_ratio

    if np.array_equal(reference, test):
        return math.inf  # scikit-image would divide by a zero error, with a warning
    return float(peak_signal_noise_ratio(reference, test))
