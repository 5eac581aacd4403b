"""Does framereader.dask scale? Frames per second of a whole-file reduction, each
frame's mean brightness, over one recording made with ffmpeg (testsrc2, 640x360 x264,
GOP 30, B-frames, 30 fps; 3 minutes, 30 seconds with --quick), by:

* framereader, sequential: ``VideoReader`` iterated in one process;
* ``framereader.dask.from_video`` on dask's threaded scheduler, 1 and 2 threads;
* the same graph on ``distributed.LocalCluster``, 2 processes of 1 thread;
* dask-image's ``imread`` (pims) on the same file, threaded, 2 threads.

    python -m benchmarks.dask_scaling [--out results/dask] [--quick] [--minutes N]

Every decoder runs one thread. framereader's chunks are from_video's (about 128 MB of
frames, keyframe-aligned) unless --frames-per-chunk says otherwise; dask-image's are
as long on average.
A frame's mean brightness is taken as the exact (int64) sum of its pixel values (the
mean times the pixel count), so every method must give the same numbers as the
sequential framereader and a sequential PyAV decode; one that does not is marked wrong. Samples run round by round, the methods
in a seeded random order; each figure is a median with its bootstrap interval, and
speedups are ratios to the sequential reader (benchmarks/measure.py).

Per task, the scheduler's own records give the decode time (a task opens its reader
and decodes its chunk), and a graph of the same shape whose tasks do nothing gives
the scheduler's and transfer's overhead. From these the report projects, on paper,
the speedup of 64 workers (``project``), for this file and for 10 hours of video.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import random
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import measure
from benchmarks.long_recordings import FPS, encode

MINUTES, QUICK_MINUTES = 3.0, 0.5
SAMPLES, QUICK_SAMPLES = 5, 3
SIZE = "640x360"
ENCODING = ("x264, GOP 30, B-frames",
            ["-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-bf", "2",
             "-pix_fmt", "yuv420p"])  # fmt: skip
SEQUENTIAL = "framereader, sequential"
CLUSTER = "framereader.dask, distributed"
ONE_THREAD = "framereader.dask, threads x1"  # a label: the name and the workers
PROJECTED = 64  # workers
TEN_HOURS = 10 * 3600 * FPS  # frames
INSTALL_DASK = "pip install accelerated-codecs[dask]"
INSTALL_DASK_IMAGE = "pip install dask-image pims"


def frame_sums(frames: np.ndarray) -> np.ndarray:
    """Each frame's pixel values summed, exactly: its mean brightness times its size."""
    return frames.reshape(len(frames), -1).sum(axis=1, dtype=np.int64)


def frame_sums_graph(video):
    """``frame_sums`` of a ``(frames, height, width, channels)`` Dask array, as a Dask
    reduction, the way a user writes ``video.mean(axis=(1, 2, 3))``. Not
    ``map_blocks(frame_sums, drop_axis=...)``: Dask hands a function that drops axes
    each block through ``concatenate3``, a copy of every 128 MB chunk, which cost a
    task 0.3 ms a frame (1.38 against 1.09 ms a frame on one thread, measured here)."""
    return video.sum(axis=(1, 2, 3), dtype=np.int64)


