"""The video suite end to end: outputs, a lying reader caught, a hanging reader cut off."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks import environments
from benchmarks.__main__ import main as cli
from benchmarks.video import codecs, frames, fresh, readers, suite
from benchmarks.video import report as video_report
from tests.benchmarks.fresh_machine import hide_benchmark_environments

OUTPUTS = (
    "encodings.csv",
    "latency.csv",
    "accuracy.csv",
    "quality.csv",
    "provenance.json",
    "benchmark.json",
    "report.md",
    "savings_vs_encode_speed.png",
    "random_access_vs_baseline.png",
    "latency_by_reader.png",
    "latency_vs_gop.png",
    "open_cost.png",
)


def tiny(name: str = "tiny-color", color: bool = True) -> frames.Recording:
    return frames.Recording(name, 320, 180, color, frames=24)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("video")
    config = suite.Config(
        recordings=[tiny(), tiny("tiny-gray", color=False)],
        readers=("indexed-pyav-wheel", "opencv-wheel", "pyav-wheel", "exploded-jpeg"),
        random_frames=6,
        cold_frames=1,
        seed=5,
        timeout=120,
        out=out,
        command=["test"],
        quick_left_out=("the big recordings", "reader torchcodec (no PyTorch)"),
    )
    # as conftest.py's fixture does, which runs only after a module-scoped one
    with pytest.MonkeyPatch.context() as patch:
        hide_benchmark_environments(patch, out / "no-benchmark-environments")
        folder = suite.run(config)
    return folder, video_report.write([folder])


def test_a_tiny_run_writes_every_output(full_run):
    folder, report = full_run
    for name in OUTPUTS:
        assert (folder / name).is_file(), name
        assert (folder / name).stat().st_size > 0, name
    encodings = pd.read_csv(folder / "encodings.csv")
    assert {"ffv1", "ffvhuff", "mjpeg", "exploded-jpeg", "exploded-png"} <= set(
        encodings["encoding"]
    )
    assert set(encodings["threads"]) == {1, suite.os.cpu_count()}
    provenance = json.loads((folder / "provenance.json").read_text())
    assert provenance["ffmpeg"]["version"]
    assert "--enable" in provenance["ffmpeg"]["buildconf"]
    assert provenance["suite"] == "video"
    # A quick run says so: in its provenance, and in its report's first lines.
    assert provenance["mode"] == "quick"
    assert provenance["left_out"] == ["the big recordings", "reader torchcodec (no PyTorch)"]
    assert provenance["reader_stats"] == {"indexed-pyav-wheel": ["index_seconds"]}
    # Every reader names the libavcodec files its process mapped: here the PyAV wheel's
    # (beside the OpenCV wheel's, which a forked reader inherits from the suite), never
    # ours, which this run lacks.
    loaded = provenance["reader_libavcodec"]
    assert {"indexed-pyav-wheel", "pyav-wheel", "opencv-wheel"} <= set(loaded), loaded
    for name in ("indexed-pyav-wheel", "pyav-wheel"):
        assert any("/av.libs/" in f for f in loaded[name]), loaded[name]
    assert any("opencv" in f for f in loaded["opencv-wheel"]), loaded["opencv-wheel"]
    text = report.read_text()
    opening = text.split("\n## ", 1)[0]
    assert ("**Quick run.** It left out: the big recordings; reader torchcodec (no PyTorch)."
            in opening)  # fmt: skip
    for heading in ("## Accuracy", "## Encodings", "## Random-frame latency", "## Provenance",
                    "## Random access against GOP length", "## Decoder open cost"):  # fmt: skip
        assert heading in text
    # The GOP lengths of the sweep that make different files of 24 frames (1, 10, and 30:
    # one keyframe), for every reader that reads the video files; 120 and 250 would make
    # 30's file again, and are listed as skipped with the reason. And the open cost, with
    # the index dropped and kept, as many times as the suite says.
    latency = pd.read_csv(folder / "latency.csv")
    warm = latency[(latency["mode"] == "warm") & latency["encoding"].isin(codecs.GOP_SWEEP)]
    assert sorted(warm["gop"].unique()) == [1, 10, 30]
    skipped = provenance["skipped_encodings"]
    for recording in ("tiny-color", "tiny-gray"):
        for gop in (120, 250):
            assert "same file as x264-lossless-k30" in skipped[f"{recording}.x264-lossless-k{gop}"]
    assert "skipped tiny-color.x264-lossless-k250" in text
    opens = latency[latency["mode"].str.startswith("open-")]
    per_cell = opens.groupby(["file", "reader", "mode"]).size()
    assert set(per_cell.items()) >= {(("tiny-color.ffv1", "pyav-wheel", m), n)
                                     for m, n in suite.OPENS.items()}  # fmt: skip
    assert (opens["index"] == 0).all()
    # the index build, which only our reader reports
    assert "index_seconds (indexed-pyav-wheel)" in text
    # no bench environment in this run: no floor, and the report says why
    assert "bench environment" in provenance["open_floor"]["unavailable"]
    assert "FFmpeg's floor was not measured: the bench environment" in text
    # The report again from the saved folder, by the suite its provenance names.
    report.unlink()
    assert cli(["report", str(folder)]) == 0
    assert report.read_text() == text


def test_our_indexed_reader_is_right_on_every_file(full_run):
    folder, _ = full_run
    accuracy = pd.read_csv(folder / "accuracy.csv")
    ours = accuracy[
        (accuracy["reader"] == "indexed-pyav-wheel") & ~accuracy["expect_error"].astype(bool)
    ]
    assert len(ours) > 10
    assert (ours["checked"] > 0).all()
    assert (ours["wrong"] == 0).all(), ours[ours["wrong"] > 0][["file", "wrong_examples"]]
    assert (ours["index_seconds"] > 0).all()  # its own stats, from the first (cold) open
    assert accuracy[accuracy["reader"] != "indexed-pyav-wheel"]["index_seconds"].isna().all()
    # Every file a video reader can read got a cell, and the JPEG folders only the JPEG reader.
    jpeg_dirs = accuracy[accuracy["file"].str.endswith("exploded-jpeg")]
    assert set(jpeg_dirs["reader"]) == {"exploded-jpeg"}
    assert (jpeg_dirs["wrong"] == 0).all()


def test_the_naive_reader_is_caught_on_adversarial_files(full_run):
    folder, _ = full_run
    accuracy = pd.read_csv(folder / "accuracy.csv").set_index(["file", "reader"])
    # Seeking by fps ignores the shifted start and the gaps: wrong frames, counted.
    assert accuracy.loc[("shifted-start.mp4", "pyav-wheel"), "wrong"] > 0
    assert accuracy.loc[("vfr-dropped.mkv", "pyav-wheel"), "wrong"] > 0


class OffByOne(readers.IndexedWheelReader):
    name = "off-by-one"

    def read(self, i):
        return super().read(min(i + 1, len(self.reader) - 1))


class Hangs(readers.IndexedWheelReader):
    name = "hangs"

    def read(self, i):
        time.sleep(60)


def ffvhuff_run(tmp_path, monkeypatch, extra_readers, cold_frames: int, timeout: float):
    """The tiny colour recording as ffvhuff only, read by our indexed reader and the
    given test readers (registered for this test), 5 random reads each."""
    for reader in extra_readers:
        monkeypatch.setitem(readers.READERS, reader.name, reader)
    monkeypatch.setattr(
        suite.codecs, "ENCODINGS", tuple(e for e in suite.codecs.ENCODINGS if e.name == "ffvhuff")
    )
    config = suite.Config(
        recordings=[tiny()],
        readers=("indexed-pyav-wheel", *(r.name for r in extra_readers)),
        random_frames=5,
        cold_frames=cold_frames,
        adversarial_set=False,
        timeout=timeout,
        out=tmp_path,
        command=["test"],
    )
    return suite.run(config)


def test_a_reader_returning_the_wrong_frame_is_caught(tmp_path, monkeypatch):
    folder = ffvhuff_run(tmp_path, monkeypatch, (OffByOne, Hangs), cold_frames=0, timeout=8)
    accuracy = pd.read_csv(folder / "accuracy.csv").set_index(["file", "reader"])
    cell = accuracy.loc[("tiny-color.ffvhuff", "off-by-one")]
    assert cell["wrong"] >= 5
    assert cell["offsets"] == "off by +1"
    assert accuracy.loc[("tiny-color.ffvhuff", "indexed-pyav-wheel"), "wrong"] == 0
    hung = accuracy.loc[("tiny-color.ffvhuff", "hangs")]
    assert "no answer within 8 s" in hung["errors"]
    text = video_report.write([folder]).read_text()
    assert "off-by-one" in text


class SwapsChannels(readers.IndexedWheelReader):
    """Random reads come back RGB instead of BGR; its sequential decode too."""

    name = "swaps-channels"

    def read(self, i):
        return np.ascontiguousarray(super().read(i)[:, :, ::-1])

    def sequential(self):
        for frame in super().sequential():
            yield np.ascontiguousarray(frame[:, :, ::-1])


class Damages(readers.IndexedWheelReader):
    """Random reads come back with a block of pixels off by a few levels, the burned-in
    code untouched: the right frame by number, the wrong pixels."""

    name = "damages"

    def read(self, i):
        frame = super().read(i).copy()
        height, width = frame.shape[:2]
        frame[height // 2 :, width // 2 :] ^= 8
        return frame


def test_swapped_channels_and_damaged_pixels_are_caught_and_hatched(tmp_path, monkeypatch):
    folder = ffvhuff_run(tmp_path, monkeypatch, (SwapsChannels, Damages), cold_frames=1,
                         timeout=60)  # fmt: skip
    accuracy = pd.read_csv(folder / "accuracy.csv").set_index(["file", "reader"])
    right = accuracy.loc[("tiny-color.ffvhuff", "indexed-pyav-wheel")]
    assert right["wrong"] == 0
    assert right["pixels_checked"] == right["checked"]
    assert right["pixel_check"] == "bit-identical"
    swapped = accuracy.loc[("tiny-color.ffvhuff", "swaps-channels")]
    assert swapped["wrong"] == swapped["checked"] > 0
    assert "channels swapped" in swapped["wrong_examples"]
    damaged = accuracy.loc[("tiny-color.ffvhuff", "damages")]
    assert damaged["wrong"] == damaged["pixels_wrong"] == damaged["checked"] > 0
    assert "pixels (" in damaged["wrong_examples"]
    text = video_report.write([folder]).read_text()
    note = next(line for line in text.splitlines() if line.startswith("Hatched red:"))
    assert "damages on ffvhuff" in note
    assert "swaps-channels on ffvhuff" in note
    assert "indexed-pyav-wheel" not in note
    # The latency grid marks the same cells, and only them; every mode's interval is in
    # the summary file the report links.
    grid = [line for line in text.split("## Random-frame latency", 1)[1].splitlines()
            if line.startswith("| tiny-color ") and "| ffvhuff " in line]  # fmt: skip
    assert len(grid) == 1
    header = next(line for line in text.split("## Random-frame latency", 1)[1].splitlines()
                  if line.startswith("| recording"))  # fmt: skip
    cells = dict(zip([c.strip() for c in header.strip("|").split("|")],
                     [c.strip() for c in grid[0].strip("|").split("|")], strict=True))  # fmt: skip
    assert cells["damages"].endswith("(wrong)")
    assert cells["swaps-channels"].endswith("(wrong)")
    assert float(cells["indexed-pyav-wheel"]) > 0
    summary = pd.read_csv(folder / "latency_summary.csv")
    assert set(summary["mode"]) >= {"warm", "cold", "open-cached", "open-uncached"}
    assert (summary["low"] <= summary["median"]).all()
    assert (summary["median"] <= summary["high"]).all()


def test_every_pair_of_readers_carries_a_verdict():
    """A reader against another, per file: its ratio with the interval, and met (faster
    all through the interval), missed (slower) or within noise."""
    from benchmarks.video import tables

    rng = np.random.default_rng(0)
    times = {("fast", "x.mkv"): 1.0, ("slow", "x.mkv"): 2.0, ("fast", "y.mkv"): 2.0,
             ("slow", "y.mkv"): 1.0, ("fast", "z.mkv"): 1.0, ("slow", "z.mkv"): 1.0}  # fmt: skip
    lat = pd.DataFrame([{"file": f, "kind": "user", "encoding": None, "reader": r,
                         "mode": "warm", "seconds": t * (1 + 0.3 * rng.random())}
                        for (r, f), t in times.items() for _ in range(12)])  # fmt: skip
    table = tables.pair_table(lat, tables.latency_table(lat), {"fast": "slow"})
    verdicts = dict(zip(table["encoding or file"], table["verdict (<= 1)"], strict=True))
    assert verdicts == {"x.mkv": "met", "y.mkv": "missed", "z.mkv": "within noise"}


def test_the_hatching_marks_only_the_wrong_cells():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmarks import report_kit

    acc = pd.DataFrame({"encoding": ["ffv1", "ffv1", "x264"], "reader": ["a", "b", "a"],
                        "wrong": [0, 3, 0]})  # fmt: skip
    wrong = video_report.wrong_cells(acc)
    assert wrong == {("ffv1", "b"): 3}
    table = pd.DataFrame({"what": ["ffv1", "x264"] * 2, "reader": ["a", "a", "b", "b"],
                          "median": [1.0, 2.0, 1.5, 2.5], "low": [0.9, 1.8, 1.4, 2.3],
                          "high": [1.1, 2.2, 1.6, 2.7]})  # fmt: skip
    fig, ax = plt.subplots()
    report_kit.bars(ax, table, "what", "reader", marked=wrong)
    hatched = {(bar.get_x(), bar.get_hatch()) for bar in ax.patches}
    assert [h for _, h in sorted(hatched)] == [None, "///", None, None]  # ffv1: a, b; x264: a, b
    plt.close(fig)
    assert "b on ffv1: 3 wrong" in video_report.wrong_note(wrong, {("ffv1", "b")})
    assert video_report.wrong_note(wrong, {("x264", "a")}) == ""


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [((0, 0), (0, 0), float("inf")), ((0, 0), (0, 255), 10 * np.log10(2)), ((0,), (0, 0), 0.0)],
)
def test_psnr(a, b, expected):
    assert suite.psnr(np.array(a, np.uint8), np.array(b, np.uint8)) == pytest.approx(expected)


def test_command_line(tmp_path, capsys):
    assert cli(["video", "--videos", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert cli(["video", "--readers", "indexed,nope"]) == 2
    assert "unknown reader(s) nope" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli(["video", "--videos", str(empty), "--out", str(tmp_path / "o")]) == 2
    assert "no video files" in capsys.readouterr().err


def test_the_open_targets_against_torchcodec_are_judged_per_file():
    from benchmarks.video import access

    rows = []
    for file, container, ours, theirs in (
        ("a.x", "mkv", 0.010, 0.040),
        ("b.x", "ts", 0.030, 0.040),
        ("c.x", "mp4", 0.020, 0.040),
        ("d.x", "avi", 0.1, 0.1),
    ):
        for k in range(5):
            wobble = 1 + 0.01 * k
            rows += [
                {
                    "file": file,
                    "container": container,
                    "mode": "open-cached",
                    "reader": "indexed",
                    "seconds": ours * wobble,
                },
                {
                    "file": file,
                    "container": container,
                    "mode": "open-cached",
                    "reader": "torchcodec",
                    "seconds": theirs * wobble,
                },
            ]
    # FFmpeg's floor: an eighth of torchcodec's open on a.x, two thirds on b.x, none on c.x
    floors = pd.DataFrame(
        [{"file": f, "container": c, "seconds": t * (1 + 0.01 * k)}
         for f, c, t in (("a.x", "mkv", 0.005), ("b.x", "ts", 0.027)) for k in range(5)]
    )  # fmt: skip
    judged = {r["file"]: r for r in access.open_target_rows(pd.DataFrame(rows), floors)}
    assert set(judged) == {"a.x", "b.x", "c.x"}  # avi has no target
    assert judged["a.x"]["verdict"] == "met"  # a quarter of torchcodec's time, target a half
    assert judged["b.x"]["verdict"] == "missed"  # three quarters, target a half
    assert judged["c.x"]["verdict"] == "met"  # half, target "never slower"
    assert judged["a.x"]["indexed ms"] == pytest.approx(10.2)  # the medians, in ms
    assert judged["a.x"]["torchcodec ms"] == pytest.approx(40.8)
    # the floor alone misses b.x's target: no reader meets it; a.x's is within reach
    assert (judged["a.x"]["reachable"], judged["b.x"]["reachable"]) == ("yes", "no")
    assert judged["b.x"]["floor ms"] == pytest.approx(27.54)
    assert "reachable" not in judged["c.x"]
    table = "\n".join(access.open_target_markdown(list(judged.values())))
    assert "0.250x" in table
    assert " 10.2 | " in table
    assert " 40.8 | " in table
    assert "0.675x" in table  # b.x's floor over torchcodec's open


def test_ffmpegs_floor_is_the_first_frame_from_packets_in_memory(tmp_path, monkeypatch):
    """The floor decodes the packets up to the first frame's (one, on x264 with B-frames:
    it drains rather than feed the reorder depth's), checks the frame against a
    sequential decode, and each sample is a fresh process; in a worker of the bench
    environment (here this interpreter's, standing in for it)."""
    from benchmarks.video import floor
    from tests.framereader.media import SMALL, X264_BFRAMES, ffmpeg

    video = tmp_path / "bframes.mkv"
    ffmpeg(*SMALL, "-frames:v", "40", *X264_BFRAMES, video)
    got = floor.FloorHost().measure(str(video), 3)
    assert got["packets"] == 1
    assert len(got["seconds"]) == 3
    assert all(0 < s < 60 for s in got["seconds"])

    prefix = Path(sys.prefix)  # its lib/python3.X/site-packages is this interpreter's
    monkeypatch.setattr(readers, "channel_package_unavailable", lambda role, module: None)
    monkeypatch.setattr(environments, "get", lambda role: environments.Environment(role, prefix))
    floors = floor.Floors(samples=2, timeout=60)
    try:
        floors.measure("bframes", video)
        (tmp_path / "not-a-video.mkv").write_bytes(b"no video here")
        floors.measure("broken", tmp_path / "not-a-video.mkv")
    finally:
        floors.close()
    assert [(r["file"], r["container"], r["packets"]) for r in floors.rows] == [
        ("bframes", "mkv", 1)
    ] * 2
    record = floors.record()
    assert record["samples"] == 2
    assert record["what"] == floor.DESCRIPTION
    assert set(record["errors"]) == {"broken"}


def test_without_the_bench_environment_the_floor_says_why():
    from benchmarks.video import floor

    floors = floor.Floors(samples=2, timeout=60)  # the fast tests hide the environments
    floors.measure("any", Path(__file__))
    assert floors.rows == []
    assert "bench environment" in floors.record()["unavailable"]


class SlowImport(readers.PyAVWheelReader):
    """Imports its library (a 0.5 s sleep here) on its first open, as decord's and
    video-reader-rs's adapters once did: ``prepare`` must pay that outside the clock."""

    name = "slow-import"
    imported = False

    @classmethod
    def prepare(cls) -> None:
        if not cls.imported:
            time.sleep(0.5)
            cls.imported = True

    def __init__(self, path):
        type(self).prepare()
        super().__init__(path)


def test_prepare_runs_before_every_clock_and_each_open_is_a_fresh_process(tmp_path, monkeypatch):
    monkeypatch.setitem(readers.READERS, SlowImport.name, SlowImport)
    monkeypatch.setattr(SlowImport, "imported", False)
    recording = tiny()
    path = tmp_path / "tiny.mkv"
    codecs.encode_ffmpeg(recording, codecs.ENCODINGS_BY_NAME["ffvhuff"], path, threads=1)
    truth = suite.ground_truth(path)
    result = suite._measure_cell(SlowImport.name, str(path), truth, [0, 5], [3], 4)
    opens = [(mode, s) for mode, _, s in result["latency"] if mode.startswith("open-")]
    assert [m for m, _ in opens] == [m for m, n in suite.OPENS.items() for _ in range(n)]
    assert all(s < 0.5 for _, s in opens), opens  # no open paid the import
    assert result["pixels"]["wrong"] == []
    # The opens ran in other processes: this one has opened the file only for its
    # reference decode and reads, after them.
    assert all(s < 0.5 for mode, _, s in result["latency"] if mode in ("cold", "warm"))


def test_a_fresh_process_sends_back_its_result_or_its_error():
    assert fresh.in_fresh_process(lambda: os.getpid()) != os.getpid()
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fresh.in_fresh_process(lambda: 1 / 0)
    with pytest.raises(RuntimeError, match="no answer within 1 s"):
        fresh.in_fresh_process(lambda: time.sleep(10), timeout=1)


def test_the_report_carries_the_dask_section_when_the_run_made_one(full_run, tmp_path):
    folder, _ = full_run
    (folder / "dask").mkdir(exist_ok=True)
    (folder / "dask" / "dask_scaling.md").write_text("## Dask: made by this test\n\n| a |\n")
    try:
        text = video_report.write([folder], tmp_path / "report.md").read_text()
    finally:
        (folder / "dask" / "dask_scaling.md").unlink()
    assert "## Dask: made by this test" in text
    assert "](dask/dask_scaling.png)" in text
    assert "## Dask" not in video_report.write([folder], tmp_path / "again.md").read_text()
