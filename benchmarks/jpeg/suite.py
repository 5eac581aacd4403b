"""The JPEG roundtrip suite: every (image, size, quality, contender, operation)
cell timed several times, all rounds in one seeded random order.

    python -m benchmarks jpeg [--quick] [--images DIR] [--sizes ...] [--qualities ...]

Each contender runs in a process of its own (``runners``), timed there. Each
decoder decodes the same bytes: the photo encoded by our Turbojpeg (accurate
DCT, 4:2:0, from BGR) at that quality, made here, untimed. Each contender's own
roundtrip (its encoder, then its decoder) is checked against the original
with SSIM and PSNR. Statistics per cell come from pytest-benchmark's ``Stats``
and the JSON follows its format, so its tools can read it.
"""

from __future__ import annotations

import json
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks import datasets, environments, loaded, peers, results, sites
from benchmarks import quality as metrics
from benchmarks.jpeg import contenders as contender_registry
from benchmarks.jpeg import runners

QUALITIES = (80, 95, 99)
# Encoder qualities for bytes at equal SSIM (contenders with rate_distortion).
RD_QUALITIES = (50, 60, 70, 75, 80, 85, 90, 95)
# A roundtrip below either bound is flagged in the report (never dropped).
MIN_SSIM = 0.90
MIN_PSNR = 30.0


@dataclass
class Config:
    photos: list[datasets.Photo]
    # None: every photo at its native size, in size bins (datasets.size_bins); else
    # each photo cut to 16:9 and resized to each of these
    sizes: dict[str, tuple[int, int]] | None = None
    qualities: tuple[int, ...] = QUALITIES
    contenders: tuple[str, ...] = contender_registry.JPEG_SUITE
    rounds: int = 7
    warmup: int = 1
    seed: int = 0
    threads: int = 1
    out: Path = Path("results/jpeg")
    command: list[str] = field(default_factory=lambda: list(sys.argv))
    quick_left_out: tuple[str, ...] = ()  # what a quick run leaves out, in words (results.py)


@dataclass(frozen=True)
class Cell:
    photo: str
    size: str
    quality: int
    contender: str
    operation: str  # "decode" or "encode"


@dataclass
class Image:
    photo: datasets.Photo
    size: str
    bgr: np.ndarray
    rgb: np.ndarray
    resample: str
    reference: dict[int, bytes]  # quality -> our accurate encode, what every decoder decodes

    @property
    def megapixels(self) -> float:
        return self.bgr.shape[0] * self.bgr.shape[1] / 1e6


# Each library's own variable for the size of its thread pool.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "OPENCV_FOR_THREADS_NUM",
)


def pin_threads(threads: int) -> None:
    """Every library's own thread pool to ``threads``, through its own variable in
    this process's environment: the contenders' processes, started after, inherit
    them, and OpenCV's and PyTorch's contenders set their pools from theirs
    (contenders.threads)."""
    for var in THREAD_VARIABLES:
        os.environ[var] = str(threads)


def load_contenders(names) -> tuple[dict, dict[str, str]]:
    """A runner for each contender that can run here, and why each other one can't.
    A contender that loaded another library than it names (loaded.WrongLibrary)
    fails the run, and the processes started so far are closed."""
    ready, skipped = {}, {}
    try:
        for name in names:
            try:
                ready[name] = runners.start(name)
            except loaded.WrongLibrary:
                raise  # measuring another library than the one named fails the run
            except (peers.PeerUnavailable, environments.EnvironmentUnavailable,
                    sites.WorkerError) as exc:  # fmt: skip
                skipped[name] = str(exc)  # each says what is missing, or what the worker raised
            except Exception as exc:  # noqa: BLE001 - a broken install is a skip with its reason
                skipped[name] = f"{type(exc).__name__}: {exc}"
    except BaseException:
        for runner in ready.values():
            runner.close()
        raise
    return ready, skipped


def reference_encoder() -> contender_registry.Contender:
    """Our Turbojpeg, made here (REFERENCE): it encodes the JPEGs every decoder
    decodes, and decodes every encoder's bytes at equal SSIM, all untimed."""
    return contender_registry.make(contender_registry.REFERENCE)


def prepare_images(config: Config, reference: contender_registry.Contender) -> list[Image]:
    bins = datasets.size_bins(config.photos) if config.sizes is None else {}
    images = []
    for photo in config.photos:
        if config.sizes is None:
            made = [(bins[photo.name], *datasets.native(photo))]
        else:
            made = [(size, *datasets.sixteen_by_nine(photo, dims))
                    for size, dims in config.sizes.items()]  # fmt: skip
        for size, bgr, resample in made:
            encoded = {q: reference.encode(bgr, q) for q in config.qualities}
            images.append(
                Image(photo, size, bgr, np.ascontiguousarray(bgr[:, :, ::-1]), resample, encoded)
            )
    return images