def missing(modules: Sequence[str], install: str) -> str | None:
    """Why a method cannot run here (the first of ``modules`` not installed), or None."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed ({install})"
    return None


@dataclass
class Outcome:
    """One timed run of a method."""

    sums: np.ndarray
    seconds: float  # the whole run: opening, building the graph, computing
    setup: float = 0.0  # building the graph (from_video: the index, the tasks)
    compute: float | None = None  # task time summed, from the scheduler's own record
    tasks: int | None = None  # chunks


@dataclass
class Method:
    name: str
    scheduler: str
    workers: int
    run: Callable[[Path], Outcome]
    unavailable: str | None = None  # why it cannot run here


def check_exact(sums: np.ndarray, references: dict[str, np.ndarray]) -> str:
    """``"yes"`` when ``sums`` equals every reference, else what differs, in words."""
    for name, expected in references.items():
        if len(sums) != len(expected):
            return f"wrong: {len(sums)} frames, {name} has {len(expected)}"
        differ = np.flatnonzero(np.asarray(sums) != expected)
        if differ.size:
            return (f"wrong: {differ.size} of {len(sums)} frames differ from {name}, "
                    f"the first is frame {differ[0]}")  # fmt: skip
    return "yes"


# -- the methods ---------------------------------------------------------------------


def sequential(path: Path) -> Outcome:
    from framereader import VideoReader

    start = time.perf_counter()
    with VideoReader(path, threads=1) as reader:
        sums = np.concatenate([frame_sums(frame[np.newaxis]) for frame in reader])
    return Outcome(sums, time.perf_counter() - start)


def pyav_sums(path: Path) -> np.ndarray:
    """The reference: a sequential PyAV decode, as BGR (benchmarks/video/readers.py)."""
    from benchmarks.video.readers import PyAVNaiveReader

    with PyAVNaiveReader(path) as reader:
        return np.concatenate([frame_sums(frame[np.newaxis]) for frame in reader.sequential()])


def _timed(build: Callable, compute: Callable) -> Outcome:
    """Build a graph of per-frame sums, then compute it with ``compute``, which returns
    the sums and the task time summed."""
    start = time.perf_counter()
    graph = build()
    built = time.perf_counter()
    sums, busy = compute(graph)
    done = time.perf_counter()
    return Outcome(np.asarray(sums), done - start, built - start, busy, graph.numblocks[0])


def _framereader_graph(path: Path, frames_per_chunk: int | None):
    from framereader.dask import from_video

    return frame_sums_graph(from_video(path, frames_per_chunk=frames_per_chunk, threads=1))


def _dask_image_graph(path: Path, frames_per_chunk: int):
    from dask_image.imread import imread

    with warnings.catch_warnings():  # the last chunk may be shorter: said, and fine
        warnings.filterwarnings("ignore", message="`nframes`", category=RuntimeWarning)
        video = imread(str(path), nframes=frames_per_chunk)
    return frame_sums_graph(video)


def pims_reader(path: Path) -> str:
    """The pims class that opens ``path``, which dask-image reads it with, or why none does."""
    import pims

    try:
        with pims.open(str(path)) as video:
            return type(video).__name__
    except Exception as exc:  # noqa: BLE001 - the report says why
        return f"none ({type(exc).__name__}: {exc})"


def threaded(graph_of: Callable, chunk: int | None, workers: int) -> Callable[[Path], Outcome]:
    """A method: ``graph_of(path, chunk)`` on dask's threaded scheduler, ``workers`` threads."""

    def compute(graph):
        from dask.diagnostics import Profiler

        with Profiler() as profile:
            sums = graph.compute(scheduler="threads", num_workers=workers)
        return sums, sum(task.end_time - task.start_time for task in profile.results)

    return lambda path: _timed(lambda: graph_of(path, chunk), compute)


def on_cluster(client, chunk: int | None) -> Callable[[Path], Outcome]:
    """A method: framereader's graph on a ``distributed`` client."""

    def compute(graph):
        from distributed import get_task_stream

        with get_task_stream(client) as stream:
            sums = client.compute(graph).result()
        busy = sum(part["stop"] - part["start"] for task in stream.data
                   for part in task["startstops"] if part["action"] == "compute")  # fmt: skip
        return sums, busy

    return lambda path: _timed(lambda: _framereader_graph(path, chunk), compute)


