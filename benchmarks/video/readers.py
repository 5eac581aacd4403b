"""One adapter per video reader, all with the same methods, and a frame checker.

    reader = make_reader("opencv-wheel")    # the class; READERS lists them all
    with reader.open("video.mkv") as handle:
        image = handle.read(17)             # BGR uint8 (h, w, 3)

Every reader gives BGR; ``open(path, pixel_format="RGB")`` asks one that lists RGB in
its ``pixel_formats`` for the RGB its library decodes to, with no conversion of ours.

A handle's ``read(i)`` raises ``IndexError`` for an index the library can
tell is out of range (negative indices included: they are not counted from
the end) and any exception for a failure; what a library silently returns
for an index past the end is passed through, for the suite to count as wrong.
``sequential()`` yields every frame in order from a fresh open, and
``frame_count()`` is what the library or the file's header claims.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import operator
import os
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple, Self

import numpy as np

DECORD_MISSING = (
    "decord is not installed (pip install decord: PyPI has one build, 0.6.0 of June 2021 "
    "bundling FFmpeg 4.1, as a py3-none manylinux2010_x86_64 wheel; none for macOS arm64 "
    "or Linux aarch64)"
)
TORCHCODEC_MISSING = (
    "torchcodec is not installed (pip install torch torchcodec: it needs PyTorch, "
    "which its wheel does not declare as a dependency)"
)
# Why quick runs leave a reader out: the same library measured again in another setting.
THREAD_TYPES_FULL_RUN = ("our OpenCV on every core, one thread type: the full run measures it; "
                         "quick runs time our OpenCV on one thread (opencv-1thread)")  # fmt: skip
WHEELS_FULL_RUN = ("a reader again on PyAV's wheel and its FFmpeg: the full run measures it; "
                   "quick runs time the same recipe on our channel's PyAV and FFmpeg")  # fmt: skip


class ReaderUnavailable(RuntimeError):
    """The reader's library is not installed here."""


def _missing(module: str, message: str) -> str | None:
    return None if importlib.util.find_spec(module) else message


def _in_range(i: int, count: int | None) -> int:
    """``i`` as an int; IndexError when negative, or at or past ``count`` (if known)."""
    i = operator.index(i)
    if i < 0 or (count is not None and i >= count):
        upper = "?" if count is None else count - 1
        raise IndexError(f"frame {i} is out of range 0..{upper}")
    return i


