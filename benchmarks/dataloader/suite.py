"""Measures throughput through ``torch.utils.data.DataLoader``.

Each decoder (``contenders.DATALOADER``) and reader (``readers.DATALOADER``) gets a
fresh process of its own (``sites.Worker``: its benchmark environment first on the
path, its variables set at start), where its library is imported and loaded and
one untimed epoch per worker count starts the loader's workers (persistent) and
warms every cache, before any clock runs. Then every (decoder, workers) pair runs
one timed epoch per round, in a seeded shuffled order, so drift on a noisy machine
falls on every pair alike. An epoch is the same seeded list of items for everyone:

* JPEG: a photo's file read and decoded (whole), then its centre ``crop`` square,
  as a uint8 tensor; a decoder with a batch call gets the whole batch at once.
* video: a clip of ``clip_length`` consecutive frames from a seeded start, read
  with the reader's batch call (``Reader.read_many``).

Each decoder's first item is checked against ours (PSNR, channel order aligned), and
each process records the JPEG, FFmpeg and OpenCV libraries it mapped.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks import environments, loaded, quality, results, sites
from benchmarks.jpeg import contenders
from benchmarks.video import readers

BATCH = 32
WORKERS = (0, 1, 2)
CROP = 224  # the side of the centre square each photo is cut to (smaller photos: their side)
FLOOR_DB = {"jpeg": 30.0, "video": 40.0}  # a first item below this against ours is wrong
TIMEOUT = 900.0  # seconds for one epoch


@dataclass
class Config:
    photos: list[Path]  # JPEG files
    footage: Path | None  # a video file (None: no video part)
    workers: tuple[int, ...] = WORKERS
    batch: int = BATCH
    items: int = 512  # photos per epoch
    clips: int = 128  # clips per epoch
    clip_length: int = 8
    rounds: int = 5  # timed epochs per (decoder, workers)
    seed: int = 0
    jpeg_decoders: tuple[str, ...] = contenders.DATALOADER
    video_readers: tuple[str, ...] = readers.DATALOADER
    out: Path = Path("results/dataloader")
    command: list[str] = field(default_factory=lambda: list(sys.argv))
    left_out: tuple[str, ...] = ()  # what a quick run leaves out, in words (results.py)


# -- in the decoder's own process ---------------------------------------------------


def _centre(image: np.ndarray, side: int) -> np.ndarray:
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    return np.ascontiguousarray(image[top : top + side, left : left + side])


def _photo_dataset(files: list[str], order: list[int], contender, side: int):
    import torch
    from torch.utils.data import Dataset

    class Photos(Dataset):
        def __len__(self) -> int:
            return len(order)

        def __getitem__(self, k: int):
            image = contender.decode(Path(files[order[k]]).read_bytes())
            return torch.from_numpy(_centre(image, side))

    class PhotoBatches(Photos):
        def __getitems__(self, ks: list[int]):
            images = contender.decode_batch([Path(files[order[k]]).read_bytes() for k in ks])
            return [torch.from_numpy(_centre(image, side)) for image in images]

    return PhotoBatches() if contender.decode_batch else Photos()


def _clip_dataset(reader_name: str, path: str, starts: list[int], length: int):
    import torch
    from torch.utils.data import Dataset

    reader = readers.make_reader(reader_name)

    class Clips(Dataset):
        handle, pid = None, None

        def __len__(self) -> int:
            return len(starts)

        def __getitem__(self, k: int):
            if self.pid != os.getpid():  # each loader worker opens its own
                self.handle, self.pid = reader.open(path), os.getpid()
            first = starts[k]
            return torch.from_numpy(self.handle.read_many(list(range(first, first + length))))

    return Clips()


class Host:
    """One decoder or reader in its process: ``prepare(workers)`` (untimed), then
    ``epoch(workers)`` seconds, ``first()`` item, ``libraries()`` mapped."""

    def __init__(self, kind: str, name: str, source: dict, batch: int) -> None:
        import torch

        torch.set_num_threads(1)
        self.batch = batch
        if kind == "jpeg":
            contender = contenders.make(name)
            self.output = contender.output
            self.library = contender.library
            self.dataset = _photo_dataset(source["files"], source["order"], contender,
                                          source["crop"])  # fmt: skip
        else:
            self.output = "BGR"
            self.library = readers.READERS[name].description
            self.dataset = _clip_dataset(name, source["path"], source["starts"], source["length"])
        self.loaders: dict[int, object] = {}

    def prepare(self, workers: int) -> None:
        from torch.utils.data import DataLoader

        if workers not in self.loaders:
            self.loaders[workers] = DataLoader(
                self.dataset, batch_size=self.batch, num_workers=workers,
                persistent_workers=workers > 0,
                multiprocessing_context="fork" if workers else None,
            )  # fmt: skip
            self.epoch(workers)  # starts the workers and warms every cache, untimed

    def epoch(self, workers: int) -> float:
        start = time.perf_counter()
        for _ in self.loaders[workers]:
            pass
        return time.perf_counter() - start

    def describe(self) -> str:
        return self.library

    def first(self) -> tuple[np.ndarray, str]:
        return self.dataset[0].numpy(), self.output

    def libraries(self) -> dict[str, list[str] | None]:
        return {part: loaded.mapped(part) for part in ("libturbojpeg", "libjpeg", "libavcodec",
                                                       "libopencv_imgcodecs")}  # fmt: skip

    def close(self) -> None:
        self.loaders.clear()  # persistent workers stop with their loader


# -- in the suite's process ----------------------------------------------------------


def _process(kind: str, name: str) -> tuple[str | None, dict[str, str]]:
    """The site-packages and start variables of a decoder's or reader's process."""
    if kind == "jpeg":
        role = contenders.ENVIRONMENT.get(name)
        return (str(environments.get(role).site_packages) if role else None), {}
    reader = readers.READERS[name]
    site = environments.get(reader.environment).site_packages if reader.environment else None
    return (str(site) if site else None), reader.process_environment()


def _start(kind: str, names, source: dict, batch: int, skipped: dict) -> dict[str, sites.Worker]:
    hosts = {}
    for name in names:
        try:
            why = readers.READERS[name].unavailable() if kind == "video" else None
            if why:
                raise contenders.peers.PeerUnavailable(why)
            site, variables = _process(kind, name)
            hosts[name] = sites.Worker(site, "benchmarks.dataloader.suite:Host", kind, name,
                                       source, batch, variables=variables,
                                       children=True)  # fmt: skip
        except (contenders.peers.PeerUnavailable, environments.EnvironmentUnavailable,
                sites.WorkerError) as exc:  # fmt: skip
            skipped[f"{kind}:{name}"] = str(exc).strip().splitlines()[0]
    return hosts


def _part(kind: str, hosts: dict, config: Config, items: int, skipped: dict) -> list[dict]:
    """Every (decoder, workers) pair's timed epochs, interleaved, and its first-item check.
    A decoder that fails or hangs (killed after TIMEOUT) is dropped with the reason."""
    from tqdm import tqdm

    reference, checks = None, {}
    for name, host in list(hosts.items()):
        try:
            # Loaders with workers first: they fork before this process has decoded
            # anything, as a training script's do (decord, for one, hangs in a worker
            # forked after its parent decoded).
            for w in sorted(config.workers, reverse=True):
                host.call("prepare", w, timeout=TIMEOUT)
            image, output = host.call("first", timeout=TIMEOUT)
        except sites.WorkerError as exc:
            skipped[f"{kind}:{name}"] = str(exc).strip().splitlines()[0]
            hosts.pop(name).close()
            continue
        bgr = image[..., ::-1] if output == "RGB" else image
        reference = bgr if reference is None else reference
        checks[name] = quality.returned_psnr(bgr, reference)
    plan = [(name, w) for name in hosts for w in config.workers] * config.rounds
    random.Random(config.seed).shuffle(plan)
    rows: list[dict] = []
    for name, w in tqdm(plan, desc=f"{kind} epochs", unit="epoch", file=sys.stderr):
        if name not in hosts:
            continue
        try:
            seconds = hosts[name].call("epoch", w, timeout=TIMEOUT)
        except sites.WorkerError as exc:
            skipped[f"{kind}:{name}"] = "during the timed epochs: " + str(exc).splitlines()[0]
            hosts.pop(name).close()
            rows = [r for r in rows if r["decoder"] != name]
            continue
        rows.append({"kind": kind, "decoder": name, "workers": w, "items": items,
                     "seconds": seconds, "per_second": items / seconds,
                     "psnr_vs_ours": checks[name],
                     "wrong": checks[name] < FLOOR_DB[kind]})  # fmt: skip
    return rows


def _footage_clips(path: Path, config: Config) -> dict:
    import av

    with av.open(str(path)) as container:
        count = sum(1 for p in container.demux(video=0) if p.size)
    rng = random.Random(config.seed)
    starts = [rng.randrange(count - config.clip_length + 1) for _ in range(config.clips)]
    return {"path": str(path), "starts": starts, "length": config.clip_length}


def run(config: Config) -> Path:
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(config.seed)
    side = min(CROP, _smallest_side(config.photos))
    photos = {"files": [str(p) for p in config.photos],
              "order": [rng.randrange(len(config.photos)) for _ in range(config.items)],
              "crop": side}  # fmt: skip
    parts = [("jpeg", config.jpeg_decoders, photos, config.items)]
    if config.footage is not None:
        parts.append(("video", config.video_readers, _footage_clips(config.footage, config),
                      config.clips))  # fmt: skip
    rows, skipped, described = [], {}, {}
    for kind, names, source, items in parts:
        hosts = _start(kind, names, source, config.batch, skipped)
        try:
            rows += _part(kind, hosts, config, items, skipped)
            for name, host in hosts.items():
                described[f"{kind}:{name}"] = {"library": host.call("describe"),
                                               "mapped": host.call("libraries")}  # fmt: skip
        finally:
            for host in hosts.values():
                host.close()
    results.write_rows(out / "throughput.csv", rows)
    record = results.provenance("dataloader", config.command, config.seed, config.left_out)
    record |= {
        "batch": config.batch,
        "workers": list(config.workers),
        "photos": [str(p) for p in config.photos],
        "items": config.items,
        "crop": side,
        "footage": str(config.footage) if config.footage else None,
        "clips": config.clips,
        "clip_length": config.clip_length,
        "rounds": config.rounds,
        "decoders": {"jpeg": list(config.jpeg_decoders), "video": list(config.video_readers)},
        "skipped": skipped,
        "processes": described,
    }
    (out / "provenance.json").write_text(json.dumps(record, indent=1, default=str))
    return out


def _smallest_side(paths: list[Path]) -> int:
    """The shortest side among the JPEGs' headers."""
    import turbojpeg

    with turbojpeg.Turbojpeg(environments.turbojpeg_library()) as tj:
        infos = [tj.decode_header(p.read_bytes()) for p in paths]
    return min(min(info.height, info.width) for info in infos)