def methods(client, frames_per_chunk: int | None, nframes: int | None) -> list[Method]:
    """Every method, in the report's order; each says why when it cannot run here.
    ``frames_per_chunk`` goes to from_video, ``nframes`` (None: no dask) to imread."""
    no_dask = missing(["dask"], INSTALL_DASK)
    no_cluster = no_dask or missing(["distributed"], INSTALL_DASK)
    no_dask_image = no_dask or missing(["dask_image", "pims"], INSTALL_DASK_IMAGE)
    cluster = on_cluster(client, frames_per_chunk) if client is not None else None
    ours = [threaded(_framereader_graph, frames_per_chunk, n) for n in (1, 2)]
    return [
        Method(SEQUENTIAL, "none", 1, sequential),
        Method("framereader.dask, threads", "threads", 1, ours[0], no_dask),
        Method("framereader.dask, threads", "threads", 2, ours[1], no_dask),
        Method(CLUSTER, "distributed, 2 processes", 2, cluster,
               no_cluster or (None if cluster else "no cluster was started")),
        Method("dask-image imread (pims), threads", "threads", 2,
               threaded(_dask_image_graph, nframes, 2), no_dask_image),
    ]  # fmt: skip


def label(method: Method) -> str:
    return f"{method.name} x{method.workers}" if method.scheduler != "none" else method.name


# -- measuring -----------------------------------------------------------------------


def measure_methods(path: Path, chosen: list[Method], samples: int,
                    references: dict[str, np.ndarray], seed: int) -> list[dict]:  # fmt: skip
    """One row per method: every sample's result checked against ``references``, the
    frames per second and the speedup over ``SEQUENTIAL`` (which must be among them),
    each with its interval. A method that cannot run, or fails on its untimed first
    run, gets a row saying why."""
    if samples < 3:
        raise ValueError(f"need at least 3 samples per method, not {samples}")
    why = {label(m): m.unavailable for m in chosen if m.unavailable}
    for method in chosen:  # untimed: imports, the page cache, the index file, the workers
        if label(method) not in why:
            try:
                method.run(path)
            except Exception as exc:  # noqa: BLE001 - the row says why, the others run
                why[label(method)] = f"failed: {type(exc).__name__}: {exc}"
    runnable = [m for m in chosen if label(m) not in why]
    if SEQUENTIAL not in map(label, runnable):
        raise RuntimeError(f"{SEQUENTIAL} did not run: {why.get(SEQUENTIAL)}")
    outcomes: dict[str, list[Outcome]] = {label(m): [] for m in runnable}
    rng = random.Random(seed)
    for _ in range(samples):
        for method in rng.sample(runnable, len(runnable)):
            outcomes[label(method)].append(method.run(path))
    frames = len(next(iter(references.values())))
    baseline = [o.seconds for o in outcomes[SEQUENTIAL]]
    rows = []
    for method in chosen:
        row = {"method": method.name, "scheduler": method.scheduler, "workers": method.workers,
               "label": label(method)}  # fmt: skip
        if label(method) in why:
            rows.append({**row, "exact": f"not measured: {why[label(method)]}"})
            continue
        runs = outcomes[label(method)]
        verdicts = [check_exact(o.sums, references) for o in runs]
        fps = measure.summarize([frames / o.seconds for o in runs])
        speedup = measure.ratio(baseline, [o.seconds for o in runs])
        row |= {"fps": fps.median, "fps low": fps.low, "fps high": fps.high, "n": fps.n,
                "speedup": speedup.value, "speedup low": speedup.low,
                "speedup high": speedup.high,
                "exact": next((v for v in verdicts if v != "yes"), "yes"),
                "seconds": [o.seconds for o in runs]}  # fmt: skip
        if runs[0].tasks:
            row |= {"tasks": runs[0].tasks, "setup s": [o.setup for o in runs],
                    "task s": [o.compute / o.tasks for o in runs]}  # fmt: skip
        rows.append(row)
    return rows