class Reader:
    """An adapter: ``open(path)`` returns a handle, an instance of the adapter.

    It describes itself, so the suite needs no word about any one reader: what it
    cannot run without (``unavailable``), what input it takes (``accepts``), what a
    cold open must forget (``forget``), what a handle reports besides frames
    (``stats``), and the process it needs: the benchmark environment whose Python
    packages it imports (``environment``) and the variables set before that
    process starts (``process_environment``).
    """

    name = ""
    description = ""
    environment: str | None = None  # a role in benchmarks/environments.py, or None: the suite's
    # Whose FFmpeg the reader claims to measure: "bench" (our FFmpeg, in the bench
    # environment), "own" (the copy its wheel bundles: never ours), or None (no claim,
    # or no FFmpeg at all). check_loaded holds it to that.
    ffmpeg: str | None = None
    # Why quick runs leave it out (a heavy import per cell, say), or None: it runs in both.
    quick_run: str | None = None
    # Why default runs, quick and full, leave it out (a variant for one comparison), or
    # None; naming it (--readers) still runs it.
    only_by_name: str | None = None
    # What ``open`` can ask reads to return: BGR (every reader), and any format its
    # library decodes to itself, so that the adapter converts nothing.
    pixel_formats: tuple[str, ...] = ("BGR",)
    pixel_format = "BGR"  # what this handle's reads return, set by ``open``

    # The modules its handles use, imported by ``prepare``.
    modules: tuple[str, ...] = ()

    @classmethod
    def process_environment(cls) -> dict[str, str]:
        """Environment variables the reader's process must start with (e.g. a library path)."""
        return {}

    @classmethod
    def prepare(cls) -> None:
        """Import the reader's library and load what it loads, before any clock starts, so
        that no timed open pays for an import (the suite calls it once per process)."""
        for module in cls.modules:
            importlib.import_module(module)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)

    @staticmethod
    def unavailable() -> str | None:
        """Why the reader cannot run here, or None."""
        return None

    @staticmethod
    def accepts(path: str | os.PathLike[str]) -> bool:
        """Whether this reader reads ``path``: a video file, unless the reader says otherwise."""
        return Path(path).is_file()

    @staticmethod
    def forget(path: str | os.PathLike[str]) -> None:
        """Drop whatever this reader keeps between opens of ``path``, so the next open is cold."""

    def stats(self) -> dict[str, float]:
        """What this handle measured about itself beyond its reads, by name (JSON-safe)."""
        return {}

    @classmethod
    def open(cls, path: str | os.PathLike[str], pixel_format: str = "BGR") -> Self:
        """A handle whose reads return ``pixel_format`` frames, one of ``pixel_formats``
        (an adapter that lists more than BGR takes it as a keyword)."""
        if pixel_format not in cls.pixel_formats:
            raise ValueError(
                f"{cls.name} reads {' or '.join(cls.pixel_formats)} frames, not {pixel_format!r}"
            )
        return cls(path) if pixel_format == "BGR" else cls(path, pixel_format=pixel_format)

    def read(self, i: int) -> np.ndarray:
        raise NotImplementedError

    def read_many(self, indices: list[int]) -> np.ndarray:
        """The frames at ``indices``, stacked (N, height, width, 3), in the handle's pixel
        format: the reader's own batch call where it has one, else one ``read`` after another."""
        return np.stack([self.read(i) for i in indices])

    def sequential(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def frame_count(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def check_loaded(name: str, files: list[str] | None) -> None:
    """Fail (loaded.WrongLibrary) when reader ``name``'s process mapped another
    libavcodec than the one it claims (``Reader.ffmpeg``); ``files`` is what its
    process mapped, None where that could not be read."""
    from benchmarks import environments, loaded

    claim = READERS[name].ffmpeg
    if claim is None:
        return
    bench = environments.installed("bench")
    if bench is None:
        return  # no FFmpeg of ours here to mistake for another
    if claim == "bench":
        loaded.expect_under(name, "libavcodec", files, bench.prefix)
    else:
        loaded.expect_outside(name, "libavcodec", files, bench.prefix)


class OpenCVReader(Reader):
    name = "opencv-wheel"
    modules = ("cv2",)
    ffmpeg = "own"
    description = ("the pip wheel's cv2.VideoCapture (its own FFmpeg), one thread: "
                   "set CAP_PROP_POS_FRAMES, then read()")  # fmt: skip
    threads = 1  # OpenCV's and its FFmpeg decoder's
    thread_type: str | None = None  # OPENCV_FFMPEG_THREAD_TYPE, our channel's patch

    @staticmethod
    def unavailable() -> str | None:
        return _missing("cv2", "OpenCV is not installed (pip install opencv-python-headless)")

    def __init__(self, path):
        super().__init__(path)
        self._cap = self._capture()

    def stats(self):
        import cv2

        if self.thread_type is None:
            return {}
        # What FFmpeg really does: 1 frame threading, 2 slice, 0 none (our patch's property).
        return {"active_thread_type": self._cap.get(cv2.CAP_PROP_THREAD_TYPE)}

    def _capture(self):
        import cv2

        if self.thread_type is not None:  # read by our OpenCV at every open
            os.environ["OPENCV_FFMPEG_THREAD_TYPE"] = self.thread_type
        cv2.setNumThreads(self.threads)
        # setNumThreads leaves FFmpeg's decoder threads at the core count: pin them too
        cap = cv2.VideoCapture(self.path, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, self.threads])
        if not cap.isOpened():
            raise OSError(f"OpenCV cannot open {self.path}")
        return cap

    def frame_count(self) -> int:
        import cv2

        return int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))

    def read(self, i):
        import cv2

        count = self.frame_count()
        i = _in_range(i, count if count > 0 else None)
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, i)  # OpenCV seeks, then decodes up to frame i
        ok, image = self._cap.read()
        if not ok:
            raise RuntimeError(f"OpenCV returned no frame {i} from {self.path}")
        return image

    def sequential(self):
        cap = self._capture()
        try:
            while True:
                ok, image = cap.read()
                if not ok:
                    return
                yield image
        finally:
            cap.release()

    def close(self):
        self._cap.release()


