"""One small adapter per library: ``decode(jpeg_bytes) -> ndarray`` and
``encode(image, quality) -> bytes``.

Every adapter is asked for the same work: baseline JPEG, quality 95, 4:2:0
chroma subsampling, the accurate integer DCT, smooth ("fancy") chroma
upsampling, no Huffman optimisation, 8-bit three-channel pixels. Each one is
called the way a user of that library would call it, including the small
conversions that come with it (noted per adapter), and nothing more:

* turbojpeg (ours): ``decode(data)`` -> BGR; ``encode(bgr, q, subsampling="420")``.
* PyTurboJPEG: ``decode(data)`` -> BGR (TJPF_BGR is its default);
  ``encode(bgr, q, jpeg_subsample=TJSAMP_420)``; same libturbojpeg as ours.
* simplejpeg: ``decode_jpeg(data, colorspace="BGR")``;
  ``encode_jpeg(bgr, q, colorspace="BGR", colorsubsampling="420")``; its own
  statically linked libjpeg-turbo.
* OpenCV: ``imdecode(np.frombuffer(data), IMREAD_COLOR)`` -> BGR;
  ``imencode(".jpg", bgr, [IMWRITE_JPEG_QUALITY, q, IMWRITE_JPEG_SAMPLING_FACTOR, 4:2:0])``
  then ``.tobytes()`` so it returns bytes like the others. OpenCV goes
  through the libjpeg API of its bundled libjpeg-turbo.
* Pillow: natively RGB, so it is compared as RGB and never charged for a
  channel flip: ``np.asarray(Image.open(BytesIO(data)))`` -> RGB, and
  ``Image.fromarray(rgb).save(buf, "JPEG", quality=q, subsampling=2)`` from an
  RGB array prepared outside the timed call (``needs_rgb``). Colour
  conversion costs the same for RGB and BGR in libjpeg-turbo.

Library defaults stay as they are (ours keeps its ``max_pixels`` and
``scan_limit`` guards, PyTurboJPEG has none), since that is what users get.

``make`` gives each contender a first decode (of ``SAMPLE``, a tiny JPEG kept
here so that no other codec is loaded to make one) and records in
``extra["mapped"]`` the files of its JPEG codec that its process has mapped
(``Contender.codec_files``; ``benchmarks/loaded.py``). The suite makes every
contender in a process of its own (``runners``), so that list is the
contender's alone.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import io
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks import environments, loaded, peers

QUALITY = 95

# Ours: it encodes the bytes that every decoder decodes.
REFERENCE = "turbojpeg"
# Ours with jpegli's coding options (progressive, optimized Huffman tables): the
# encoder jpegli's bytes at equal SSIM are compared with on equal terms.
OURS_PROGRESSIVE = "turbojpeg-progressive"
# Decode contenders, in the order they appear in the reports.
DECODERS = ("turbojpeg", "pyturbojpeg", "simplejpeg", "opencv-wheel", "pillow")
ENCODERS = DECODERS
# Our own decode variants: name -> keyword arguments for Turbojpeg.decode.
OUR_DECODE_VARIANTS = {
    "turbojpeg-fast_dct": {"fast_dct": True},
    "turbojpeg-fast_upsample": {"fast_upsample": True},
    "turbojpeg-fast_dct+fast_upsample": {"fast_dct": True, "fast_upsample": True},
}


@dataclass
class Contender:
    name: str
    library: str  # what does the work, with its version
    decode: Callable[[bytes], np.ndarray]
    encode: Callable[[np.ndarray, int], bytes] | None  # None: a decode-only variant
    output: str = "BGR"  # channel order decode returns and encode expects
    notes: str = ""
    extra: dict = field(default_factory=dict)  # JSON-safe facts for extra_info
    handle: object = None  # the library object behind the adapter, if any
    # Also measured for bytes at equal SSIM (its encoder over a range of qualities).
    rate_distortion: bool = False
    # A batch call (a list of JPEGs in, a list of arrays out), where the library has
    # one; the DataLoader benchmark gives it a whole batch at once.
    decode_batch: Callable[[list[bytes]], list[np.ndarray]] | None = None
    # What the files that may hold its JPEG codec have in their names: ``make``
    # records the ones its process mapped (a libjpeg, a libturbojpeg, an extension
    # module with the codec linked in: they all say "jpeg"; OpenCV adds its own).
    codec_files: tuple[str, ...] = ("jpeg",)
    # False for a variant whose decode is another contender's, timed there already.
    decode_timed: bool = True

    @property
    def operations(self) -> tuple[str, ...]:
        timed = ("decode",) if self.decode_timed else ()
        return timed if self.encode is None else (*timed, "encode")

    @property
    def needs_rgb(self) -> bool:
        return self.output == "RGB"

    def info(self) -> dict:
        return {
            "contender": self.name,
            "library": self.library,
            "channels": self.output,
            "adapter": self.notes,
            **self.extra,
        }


# A 16x16 colour JPEG (4:2:0, quality 75, from our Turbojpeg), for each contender's
# first decode in ``make``: kept here, so that making it loads no codec.
SAMPLE = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIs"
    "IxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAARCAAQABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAA"
    "AAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAk"
    "M2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKT"
    "lJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QA"
    "HwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdh"
    "cRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hp"
    "anN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk"
    "5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDCbSv9mom0r/ZrvW0r/ZqJtK/2anhnMNtTfNuK9/eP/9k="
)


def threads(variable: str) -> int:
    """The size of a library's own thread pool: its own environment ``variable``,
    which the suite sets to ``--threads`` (suite.pin_threads) before it starts the
    contenders' processes, so each inherits it; 1 where it is not set."""
    return int(os.environ.get(variable) or 1)


