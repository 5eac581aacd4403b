"""The default data: real photos from scikit-image and from the opencv-python sdist
the OpenCV recipe builds from (verified by the recipe's sha256), and real footage."""

import hashlib
import itertools

import numpy as np
import pytest

from benchmarks import datasets
from benchmarks.video import frames


@pytest.fixture(scope="module")
def photos():
    return datasets.embedded_photos()


def test_at_least_twenty_real_photos_each_with_its_source(photos):
    assert len(photos) >= 20
    assert len({p.name for p in photos}) == len(photos)
    sources = {p.source.split(" ", 1)[0] for p in photos}
    assert any(s.startswith("skimage.data.") for s in sources)
    assert any(s == "OpenCV" for s in sources)
    for photo in photos:
        assert photo.rgb.ndim == 3
        assert photo.rgb.shape[2] == 3
        assert photo.rgb.dtype == np.uint8
        width, height = photo.source.rsplit(" ", 1)[1].split("x")
        assert (int(height), int(width)) == photo.rgb.shape[:2]


def test_quick_mode_takes_both_sources():
    first = datasets.embedded_photos(2)
    assert [p.source.split(" ", 1)[0].split(".")[0] for p in first] == ["OpenCV", "skimage"]


def test_samples_come_from_the_recipes_verified_sdist():
    sdist = datasets.opencv_sdist()
    recipe = (datasets.OPENCV_RECIPE / "meta.yaml").read_text()
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    assert digest in recipe  # the substitute's sha256, written once, in the recipe
    found = datasets.opencv_samples(("aloeL.jpg", datasets.OPENCV_FOOTAGE))
    assert all(path.is_file() and path.stat().st_size > 10_000 for path in found.values())


def test_a_sample_that_is_not_there_is_a_clear_error():
    with pytest.raises(OSError, match=r"no-such-photo\.jpg is not in the opencv-python sdist"):
        datasets.opencv_samples(("no-such-photo.jpg",))


def test_small_photos_are_upscaled_and_say_so(photos):
    small = next(p for p in photos if p.rgb.shape[1] < 960)
    _, how = datasets.sixteen_by_nine(small, (1920, 1080))
    assert "upscaled" in how
    big = next(p for p in photos if p.rgb.shape[1] >= 960)
    _, how = datasets.sixteen_by_nine(big, (480, 270))
    assert "downscaled" in how


def test_real_footage_carries_its_index():
    footage = frames.default_recordings(quick=True)[-1]
    assert isinstance(footage, frames.Footage)
    assert (footage.width, footage.height, footage.color) == (768, 576, True)
    first, again = footage.frame(7), footage.frame(7)
    assert np.array_equal(first, again)
    assert frames.read_code(first) == 7
    assert frames.read_code(footage.frame(footage.frames - 1)) == footage.frames - 1
    # the picture outside the code band is the source's own
    assert not np.array_equal(footage.frame(0)[-100:], footage.frame(footage.frames - 1)[-100:])
    with pytest.raises(IndexError):
        footage.frame(footage.frames)


def _blank(name: str, width: int, height: int) -> datasets.Photo:
    return datasets.Photo(name, np.zeros((height, width, 3), np.uint8), f"test {width}x{height}")


def test_native_photos_fall_into_size_bins_by_their_real_pixel_count():
    sizes = [(413, 356), (451, 300), (512, 512), (512, 512), (640, 480), (640, 480),
             (640, 480), (800, 600), (1282, 1110), (1411, 1411)]  # fmt: skip
    photos = [_blank(f"p{k}", w, h) for k, (w, h) in enumerate(sizes)]
    bins = datasets.size_bins(photos)
    assert set(bins) == {p.name for p in photos}
    labels = sorted(set(bins.values()), key=datasets.size_order)
    assert len(labels) == datasets.SIZE_BINS
    # each bin's label spans exactly its photos' megapixels, and the bins do not overlap
    spans = []
    for label in labels:
        members = [p.rgb.shape[0] * p.rgb.shape[1] / 1e6 for p in photos if bins[p.name] == label]
        assert label == f"{min(members):.2f}-{max(members):.2f} MP"
        spans.append((min(members), max(members)))
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))
    # photos of one pixel count share a bin, even where an even split would part them
    assert len({bins[f"p{k}"] for k in (4, 5, 6)}) == 1
    assert len({bins[f"p{k}"] for k in (2, 3)}) == 1
    # fewer photos than bins: a bin each
    assert len(set(datasets.size_bins(photos[:2]).values())) == 2


def test_sizes_sort_by_megapixels_and_a_bad_label_is_named():
    assert datasets.size_order("480x270") == pytest.approx(0.1296)
    assert datasets.size_order("0.14-0.25 MP") == pytest.approx(0.14)
    assert datasets.parse_sizes("native") is None
    assert datasets.parse_sizes("480x270") == {"480x270": (480, 270)}
    with pytest.raises(ValueError, match="'big' is neither"):
        datasets.size_order("big")


def test_a_native_photo_is_the_photo_itself(photos):
    photo = photos[0]
    bgr, how = datasets.native(photo)
    assert np.array_equal(bgr, photo.rgb[:, :, ::-1])
    assert bgr.flags["C_CONTIGUOUS"]
    assert how == f"native {photo.rgb.shape[1]}x{photo.rgb.shape[0]}"