def channel_package_unavailable(role: str, module: str) -> str | None:
    """Why the benchmark environment ``role`` has no ``module`` to import, or None."""
    from benchmarks import environments

    try:
        env = environments.get(role)
    except environments.EnvironmentUnavailable as exc:
        return str(exc)
    if not (env.site_packages / module).is_dir():
        return f"no {module} in the {role} environment ({env.site_packages})"
    return None


def _channel_opencv_unavailable(role: str) -> str | None:
    return channel_package_unavailable(role, "cv2")


class OpenCVFrameThreads(OpenCVReader):
    """Our channel's OpenCV, in the bench environment, on our FFmpeg; the decoder's
    thread type set through our patch (OPENCV_FFMPEG_THREAD_TYPE)."""

    name = "opencv-frame"
    ffmpeg = "bench"
    description = ("our OpenCV (bench environment, our FFmpeg), every core, frame "
                   "threading: set CAP_PROP_POS_FRAMES, then read()")  # fmt: skip
    environment = "bench"
    threads = os.cpu_count() or 1
    thread_type = "frame"
    quick_run = THREAD_TYPES_FULL_RUN

    @staticmethod
    def unavailable() -> str | None:
        return _channel_opencv_unavailable("bench")


class OpenCVSliceThreads(OpenCVFrameThreads):
    name = "opencv-slice"
    description = ("our OpenCV (bench environment, our FFmpeg), every core, slice "
                   "threading: set CAP_PROP_POS_FRAMES, then read()")  # fmt: skip
    thread_type = "slice"


class OpenCVOneThread(OpenCVFrameThreads):
    name = "opencv-1thread"
    description = ("our OpenCV (bench environment, our FFmpeg), one decoding thread: "
                   "set CAP_PROP_POS_FRAMES, then read()")  # fmt: skip
    quick_run = None  # our OpenCV on one thread, as every other reader: in both runs
    threads = 1
    thread_type = "frame"  # with one thread FFmpeg threads nothing (active type 0)


class PyAVNaiveReader(Reader):
    name = "pyav-naive"
    modules = ("av",)
    ffmpeg = "bench"
    description = (
        "our PyAV on our FFmpeg (bench environment), the usual recipe: seek to "
        "int(i / average_rate / time_base), return the first frame with pts at or after it"
    )
    environment = "bench"

    @staticmethod
    def unavailable() -> str | None:
        return channel_package_unavailable("bench", "av")

    def __init__(self, path):
        import av

        super().__init__(path)
        self._container = av.open(self.path)
        self._stream = self._container.streams.video[0]

    def frame_count(self) -> int:
        """The header's frame count, else duration times average frame rate."""
        stream = self._stream
        if stream.frames:
            return stream.frames
        if stream.duration is not None:
            seconds = stream.duration * stream.time_base
        else:
            seconds = Fraction(self._container.duration or 0, 1_000_000)
        return round(seconds * (stream.average_rate or 0))

    def read(self, i):
        count = self.frame_count()
        i = _in_range(i, count or None)
        stream = self._stream
        ts = int(i / stream.average_rate / stream.time_base)  # no start offset: the naive part
        self._container.seek(ts, stream=stream)
        for packet in self._container.demux(stream):
            for frame in packet.decode():
                if frame.pts is not None and frame.pts >= ts:
                    return frame.to_ndarray(format="bgr24")
        raise IndexError(f"no frame at or after pts {ts} (frame {i}) in {self.path}")

    def sequential(self):
        import av

        with av.open(self.path) as container:
            for frame in container.decode(container.streams.video[0]):
                yield frame.to_ndarray(format="bgr24")

    def close(self):
        self._container.close()