def our_lib_path() -> str | None:
    """``$TURBOJPEG_LIB``, else the bench environment's libturbojpeg, else None to let
    turbojpeg search (benchmarks/environments.py)."""
    return environments.turbojpeg_library()


def _expect_turbo3(contender: str, lib_path: str, version: str) -> None:
    """The contender measures libjpeg-turbo 3.x at lib_path, and this process mapped
    that file (loaded.WrongLibrary otherwise: a run that found Debian's 2.x fails)."""
    if not str(version).startswith("3."):
        raise loaded.WrongLibrary(f"{contender} claims libjpeg-turbo 3.x, but {lib_path} is "
                                  f"libjpeg-turbo {version}")  # fmt: skip
    files = loaded.mapped("libturbojpeg")
    if files is not None and os.path.realpath(lib_path) not in map(os.path.realpath, files):
        raise loaded.WrongLibrary(f"{contender} claims {lib_path}, but this process mapped "
                                  f"{', '.join(files) or 'no libturbojpeg'}")  # fmt: skip


def ours(**decode_options) -> Contender:
    import turbojpeg

    try:
        tj = turbojpeg.Turbojpeg(our_lib_path())
    except turbojpeg.LibraryNotFoundError as exc:
        raise peers.PeerUnavailable(f"our libturbojpeg cannot be loaded: {exc}") from exc
    version = turbojpeg.version(tj.lib_path)
    _expect_turbo3("turbojpeg", tj.lib_path, version)

    decode = functools.partial(tj.decode, **decode_options) if decode_options else tj.decode

    def encode(image: np.ndarray, quality: int) -> bytes:
        return tj.encode(image, quality, subsampling="420")

    options = ", ".join(f"{k}={v}" for k, v in decode_options.items())
    return Contender(
        name="turbojpeg",
        library=f"turbojpeg {turbojpeg.__version__} on libjpeg-turbo {version} ({tj.lib_path})",
        decode=decode,
        encode=encode,
        notes=f"Turbojpeg.decode(data{', ' + options if options else ''}) -> BGR; "
        "Turbojpeg.encode(bgr, q, subsampling='420')",
        extra={"lib_path": tj.lib_path, "libjpeg_turbo": version},
        handle=tj,
        rate_distortion=not decode_options,
    )