def trivial_seconds(compute: Callable, chunks: tuple[int, ...]) -> float:
    """The wall time of a graph shaped like ours that does nothing: a task per chunk
    making that chunk's int64 zeros, then one negating them, gathered as ours are."""
    import dask.array as da

    start = time.perf_counter()
    compute(da.zeros(sum(chunks), dtype=np.int64, chunks=(chunks,)).map_blocks(np.negative))
    return time.perf_counter() - start


def overhead(compute: Callable, chunks: tuple[int, ...], samples: int) -> dict:
    """Per-task overhead (scheduling, transfer, gathering) on one scheduler: the trivial
    graph's time at our task count less its time with one task, per further task; the
    one-task time is the fixed cost of a compute. Both with intervals, in seconds."""
    tasks = len(chunks)
    if tasks < 2:
        raise ValueError("the overhead per task needs a graph of 2 or more tasks")
    trivial_seconds(compute, chunks)  # untimed: the pools, the imports
    single, full = [], []
    for _ in range(samples):
        single.append(trivial_seconds(compute, (sum(chunks),)))
        full.append(trivial_seconds(compute, chunks))
    per_task = measure.summarize([(f - s) / (tasks - 1) for f, s in zip(full, single, strict=True)])
    fixed = measure.summarize(single)
    return {"tasks": tasks, "per_task_s": per_task.median, "per_task_low": per_task.low,
            "per_task_high": per_task.high, "fixed_s": fixed.median, "fixed_low": fixed.low,
            "fixed_high": fixed.high}  # fmt: skip


# -- the projection ------------------------------------------------------------------


def project(sequential_s: float, tasks: int, task_s: float, overhead_s: float, serial_s: float,
            workers: int) -> tuple[float, float]:  # fmt: skip
    """The speedup over ``sequential_s`` that ``workers`` workers imply, as a range.

    The work is ``tasks`` tasks of ``task_s`` each, run in ``ceil(tasks / workers)``
    waves; the scheduler spends ``overhead_s`` per task, one task at a time; the client
    spends ``serial_s`` before any task runs (building the graph, a compute's fixed
    cost). Low end, Amdahl-style: nothing overlaps, ``serial + tasks * overhead + waves
    * task``. High end: the scheduler dispatches while the workers decode, ``serial +
    max(tasks * overhead, waves * task)``.
    """
    if min(tasks, workers) < 1 or min(task_s, overhead_s, serial_s) < 0 or sequential_s <= 0:
        raise ValueError("need tasks, workers >= 1, times >= 0 and a positive sequential time")
    waves = math.ceil(tasks / workers)
    amdahl = serial_s + tasks * overhead_s + waves * task_s
    overlapped = serial_s + max(tasks * overhead_s, waves * task_s)
    return sequential_s / amdahl, sequential_s / overlapped