def photo_files(photos, folder: Path, quality: int = 90) -> list[Path]:
    """The photos (``datasets.Photo``, at their own size: nothing is scaled) as JPEG
    files in ``folder``, written once by our encoder at ``quality``, 4:2:0."""
    import turbojpeg

    tj = turbojpeg.Turbojpeg(environments.turbojpeg_library())
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for photo in photos:
        path = folder / f"{photo.name}-q{quality}.jpg"
        if not path.is_file():
            bgr = np.ascontiguousarray(photo.rgb[:, :, ::-1])
            path.write_bytes(tj.encode(bgr, quality, subsampling="420"))
        files.append(path)
    return files


def footage_file(folder: Path, ffmpeg: str) -> Path:
    """The real footage (OpenCV's vtest.avi, from the verified sdist), encoded once as
    training data usually is: H.264 (x264, 30-frame GOPs, B-frames) in mp4."""
    import subprocess

    from benchmarks import datasets

    source = datasets.opencv_samples((datasets.OPENCV_FOOTAGE,))[datasets.OPENCV_FOOTAGE]
    path = folder / "vtest-x264-g30.mp4"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.mp4")
        subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-y", "-i", str(source), "-c:v",
                        "libx264", "-g", "30", "-bf", "2", "-pix_fmt", "yuv420p", "-an",
                        str(partial)], check=True)  # fmt: skip
        partial.rename(path)
    return path