def pyturbojpeg() -> Contender:
    tj_ours = ours()
    lib_path = tj_ours.extra["lib_path"]
    tj = peers.pyturbojpeg(lib_path)
    _expect_turbo3("pyturbojpeg", lib_path, tj_ours.extra["libjpeg_turbo"])
    module = peers.load_pyturbojpeg()

    def decode(data: bytes) -> np.ndarray:
        return tj.decode(data, pixel_format=module.TJPF_BGR)

    def encode(image: np.ndarray, quality: int) -> bytes:
        return tj.encode(
            image, quality, pixel_format=module.TJPF_BGR, jpeg_subsample=module.TJSAMP_420
        )

    return Contender(
        name="pyturbojpeg",
        library=f"PyTurboJPEG {module.__version__} on libjpeg-turbo "
        f"{tj_ours.extra['libjpeg_turbo']} ({lib_path})",
        decode=decode,
        encode=encode,
        notes="TurboJPEG.decode(data, TJPF_BGR) -> BGR; "
        "TurboJPEG.encode(bgr, q, TJPF_BGR, TJSAMP_420)",
        extra={"lib_path": lib_path},
    )


def simplejpeg() -> Contender:
    sj = peers.import_peer("simplejpeg")

    def decode(data: bytes) -> np.ndarray:
        return sj.decode_jpeg(data, colorspace="BGR")

    def encode(image: np.ndarray, quality: int) -> bytes:
        return sj.encode_jpeg(image, quality, colorspace="BGR", colorsubsampling="420")

    return Contender(
        name="simplejpeg",
        library=f"simplejpeg {sj.__version__} (bundled libjpeg-turbo)",
        decode=decode,
        encode=encode,
        notes="decode_jpeg(data, colorspace='BGR') -> BGR; "
        "encode_jpeg(bgr, q, colorspace='BGR', colorsubsampling='420'). Its encoder "
        "always uses the fast DCT: fastdct=False only omits a flag, and the TurboJPEG 2 "
        "call it makes then defaults to the fast DCT (its bytes equal ours with "
        "fast_dct=True)",
    )


TORCH_MISSING = (
    "PyTorch is not installed (the full run installs it: bash tools/run.sh main --full-run)"
)


def _torch_decoder(name: str, package: str, function: str, notes: str) -> Contender:
    """A decoder that takes a 1-D uint8 tensor of the JPEG's bytes and returns a CHW
    RGB tensor (``package``'s ``decode_jpeg``, at ``function``), seen as an HWC RGB
    array: the permute is a view, so nothing is copied or flipped."""
    if importlib.util.find_spec("torch") is None:
        raise peers.PeerUnavailable(TORCH_MISSING)
    before = _jpeg_libraries()
    import torch

    module, _, attribute = function.rpartition(".")
    decode_jpeg = getattr(peers.import_peer(module), attribute)
    version = peers.import_peer(package).__version__
    torch.set_num_threads(threads("OMP_NUM_THREADS"))

    def decode(data: bytes) -> np.ndarray:
        tensor = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        return decode_jpeg(tensor).permute(1, 2, 0).numpy()

    decode(SAMPLE)  # its JPEG library is loaded now, so the maps name it
    jpeg = sorted(_jpeg_libraries() - before)  # what this decoder brought in
    where = ", ".join(os.path.basename(f) for f in jpeg) or "no libjpeg of its own"
    return Contender(
        name=name,
        library=f"{package} {version} ({where}), torch {torch.__version__}",
        decode=decode,
        encode=None,
        output="RGB",
        notes=f"{function}(torch.frombuffer(bytearray(data), uint8)) -> CHW RGB, seen as HWC. "
        + notes,
        extra={"threads": torch.get_num_threads()},
    )


def _jpeg_libraries() -> set[str]:
    return {*(loaded.mapped("libjpeg") or []), *(loaded.mapped("turbojpeg") or [])}


def torchvision_jpeg() -> Contender:
    # Deprecated since torchvision 0.29 in favour of torchcodec's decoders, and still
    # what many training scripts call: measured, its warning silenced once.
    warnings.filterwarnings("ignore", category=DeprecationWarning,
                            message="The image decoding and encoding capabilities of TorchVision")  # fmt: skip
    # Importing torchvision imports Pillow: its libjpeg, mapped first, is then not
    # counted among the decoder's own (the process's whole list is in "mapped").
    peers.import_peer("PIL.Image")
    return _torch_decoder("torchvision", "torchvision", "torchvision.io.decode_jpeg",
                          "Importing torchvision also imports Pillow. Deprecated since "
                          "torchvision 0.29 (torchcodec's decoders replace it)")  # fmt: skip


def torchcodec_jpeg() -> Contender:
    return _torch_decoder("torchcodec-jpeg", "torchcodec", "torchcodec.decoders.decode_jpeg",
                          "New in torchcodec 0.17")  # fmt: skip