class PyAVWheelReader(PyAVNaiveReader):
    """The same recipe on PyAV's wheel, whose FFmpeg is its own: ours against theirs."""

    name = "pyav-wheel"
    ffmpeg = "own"
    description = "PyAV's wheel and the FFmpeg it bundles, the same recipe as pyav-naive"
    environment = None
    quick_run = WHEELS_FULL_RUN

    @staticmethod
    def unavailable() -> str | None:
        return _missing("av", "PyAV is not installed (pip install av)")


class IndexedVideoReader(Reader):
    """This project's ``framereader.VideoReader``, on one decoder thread as torchcodec's:
    the channel's accelerated-codecs package, on our PyAV and FFmpeg."""

    name = "indexed"
    # turbojpeg: framereader imports it when a file holds MJPEG, which it decodes with it
    modules = ("av", "framereader", "turbojpeg")
    ffmpeg = "bench"
    description = (
        "ours, framereader.VideoReader(path, threads=1) from the bench environment (our "
        "PyAV and FFmpeg): a packet index cached beside the video, pread + decode for "
        "intra-only streams, else seek to the keyframe and decode to the exact pts, skipping "
        "non-reference frames on the way, or decode on from one of up to three decoders "
        "parked where their last reads ended"
    )
    environment = "bench"
    threads = 1  # the same as the torchcodec adapter's num_ffmpeg_threads
    thread_type = "auto"
    decoders: int | None = None  # None: framereader's default, its pool of parked decoders
    pixel_formats = ("BGR", "RGB")

    @classmethod
    def prepare(cls) -> None:
        """Its modules, and libturbojpeg, which framereader loads for MJPEG files (torchcodec
        loads its libraries on import); where it does not load, framereader decodes MJPEG
        with FFmpeg, and so does this reader."""
        super().prepare()
        from turbojpeg import LibraryNotFoundError, Turbojpeg

        with contextlib.suppress(LibraryNotFoundError, OSError):
            Turbojpeg()

    @staticmethod
    def unavailable() -> str | None:
        return channel_package_unavailable("bench", "av") or channel_package_unavailable(
            "bench", "framereader"
        )

    def __init__(self, path, pixel_format="BGR"):
        from framereader import VideoReader

        super().__init__(path)
        self.pixel_format = pixel_format
        # loads the cached index, or scans the video and caches it
        self.reader = VideoReader(self.path, **self._options())

    def _options(self) -> dict:
        """framereader's options: this adapter's whole construction of it."""
        chosen = {"decoders": self.decoders} if self.decoders is not None else {}
        return {"threads": self.threads, "thread_type": self.thread_type,
                "pixel_format": self.pixel_format, **chosen}  # fmt: skip

    @staticmethod
    def forget(path):
        from framereader import remove_cached_index

        remove_cached_index(path)

    def stats(self):
        return {"index_seconds": self.reader.index_seconds}

    def frame_count(self) -> int:
        return len(self.reader)

    def read(self, i):
        return self.reader[_in_range(i, len(self.reader))]  # -1 is refused, not the last frame

    def read_many(self, indices):
        return self.reader.get_batch([_in_range(i, len(self.reader)) for i in indices])

    def sequential(self):
        from framereader import VideoReader

        index = self.reader.index
        with VideoReader(self.path, index=index, **self._options()) as fresh:
            yield from fresh

    def close(self):
        self.reader.close()


class IndexedWheelReader(IndexedVideoReader):
    """framereader from this checkout on PyAV's wheel: the same reader on their FFmpeg."""

    name = "indexed-pyav-wheel"
    ffmpeg = "own"
    description = ("ours, framereader.VideoReader(path, threads=1) from this checkout on PyAV's "
                   "wheel and the FFmpeg it bundles")  # fmt: skip
    environment = None
    quick_run = WHEELS_FULL_RUN

    @staticmethod
    def unavailable() -> str | None:
        return _missing("av", "PyAV is not installed (pip install av)")


ONE_DECODER = ("a variant for one comparison, framereader's pool of parked decoders "
               "against one decoder, which the micro suite makes (test_framereader.py)")  # fmt: skip