def projections(rows: list[dict], cluster: dict, frames: int) -> dict | None:
    """The projection's inputs and its speedups at 2 and ``PROJECTED`` workers, for this
    file and for 10 hours of video (the sequential time, the graph's building and the
    task count grow with the frames; a task's time and the overhead per task stay).

    A task's time is the median of the one-thread runs (a task with a core to itself);
    the overhead per task and a compute's fixed cost are the cluster's trivial graph's
    (``cluster``, from ``overhead``); the graph's building is the cluster runs'. None
    when the cluster or the one-thread runs did not run."""
    by = {r["label"]: r for r in rows if "seconds" in r}
    cluster_label = f"{CLUSTER} x2"
    if cluster_label not in by or ONE_THREAD not in by or not cluster:
        return None
    tasks = by[cluster_label]["tasks"]
    inputs = {
        "sequential_s": float(np.median(by[SEQUENTIAL]["seconds"])),
        "tasks": tasks,
        "task_s": float(np.median(by[ONE_THREAD]["task s"])),
        "overhead_s": cluster["per_task_s"],
        "setup_s": float(np.median(by[cluster_label]["setup s"])),
        "fixed_s": cluster["fixed_s"],
    }
    scale = TEN_HOURS / frames
    cases = {
        "this file": (inputs["sequential_s"], tasks, inputs["setup_s"]),
        "10 hours": (inputs["sequential_s"] * scale, math.ceil(tasks * scale),
                     inputs["setup_s"] * scale),
    }  # fmt: skip
    found = {"inputs": inputs, "frames": {"this file": frames, "10 hours": TEN_HOURS}}
    for case, (seq, n, setup) in cases.items():
        found[case] = {"tasks": n}
        for workers in (2, PROJECTED):
            low, high = project(seq, n, inputs["task_s"], inputs["overhead_s"],
                                setup + inputs["fixed_s"], workers)  # fmt: skip
            found[case][workers] = {"amdahl": low, "overlapped": high}
    found["curve"] = {w: project(*cases["10 hours"][:2], inputs["task_s"], inputs["overhead_s"],
                                 cases["10 hours"][2] + inputs["fixed_s"], w)
                      for w in (1, 2, 4, 8, 16, 32, 64)}  # fmt: skip
    found["measured_2"] = [by[cluster_label][k]
                           for k in ("speedup", "speedup low", "speedup high")]  # fmt: skip
    found["scheduler_keeps_up_with"] = (inputs["task_s"] / inputs["overhead_s"]
                                        if inputs["overhead_s"] > 0 else math.inf)  # fmt: skip
    return found


# -- the report ----------------------------------------------------------------------


def _interval(value: float, low: float, high: float, digits: str = ".3g") -> str:
    return f"{value:{digits}} [{low:{digits}}, {high:{digits}}]"