def ours_many() -> Contender:
    """Ours with ``decode_many``: a batch in one call, decoded on its thread pool."""
    contender = ours()
    contender.name = "turbojpeg-decode_many"
    tj = contender.handle
    contender.decode_batch = lambda batch: tj.decode_many(batch)
    contender.encode = None
    contender.rate_distortion = False
    contender.notes = "Turbojpeg.decode_many(list of JPEGs) -> BGR arrays, on its thread pool"
    return contender


def opencv(name: str = "opencv-wheel", environment: str | None = None) -> Contender:
    """OpenCV's imdecode/imencode. ``environment`` names the benchmark environment
    whose cv2 this must be (our channel's builds); None: the pip wheel. The suite
    runs the channel's in a process with that environment's site-packages first."""
    cv2 = peers.import_peer("cv2")
    where = os.path.realpath(cv2.__file__)
    extra = {"cv2": where, "jpeg": jpeg_build_line(cv2)}
    if environment is not None:
        env = environments.get(environment)
        if not where.startswith(str(env.site_packages) + os.sep):
            raise peers.PeerUnavailable(f"cv2 comes from {where}, not from the {environment} "
                                        f"environment ({env.site_packages})")  # fmt: skip
        package = env.packages().get("opencv", {})
        # its imgcodecs (which holds the JPEG codec) must be the environment's
        loaded.expect_under(name, "libopencv_imgcodecs", loaded.mapped("libopencv_imgcodecs"),
                            env.prefix)  # fmt: skip
        extra |= {"environment": str(env.prefix), "build": package.get("build")}
        origin = f"ours, {package.get('build')}"
    else:
        bench = environments.installed("bench")
        if bench is not None:  # the wheel bundles its OpenCV: nothing of ours may be mapped
            if where.startswith(str(bench.prefix) + os.sep):
                raise loaded.WrongLibrary(f"{name} claims the pip wheel, but cv2 is {where}")
            loaded.expect_outside(name, "libopencv", loaded.mapped("libopencv"), bench.prefix)
        origin = "pip wheel"
    cv2.setNumThreads(threads("OPENCV_FOR_THREADS_NUM"))
    extra["threads"] = cv2.getNumThreads()
    sampling = [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420]

    def decode(data: bytes) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)

    def encode(image: np.ndarray, quality: int) -> bytes:
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality, *sampling])
        if not ok:
            raise RuntimeError("cv2.imencode failed")
        return buf.tobytes()

    return Contender(
        name=name,
        library=f"opencv {cv2.__version__}, {origin} (JPEG: {extra['jpeg']})",
        decode=decode,
        encode=encode,
        notes="imdecode(np.frombuffer(data, uint8), IMREAD_COLOR) -> BGR; "
        "imencode('.jpg', bgr, [QUALITY, q, SAMPLING_FACTOR, 4:2:0]).tobytes()",
        extra=extra,
        # the wheel links its libjpeg-turbo into cv2's module; ours into imgcodecs
        codec_files=("jpeg", "libopencv_imgcodecs", "cv2"),
    )


def jpegli() -> Contender:
    """Google's jpegli through ajpegli, with jpegli's own defaults (progressive,
    optimized Huffman tables, adaptive quantization): what its users get."""
    ajpegli = peers.import_peer("ajpegli")

    def decode(data: bytes) -> np.ndarray:
        return ajpegli.decode(data)

    def encode(image: np.ndarray, quality: int) -> bytes:
        return ajpegli.encode(image, quality=quality, subsampling="420")

    return Contender(
        name="jpegli",
        library=f"ajpegli {ajpegli.__version__} (jpegli {ajpegli.jpegli_commit()[:12]})",
        decode=decode,
        encode=encode,
        output="RGB",
        notes="ajpegli.decode(data) -> RGB; ajpegli.encode(rgb, quality=q, subsampling='420') "
        "with jpegli's defaults (progressive, optimized, adaptive quantization)",
        rate_distortion=True,
    )