class IndexedOneDecoder(IndexedVideoReader):
    """``indexed`` with one decoder, no parked ones: what the pool adds is the difference."""

    name = "indexed-1-decoder"
    description = ("ours, framereader.VideoReader(path, threads=1, decoders=1) from the bench "
                   "environment (our PyAV and FFmpeg): as indexed, but with one decoder, which a "
                   "read decodes on from where the last ended or seeks")  # fmt: skip
    decoders = 1
    only_by_name = ONE_DECODER


class IndexedWheelOneDecoder(IndexedWheelReader):
    name = "indexed-1-decoder-pyav-wheel"
    description = ("ours, framereader.VideoReader(path, threads=1, decoders=1) from this "
                   "checkout on PyAV's wheel and the FFmpeg it bundles")  # fmt: skip
    decoders = 1
    only_by_name = ONE_DECODER


class DecordReader(Reader):
    name = "decord"
    modules = ("decord",)
    ffmpeg = "own"
    description = ("decord.VideoReader(path, num_threads=1)[i].asnumpy(), RGB to BGR: one "
                   "decoder thread, as every reader (its default is one per core)")  # fmt: skip

    @staticmethod
    def unavailable() -> str | None:
        return _missing("decord", DECORD_MISSING)

    def __init__(self, path):
        import decord

        super().__init__(path)
        self._video = decord.VideoReader(self.path, ctx=decord.cpu(0), num_threads=1)

    def frame_count(self) -> int:
        return len(self._video)

    def read(self, i):
        i = _in_range(i, len(self._video))
        return np.ascontiguousarray(self._video[i].asnumpy()[:, :, ::-1])

    def read_many(self, indices):
        wanted = [_in_range(i, len(self._video)) for i in indices]
        return np.ascontiguousarray(self._video.get_batch(wanted).asnumpy()[..., ::-1])

    def sequential(self):
        import decord

        video = decord.VideoReader(self.path, ctx=decord.cpu(0), num_threads=1)
        while True:
            try:
                frame = video.next()
            except StopIteration:
                return
            yield np.ascontiguousarray(frame.asnumpy()[:, :, ::-1])


class TorchCodecReader(Reader):
    name = "torchcodec"
    modules = ("torchcodec.decoders",)
    ffmpeg = "bench"
    description = ("torchcodec VideoDecoder(path, seek_mode='exact', num_ffmpeg_threads=1)[i], "
                   "RGB to BGR; on our FFmpeg when the bench environment is there")  # fmt: skip
    seek_mode = "exact"
    quick_run = "left out of quick runs: it needs PyTorch, which only the full run installs"
    pixel_formats = ("BGR", "RGB")  # RGB: torchcodec's own frames, not flipped

    @staticmethod
    def unavailable() -> str | None:
        return _missing("torchcodec", TORCHCODEC_MISSING)

    @classmethod
    def process_environment(cls) -> dict[str, str]:
        """Our FFmpeg's libraries first, when the bench environment has them: torchcodec
        loads whichever FFmpeg the dynamic loader finds, so this is set at process start."""
        from benchmarks import environments

        bench = environments.installed("bench")
        lib = bench.prefix / "lib" if bench else None
        if lib is None or not list(lib.glob("libavcodec.so.*")):
            return {}
        return {"LD_LIBRARY_PATH": os.pathsep.join(
            p for p in (str(lib), os.environ.get("LD_LIBRARY_PATH")) if p)}  # fmt: skip

    def __init__(self, path, pixel_format="BGR"):
        super().__init__(path)
        self.pixel_format = pixel_format
        self._frames = self._decoder()

    def _out(self, frames: np.ndarray) -> np.ndarray:
        """torchcodec's RGB frames as asked: as they are, or flipped to BGR (a copy)."""
        return frames if self.pixel_format == "RGB" else np.ascontiguousarray(frames[..., ::-1])

    def _decoder(self):
        from torchcodec.decoders import VideoDecoder

        # NHWC: the HWC RGB frames FFmpeg decodes, without the CHW permute
        return VideoDecoder(self.path, dimension_order="NHWC", seek_mode=self.seek_mode,
                            num_ffmpeg_threads=1)  # fmt: skip

    def frame_count(self) -> int:
        return len(self._frames)

    def read(self, i):
        i = _in_range(i, len(self._frames))  # torchcodec itself counts -1 from the end
        return self._out(self._frames[i].numpy())

    def read_many(self, indices):
        wanted = [_in_range(i, len(self._frames)) for i in indices]
        return self._out(self._frames.get_frames_at(wanted).data.numpy())

    def sequential(self):
        frames = self._decoder()
        for i in range(len(frames)):
            yield self._out(frames[i].numpy())


