"""python -m benchmarks jpeg | video | micro | report

jpeg     the JPEG roundtrip suite (every contender, by size and quality), then its report
video    the video suite: codecs, encode speed, random access with every frame checked
micro    the pytest-benchmark suite: our wrapper vs its peers and tjbench, with target ratios
dataloader  images and clips per second through torch's DataLoader at 0, 1, 2 workers (needs PyTorch)
report   regenerate a report from saved results; several JPEG folders are compared side by side
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import shutil
import signal
import sys
import threading
from pathlib import Path

QUICK = {"photos": 6, "rounds": 3}  # the full contender set, fewer photos and rounds
DATALOADER_LEFT_OUT = ("the DataLoader benchmark (python -m benchmarks dataloader): it needs "
                       "PyTorch, which only the full run installs")  # fmt: skip


def _qualities(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of integers"
        ) from None
    if not values or not all(1 <= v <= 100 for v in values):
        raise argparse.ArgumentTypeError("qualities must be integers from 1 to 100")
    return values


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive count")
    return value


def _sizes(text: str):
    from benchmarks import datasets

    try:
        return datasets.parse_sizes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _jpeg_left_out(args: argparse.Namespace, photos: int) -> tuple[str, ...]:
    """What this quick JPEG run leaves out of the full one, in words."""
    if not args.quick:
        return ()
    return (
        f"all but {photos} photos",
        f"{args.rounds or QUICK['rounds']} timed rounds per cell instead of 7",
        DATALOADER_LEFT_OUT,
    )


def _video_left_out(args: argparse.Namespace, config_left_out: dict) -> tuple[str, ...]:
    """What this quick video run leaves out of the full one, in words; of the readers
    it leaves out (``config_left_out``), not those that only run by name, as the full
    run leaves them out too."""
    from benchmarks.video import readers

    if not args.quick:
        return ()
    found = [
        (
            "the gray recording and the 960x540 and 1920x1080 sizes (colour 480x270 and the "
            "footage only)"
        ),
        f"{args.random_frames or 4} random reads per file instead of 6",
        "100 frames straight through (20 here)",
        "the Dask scaling benchmark (python -m benchmarks.dask_scaling)",
        DATALOADER_LEFT_OUT,
    ]
    found += [f"reader {name} ({why})" for name, why in config_left_out.items()
              if not readers.READERS[name].only_by_name]  # fmt: skip
    return tuple(found)


def jpeg(args: argparse.Namespace) -> int:
    from benchmarks import datasets
    from benchmarks.jpeg import contenders, report, suite

    count = args.photos or (QUICK["photos"] if args.quick else None)
    try:
        photos = (
            datasets.folder_photos(args.images, count)
            if args.images
            else datasets.embedded_photos(count)
        )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    names = tuple(args.contenders.split(",")) if args.contenders else contenders.JPEG_SUITE
    unknown = [n for n in names if n not in contenders.FACTORIES]
    if unknown:
        print(
            f"error: unknown contender(s) {', '.join(unknown)}; known: "
            f"{', '.join(contenders.JPEG_SUITE)}",
            file=sys.stderr,
        )
        return 2
    config = suite.Config(
        photos=photos,
        sizes=args.sizes,
        qualities=args.qualities,
        contenders=names,
        rounds=args.rounds or (QUICK["rounds"] if args.quick else 7),
        seed=args.seed,
        threads=args.threads,
        out=args.out,
        quick_left_out=_jpeg_left_out(args, len(photos)),
    )
    folder = suite.run(config)
    path = report.write([folder])
    print(f"\nreport: {path}")
    return 0


def video(args: argparse.Namespace) -> int:
    from benchmarks.video import codecs, frames, readers, suite
    from benchmarks.video import report as video_report

    if args.readers:
        unknown = [n for n in args.readers.split(",") if n not in readers.READERS]
        if unknown:
            print(
                f"error: unknown reader(s) {', '.join(unknown)}; known: {', '.join(readers.READERS)}",
                file=sys.stderr,
            )
            return 2
    if args.videos and not args.videos.is_dir():
        print(f"error: --videos: {args.videos} is not a folder", file=sys.stderr)
        return 2
    default, left_out = readers.default_readers(args.quick)
    config = suite.Config(
        recordings=[] if args.videos else frames.default_recordings(args.quick, args.frames),
        videos=args.videos,
        ffmpeg=args.ffmpeg or codecs.default_ffmpeg(),
        readers=tuple(args.readers.split(",")) if args.readers else default,
        left_out={} if args.readers else left_out,
        random_frames=args.random_frames or (4 if args.quick else 6),
        cold_frames=1,
        sequential_frames=20 if args.quick else 100,
        seed=args.seed,
        timeout=args.timeout,
        out=args.out,
        quick_left_out=_video_left_out(args, config_left_out={} if args.readers else left_out),
    )
    # A Dask section is this run's or none: an earlier full run's, left in the same
    # folder, would otherwise be reported beside a quick run's figures.
    shutil.rmtree(args.out / "dask", ignore_errors=True)
    try:
        folder = suite.run(config)
        if not args.quick and not args.videos:
            # The full run also measures framereader on Dask against its peers
            # (benchmarks/dask_scaling.py); the report takes its section from there.
            from benchmarks import dask_scaling

            dask_scaling.run(folder / "dask")
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = video_report.write([folder])
    print(f"\nreport: {path}")
    return 0


def micro(args: argparse.Namespace) -> int:
    from benchmarks.micro import report, suite

    code = suite.run(args.out, full=args.full)
    if code not in (0, 1) or not (args.out / "benchmark.json").exists():  # 1: some test failed
        print(f"the benchmark run failed (pytest exit code {code})", file=sys.stderr)
        return code or 1
    path = report.write([args.out])
    print(path.read_text(encoding="utf-8"))
    print(f"report: {path}")
    return 0 if code == 0 else 1


def dataloader(args: argparse.Namespace) -> int:
    from benchmarks import datasets
    from benchmarks.dataloader import report, suite
    from benchmarks.jpeg import contenders
    from benchmarks.video import codecs, readers

    if importlib.util.find_spec("torch") is None:
        print(f"error: {contenders.TORCH_MISSING}", file=sys.stderr)
        return 2
    try:
        if args.images:
            photos = sorted(
                p for p in args.images.iterdir() if p.suffix.lower() in (".jpg", ".jpeg")
            )
            if not photos:
                raise ValueError(f"--images: no .jpg or .jpeg files in {args.images}")
        else:
            photos = suite.photo_files(datasets.embedded_photos(), args.out / "files")
        footage = (
            None
            if args.no_video
            else suite.footage_file(args.out / "files", args.ffmpeg or codecs.default_ffmpeg())
        )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = suite.Config(photos=photos, footage=footage, workers=args.workers,
                          rounds=args.rounds, seed=args.seed, out=args.out)  # fmt: skip
    for given, known, field in ((args.decoders, contenders.FACTORIES, "jpeg_decoders"),
                                (args.readers, readers.READERS, "video_readers")):  # fmt: skip
        if given:
            unknown = [n for n in given.split(",") if n not in known]
            if unknown:
                print(f"error: unknown: {', '.join(unknown)}; known: {', '.join(known)}",
                      file=sys.stderr)  # fmt: skip
                return 2
            setattr(config, field, tuple(given.split(",")))
    if args.quick:
        config.items, config.clips, config.rounds = 128, 32, min(args.rounds, 3)
        config.left_out = (f"{512 - 128} of 512 photos and {128 - 32} of 128 clips per epoch",
                           f"{5 - config.rounds} of 5 timed epochs per cell")  # fmt: skip
    path = report.write([suite.run(config)])
    print(f"\nreport: {path}")
    return 0


def _workers(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError("worker counts are integers from 0 up")
    return values


SUITES = ("jpeg", "video", "micro", "dataloader")


def suite_of(folder: Path) -> str:
    """The suite that wrote ``folder``, from its provenance.json; JPEG results from before
    the record named its suite are "jpeg"."""
    return json.loads((Path(folder) / "provenance.json").read_text()).get("suite", "jpeg")


def write_report(folders: list[Path], out: Path | None = None) -> Path:
    """The report of the suite that wrote ``folders``, by that suite's ``report.write``."""
    suites = sorted({suite_of(f) for f in folders})
    if len(suites) > 1:
        raise ValueError(f"the folders hold results of different suites ({', '.join(suites)})")
    if suites[0] not in SUITES:
        raise ValueError(f"unknown suite {suites[0]!r} in {folders[0]}/provenance.json")
    report = importlib.import_module(f"benchmarks.{suites[0]}.report")
    return report.write(folders, out)


