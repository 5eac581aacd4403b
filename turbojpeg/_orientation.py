"""EXIF orientations as numpy flips and transposes, and crops mapped through them.

The JPEG stores the image as the camera's sensor saw it; the EXIF orientation
says how to turn that stored image upright. For each value, what the stored
image is, and the numpy view of a stored ``(h, w, c)`` array ``a`` that is
upright (what Pillow's ``ImageOps.exif_transpose`` and torchvision's
``apply_exif_orientation`` give):

- 1: upright: ``a``;
- 2: mirrored left-right: ``a[:, ::-1]``;
- 3: turned 180 degrees: ``a[::-1, ::-1]``;
- 4: mirrored top-bottom: ``a[::-1]``;
- 5: mirrored on the main diagonal: ``a.transpose(1, 0, 2)``;
- 6: turned 90 degrees counter-clockwise: ``a.transpose(1, 0, 2)[:, ::-1]``;
- 7: mirrored on the anti-diagonal: ``a[::-1, ::-1].transpose(1, 0, 2)``;
- 8: turned 90 degrees clockwise: ``a.transpose(1, 0, 2)[::-1]``.

Values 5 to 8 swap width and height.
"""

from __future__ import annotations

import numpy as np


def swaps_axes(orientation: int | None) -> bool:
    """Whether the upright image is the stored one with width and height swapped."""
    return orientation is not None and orientation >= 5


def upright(stored: np.ndarray, orientation: int | None) -> np.ndarray:
    """A view of the ``(h, w, c)`` array ``stored`` turned upright (not a copy)."""
    if orientation is None or orientation == 1:
        return stored
    if orientation >= 5:
        stored = stored.transpose(1, 0, 2)
        orientation = _AFTER_TRANSPOSE[orientation]
    if orientation == 2:
        return stored[:, ::-1]
    if orientation == 3:
        return stored[::-1, ::-1]
    if orientation == 4:
        return stored[::-1]
    return stored


# After the transpose, 5 needs nothing more, 6 a left-right mirror, 7 a
# 180-degree turn (a[::-1, ::-1].T is a.T[::-1, ::-1]) and 8 a top-bottom mirror.
_AFTER_TRANSPOSE = {5: 1, 6: 2, 7: 3, 8: 4}


def stored_rect(
    orientation: int | None, rect: tuple[int, int, int, int], stored_size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """The stored image's ``(x, y, w, h)`` that turns upright into ``rect``.

    ``rect`` is ``(x, y, w, h)`` in the upright image; ``stored_size`` is the
    stored image's ``(width, height)``. Turning the returned region upright
    with ``upright`` gives exactly ``upright(full)[y : y + h, x : x + w]``.
    """
    x, y, w, h = rect
    width, height = stored_size
    if orientation is None or orientation == 1:
        return rect
    if orientation == 2:
        return (width - x - w, y, w, h)
    if orientation == 3:
        return (width - x - w, height - y - h, w, h)
    if orientation == 4:
        return (x, height - y - h, w, h)
    # Upright column u and row v come from a stored row and column:
    # 5: (u, v); 6: (height - 1 - u, v); 7: (height - 1 - u, width - 1 - v);
    # 8: (u, width - 1 - v).
    column = y if orientation in (5, 6) else width - y - h
    row = x if orientation in (5, 8) else height - x - w
    return (column, row, h, w)