class TorchCodecApproximateReader(TorchCodecReader):
    name = "torchcodec-approximate"
    description = ("torchcodec VideoDecoder(path, seek_mode='approximate', "
                   "num_ffmpeg_threads=1)[i], RGB to BGR: no scan, frame numbers from "
                   "the header's rate")  # fmt: skip
    seek_mode = "approximate"


class VideoReaderRs(Reader):
    name = "video-reader-rs"
    description = "video_reader.PyVideoReader(path, threads=1)[i] (Rust over FFmpeg), RGB to BGR"

    @staticmethod
    def unavailable() -> str | None:
        return _missing(
            "video_reader", "video-reader-rs is not installed (pip install video-reader-rs)"
        )

    @classmethod
    def prepare(cls) -> None:
        cls._load()

    @staticmethod
    def _load():
        import ctypes
        import importlib.metadata

        # Its 0.4.5 wheel ships libsharpyuv but gives libwebp no rpath to find it:
        # load it first from the wheel's own library folder.
        files = importlib.metadata.files("video-reader-rs") or []
        for file in files:
            if file.name.startswith("libsharpyuv"):
                ctypes.CDLL(str(file.locate()), mode=ctypes.RTLD_GLOBAL)
        from video_reader import PyVideoReader

        return PyVideoReader

    def __init__(self, path):
        super().__init__(path)
        self._video = self._load()(self.path, threads=1)
        self._count = len(self._video)

    def frame_count(self) -> int:
        return self._count

    def read(self, i):
        i = _in_range(i, self._count)
        return np.ascontiguousarray(np.asarray(self._video[i])[:, :, ::-1])

    def read_many(self, indices):
        wanted = [_in_range(i, self._count) for i in indices]
        return np.ascontiguousarray(np.asarray(self._video.get_batch(wanted))[..., ::-1])

    def sequential(self):
        video = self._load()(self.path, threads=1)
        for frame in video:
            yield np.ascontiguousarray(np.asarray(frame)[:, :, ::-1])


class ExplodedJpegReader(Reader):
    name = "exploded-jpeg"
    modules = ("turbojpeg",)
    description = "a directory of frame_{i:06d}.jpg files, decoded by our turbojpeg"

    @staticmethod
    def unavailable() -> str | None:
        from turbojpeg import LibraryNotFoundError, load_library

        try:
            load_library()
        except LibraryNotFoundError as exc:
            return f"libturbojpeg not found: {exc}"
        return None

    @staticmethod
    def accepts(path):
        return Path(path).is_dir()

    def __init__(self, path):
        from turbojpeg import Turbojpeg

        super().__init__(path)
        self._dir = Path(self.path)
        if not self._dir.is_dir():
            raise NotADirectoryError(f"{self.path} is not a directory of frame_NNNNNN.jpg files")
        self._count = sum(1 for _ in self._dir.glob("frame_*.jpg"))
        self._jpeg = Turbojpeg()

    def frame_count(self) -> int:
        return self._count

    def read(self, i):
        i = _in_range(i, self._count)
        data = (self._dir / f"frame_{i:06d}.jpg").read_bytes()
        return self._jpeg.decode(data, pixel_format="BGR")

    def sequential(self):
        for i in range(self._count):
            yield self.read(i)


READERS: dict[str, type[Reader]] = {
    cls.name: cls
    for cls in (
        IndexedVideoReader,
        OpenCVReader,
        OpenCVFrameThreads,
        OpenCVSliceThreads,
        OpenCVOneThread,
        PyAVNaiveReader,
        PyAVWheelReader,
        IndexedWheelReader,
        IndexedOneDecoder,
        IndexedWheelOneDecoder,
        DecordReader,
        TorchCodecReader,
        TorchCodecApproximateReader,
        VideoReaderRs,
        ExplodedJpegReader,
    )
}