def plan(images: list[Image], ready: dict, config: Config) -> list[tuple[Cell, int]]:
    """Every (cell, round) pair, shuffled with the seed."""
    work = []
    for image in images:
        for quality in config.qualities:
            for name, runner in ready.items():
                for operation in runner.describe().operations:
                    cell = Cell(image.photo.name, image.size, quality, name, operation)
                    work += [(cell, r) for r in range(config.rounds)]
    random.Random(config.seed).shuffle(work)
    return work


def measure(work, images: list[Image], ready: dict, config: Config) -> tuple[list[dict], bool]:
    """Time every round; returns the rows and whether Ctrl-C cut the run short."""
    from tqdm import tqdm

    by_key = {(i.photo.name, i.size): i for i in images}
    warmed: set[Cell] = set()
    rows: list[dict] = []
    interrupted = False
    progress = tqdm(total=len(work), unit="call", desc="jpeg", smoothing=0.05, file=sys.stderr)
    try:
        for order, (cell, round_index) in enumerate(work):
            image = by_key[(cell.photo, cell.size)]
            # Timed inside the process that runs the call (ours, or a site process).
            warm = 0 if cell in warmed else config.warmup
            warmed.add(cell)
            seconds = ready[cell.contender].timed(
                (cell.photo, cell.size), cell.quality, cell.operation, warm
            )
            rows.append(
                {
                    "photo": cell.photo,
                    "size": cell.size,
                    "width": image.bgr.shape[1],
                    "height": image.bgr.shape[0],
                    "megapixels": image.megapixels,
                    "quality": cell.quality,
                    "contender": cell.contender,
                    "operation": cell.operation,
                    "round": round_index,
                    "order": order,
                    "seconds": seconds,
                }
            )
            progress.update()
    except KeyboardInterrupt:
        interrupted = True
        print(f"\ninterrupted: keeping the {len(rows)} rounds measured so far", file=sys.stderr)
    finally:
        progress.close()
    return rows, interrupted


def check_quality(
    images: list[Image], ready: dict, config: Config, scorer: metrics.Scorer
) -> list[dict]:
    """Each contender's own roundtrip against the original: SSIM, PSNR, size, flag.
    The roundtrips run here, one after another; ``scorer`` scores them beside."""
    from tqdm import tqdm

    rows, keys = [], []
    progress = tqdm(
        total=len(images) * len(config.qualities) * len(ready),
        unit="roundtrip",
        desc="quality",
        file=sys.stderr,
    )
    for image in images:
        raw = image.bgr.nbytes
        for quality in config.qualities:
            for name, runner in ready.items():
                progress.update()
                original = image.rgb if runner.describe().needs_rgb else image.bgr
                row = {"photo": image.photo.name, "size": image.size, "quality": quality,
                       "contender": name, "ssim": None, "psnr": None, "jpeg_bytes": None,
                       "raw_bytes": raw, "flagged": True, "problem": ""}  # fmt: skip
                rows.append(row)
                try:
                    row["jpeg_bytes"], decoded = runner.roundtrip(
                        (image.photo.name, image.size), quality
                    )
                except Exception as exc:  # noqa: BLE001 - a failing contender is a flagged cell
                    row["problem"] = repr(exc)
                    keys.append(None)
                    continue
                keys.append(scorer.submit(original, decoded))
    progress.close()
    for row, key in zip(rows, keys, strict=True):
        if key is None:
            continue
        row["ssim"], row["psnr"] = scorer.result(key)
        problem = []
        if row["ssim"] < MIN_SSIM:
            problem.append(f"SSIM {row['ssim']:.3f} < {MIN_SSIM}")
        if row["psnr"] < MIN_PSNR:
            problem.append(f"PSNR {row['psnr']:.1f} dB < {MIN_PSNR}")
        row["flagged"], row["problem"] = bool(problem), "; ".join(problem)
    return rows


def benchmark_json(
    rows: list[dict], images: list[Image], ready: dict, config: Config, record: dict
) -> dict:
    """pytest-benchmark's JSON layout, one entry per cell, its Stats for the numbers."""
    stats = results.stats_by(
        rows, lambda r: (r["photo"], r["size"], r["quality"], r["contender"], r["operation"])
    )
    resample = {(i.photo.name, i.size): i.resample for i in images}
    benchmarks = []
    for (photo, size, quality, name, operation), s in stats.items():
        params = {"photo": photo, "size": size, "quality": quality, "contender": name}
        test = f"jpeg_{operation}[{photo}-{size}-q{quality}-{name}]"
        benchmarks.append(
            {
                "group": f"{operation}-{size}-q{quality}",
                "name": test,
                "fullname": f"benchmarks/jpeg/suite.py::{test}",
                "params": params,
                "param": f"{photo}-{size}-q{quality}-{name}",
                "extra_info": {
                    **params,
                    "operation": operation,
                    "library": ready[name].describe().library,
                    "resample": resample[(photo, size)],
                },
                "options": {
                    "rounds": config.rounds,
                    "warmup": config.warmup,
                    "timer": "perf_counter",
                    "shuffled_with_seed": config.seed,
                },
                "stats": s.as_dict(),
            }
        )
    return results.benchmark_document(benchmarks, record)


