"""The DataLoader benchmark's logic, without PyTorch: the interleaved epochs, the
first-item check, dropping a decoder that hangs, the report, and its inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import __main__ as cli
from benchmarks import datasets, sites
from benchmarks.dataloader import report, suite


class FakeHost:
    """Stands in for a decoder's process: answers ``call`` like ``sites.Worker``."""

    def __init__(self, first: np.ndarray, output: str = "BGR", seconds: float = 0.5,
                 hang_at: str | None = None) -> None:  # fmt: skip
        self.image, self.output, self.seconds, self.hang_at = first, output, seconds, hang_at
        self.calls: list[tuple] = []
        self.closed = False

    def call(self, method: str, *args, timeout=None):
        self.calls.append((method, *args))
        if method == self.hang_at:
            raise sites.WorkerTimeout("no answer within 900 s (killed)")
        return {"prepare": None, "first": (self.image, self.output),
                "epoch": self.seconds}[method]  # fmt: skip

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def picture() -> np.ndarray:
    rng = np.random.default_rng(3)
    image = np.zeros((64, 64, 3), np.uint8)
    image[..., 0] = 40  # blue, green and red differ: a swap cannot go unseen
    image[..., 1] = 120
    image[..., 2] = 220
    return np.clip(image + rng.integers(-5, 6, image.shape), 0, 255).astype(np.uint8)


def config(tmp_path, **overrides) -> suite.Config:
    return suite.Config(**{"photos": [], "footage": None, "out": tmp_path, "rounds": 3,
                           **overrides})  # fmt: skip


def test_every_pair_runs_its_rounds_after_loaders_with_workers_were_prepared(tmp_path, picture):
    hosts = {"ours": FakeHost(picture), "theirs": FakeHost(picture, seconds=1.0)}
    skipped: dict = {}
    rows = suite._part("jpeg", hosts, config(tmp_path), items=64, skipped=skipped)
    assert skipped == {}
    assert len(rows) == 2 * 3 * 3  # decoders x worker counts x rounds
    for host in hosts.values():
        prepared = [c[1] for c in host.calls if c[0] == "prepare"]
        assert prepared == [2, 1, 0]  # forks before this process decodes anything
        assert host.calls.index(("first",)) > host.calls.index(("prepare", 0))
    theirs = [r for r in rows if r["decoder"] == "theirs"]
    assert all(r["per_second"] == 64 for r in theirs)
    assert not any(r["wrong"] for r in rows)


def test_the_order_of_epochs_is_seeded_and_interleaved(tmp_path, picture):
    def order(seed):
        hosts = {"a": FakeHost(picture), "b": FakeHost(picture)}
        rows = suite._part("jpeg", hosts, config(tmp_path, seed=seed), 8, {})
        return [(r["decoder"], r["workers"]) for r in rows]

    assert order(1) == order(1)
    assert order(1) != order(2)
    first_half = order(1)[: len(order(1)) // 2]
    assert {name for name, _ in first_half} == {"a", "b"}


def test_a_channel_swap_or_damaged_pixels_are_marked_wrong(tmp_path, picture):
    damaged = picture.copy()
    damaged[::2] = 255 - damaged[::2]
    hosts = {
        "ours": FakeHost(picture),
        "rgb-right": FakeHost(np.ascontiguousarray(picture[..., ::-1]), output="RGB"),
        "swapped": FakeHost(np.ascontiguousarray(picture[..., ::-1]), output="BGR"),
        "damaged": FakeHost(damaged),
    }
    rows = suite._part("jpeg", hosts, config(tmp_path, rounds=1), 8, {})
    wrong = {r["decoder"] for r in rows if r["wrong"]}
    assert wrong == {"swapped", "damaged"}


@pytest.mark.parametrize("when", ["prepare", "epoch"])
def test_a_decoder_that_hangs_is_dropped_with_the_reason(tmp_path, picture, when):
    hosts = {"ours": FakeHost(picture), "stuck": FakeHost(picture, hang_at=when)}
    skipped: dict = {}
    rows = suite._part("video", hosts, config(tmp_path), 8, skipped)
    assert "killed" in skipped["video:stuck"]
    assert {r["decoder"] for r in rows} == {"ours"}
    assert "stuck" not in hosts


def _folder(tmp_path, rows) -> None:
    from benchmarks import results

    results.write_rows(tmp_path / "throughput.csv", rows)
    record = {"batch": 32, "workers": [0, 2], "rounds": 3, "crop": 224, "items": 64,
              "photos": ["a.jpg"], "clips": 16, "clip_length": 8, "footage": "v.mp4",
              "load": {"load_average": [0.5, 0.5, 0.5]}, "cpu": "a CPU", "mode": "full",
              "decoders": {"jpeg": ["turbojpeg", "pillow"]}, "skipped": {"jpeg:x": "absent"},
              "processes": {"jpeg:turbojpeg": {"library": "ours", "mapped": {}}}}  # fmt: skip
    (tmp_path / "provenance.json").write_text(json.dumps(record))


def test_the_report_gives_intervals_verdicts_and_marks_wrong_cells(tmp_path):
    rows = [
        {"kind": "jpeg", "decoder": name, "workers": w, "items": 64, "seconds": s,
         "per_second": 64 / s, "psnr_vs_ours": 99.0, "wrong": name == "pillow" and w == 2}
        for name, base in (("pillow", 0.2), ("turbojpeg", 0.1))
        for w in (0, 2)
        for s in (base, base * 1.01, base * 0.99)
    ]  # fmt: skip
    _folder(tmp_path, rows)
    text = report.write([tmp_path]).read_text()
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert table[1].startswith("| turbojpeg")  # the recorded order, ours first
    assert "2.000x [" in table[2]  # ours is twice as fast
    assert "(met)" in table[2]
    assert "**wrong pixels**" in table[2]
    assert "- jpeg:x: absent" in text
    assert (
        "- load average (1, 5, 15 min) as the run ended: 0.5, 0.5, 0.5; CPU affinity: not recorded"
        in text
    )
    assert (tmp_path / "dataloader-jpeg.png").stat().st_size > 0


def test_the_report_reads_one_folder(tmp_path):
    with pytest.raises(ValueError, match="one results folder"):
        report.write([tmp_path, tmp_path])


def test_without_pytorch_the_command_says_what_installs_it(monkeypatch, capsys, tmp_path):
    real = cli.importlib.util.find_spec
    monkeypatch.setattr(cli.importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))  # fmt: skip
    assert cli.main(["dataloader", "--out", str(tmp_path)]) == 2
    assert "--full-run" in capsys.readouterr().err


def test_photos_are_written_at_their_own_size(tmp_path):
    from PIL import Image

    photos = [datasets.Photo("wide", np.full((40, 90, 3), 100, np.uint8), "test"),
              datasets.Photo("tall", np.full((70, 30, 3), 50, np.uint8), "test")]  # fmt: skip
    files = suite.photo_files(photos, tmp_path)
    sizes = []
    for f in files:
        with Image.open(f) as image:
            sizes.append(image.size)
    assert sizes == [(90, 40), (30, 70)]
    stamp = files[0].stat().st_mtime_ns
    assert suite.photo_files(photos, tmp_path) == files  # written once
    assert files[0].stat().st_mtime_ns == stamp


def test_centre_crop_is_the_middle_square():
    image = np.arange(6 * 8).reshape(6, 8, 1)
    square = suite._centre(image, 4)
    assert square.shape == (4, 4, 1)
    assert square[0, 0, 0] == image[1, 2, 0]
    assert square.flags.c_contiguous
