"""benchmarks/dask_scaling.py: the projection's arithmetic, the exactness check, the
rows of methods that are wrong, absent or failing, and a tiny run of the whole thing.
(What the speeds are is the benchmark's business, never a test's.)"""

import json
import math

import numpy as np
import pytest

from benchmarks import dask_scaling as ds


def test_the_projection_is_amdahl_at_the_low_end_and_overlapped_at_the_high():
    # 64 one-second tasks on 64 workers, nothing serial: 64 times the sequential speed
    assert ds.project(64.0, 64, 1.0, 0.0, 0.0, 64) == (64.0, 64.0)
    # 10 ms a task at the scheduler: 0.64 s before the last wave ends, or hidden under it
    low, high = ds.project(64.0, 64, 1.0, 0.01, 0.0, 64)
    assert low == pytest.approx(64 / 1.64)
    assert high == pytest.approx(64.0)
    # one task more than workers: two waves
    assert ds.project(65.0, 65, 1.0, 0.0, 0.0, 64) == (32.5, 32.5)
    # the scheduler is the bottleneck: 1000 tasks x 10 ms > 16 waves x 0.1 s
    low, high = ds.project(100.0, 1000, 0.1, 0.01, 1.0, 64)
    assert low == pytest.approx(100 / (1 + 10 + 1.6))
    assert high == pytest.approx(100 / (1 + 10))
    with pytest.raises(ValueError, match="need tasks, workers >= 1"):
        ds.project(1.0, 0, 1.0, 0.0, 0.0, 4)


def _row(method, workers, seconds, task_s=None, setup_s=None, tasks=None):
    row = {"method": method, "workers": workers, "label": f"{method} x{workers}",
           "seconds": seconds, "speedup": 1.5, "speedup low": 1.2, "speedup high": 1.8}  # fmt: skip
    if task_s is not None:
        row |= {"task s": task_s, "setup s": setup_s, "tasks": tasks}
    return row


def test_projections_scale_to_ten_hours_with_the_one_thread_task_time():
    rows = [
        {**_row(ds.SEQUENTIAL, 1, [9.0, 10.0, 11.0]), "label": ds.SEQUENTIAL},
        _row("framereader.dask, threads", 1, [12.0] * 3, [0.5, 0.4, 0.6], [0.01] * 3, 20),
        _row(ds.CLUSTER, 2, [7.0] * 3, [0.9] * 3, [0.02, 0.03, 0.04], 20),
    ]
    cluster = {"per_task_s": 0.002, "fixed_s": 0.02}
    found = ds.projections(rows, cluster, frames=3600)
    assert found["inputs"] == {"sequential_s": 10.0, "tasks": 20, "task_s": 0.5,
                               "overhead_s": 0.002, "setup_s": 0.03, "fixed_s": 0.02}  # fmt: skip
    scale = ds.TEN_HOURS / 3600
    assert found["10 hours"]["tasks"] == 20 * scale
    expected = ds.project(10.0 * scale, round(20 * scale), 0.5, 0.002, 0.03 * scale + 0.02, 64)
    assert (found["10 hours"][64]["amdahl"], found["10 hours"][64]["overlapped"]) == expected
    assert found["this file"][2]["amdahl"] == ds.project(10.0, 20, 0.5, 0.002, 0.05, 2)[0]
    assert found["scheduler_keeps_up_with"] == pytest.approx(250)
    assert found["measured_2"] == [1.5, 1.2, 1.8]
    # no one-thread run, no projection
    assert ds.projections([rows[0], rows[2]], cluster, frames=3600) is None


def test_the_exactness_check_names_what_differs():
    truth = np.array([10, 20, 30], np.int64)
    references = {"PyAV": truth, "framereader": truth.copy()}
    assert ds.check_exact(truth.copy(), references) == "yes"
    assert ds.check_exact(truth[:2], references) == "wrong: 2 frames, PyAV has 3"
    assert ds.check_exact(np.array([10, 21, 31]), references) == (
        "wrong: 2 of 3 frames differ from PyAV, the first is frame 1"
    )


def _method(name, sums, unavailable=None, workers=2):
    def run(path):
        if isinstance(sums, Exception):
            raise sums
        return ds.Outcome(np.array(sums), seconds=1.0, setup=0.1, compute=1.6, tasks=2)

    return ds.Method(name, "threads", workers, run, unavailable)