def report_command(args: argparse.Namespace) -> int:
    try:
        path = write_report(args.folders, args.out)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(
            f"error: {exc}"
            if "results folder" in str(exc)
            else f"error: {exc.filename} is not a results folder (no provenance.json)",
            file=sys.stderr,
        )
        return 2
    print(f"report: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from benchmarks.jpeg import suite
    from benchmarks.video import frames

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n", 1)[1],
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("jpeg", help="the JPEG roundtrip suite and its report")
    run.add_argument(
        "--images", type=Path, help="a folder of your own photos (anything Pillow reads)"
    )
    run.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        help="comma-separated WIDTHxHEIGHT, each photo cut to 16:9 and resized to it; or "
        "'native' (the default): every photo as it is, compared by size in bins of its "
        "real pixel count",
    )
    run.add_argument(
        "--qualities",
        type=_qualities,
        default=suite.QUALITIES,
        help="comma-separated JPEG qualities (default: 80,95,99)",
    )
    run.add_argument("--contenders", help="comma-separated subset (default: all)")
    run.add_argument("--photos", type=int, help="use only the first N photos")
    run.add_argument("--rounds", type=int, help="timed rounds per cell (default 7; --quick 3)")
    run.add_argument(
        "--seed", type=int, default=0, help="seed of the measurement order (default 0)"
    )
    run.add_argument(
        "--threads", type=int, default=1, help="threads every library may use (default 1)"
    )
    run.add_argument(
        "--quick",
        action="store_true",
        help=f"every contender, {QUICK['photos']} photos, {QUICK['rounds']} rounds (a few minutes)",
    )
    run.add_argument("--out", type=Path, default=Path("results/jpeg"), help="output folder")
    run.set_defaults(func=jpeg)

    vid = commands.add_parser("video", help="the video suite and its report")
    vid.add_argument(
        "--videos", type=Path, help="a folder of your own videos (no burned-in code needed)"
    )
    vid.add_argument(
        "--ffmpeg",
        default=None,
        help="the ffmpeg executable that encodes (default: the bench environment's, our "
        "channel's GPL build; without that environment, the one on PATH)",
    )
    vid.add_argument("--readers", help="comma-separated subset (default: all installed)")
    vid.add_argument("--random-frames", type=int, help="warm random reads per reader and file")
    vid.add_argument(
        "--frames",
        type=_positive,
        help=f"frames per every recording (default: {frames.QUICK_FRAMES} at 480 wide, "
        f"{frames.full_frames(768)} of the footage, {frames.full_frames(960)} at 960 and "
        f"{frames.full_frames(1920)} at 1920)",
    )
    vid.add_argument(
        "--seed", type=int, default=0, help="seed of the random frame list (default 0)"
    )
    vid.add_argument("--timeout", type=float, default=300.0, help="seconds per reader and file")
    vid.add_argument(
        "--quick",
        action="store_true",
        help="colour at 480x270 and the footage, 40 frames, 4 reads, no PyTorch-based reader",
    )
    vid.add_argument("--out", type=Path, default=Path("results/video"), help="output folder")
    vid.set_defaults(func=video)

    mic = commands.add_parser(
        "micro", help="our wrapper vs its peers and tjbench (pytest-benchmark)"
    )
    mic.add_argument("--out", type=Path, default=Path("results/micro"), help="output folder")
    mic.add_argument("--full", action="store_true", help="pytest-benchmark's default timing")
    mic.set_defaults(func=micro)

    dl = commands.add_parser("dataloader", help="throughput through torch's DataLoader")
    dl.add_argument("--images", type=Path, help="a folder of your own JPEG files")
    dl.add_argument("--no-video", action="store_true", help="photos only")
    dl.add_argument("--decoders", help="comma-separated JPEG decoders (default: all)")
    dl.add_argument("--readers", help="comma-separated video readers (default: all)")
    dl.add_argument("--ffmpeg", help="the ffmpeg that encodes the footage (default: as video's)")
    dl.add_argument("--workers", type=_workers, default=(0, 1, 2),
                    help="comma-separated DataLoader worker counts (default 0,1,2)")  # fmt: skip
    dl.add_argument("--rounds", type=_positive, default=5, help="timed epochs per cell (default 5)")
    dl.add_argument("--seed", type=int, default=0, help="seed of the item order (default 0)")
    dl.add_argument(
        "--quick", action="store_true", help="128 photos and 32 clips per epoch, 3 rounds"
    )
    dl.add_argument("--out", type=Path, default=Path("results/dataloader"), help="output folder")
    dl.set_defaults(func=dataloader)

    rep = commands.add_parser("report", help="regenerate a report; several folders side by side")
    rep.add_argument("folders", nargs="+", type=Path)
    rep.add_argument("--out", type=Path, help="the Markdown file to write")
    rep.set_defaults(func=report_command)

    args = parser.parse_args(argv)
    with stop_on_sigterm():
        return args.func(args)


@contextlib.contextmanager
def stop_on_sigterm():
    """SIGTERM (``kill``, ``timeout``, a batch system's time limit) stops a suite the way
    Ctrl-C does: it writes what was measured so far and a report saying so. A run started
    in the background of a script cannot be stopped with SIGINT, which the shell has it
    ignore. Outside the main thread, where no handler can be set, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