def markdown(rows: list[dict], recording: dict, cluster: dict | None, threads: dict | None,
             projected: dict | None, loads: list[dict], cpu: str) -> str:  # fmt: skip
    """The report's section: the table, the per-task facts, the projection, the load."""
    lines = [
        "## Dask: a whole-file reduction, sequential and in parallel\n",
        (f"Each frame's mean brightness over `{recording['path']}` ({recording['frames']} "
         f"frames, {recording['size']}, {recording['encoding']}, {FPS} fps), "
         f"framereader's {recording['tasks']} chunks from from_video (frames_per_chunk="
         f"{recording['frames_per_chunk']}), dask-image's of {recording['nframes']} frames "
         f"(pims reads the file with {recording['pims_reader']}); one "
         "decoder thread everywhere; median frames per second with its bootstrap 95% interval, "
         f"and the speedup over {SEQUENTIAL} (a ratio of medians) with its verdict: met when "
         "the whole interval is above 1 (faster than the sequential reader), missed when it is "
         "below, within noise when it straddles 1. *exact*: every sample's per-frame means "
         "equal a sequential framereader's and a sequential PyAV decode's.\n"),
        "| method | scheduler | workers | frames/s [95%] | speedup [95%] | verdict (>= 1) | exact |",
        "|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for r in rows:
        if "fps" in r:
            fps = _interval(r["fps"], r["fps low"], r["fps high"], ".0f")
            speedup = _interval(r["speedup"], r["speedup low"], r["speedup high"], ".2f") + "x"
            verdict = ("reference" if r["label"] == SEQUENTIAL else measure.verdict(
                measure.Ratio(r["speedup"], r["speedup low"], r["speedup high"]), 1.0,
                lower_is_better=False))  # fmt: skip
        else:
            fps = speedup = verdict = "-"
        lines.append(f"| {r['method']} | {r['scheduler']} | {r['workers']} | {fps} | "
                     f"{speedup} | {verdict} | {r['exact']} |")  # fmt: skip
    lines.append("")
    sequential_ms = next(float(np.median(r["seconds"])) for r in rows
                         if r["method"] == SEQUENTIAL) / recording["frames"] * 1e3  # fmt: skip
    for r in rows:
        if "task s" in r:
            task = measure.summarize(r["task s"])
            setup = measure.summarize(r["setup s"])
            per_frame = task.median / (recording["frames"] / r["tasks"]) * 1e3
            lines.append(f"* {r['method']} x{r['workers']}: a task (open a reader, decode "
                         f"its chunk, sum) takes {_interval(task.median, task.low, task.high)} "
                         f"s, {per_frame:.3g} ms a frame (sequential: {sequential_ms:.3g}); "
                         "building the graph "
                         f"{_interval(setup.median, setup.low, setup.high)} s.")  # fmt: skip
    for name, found in (("threads x2", threads), ("distributed, 2 processes", cluster)):
        if found:
            ms = {k: v * 1e3 for k, v in found.items() if k != "tasks"}
            per_task = _interval(ms["per_task_s"], ms["per_task_low"], ms["per_task_high"])
            fixed = _interval(ms["fixed_s"], ms["fixed_low"], ms["fixed_high"])
            lines.append(f"* Overhead per task on {name} (a graph of the same {found['tasks']} "
                         f"tasks doing nothing, less its one-task time, per further task): "
                         f"{per_task} ms; a compute's fixed cost {fixed} ms.")  # fmt: skip
    lines.append("")
    if projected:
        i = projected["inputs"]
        lines += [
            f"### On paper: {PROJECTED} workers\n",
            ("A projection from the medians above, not a measurement. The work is the "
             f"tasks ({i['task_s']:.3g} s each, as with one thread) in waves of "
             f"{PROJECTED}; the serial part is building the graph ({i['setup_s']:.3g} s here), "
             f"a compute's fixed cost ({i['fixed_s'] * 1e3:.3g} ms) and the scheduler's "
             f"{i['overhead_s'] * 1e3:.3g} ms per task, one task at a time. Low: nothing "
             "overlaps (Amdahl); high: the scheduler dispatches while workers decode. "
             "Assumed: every worker has a core of its own and decodes as fast as here (no "
             "shared memory bandwidth, disk or network limit), the overhead per task stays "
             "what 2 workers showed, results stay small (a number per frame), and for 10 "
             "hours the sequential time, the graph's building and the task count grow with "
             "the frames.\n"),
            "| recording | tasks | 2 workers | 64 workers |",
            "|---|---|---|---|",
            *(f"| {case} ({projected['frames'][case]} frames) | {projected[case]['tasks']} | "
              f"{projected[case][2]['amdahl']:.2f}-{projected[case][2]['overlapped']:.2f}x | "
              f"{projected[case][PROJECTED]['amdahl']:.1f}-"
              f"{projected[case][PROJECTED]['overlapped']:.1f}x |"
              for case in ("this file", "10 hours")),
            "",
            (f"Measured on 2 processes: {_interval(*projected['measured_2'], '.2f')}x. At "
             f"{i['overhead_s'] * 1e3:.3g} ms per task the scheduler keeps up with about "
             f"{projected['scheduler_keeps_up_with']:.0f} workers decoding {i['task_s']:.3g} "
             "s tasks; past that, bigger chunks (fewer tasks) keep it in step.\n"),
        ]  # fmt: skip
    lines.append(f"Load before and after: {loads[0]}, {loads[1]}; {cpu}.")
    return "\n".join(lines) + "\n"


def figure(rows: list[dict], projected: dict | None, provenance: dict, loads: list[dict],
           path: Path) -> Path:  # fmt: skip
    """Frames per second by method with interval whiskers, wrong ones hatched, and the
    10-hour projection's speedup by workers; the system details along the bottom."""
    from matplotlib.ticker import FormatStrFormatter

    from benchmarks import figures

    fig, (left, right) = figures.plt.subplots(1, 2, figsize=(11, 4.2), width_ratios=(3, 2))
    names = [r["label"].replace(", ", ",\n").replace(" (", "\n(") for r in rows]
    for x, r in enumerate(rows):
        if "fps" not in r:
            left.text(x, 0, "not\nmeasured", ha="center", va="bottom", fontsize=8)
            continue
        wrong = r["exact"] != "yes"
        left.bar(x, r["fps"], color=figures.color(r["label"]),
                 hatch="//" if wrong else None, edgecolor="black" if wrong else None,
                 yerr=[[r["fps"] - r["fps low"]], [r["fps high"] - r["fps"]]],
                 capsize=4)  # fmt: skip
        left.text(x, r["fps high"], ("wrong\n" if wrong else "") + f"{r['speedup']:.2f}x",
                  ha="center", va="bottom", fontsize=8)  # fmt: skip
    left.set_xticks(range(len(rows)), names, fontsize=7)
    left.set_ylabel("frames per second (median, 95% interval)")
    left.set_title("whole-file reduction; label: speedup over sequential", fontsize=9)
    left.margins(y=0.15)
    if projected:
        curve = projected["curve"]
        workers = list(curve)
        right.plot(workers, workers, ls=":", color="0.5", label="linear")
        right.fill_between(workers, [curve[w][0] for w in workers],
                           [curve[w][1] for w in workers], alpha=0.3,
                           color=figures.color(CLUSTER),
                           label="projected, 10 hours")  # fmt: skip
        measured, low, high = projected["measured_2"]
        right.errorbar([2], [measured], yerr=[[measured - low], [high - measured]], fmt="o",
                       color="black",
                       label="measured, 2 processes, this file")  # fmt: skip
        right.set_xscale("log", base=2)
        right.set_yscale("log", base=2)
        right.set_xticks(workers, [str(w) for w in workers])
        right.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        right.set_xlabel("workers")
        right.set_ylabel("speedup over sequential")
        right.set_title("on paper: Amdahl (low) to overlapped (high)", fontsize=9)
        right.legend(fontsize=7)
    else:
        right.axis("off")
        right.text(0.5, 0.5, "no projection: the cluster did not run", ha="center")  # fmt: skip
    figures.footer(fig, *figures.system_details(provenance),
                   f"load before {loads[0]['load_average']}, after {loads[1]['load_average']}",
                   f"{provenance.get('cpu_count')} CPUs")  # fmt: skip
    return figures.save(fig, path)


# -- the entry point -----------------------------------------------------------------


def _cluster():
    """A 2-process cluster and its client, or (None, None) when distributed is absent."""
    if missing(["dask", "distributed"], INSTALL_DASK):
        return None, None
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")  # fmt: skip
    client = Client(cluster)
    import framereader

    here = framereader.__file__
    theirs = set(client.run(lambda: __import__("framereader").__file__).values())
    if theirs != {here}:
        client.close()
        cluster.close()
        raise RuntimeError(f"the cluster's workers import framereader from {sorted(theirs)}, "
                           f"this process from {here}: run from the checkout to measure")  # fmt: skip
    return cluster, client


def run(out: Path, data: Path = Path(".build/data/dask-scaling"), minutes: float = MINUTES,
        samples: int = SAMPLES, frames_per_chunk: int | None = None, seed: int = 0,
        size: str = SIZE) -> dict:  # fmt: skip
    """Measure, then write ``out``/dask_scaling.md, .json and .png. Returns the rows, the
    markdown section and the rest of what the JSON holds. ``frames_per_chunk`` goes to
    from_video (None: its default)."""
    from benchmarks import results

    if minutes <= 0:
        raise ValueError(f"minutes must be positive, not {minutes}")
    frames = round(minutes * 60 * FPS)
    path = encode(data, frames, f"x264 {size}", ENCODING[1], size=size, suffix=".mp4")
    loads = [measure.load()]
    references = {"PyAV's sequential decode": pyav_sums(path),
                  "the sequential framereader's": sequential(path).sums}  # fmt: skip
    chunks = (_framereader_graph(path, frames_per_chunk).chunks[0]
              if not missing(["dask"], INSTALL_DASK) else ())  # fmt: skip
    nframes = round(frames / len(chunks)) if chunks else None  # dask-image's, as long
    cluster, client = _cluster()
    try:
        chosen = methods(client, frames_per_chunk, nframes)
        rows = measure_methods(path, chosen, samples, references, seed)
        threads = cluster_overhead = None
        if len(chunks) > 1:
            threads = overhead(lambda g: g.compute(scheduler="threads", num_workers=2),
                               chunks, samples)  # fmt: skip
            if client is not None:
                cluster_overhead = overhead(lambda g: client.compute(g).result(), chunks,
                                            samples)  # fmt: skip
    finally:
        if client is not None:
            client.close()
            cluster.close()
    loads.append(measure.load())
    left_out = []  # what makes this a quick run
    if minutes < MINUTES:
        left_out.append(f"a {minutes:g}-minute recording instead of {MINUTES:g}")
    if samples < SAMPLES:
        left_out.append(f"{samples} samples per method instead of {SAMPLES}")
    command = ["python", "-m", "benchmarks.dask_scaling", *sys.argv[1:]]
    provenance = results.provenance("dask_scaling", command, seed, left_out)
    projected = projections(rows, cluster_overhead, frames) if cluster_overhead else None
    recording = {"path": str(path), "frames": frames, "size": size, "encoding": ENCODING[0],
                 "ffmpeg_args": ENCODING[1], "frames_per_chunk": frames_per_chunk,
                 "tasks": len(chunks), "chunks": list(chunks), "nframes": nframes,
                 "pims_reader": (None if missing(["pims"], INSTALL_DASK_IMAGE)
                                 else pims_reader(path))}  # fmt: skip
    text = results.mode_line(provenance) + markdown(
        rows, recording, cluster_overhead, threads, projected, loads, provenance["cpu"]
    )
    out.mkdir(parents=True, exist_ok=True)
    found = {"rows": rows, "markdown": text, "recording": recording, "load": loads,
             "overhead": {"threads x2": threads, "distributed x2": cluster_overhead},
             "projection": projected, "provenance": provenance}  # fmt: skip
    (out / "dask_scaling.md").write_text(text)
    (out / "dask_scaling.json").write_text(json.dumps(found, indent=1, default=str) + "\n")
    found["figure"] = figure(rows, projected, provenance, loads, out / "dask_scaling.png")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dask_scaling",
                                     description=__doc__.split("\n\n")[0])  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("results/dask"))
    parser.add_argument("--data", type=Path, default=Path(".build/data/dask-scaling"))
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_MINUTES:g} minutes and {QUICK_SAMPLES} samples")  # fmt: skip
    parser.add_argument("--minutes", type=float, default=None,
                        help=f"the recording's length (default {MINUTES:g})")  # fmt: skip
    parser.add_argument("--samples", type=int, default=None,
                        help=f"timed runs per method, 3 or more (default {SAMPLES})")  # fmt: skip
    parser.add_argument("--frames-per-chunk", type=int, default=None,
                        help="from_video's target (default: its own, about 128 MB)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    quick = args.quick
    minutes = args.minutes if args.minutes is not None else QUICK_MINUTES if quick else MINUTES
    samples = args.samples if args.samples is not None else QUICK_SAMPLES if quick else SAMPLES
    if minutes <= 0 or samples < 3 or (args.frames_per_chunk or 1) < 1:
        parser.error("need --minutes > 0, --samples >= 3 and --frames-per-chunk >= 1")
    if no_dask := missing(["dask"], INSTALL_DASK):
        parser.error(f"this benchmark measures Dask: {no_dask}")
    found = run(args.out, args.data, minutes, samples, args.frames_per_chunk, args.seed)
    print(found["markdown"])
    print(f"report: {args.out / 'dask_scaling.md'}, figure: {found['figure']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