def provenance(images, ready, skipped, config: Config, interrupted: bool) -> dict:
    return results.provenance("jpeg", config.command, config.seed, config.quick_left_out) | {
        "rounds": config.rounds,
        "warmup": config.warmup,
        "threads": config.threads,
        "thread_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENCV_FOR_THREADS_NUM")},
        "environments": environments.provenance(),
        "contenders": {
            name: {
                "library": d.library,
                "adapter": d.notes,
                "output": d.output,
                "operations": list(d.operations),
                "process": d.process,
                **d.extra,
            }
            for name, d in ((n, r.describe()) for n, r in ready.items())
        },
        "skipped": skipped,
        "images": [
            {
                "photo": i.photo.name,
                "source": i.photo.source,
                "size": i.size,
                "resample": i.resample,
            }
            for i in images
        ],
        "sizes": datasets.NATIVE if config.sizes is None else list(config.sizes),
        "qualities": list(config.qualities),
        "quality_thresholds": {"min_ssim": MIN_SSIM, "min_psnr": MIN_PSNR},
        "interrupted": interrupted,
    }


def rate_distortion(
    images: list[Image],
    ready: dict,
    reference: contender_registry.Contender,
    scorer: metrics.Scorer,
) -> list[dict]:
    """Bytes and SSIM over RD_QUALITIES for each encoder that asks for it; every
    encoding decoded by our turbojpeg, so only the encoders differ."""
    from tqdm import tqdm

    encoders = {n: r for n, r in ready.items() if r.describe().rate_distortion}
    rows, keys = [], []
    progress = tqdm(total=len(images) * len(encoders) * len(RD_QUALITIES), unit="encode",
                    desc="bytes at equal SSIM", file=sys.stderr)  # fmt: skip
    for image in images:
        for name, runner in encoders.items():
            for quality in RD_QUALITIES:
                progress.update()
                data = runner.encode((image.photo.name, image.size), quality)
                decoded = reference.decode(data)
                rows.append({
                    "photo": image.photo.name, "size": image.size, "contender": name,
                    "quality": quality, "jpeg_bytes": len(data),
                    "bits_per_pixel": 8 * len(data) / (image.bgr.shape[0] * image.bgr.shape[1]),
                })  # fmt: skip
                keys.append(scorer.submit(image.bgr, decoded, with_psnr=False))
    progress.close()
    for row, key in zip(rows, keys, strict=True):
        (row["ssim"],) = scorer.result(key)
    return rows


def run(config: Config) -> Path:
    """Measure, check, write every output to ``config.out``; returns that folder."""
    pin_threads(config.threads)
    config.out.mkdir(parents=True, exist_ok=True)
    ready, skipped = load_contenders(config.contenders)
    try:
        return _run(config, ready, skipped)
    finally:
        for runner in ready.values():
            runner.close()


def _run(config: Config, ready: dict, skipped: dict) -> Path:
    for name, reason in skipped.items():
        print(f"skipping {name}: {reason}", file=sys.stderr)
    name = contender_registry.REFERENCE
    if name not in ready:
        raise SystemExit(f"{name} is needed as the reference encoder: {skipped.get(name)}")
    reference = reference_encoder()
    images = prepare_images(config, reference)
    for runner in ready.values():
        runner.load([((i.photo.name, i.size), i.bgr, i.reference) for i in images])
    work = plan(images, ready, config)
    print(
        f"{len(images)} images x {len(config.qualities)} qualities x {len(ready)} contenders: "
        f"{len(work)} timed calls in a random order (seed {config.seed})",
        file=sys.stderr,
    )
    # Quality first: Ctrl-C during the (longer) timing then still leaves it whole.
    rd: list[dict] = []
    try:
        with metrics.Scorer() as scorer:
            quality = check_quality(images, ready, config, scorer)
            rd = rate_distortion(images, ready, reference, scorer)
    except KeyboardInterrupt:
        print("\ninterrupted during the quality check: no timings taken", file=sys.stderr)
        quality, rows, interrupted = [], [], True
    else:
        rows, interrupted = measure(work, images, ready, config)
    record = provenance(images, ready, skipped, config, interrupted)
    record["rd_qualities"] = list(RD_QUALITIES)
    results.write_rows(config.out / "rounds.csv", rows)
    results.write_rows(config.out / "quality.csv", quality)
    results.write_rows(config.out / "rate_distortion.csv", rd)
    (config.out / "benchmark.json").write_text(
        json.dumps(benchmark_json(rows, images, ready, config, record), indent=1)
    )
    (config.out / "provenance.json").write_text(json.dumps(record, indent=1, default=str))
    return config.out
