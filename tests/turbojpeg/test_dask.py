"""turbojpeg.dask.imread: a folder of JPEGs as one lazy Dask array, decoded by
decode_many per chunk, with mixed sizes refused up front by name."""

from __future__ import annotations

import numpy as np
import pytest
from distributed import Client, LocalCluster

from turbojpeg.dask import imread


@pytest.fixture(scope="module")
def folder(tmp_path_factory, photo):
    import turbojpeg

    tj = turbojpeg.Turbojpeg()
    root = tmp_path_factory.mktemp("jpegs")
    rng = np.random.default_rng(7)
    for k in range(11):
        y, x = rng.integers(0, 64, 2)
        image = np.ascontiguousarray(photo[y : y + 96, x : x + 128])
        (root / f"frame_{k:03d}.jpg").write_bytes(tj.encode(image, 85))
    return root


def test_the_array_equals_each_file_decoded(folder, tj, lib_path):
    files = sorted(folder.glob("frame_*.jpg"))
    array = imread(str(folder / "frame_*.jpg"), files_per_chunk=4, lib_path=lib_path)
    assert array.shape == (11, 96, 128, 3)
    assert array.chunks[0] == (4, 4, 3)
    expected = np.stack([tj.decode(f.read_bytes()) for f in files])
    np.testing.assert_array_equal(array.compute(scheduler="threads"), expected)
    gray = imread([str(f) for f in files[:3]], lib_path=lib_path, pixel_format="GRAY")
    assert gray.shape == (3, 96, 128, 1)
    np.testing.assert_array_equal(gray[1].compute(), tj.decode(files[1].read_bytes(),
                                                               pixel_format="GRAY"))  # fmt: skip


def test_mixed_sizes_are_refused_by_name_unless_a_crop_makes_them_equal(folder, tj, photo):
    odd = folder / "frame_005b.jpg"
    odd.write_bytes(tj.encode(np.ascontiguousarray(photo[:80, :112]), 85))
    try:
        with pytest.raises(ValueError, match=r"frame_005b\.jpg decodes to \(80, 112, 3\)"):
            imread(str(folder / "frame_*.jpg"))
        cropped = imread(str(folder / "frame_*.jpg"), crop=(0, 0, 64, 64))
        assert cropped.shape == (12, 64, 64, 3)
        np.testing.assert_array_equal(
            cropped[6].compute(), tj.decode(odd.read_bytes(), crop=(0, 0, 64, 64))
        )
    finally:
        odd.unlink()


def test_bad_arguments_say_what_is_wrong(folder, tmp_path):
    with pytest.raises(FileNotFoundError, match="no file matches"):
        imread(str(tmp_path / "none-*.jpg"))
    with pytest.raises(ValueError, match="at least one file"):
        imread([])
    with pytest.raises(ValueError, match="files_per_chunk must be 1 or more"):
        imread(str(folder / "frame_*.jpg"), files_per_chunk=0)
    with pytest.raises(TypeError, match="no out="):
        imread(str(folder / "frame_*.jpg"), out=np.empty(1))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(Exception, match="broken") as caught:
        imread([str(broken)])
    assert any("while reading the header of" in note for note in caught.value.__notes__)


def test_the_graph_holds_names_not_pixels(folder):
    array = imread(str(folder / "frame_*.jpg"), files_per_chunk=5)
    for task in dict(array.__dask_graph__()).values():
        assert not any(isinstance(part, np.ndarray) for part in task)


def test_a_two_process_cluster_decodes_the_same(folder, tj):
    files = sorted(folder.glob("frame_*.jpg"))
    expected = np.stack([tj.decode(f.read_bytes()) for f in files]).mean(axis=(1, 2, 3))
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")  # fmt: skip
    with cluster, Client(cluster) as client:
        means = client.compute(imread(str(folder / "frame_*.jpg"), files_per_chunk=3)
                               .mean(axis=(1, 2, 3))).result()  # fmt: skip
    np.testing.assert_array_equal(means, expected)