def pillow() -> Contender:
    pil = peers.import_peer("PIL")
    from PIL import Image, features

    def decode(data: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(data)))

    def encode(image: np.ndarray, quality: int) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, "JPEG", quality=quality, subsampling=2)
        return buf.getvalue()

    turbo = features.version("libjpeg_turbo") or "libjpeg " + str(features.version("jpg"))
    return Contender(
        name="pillow",
        library=f"Pillow {pil.__version__} (bundled libjpeg-turbo {turbo})",
        decode=decode,
        encode=encode,
        output="RGB",
        notes="np.asarray(Image.open(BytesIO(data))) -> RGB; "
        "Image.fromarray(rgb).save(buf, 'JPEG', quality=q, subsampling=2) from RGB",
    )


# The JPEG roundtrip suite's default set, in report order.
JPEG_SUITE = (
    "turbojpeg",
    *OUR_DECODE_VARIANTS,
    "turbojpeg-system-2.x",
    "pyturbojpeg",
    "simplejpeg",
    "opencv-turbo",
    "opencv-ijg",
    "opencv-wheel",
    "pillow",
    "jpegli",
    OURS_PROGRESSIVE,
    "jpeglib-9e",
    "jpeglib-turbo210",
    "torchvision",
    "torchcodec-jpeg",
)
# The DataLoader benchmark's JPEG decoders, in report order (ours first: the reference).
DATALOADER = (
    "turbojpeg",
    "turbojpeg-decode_many",
    "simplejpeg",
    "pyturbojpeg",
    "opencv-turbo",
    "opencv-wheel",
    "pillow",
    "torchcodec-jpeg",
    "torchvision",
)
# Contenders that need PyTorch, which only the full run installs (tools/run.sh main
# --full-run): elsewhere they are left out with TORCH_MISSING as the reason.
NEEDS_TORCH = ("torchvision", "torchcodec-jpeg")
# Contenders whose library lives in a benchmark environment (benchmarks/environments.py):
# the suite makes and times them in a process with that environment's site-packages first.
ENVIRONMENT = {"opencv-turbo": "bench", "opencv-ijg": "bench-ijg"}


def our_variant(name: str) -> Contender:
    """Ours in a fast mode. fast_dct applies to encoding too; fast_upsample is
    decode-only, so that variant has no encoder (it would repeat the default)."""
    options = OUR_DECODE_VARIANTS[name]
    contender = ours(**options)
    contender.name = name
    tj = contender.handle
    if options.get("fast_dct"):
        contender.encode = functools.partial(_encode_fast_dct, tj)
        contender.notes += "; encode with fast_dct=True"
    else:
        contender.encode = None
    return contender


def _encode_fast_dct(tj, image: np.ndarray, quality: int) -> bytes:
    return tj.encode(image, quality, subsampling="420", fast_dct=True)


def ours_progressive() -> Contender:
    """Ours encoding as jpegli does by default, progressive with optimized Huffman
    tables, for bytes at equal SSIM on equal terms. Only its encode is timed: it
    decodes with our default decoder, which ``turbojpeg`` times already."""
    contender = ours()
    contender.name = OURS_PROGRESSIVE
    contender.encode = functools.partial(_encode_progressive, contender.handle)
    contender.decode_timed = False
    contender.notes = ("Turbojpeg.encode(bgr, q, subsampling='420', progressive=True, "
                       "optimize=True); decode not timed (it is turbojpeg's)")  # fmt: skip
    return contender


def _encode_progressive(tj, image: np.ndarray, quality: int) -> bytes:
    return tj.encode(image, quality, subsampling="420", progressive=True, optimize=True)


SYSTEM_TJ2 = "/usr/lib/x86_64-linux-gnu/libturbojpeg.so.0"


def system_turbo2() -> Contender:
    """Debian's libjpeg-turbo 2.x through our TurboJPEG 2 backend: old turbo vs new."""
    import turbojpeg

    path = os.environ.get("TURBOJPEG_TJ2_LIB", SYSTEM_TJ2)
    if not os.path.exists(path):
        raise peers.PeerUnavailable(
            f"no system libturbojpeg at {path} (apt-get install libturbojpeg0)"
        )
    tj = turbojpeg.Turbojpeg(path)
    if tj.api_generation != 2:
        raise peers.PeerUnavailable(f"{path} offers the TurboJPEG {tj.api_generation} API, not 2.x")
    version = turbojpeg.version(path)

    def encode(image: np.ndarray, quality: int) -> bytes:
        return tj.encode(image, quality, subsampling="420")

    return Contender(
        name=f"turbojpeg-{version}",
        library=f"turbojpeg {turbojpeg.__version__} on the system's libjpeg-turbo {version} ({path})",
        decode=tj.decode,
        encode=encode,
        notes="our Turbojpeg on the TurboJPEG 2 API; same calls as 'turbojpeg'",
        extra={"lib_path": path, "libjpeg_turbo": version},
        handle=tj,
    )