def test_a_method_that_disagrees_is_marked_wrong_and_absent_ones_say_why(tmp_path):
    truth = np.array([5, 6, 7, 8], np.int64)
    chosen = [
        ds.Method(ds.SEQUENTIAL, "none", 1, lambda path: ds.Outcome(truth.copy(), 2.0)),
        _method("right", truth),
        _method("off by one", truth + np.array([0, 0, 1, 0])),
        _method("absent", truth, unavailable="dask_image is not installed (pip install x)"),
        _method("unreadable", OSError("pims cannot open it")),
    ]
    rows = ds.measure_methods(tmp_path, chosen, 3, {"PyAV": truth}, seed=1)
    exact = {r["method"]: r["exact"] for r in rows}
    assert exact == {
        ds.SEQUENTIAL: "yes",
        "right": "yes",
        "off by one": "wrong: 1 of 4 frames differ from PyAV, the first is frame 2",
        "absent": "not measured: dask_image is not installed (pip install x)",
        "unreadable": "not measured: failed: OSError: pims cannot open it",
    }
    right = rows[1]
    assert (right["speedup"], right["fps"], right["n"]) == (2.0, 4.0, 3)
    assert right["task s"] == [0.8] * 3
    assert "fps" not in rows[3]
    with pytest.raises(ValueError, match="at least 3 samples"):
        ds.measure_methods(tmp_path, chosen, 2, {"PyAV": truth}, seed=1)
    with pytest.raises(RuntimeError, match="did not run"):
        ds.measure_methods(tmp_path, chosen[1:], 3, {"PyAV": truth}, seed=1)


def test_a_missing_package_is_named_with_its_install_command():
    assert ds.missing(["numpy"], "pip install numpy") is None
    said = ds.missing(["numpy", "no_such_module_here"], ds.INSTALL_DASK_IMAGE)
    assert said == "no_such_module_here is not installed (pip install dask-image pims)"


def test_the_command_line_refuses_fewer_than_three_samples(capsys):
    with pytest.raises(SystemExit):
        ds.main(["--samples", "2"])
    assert "--samples >= 3" in capsys.readouterr().err


def test_a_tiny_run_writes_exact_rows_a_projection_and_a_figure(tmp_path):
    found = ds.run(tmp_path / "out", tmp_path / "data", minutes=0.05, samples=3,
                   frames_per_chunk=30, size="128x96")  # fmt: skip
    assert found["recording"]["frames"] == 90
    assert found["recording"]["tasks"] == 3
    assert found["recording"]["pims_reader"] == "PyAVReaderTimed"
    assert [r["label"] for r in found["rows"]] == [
        ds.SEQUENTIAL, ds.ONE_THREAD, "framereader.dask, threads x2",
        "framereader.dask, distributed x2", "dask-image imread (pims), threads x2"]  # fmt: skip
    assert all(r["exact"] == "yes" and r["n"] == 3 for r in found["rows"])
    assert all(r["fps low"] <= r["fps"] <= r["fps high"] for r in found["rows"])
    saved = json.loads((tmp_path / "out" / "dask_scaling.json").read_text())
    assert len(saved["load"]) == 2  # before and after
    assert saved["load"][0]["cpu_count"]
    assert saved["projection"]["10 hours"]["tasks"] == math.ceil(3 * ds.TEN_HOURS / 90)
    text = (tmp_path / "out" / "dask_scaling.md").read_text()
    assert text.startswith("**Quick run.**")
    assert "### On paper: 64 workers" in text
    # Every speedup with its verdict against the sequential reader; that reader is the
    # reference.
    table = [line.strip("|").split("|") for line in text.splitlines()
             if line.startswith(("| framereader", "| dask-image"))]  # fmt: skip
    assert len(table) == 5
    verdicts = [cells[5].strip() for cells in table]
    assert verdicts[0] == "reference"
    assert all(v in ("met", "missed", "within noise") for v in verdicts[1:])
    assert (tmp_path / "out" / "dask_scaling.png").stat().st_size > 0


def test_the_frame_sums_graph_never_copies_a_decoded_chunk(monkeypatch):
    """Dask's ``concatenate3`` never sees a 4-D block: the sums are a reduction, not a
    ``map_blocks`` that drops axes (which copies each chunk); and they are exact."""
    import dask.array as da
    import dask.array.core

    handed = []
    original = dask.array.core.concatenate3

    def counting(arrays):
        result = original(arrays)
        handed.append(np.ndim(result))
        return result

    monkeypatch.setattr(dask.array.core, "concatenate3", counting)
    frames = np.random.default_rng(0).integers(0, 256, (12, 6, 8, 3), dtype=np.uint8)
    video = da.from_array(frames, chunks=(4, 6, 8, 3))
    sums = ds.frame_sums_graph(video).compute(scheduler="sync")
    assert np.array_equal(sums, ds.frame_sums(frames))
    assert 4 not in handed
    # the control: the map_blocks spelling hands every chunk to it
    video.map_blocks(ds.frame_sums, drop_axis=(1, 2, 3), dtype=np.int64).compute(scheduler="sync")
    assert handed.count(4) == 3