# The DataLoader benchmark's video readers, in report order (ours first: the reference).
DATALOADER = ("indexed", "torchcodec", "decord", "video-reader-rs")


def default_readers(quick: bool) -> tuple[tuple[str, ...], dict[str, str]]:
    """The readers a default run measures, and the ones it leaves out, with why: those
    run only by name (``only_by_name``) and, in a quick run, the ``quick_run`` ones."""
    left_out = {n: r.only_by_name or r.quick_run for n, r in READERS.items()
                if r.only_by_name or (quick and r.quick_run)}  # fmt: skip
    return tuple(n for n in READERS if n not in left_out), left_out


def framereader_in_this_process() -> tuple[str, str]:
    """framereader's adapters, as it comes and with one decoder, for a suite that reads
    in its own process (the micro suite): the bench environment's when this process
    imports that environment's PyAV (tools/run.sh bench puts its site-packages on
    PYTHONPATH), else those on PyAV's wheel; so the FFmpeg each claims is the one read."""
    from benchmarks import environments

    bench = environments.installed("bench")
    spec = importlib.util.find_spec("av")
    origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
    if (
        bench is not None
        and origin is not None
        and origin.is_relative_to(bench.site_packages.resolve())
    ):
        return IndexedVideoReader.name, IndexedOneDecoder.name
    return IndexedWheelReader.name, IndexedWheelOneDecoder.name


def make_reader(name: str) -> type[Reader]:
    """The adapter called ``name``; ReaderUnavailable when its library is missing."""
    try:
        reader = READERS[name]
    except KeyError:
        raise KeyError(f"no reader {name!r}; known: {', '.join(READERS)}") from None
    why = reader.unavailable()
    if why is not None:
        raise ReaderUnavailable(why)
    return reader


# -- checking frames against a ground truth ----------------------------------------


def frame_hash(image: np.ndarray) -> str:
    """A digest of the pixels and the shape: equal hashes, identical frames."""
    digest = hashlib.blake2b(repr((image.shape, image.dtype.str)).encode(), digest_size=16)
    digest.update(np.ascontiguousarray(image).data)
    return digest.hexdigest()


def frame_hashes(images: Iterable[np.ndarray]) -> list[str]:
    return [frame_hash(image) for image in images]


def sequential_hashes(path: str | os.PathLike[str]) -> list[str]:
    """The ground truth: hashes of a full sequential PyAV decode, as BGR."""
    return frame_hashes(PyAVNaiveReader(path).sequential())


class Mismatch(NamedTuple):
    index: int  # the frame asked for
    matched: int  # the ground-truth index of the frame that came back; -1: none, or an error
    error: str | None = None  # what read() raised, if it raised


def check_frames(
    handle: Reader, ground_truth_hashes: Sequence[str], indices: Iterable[int]
) -> list[Mismatch]:
    """Read each index and compare with the ground truth; one Mismatch per wrong frame.

    A frame counts as right when its hash is the one at its index, so identical
    frames elsewhere in the video (a static scene) do not make it wrong;
    ``matched`` names the first index that has the hash that came back.
    """
    first_at: dict[str, int] = {}
    for k, digest in enumerate(ground_truth_hashes):
        first_at.setdefault(digest, k)
    mismatches = []
    for i in indices:
        if not 0 <= i < len(ground_truth_hashes):
            raise ValueError(
                f"index {i} is outside the ground truth (0..{len(ground_truth_hashes) - 1})"
            )
        try:
            digest = frame_hash(handle.read(i))
        except Exception as exc:  # noqa: BLE001 - a failed read is a wrong frame, recorded
            mismatches.append(Mismatch(i, -1, f"{type(exc).__name__}: {exc}"))
            continue
        if digest != ground_truth_hashes[i]:
            mismatches.append(Mismatch(i, first_at.get(digest, -1)))
    return mismatches