def jpeglib_contender(version: str) -> Contender:
    """libjpeg ``version`` inside the jpeglib package, which bundles IJG libjpeg 6b-9f
    and several libjpeg-turbo releases behind one wrapper: a same-wrapper comparison.

    jpeglib reads and writes files, so each call goes through a file in /dev/shm
    (memory); that overhead is the same for every version it bundles.
    """
    jpeglib = peers.import_peer("jpeglib")
    if version not in jpeglib.version.versions():
        raise peers.PeerUnavailable(
            f"jpeglib {jpeglib.__version__} does not bundle libjpeg {version}"
        )
    scratch = Path("/dev/shm" if Path("/dev/shm").is_dir() else tempfile.gettempdir())
    path = str(scratch / f"jpeglib-{version}-{os.getpid()}.jpg")

    def decode(data: bytes) -> np.ndarray:
        with open(path, "wb") as f:
            f.write(data)
        with jpeglib.version(version):
            return jpeglib.read_spatial(path).spatial

    def encode(image: np.ndarray, quality: int) -> bytes:
        with jpeglib.version(version):
            jpeglib.from_spatial(image).write_spatial(path, qt=quality)
        with open(path, "rb") as f:
            return f.read()

    label = f"libjpeg {version}" if version[0].isdigit() else f"libjpeg-{version}"
    return Contender(
        name=f"jpeglib-{version}",
        library=f"jpeglib {jpeglib.__version__} with {label}",
        decode=decode,
        encode=encode,
        output="RGB",
        notes="read_spatial(file).spatial -> RGB; from_spatial(rgb).write_spatial(file, qt=q) "
        "(libjpeg's default 4:2:0); through a file in memory",
    )


# Each factory is a module-level function (or a partial of one), so that it pickles by
# name: the suite hands it to the process that makes the contender (runners.start).
FACTORIES: dict[str, Callable[[], Contender]] = {
    "turbojpeg": ours,
    "pyturbojpeg": pyturbojpeg,
    "simplejpeg": simplejpeg,
    "opencv-wheel": opencv,
    # Our channel's two builds, each from its benchmark environment (see ENVIRONMENT).
    "opencv-turbo": functools.partial(opencv, "opencv-turbo", "bench"),
    "opencv-ijg": functools.partial(opencv, "opencv-ijg", "bench-ijg"),
    "jpegli": jpegli,
    "pillow": pillow,
    "turbojpeg-system-2.x": system_turbo2,
    "jpeglib-9e": functools.partial(jpeglib_contender, "9e"),
    "jpeglib-turbo210": functools.partial(jpeglib_contender, "turbo210"),
    "torchvision": torchvision_jpeg,
    "torchcodec-jpeg": torchcodec_jpeg,
    "turbojpeg-decode_many": ours_many,
    OURS_PROGRESSIVE: ours_progressive,
    **{name: functools.partial(our_variant, name) for name in OUR_DECODE_VARIANTS},
}


def make(name: str, factory: Callable[[], Contender] | None = None) -> Contender:
    """The named contender, made by ``factory`` (else its entry in FACTORIES), after a
    first decode of SAMPLE, with the files of its JPEG codec that this process has
    mapped in ``extra["mapped"]`` (None where there are no maps to read);
    PeerUnavailable if it can't run."""
    contender = (factory or FACTORIES[name])()
    contender.decode(SAMPLE)  # a codec loaded on first use is mapped now
    contender.extra["mapped"] = loaded.mapped(contender.codec_files)
    return contender


def jpeg_build_line(cv2) -> str:
    """The ``JPEG:`` line of ``cv2.getBuildInformation()``, e.g. 'build-libjpeg-turbo (ver 3.1.2-70)'."""
    for line in cv2.getBuildInformation().splitlines():
        key, _, value = line.strip().partition(":")
        if key == "JPEG":
            return value.strip()
    return "JPEG line not found in cv2.getBuildInformation()"
