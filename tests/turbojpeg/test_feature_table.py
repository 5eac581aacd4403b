"""The README's table of features against PyTurboJPEG, simplejpeg, imagecodecs and
Pillow: every cell is checked here.

The table is read from README.md. Each (row, library) pair has one probe below,
which tries the feature and checks what happens: decoded pixels against the
source or a reference decode, bytes against jpegtran's, header fields read back
by our own parser, or, where the table says "no", the exact error, the silent
outcome, or the missing argument. A probe returns True when the feature is
there and False when it is not; the test compares that with the cell's first
word. So a cell that goes stale fails, and so does a row without probes or a
probe without a row.

A peer that is not installed skips its cells, and so does one whose version is
not the one the table names (a newer release may have gained features).
"""

from __future__ import annotations

import importlib.metadata
import inspect
import io
import re
import struct
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile, ImageOps

import turbojpeg
from turbojpeg import ImageTooLargeError, TurbojpegError, TurbojpegWarning

from .conftest import pil_jpeg

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "### Against PyTurboJPEG, simplejpeg, imagecodecs and Pillow"
# The table's column names, and each peer's distribution name for its version.
LIBRARIES = {
    "ours": None,
    "PyTurboJPEG": "PyTurboJPEG",
    "simplejpeg": "simplejpeg",
    "imagecodecs": "imagecodecs",
    "Pillow": "pillow",
}


# -- the table ------------------------------------------------------------------------


def read_table(text: str) -> tuple[dict[str, str], dict[str, dict[str, bool]]]:
    """(library -> version named in the header, feature -> library -> claimed)."""
    lines = text.splitlines()
    start = lines.index(HEADING)
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    header, separator, *body = rows
    assert header[0] == "feature", header
    assert all(set(cell) <= {"-", ":"} for cell in separator), separator
    versions = {}
    for cell in header[1:]:
        name, _, version = cell.partition(" ")
        assert name in LIBRARIES, f"unknown column {cell!r}"
        versions[name] = version
    table: dict[str, dict[str, bool]] = {}
    for row in body:
        assert len(row) == len(header), f"row {row[0]!r} has {len(row)} cells"
        claims = {}
        for name, cell in zip(versions, row[1:], strict=True):
            word = re.match(r"(yes|no)\b", cell)
            assert word, f"{row[0]!r}, {name}: {cell!r} starts with neither yes nor no"
            claims[name] = word.group(1) == "yes"
        assert row[0] not in table, f"row {row[0]!r} twice"
        table[row[0]] = claims
    return versions, table


VERSIONS, TABLE = read_table(README.read_text())


# -- the probes -----------------------------------------------------------------------

Probe = Callable[["Kit"], bool]
PROBES: dict[tuple[str, str], Probe] = {}


def probe(feature: str, *libraries: str):
    def register(function: Probe) -> Probe:
        for library in libraries:
            assert (feature, library) not in PROBES, (feature, library)
            PROBES[(feature, library)] = function
        return function

    return register


def close(image: np.ndarray, reference: np.ndarray, mean: float, peak: int = 255) -> bool:
    """Same shape, and the mean absolute difference at most ``mean``."""
    assert image.shape == reference.shape, (image.shape, reference.shape)
    diff = np.abs(image.astype(np.int32) - reference.astype(np.int32))
    assert diff.mean() <= mean, diff.mean()
    assert diff.max() <= peak, diff.max()
    return True


def parameters(*functions) -> set[str]:
    return {name.lower() for f in functions for name in inspect.signature(f).parameters}


def lacks(functions, *words: str) -> bool:
    """None of these functions has an argument whose name contains one of ``words``."""
    names = parameters(*functions)
    found = [n for n in names for w in words if w in n]
    assert not found, f"has {found}"
    return False


def public(obj) -> list[str]:
    return [n.lower() for n in dir(obj) if not n.startswith("_")]


def lacks_names(obj, *words: str) -> bool:
    found = [n for n in public(obj) for w in words if w in n]
    assert not found, f"has {found}"
    return False


def silently(function, *args, **kwargs):
    """The result, asserting that no warning was issued."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    assert not caught, [str(w.message) for w in caught]
    return result


def pil_decode(data: bytes, mode: str | None = None) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image if mode is None else image.convert(mode))


def pil_save(image: Image.Image, **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", **options)
    return buf.getvalue()


def with_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same JPEG with its baseline frame header claiming another size."""
    sof = jpeg.index(b"\xff\xc0")
    return jpeg[: sof + 5] + struct.pack(">HH", height, width) + jpeg[sof + 9 :]


def with_junk(jpeg: bytes) -> bytes:
    """Two stray bytes before the first DQT: libjpeg warns, then reads on."""
    dqt = jpeg.index(b"\xff\xdb")
    return jpeg[:dqt] + b"\x00\x00" + jpeg[dqt:]


def header_only(jpeg: bytes) -> bytes:
    """Everything up to the end of the first SOS segment: no entropy-coded data."""
    sos = jpeg.index(b"\xff\xda")
    (length,) = struct.unpack(">H", jpeg[sos + 2 : sos + 4])
    return jpeg[: sos + 2 + length]


def releases_the_gil(call: Callable[[], object], attempts: int = 5) -> bool:
    """Whether another thread runs Python code while ``call`` is running.

    With a switch interval far longer than the call, a thread holding the GIL
    is never asked to drop it: the main thread, waiting for the GIL, gets it
    before ``call`` returns only if ``call`` released it. Not getting it is
    only proof after several tries, since a released GIL may be taken back
    before this thread is scheduled."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(60.0)
    try:
        for _ in range(attempts):
            state: list[str] = []
            started = threading.Event()

            def work(state=state, started=started) -> None:
                started.set()
                call()
                state.append("done")

            worker = threading.Thread(target=work)
            worker.start()
            started.wait()
            inside = not state  # read as soon as this thread holds the GIL again
            worker.join()
            if inside:
                return True
        return False
    finally:
        sys.setswitchinterval(interval)


class Kit:
    """The libraries under test and the JPEGs the probes share."""

    def __init__(self, tj3_path: str, jpeg_tools: Path, photo: np.ndarray) -> None:
        self.lib_path = tj3_path
        self.tools = jpeg_tools
        self.tj = turbojpeg.Turbojpeg(tj3_path)
        self.rgb = np.ascontiguousarray(photo)  # 512x512
        self.jpeg = pil_jpeg(self.rgb, 90, "420")
        self.decoded = self.tj.decode(self.jpeg, "RGB")  # the accurate decode, the reference
        self.v12 = self.rgb.astype(np.uint16) * 16  # 12-bit samples
        self.v16 = self.v12 * 16 + 15  # 16-bit samples, low bits set
        image = Image.fromarray(self.rgb)
        self.cmyk_jpeg = pil_save(image.convert("CMYK"), quality=90)
        cmyk = 255 - np.asarray(image.convert("CMYK"))  # the stored, inverted convention
        self.ycck_jpeg = self.tj.encode(np.ascontiguousarray(cmyk), 90, pixel_format="CMYK")
        self.icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        self.icc_jpeg = pil_save(image, quality=90, icc_profile=self.icc)
        self.stored = np.ascontiguousarray(self.rgb[:320, :480])  # not square
        exif = Image.Exif()
        exif[0x0112] = 6  # turn 90 degrees clockwise to view
        self.exif_jpeg = pil_save(Image.fromarray(self.stored), quality=90, exif=exif.tobytes())
        self.truncated = self.jpeg[: len(self.jpeg) * 2 // 3]
        self.junk = with_junk(self.jpeg)
        self.bomb = with_size(self.jpeg, 60000, 60000)  # 3.6 gigapixels
        self.progressive = self.tj.encode(self.rgb, 90, pixel_format="RGB", progressive=True)
        big = np.ascontiguousarray(np.tile(self.rgb, (4, 4, 1)))  # 2048x2048
        self.big_jpeg = self.tj.encode(big, 90, pixel_format="RGB")

    def jpegtran(self, data: bytes, *switches: str) -> bytes:
        proc = subprocess.run(
            [str(self.tools / "jpegtran"), "-copy", "all", *switches],
            input=data,
            capture_output=True,
            check=True,
        )
        return proc.stdout

    def header(self, data: bytes) -> turbojpeg.JpegInfo:
        return self.tj.decode_header(data)

    # The peers, skipped when missing or of another version than the table's.

    def pyturbojpeg(self):
        from benchmarks import peers

        try:
            module = peers.load_pyturbojpeg()
            instance = peers.pyturbojpeg(self.lib_path)
        except peers.PeerUnavailable as exc:
            pytest.skip(str(exc))
        check_version("PyTurboJPEG", module.__version__)
        return module, instance

    def peer(self, library: str):
        module = pytest.importorskip({"Pillow": "PIL"}.get(library, library))
        check_version(library, importlib.metadata.version(LIBRARIES[library]))
        return module


def check_version(library: str, installed: str) -> None:
    named = VERSIONS[library].split(".")
    if installed.split(".")[: len(named)] != named:
        pytest.skip(f"the table describes {library} {VERSIONS[library]}, {installed} is installed")


@pytest.fixture(scope="module")
def kit(tj3_path, jpeg_tools, photo) -> Kit:
    return Kit(tj3_path, jpeg_tools, photo)


# -- decoding and encoding ------------------------------------------------------------

ROW = "decode to a numpy array"


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    return close(k.tj.decode(k.jpeg, "RGB"), k.rgb, 3.0)


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    module, pj = k.pyturbojpeg()
    return close(pj.decode(k.jpeg, module.TJPF_RGB), k.rgb, 3.0)


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    return close(k.peer("simplejpeg").decode_jpeg(k.jpeg, "RGB"), k.rgb, 3.0)


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    return close(k.peer("imagecodecs").jpeg8_decode(k.jpeg), k.rgb, 3.0)


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    return close(pil_decode(k.jpeg), k.rgb, 3.0)


ROW = "encode from a numpy array"


def encoded_well(k: Kit, data: bytes) -> bool:
    assert data[:2] == b"\xff\xd8"
    return close(k.tj.decode(data, "RGB"), k.rgb, 3.0)


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    return encoded_well(k, k.tj.encode(k.rgb, 90, pixel_format="RGB"))


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    module, pj = k.pyturbojpeg()
    return encoded_well(k, pj.encode(k.rgb, 90, module.TJPF_RGB))


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    return encoded_well(k, k.peer("simplejpeg").encode_jpeg(k.rgb, 90, "RGB"))


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    return encoded_well(k, bytes(k.peer("imagecodecs").jpeg8_encode(k.rgb, 90)))


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    return encoded_well(k, pil_save(Image.fromarray(k.rgb), quality=90))


ROW = "decode straight to BGR, GRAY and RGBA"


def formats_right(k: Kit, bgr: np.ndarray, gray: np.ndarray, rgba: np.ndarray) -> bool:
    """Each within rounding of our accurate RGB decode (the same libjpeg-turbo code)."""
    close(bgr, k.decoded[..., ::-1], 0.1, 2)
    luma = k.decoded.astype(np.float64) @ [0.299, 0.587, 0.114]
    # libjpeg gives GRAY from the luma plane, before chroma upsampling and rounding.
    close(gray.reshape(luma.shape), np.round(luma), 1.0, 16)
    close(rgba[..., :3], k.decoded, 0.1, 2)
    assert (rgba[..., 3] == 255).all()
    return True


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    d = k.tj.decode
    return formats_right(k, d(k.jpeg, "BGR"), d(k.jpeg, "GRAY"), d(k.jpeg, "RGBA"))


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    d = pj.decode
    return formats_right(k, d(k.jpeg, m.TJPF_BGR), d(k.jpeg, m.TJPF_GRAY), d(k.jpeg, m.TJPF_RGBA))


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    d = k.peer("simplejpeg").decode_jpeg
    return formats_right(k, d(k.jpeg, "BGR"), d(k.jpeg, "GRAY"), d(k.jpeg, "RGBA"))


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    d = ic.jpeg8_decode
    bgr = d(k.jpeg, outcolorspace=ic.JPEG8.CS.EXT_BGR)
    return formats_right(k, bgr, d(k.jpeg, outcolorspace="GRAY"), d(k.jpeg, outcolorspace="RGBA"))


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    with Image.open(io.BytesIO(k.jpeg)) as image:
        assert image.mode == "RGB"
        for mode in ("BGR", "BGR;24"):
            with pytest.raises(ValueError, match="wrong mode"):
                image.convert(mode)
    return False


ROW = "fast DCT and fast upsampling"


def fast_but_close(k: Kit, fast: np.ndarray) -> bool:
    """Different from the accurate decode, but only by a little."""
    assert not np.array_equal(fast, k.decoded)
    return close(fast, k.decoded, 1.5, 40)


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    return fast_but_close(k, k.tj.decode(k.jpeg, "RGB", fast_dct=True, fast_upsample=True))


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    flags = m.TJFLAG_FASTDCT | m.TJFLAG_FASTUPSAMPLE
    return fast_but_close(k, pj.decode(k.jpeg, m.TJPF_RGB, flags=flags))


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    sj = k.peer("simplejpeg")
    return fast_but_close(k, sj.decode_jpeg(k.jpeg, "RGB", fastdct=True, fastupsample=True))


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    assert np.array_equal(ic.jpeg8_decode(k.jpeg), k.decoded)  # the accurate modes, always
    return lacks([ic.jpeg8_decode], "fast", "dct", "upsampl")


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    assert np.array_equal(pil_decode(k.jpeg), k.decoded)
    return lacks(
        [Image.open, Image.Image.draft, ImageFile.ImageFile.load], "fast", "dct", "upsampl"
    )


ROW = "DCT-scaled decode (1/2 to 1/8)"


def quarter(k: Kit, image: np.ndarray) -> bool:
    """A 1/4-scale decode: 128x128, close to the source's 4x4 block means."""
    means = k.rgb.reshape(128, 4, 128, 4, 3).mean(axis=(1, 3))
    return close(image, means, 4.0)


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    return quarter(k, k.tj.decode(k.jpeg, "RGB", scale=(1, 4)))


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    return quarter(k, pj.decode(k.jpeg, m.TJPF_RGB, scaling_factor=(1, 4)))


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    sj = k.peer("simplejpeg")
    return quarter(k, sj.decode_jpeg(k.jpeg, "RGB", min_height=128, min_width=128))


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    return lacks([ic.jpeg8_decode], "scal", "factor", "min_", "size", "draft")


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    with Image.open(io.BytesIO(k.jpeg)) as image:
        image.draft("RGB", (128, 128))
        return quarter(k, np.asarray(image))


ROW = "exact crop decode, only that region"


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    x, y, w, h = 37, 101, 150, 77
    patch = k.tj.decode(k.jpeg, "RGB", crop=(x, y, w, h))
    assert np.array_equal(patch, k.decoded[y : y + h, x : x + w])
    return True


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    _m, pj = k.pyturbojpeg()
    return lacks([pj.decode], "crop", "region", "roi")


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    return lacks([k.peer("simplejpeg").decode_jpeg], "crop", "region", "roi")


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    return lacks([k.peer("imagecodecs").jpeg8_decode], "crop", "region", "roi")


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    with Image.open(io.BytesIO(k.jpeg)) as image:
        assert image.tile  # nothing decoded yet
        patch = image.crop((37, 101, 187, 178))
        assert not image.tile  # the crop decoded all of the image
        assert np.array_equal(np.asarray(patch), k.decoded[101:178, 37:187])
    return False


# -- precision ------------------------------------------------------------------------

ROW = "12-bit lossy decode and encode"


def twelve_bits(k: Kit, encode, decode) -> bool:
    """Their 12-bit JPEG is one (by our header reader), decodes with us close to
    the source, and ours decodes with them to uint16 samples close to ours."""
    data = bytes(encode(k.v12))
    info = k.header(data)
    assert (info.precision, info.lossless) == (12, False)
    close(k.tj.decode(data, "RGB"), k.v12, 3.0 * 16, 4095)
    ours = k.tj.encode(k.v12, 90, pixel_format="RGB", precision=12)
    image = decode(ours)
    assert image.dtype == np.uint16
    return close(image, k.tj.decode(ours, "RGB"), 0.0, 0)


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    return twelve_bits(
        k,
        lambda v: k.tj.encode(v, 90, pixel_format="RGB", precision=12),
        lambda data: k.tj.decode(data, "RGB"),
    )


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    return twelve_bits(
        k,
        lambda v: pj.encode_12bit(v, 90, m.TJPF_RGB, m.TJSAMP_420),
        lambda data: pj.decode_12bit(data, m.TJPF_RGB),
    )


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    return twelve_bits(
        k,
        lambda v: ic.jpeg8_encode(v, 90, subsampling="420", bitspersample=12),
        ic.jpeg8_decode,
    )


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    sj = k.peer("simplejpeg")
    with pytest.raises(ValueError, match="Unsupported JPEG data precision 12"):
        sj.decode_jpeg(k.tj.encode(k.v12, 90, precision=12))
    with pytest.raises(ValueError, match="dtype mismatch"):
        sj.encode_jpeg(k.v12)
    return False


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    with pytest.raises(Image.UnidentifiedImageError):
        Image.open(io.BytesIO(k.tj.encode(k.v12, 90, precision=12)))
    with pytest.raises(OSError, match="cannot write mode I;16 as JPEG"):
        pil_save(Image.fromarray(k.v12[..., 0]))
    return False


ROW = "16-bit lossless decode and encode"


def sixteen_bits(k: Kit, encode, decode) -> bool:
    """Bit-exact both ways: their JPEG decoded by us, ours decoded by them."""
    data = bytes(encode(k.v16))
    info = k.header(data)
    assert (info.precision, info.lossless) == (16, True)
    assert np.array_equal(k.tj.decode(data, "RGB"), k.v16)
    image = decode(k.tj.encode(k.v16, pixel_format="RGB", lossless=True, precision=16))
    assert image.dtype == np.uint16
    assert np.array_equal(image, k.v16)
    return True


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    return sixteen_bits(
        k,
        lambda v: k.tj.encode(v, pixel_format="RGB", lossless=True, precision=16),
        lambda data: k.tj.decode(data, "RGB"),
    )


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    return sixteen_bits(
        k, lambda v: pj.encode_16bit(v, m.TJPF_RGB), lambda d: pj.decode_16bit(d, m.TJPF_RGB)
    )


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    return sixteen_bits(
        k, lambda v: ic.jpeg8_encode(v, lossless=True, bitspersample=16), ic.jpeg8_decode
    )


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    sj = k.peer("simplejpeg")
    with pytest.raises(ValueError, match="Unsupported JPEG data precision 16"):
        sj.decode_jpeg(k.tj.encode(k.v16, lossless=True, precision=16))
    with pytest.raises(ValueError, match="dtype mismatch"):
        sj.encode_jpeg(k.v16)
    return False


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    with pytest.raises(Image.UnidentifiedImageError):
        Image.open(io.BytesIO(k.tj.encode(k.v16, lossless=True, precision=16)))
    with pytest.raises(OSError, match="cannot write mode I;16 as JPEG"):
        pil_save(Image.fromarray(k.v16[..., 0]))
    return False


ROW = "lossless JPEG encode, 8-bit"


def lossless(k: Kit, data: bytes) -> bool:
    info = k.header(data)
    assert (info.precision, info.lossless) == (8, True)
    assert np.array_equal(k.tj.decode(data, "RGB"), k.rgb)
    return True


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    return lossless(k, k.tj.encode(k.rgb, pixel_format="RGB", lossless=True))


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    return lossless(k, pj.encode(k.rgb, pixel_format=m.TJPF_RGB, lossless=True))


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    return lossless(k, bytes(k.peer("imagecodecs").jpeg8_encode(k.rgb, lossless=True)))


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    return lacks([k.peer("simplejpeg").encode_jpeg], "lossless", "predictor")


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    data = pil_save(Image.fromarray(k.rgb), lossless=True)
    assert not k.header(data).lossless  # the keyword is ignored
    assert not np.array_equal(k.tj.decode(data, "RGB"), k.rgb)
    return False


# -- metadata -------------------------------------------------------------------------

ROW = "ICC profile read"


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    assert k.tj.decode_header(k.icc_jpeg).icc_profile == k.icc
    return True


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    _m, pj = k.pyturbojpeg()
    assert pj.get_icc_profile(k.icc_jpeg) == k.icc
    assert pj.get_icc_profile(k.jpeg) is None
    return True


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    sj = k.peer("simplejpeg")
    assert len(sj.decode_jpeg_header(k.icc_jpeg)) == 4  # height, width, colorspace, subsampling
    return lacks_names(sj, "icc", "profile")


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    jpeg = [n for n in public(ic) if n.startswith(("jpeg8", "jpeg_"))]
    assert "jpeg8_decode" in jpeg
    assert not [n for n in jpeg if "icc" in n or "profile" in n], jpeg
    return lacks([ic.jpeg8_decode], "icc", "profile")


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    with Image.open(io.BytesIO(k.icc_jpeg)) as image:
        assert image.info["icc_profile"] == k.icc
    return True


ROW = "ICC profile write"


def profile_written(k: Kit, data: bytes) -> bool:
    """Both our reader and Pillow's find the profile; the pixels are untouched."""
    assert k.tj.decode_header(data).icc_profile == k.icc
    with Image.open(io.BytesIO(data)) as image:
        assert image.info["icc_profile"] == k.icc
    return close(k.tj.decode(data, "RGB"), k.rgb, 3.0)


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    return profile_written(k, k.tj.encode(k.rgb, 90, pixel_format="RGB", icc_profile=k.icc))


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    return profile_written(k, pj.encode(k.rgb, 90, m.TJPF_RGB, icc_profile=k.icc))


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    return lacks([k.peer("simplejpeg").encode_jpeg], "icc", "profile")


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    return lacks([k.peer("imagecodecs").jpeg8_encode], "icc", "profile")


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    return profile_written(k, pil_save(Image.fromarray(k.rgb), quality=90, icc_profile=k.icc))


ROW = "EXIF orientation applied on decode"


def upright(k: Kit, image: np.ndarray) -> bool:
    """Orientation 6: the stored image turned 90 degrees clockwise."""
    stored = k.tj.decode(k.exif_jpeg, "RGB")
    assert np.array_equal(image, np.rot90(stored, -1))
    return True


def as_stored(k: Kit, image: np.ndarray, decode) -> bool:
    """The decode ignores the tag, and no argument asks for it."""
    assert image.shape == k.stored.shape
    return lacks([decode], "exif", "orient", "rotat", "transpose")


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    return upright(k, k.tj.decode(k.exif_jpeg, "RGB", apply_exif_orientation=True))


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    return as_stored(k, pj.decode(k.exif_jpeg, m.TJPF_RGB), pj.decode)


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    sj = k.peer("simplejpeg")
    return as_stored(k, sj.decode_jpeg(k.exif_jpeg, "RGB"), sj.decode_jpeg)


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    return as_stored(k, ic.jpeg8_decode(k.exif_jpeg), ic.jpeg8_decode)


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    with Image.open(io.BytesIO(k.exif_jpeg)) as image:
        return upright(k, np.asarray(ImageOps.exif_transpose(image)))


ROW = "CMYK and YCCK JPEGs decoded to RGB"


def like_pillow(k: Kit, decode, tolerance: int) -> bool:
    """Pillow's CMYK JPEG and our YCCK one, each as Pillow's convert("RGB") gives."""
    for data in (k.cmyk_jpeg, k.ycck_jpeg):
        close(decode(data), pil_decode(data, "RGB"), tolerance, tolerance)
    return True


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    return like_pillow(k, lambda data: k.tj.decode(data, "RGB"), 0)


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    sj = k.peer("simplejpeg")
    return like_pillow(k, lambda data: sj.decode_jpeg(data, "RGB"), 1)


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    return like_pillow(k, lambda data: pil_decode(data, "RGB"), 0)


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    for data in (k.cmyk_jpeg, k.ycck_jpeg):
        with pytest.raises(OSError, match="Unsupported color conversion request"):
            pj.decode(data, m.TJPF_RGB)
    return False


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    for data in (k.cmyk_jpeg, k.ycck_jpeg):
        with pytest.raises(ic.Jpeg8Error, match="Unsupported color conversion request"):
            ic.jpeg8_decode(data, outcolorspace="RGB")
        assert ic.jpeg8_decode(data).shape == (*k.rgb.shape[:2], 4)  # CMYK, unconverted
    return False


# -- lossless transforms --------------------------------------------------------------

ROW = "lossless rotate and flip, jpegtran's bytes"
TRANSFORM_WORDS = ("transform", "rotat", "flip", "transpose", "mirror")


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    assert k.tj.transform(k.jpeg, rotate=90) == k.jpegtran(k.jpeg, "-rotate", "90")
    assert k.tj.transform(k.jpeg, hflip=True) == k.jpegtran(k.jpeg, "-flip", "horizontal")
    return True


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    _m, pj = k.pyturbojpeg()
    return lacks_names(pj, *TRANSFORM_WORDS)


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    return lacks_names(k.peer("simplejpeg"), *TRANSFORM_WORDS)


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    jpeg = [n for n in public(ic) if n.startswith(("jpeg8", "jpeg_"))]
    assert not [n for n in jpeg for w in TRANSFORM_WORDS if w in n], jpeg
    return lacks([ic.jpeg8_decode, ic.jpeg8_encode], *TRANSFORM_WORDS)


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    with Image.open(io.BytesIO(k.jpeg)) as image:
        turned = image.transpose(Image.Transpose.ROTATE_270)  # 90 clockwise
        data = pil_save(turned, qtables=image.quantization, subsampling=2)  # the same tables
    expected = k.jpegtran(k.jpeg, "-rotate", "90")
    assert data != expected
    # Decoded and encoded again: the pixels moved away from the lossless result.
    assert not np.array_equal(k.tj.decode(data), k.tj.decode(expected))
    return False


ROW = "lossless crop, jpegtran's bytes"


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    expected = k.jpegtran(k.jpeg, "-crop", "100x80+64+32")
    assert k.tj.transform(k.jpeg, crop=(64, 32, 100, 80)) == expected
    return True


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    _m, pj = k.pyturbojpeg()
    assert pj.crop(k.jpeg, 64, 32, 100, 80) == k.jpegtran(k.jpeg, "-crop", "100x80+64+32")
    return True


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    return lacks_names(k.peer("simplejpeg"), "crop", "transform")


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    jpeg = [n for n in public(ic) if n.startswith(("jpeg8", "jpeg_"))]
    assert not [n for n in jpeg if "crop" in n or "transform" in n], jpeg
    return lacks([ic.jpeg8_decode, ic.jpeg8_encode], "crop", "transform")


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    with Image.open(io.BytesIO(k.jpeg)) as image:
        patch = image.crop((64, 32, 164, 112))
        data = pil_save(patch, qtables=image.quantization, subsampling=2)  # the same tables
    expected = k.jpegtran(k.jpeg, "-crop", "100x80+64+32")
    assert data != expected
    assert not np.array_equal(k.tj.decode(data), k.tj.decode(expected))
    return False


ROW = "several lossless transforms in one call"
TILES = [(0, 0, 128, 128), (128, 0, 128, 128), (64, 32, 100, 80)]


def tiles_of_jpegtran(k: Kit, outputs: list[bytes]) -> bool:
    assert len(outputs) == len(TILES)
    for (x, y, w, h), data in zip(TILES, outputs, strict=True):
        assert data == k.jpegtran(k.jpeg, "-crop", f"{w}x{h}+{x}+{y}")
    return True


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    tiles = k.tj.transform_many(k.jpeg, [{"crop": tile} for tile in TILES])
    tiles_of_jpegtran(k, tiles)
    turned = k.tj.transform_many(k.jpeg, [{"rotate": 90}, {"vflip": True}])
    assert turned == [k.jpegtran(k.jpeg, "-rotate", "90"), k.jpegtran(k.jpeg, "-flip", "vertical")]
    return True


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    _m, pj = k.pyturbojpeg()
    tiles_of_jpegtran(k, pj.crop_multiple(k.jpeg, TILES))
    lacks_names(pj, *TRANSFORM_WORDS)  # crops only
    return True


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    return lacks_names(k.peer("simplejpeg"), "many", "multiple", "batch", "crop", "transform")


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    jpeg = [n for n in public(ic) if n.startswith(("jpeg8", "jpeg_"))]
    assert not [n for n in jpeg for w in ("many", "multiple", "batch", "crop") if w in n], jpeg
    return False


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    pil = k.peer("Pillow")
    lacks_names(Image.Image, "many", "multiple", "batch")
    return lacks_names(pil, "many", "multiple", "batch")


# -- batches, buffers and headers -----------------------------------------------------

ROW = "threaded batch decode"
BATCH_WORDS = ("many", "batch", "multiple", "thread")


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    other = pil_jpeg(k.rgb[::-1].copy(), 80, "444")
    batch = k.tj.decode_many([k.jpeg, other, k.jpeg], threads=2, pixel_format="RGB")
    assert batch.shape == (3, *k.rgb.shape)
    assert np.array_equal(batch[0], k.decoded)
    assert np.array_equal(batch[1], k.tj.decode(other, "RGB"))
    assert np.array_equal(batch[2], k.decoded)
    return True


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    _m, pj = k.pyturbojpeg()
    decoders = [n for n in public(pj) if "decode" in n]
    assert not [n for n in decoders for w in BATCH_WORDS if w in n], decoders
    return lacks([getattr(pj, n) for n in decoders], *BATCH_WORDS)


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    sj = k.peer("simplejpeg")
    lacks_names(sj, *BATCH_WORDS)
    return lacks([sj.decode_jpeg], *BATCH_WORDS)


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    jpeg = [n for n in public(ic) if n.startswith(("jpeg8", "jpeg_"))]
    assert not [n for n in jpeg for w in BATCH_WORDS if w in n], jpeg
    return lacks([ic.jpeg8_decode, ic.jpeg_decode], *BATCH_WORDS)


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    lacks_names(Image, *BATCH_WORDS)
    return lacks([Image.open, ImageFile.ImageFile.load], *BATCH_WORDS)


ROW = "decode into the caller's array"


def in_place(k: Kit, result, buffer: np.ndarray) -> bool:
    assert np.shares_memory(np.asarray(result), buffer)
    assert np.array_equal(buffer, k.decoded)
    return True


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    buffer = np.zeros_like(k.rgb)
    return in_place(k, k.tj.decode(k.jpeg, "RGB", out=buffer), buffer)


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    buffer = np.zeros_like(k.rgb)
    return in_place(k, pj.decode(k.jpeg, m.TJPF_RGB, dst=buffer), buffer)


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    buffer = np.zeros_like(k.rgb)
    return in_place(k, k.peer("simplejpeg").decode_jpeg(k.jpeg, "RGB", buffer=buffer), buffer)


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    buffer = np.zeros_like(k.rgb)
    return in_place(k, k.peer("imagecodecs").jpeg8_decode(k.jpeg, out=buffer), buffer)


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    return lacks(
        [Image.open, Image.Image.load, ImageFile.ImageFile.load, Image.Image.convert],
        "out",
        "dst",
        "buffer",
    )


ROW = "header-only read"


def size_from_header(width: int, height: int) -> bool:
    assert (width, height) == (512, 512)
    return True


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    info = k.tj.decode_header(header_only(k.jpeg))
    return size_from_header(info.width, info.height)


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    _m, pj = k.pyturbojpeg()
    width, height, _sub, _cs = pj.decode_header(header_only(k.jpeg))
    return size_from_header(width, height)


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    height, width, _cs, _sub = k.peer("simplejpeg").decode_jpeg_header(header_only(k.jpeg))
    return size_from_header(width, height)


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    jpeg = [n for n in public(ic) if n.startswith(("jpeg8", "jpeg_", "ljpeg"))]
    assert not [n for n in jpeg if "header" in n or "info" in n or "shape" in n], jpeg
    return False


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    with Image.open(io.BytesIO(header_only(k.jpeg))) as image:
        return size_from_header(*image.size)


# -- damage and limits ----------------------------------------------------------------

ROW = "recoverable damage: a warning, or an error when strict"


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    with pytest.warns(TurbojpegWarning, match="Premature end of JPEG file"):
        image = k.tj.decode(k.truncated, "RGB")
    assert image.shape == k.rgb.shape
    strict = turbojpeg.Turbojpeg(k.lib_path, strict=True)
    with pytest.raises(TurbojpegError, match="Premature end of JPEG file"):
        strict.decode(k.truncated)
    return True


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    with pytest.warns(UserWarning, match="Premature end of JPEG file"):
        image = pj.decode(k.truncated, m.TJPF_RGB)
    assert image.shape == k.rgb.shape
    with pytest.raises(OSError, match="Premature end of JPEG file"):
        pj.decode(k.truncated, m.TJPF_RGB, flags=m.TJFLAG_STOPONWARNING)
    return True


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    sj = k.peer("simplejpeg")
    with pytest.raises(ValueError, match="Premature end of JPEG file"):
        sj.decode_jpeg(k.truncated, "RGB")  # strict=True, the default
    image = silently(sj.decode_jpeg, k.truncated, "RGB", strict=False)
    assert image.shape == k.rgb.shape
    return False


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    for data in (k.truncated, k.junk):
        assert silently(ic.jpeg8_decode, data).shape == k.rgb.shape
    return lacks([ic.jpeg8_decode], "strict", "warn")


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    # Extraneous bytes: libjpeg's warning is dropped, the image returned as if whole.
    assert silently(pil_decode, k.junk).shape == k.rgb.shape
    # Truncation is an error, unless ImageFile.LOAD_TRUNCATED_IMAGES, which is silent.
    with pytest.raises(OSError, match="image file is truncated"):
        pil_decode(k.truncated)
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        assert silently(pil_decode, k.truncated).shape == k.rgb.shape
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    return False


ROW = "pixel-count limit before allocating"
LIMIT_WORDS = ("max", "limit", "pixels")


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    with pytest.raises(ImageTooLargeError, match="more than max_pixels"):
        k.tj.decode(k.bomb)
    return True


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    guarded = m.TurboJPEG(lib_path=k.lib_path, max_pixels=10**8)
    with pytest.raises(ValueError, match="exceeding max_pixels=100000000"):
        guarded.decode(k.bomb)
    # Off by default: the header of the bomb reads (a decode would allocate 10 GB).
    width, height, _sub, _cs = pj.decode_header(k.bomb)
    assert (width, height) == (60000, 60000)
    return True


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    sj = k.peer("simplejpeg")
    lacks_names(sj, *LIMIT_WORDS)
    return lacks([sj.decode_jpeg], *LIMIT_WORDS)  # never decoded here: it would allocate 10 GB


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    return lacks([ic.jpeg8_decode], *LIMIT_WORDS)  # never decoded here: it would allocate 10 GB


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    assert Image.MAX_IMAGE_PIXELS is not None
    with pytest.raises(Image.DecompressionBombError, match="decompression bomb"):
        Image.open(io.BytesIO(k.bomb))
    return True


ROW = "progressive scan limit"


def scans(data: bytes) -> int:
    return data.count(b"\xff\xda")


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    count = scans(k.progressive)
    assert count > 3
    assert k.tj.scan_limit == 500  # on by default
    with pytest.raises(TurbojpegError, match="scan"):
        turbojpeg.Turbojpeg(k.lib_path, scan_limit=3).decode(k.progressive)
    ok = turbojpeg.Turbojpeg(k.lib_path, scan_limit=count).decode(k.progressive, "RGB")
    return close(ok, k.rgb, 3.0)


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, _pj = k.pyturbojpeg()
    with pytest.raises(OSError, match="scan"):
        m.TurboJPEG(lib_path=k.lib_path, scan_limit=3).decode(k.progressive)
    # Off by default: 0, which its docstring says disables the limit.
    assert inspect.signature(m.TurboJPEG).parameters["scan_limit"].default == 0
    return True


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    sj = k.peer("simplejpeg")
    close(sj.decode_jpeg(k.progressive, "RGB"), k.rgb, 3.0)
    lacks_names(sj, "scan", "limit")
    return lacks([sj.decode_jpeg], "scan", "limit")


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    close(ic.jpeg8_decode(k.progressive), k.rgb, 3.0)
    return lacks([ic.jpeg8_decode], "scan", "limit")


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    pil = k.peer("Pillow")
    close(pil_decode(k.progressive), k.rgb, 3.0)
    from PIL import JpegImagePlugin

    for module in (pil, Image, ImageFile, JpegImagePlugin):
        lacks_names(module, "scan")
    return lacks([Image.open, ImageFile.ImageFile.load], "scan", "limit")


# -- encoding options -----------------------------------------------------------------

ROW = "progressive encode"


def progressive(k: Kit, data: bytes) -> bool:
    assert k.header(data).progressive
    assert scans(data) > 1
    return close(k.tj.decode(data, "RGB"), k.rgb, 3.0)


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    return progressive(k, k.tj.encode(k.rgb, 90, pixel_format="RGB", progressive=True))


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    return progressive(k, pj.encode(k.rgb, 90, m.TJPF_RGB, flags=m.TJFLAG_PROGRESSIVE))


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    return lacks([k.peer("simplejpeg").encode_jpeg], "progressive", "flags")


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    return lacks([k.peer("imagecodecs").jpeg8_encode], "progressive", "flags")


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    return progressive(k, pil_save(Image.fromarray(k.rgb), quality=90, progressive=True))


ROW = "Huffman-optimised encode"


def optimised(k: Kit, plain: bytes, optimal: bytes) -> bool:
    """Smaller than the same encode with the standard tables, and the same pixels."""
    assert not k.header(optimal).progressive
    assert len(optimal) < len(plain)
    assert np.array_equal(k.tj.decode(optimal), k.tj.decode(plain))
    return True


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    plain = k.tj.encode(k.rgb, 90, pixel_format="RGB")
    return optimised(k, plain, k.tj.encode(k.rgb, 90, pixel_format="RGB", optimize=True))


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    lacks([pj.encode], "optimi")  # not while encoding: a lossless pass afterwards
    plain = pj.encode(k.rgb, 90, m.TJPF_RGB)
    return optimised(k, plain, pj.optimize(plain))


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    return lacks([k.peer("simplejpeg").encode_jpeg], "optimi", "huffman")


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    plain = bytes(ic.jpeg8_encode(k.rgb, 90, optimize=False))
    return optimised(k, plain, bytes(ic.jpeg8_encode(k.rgb, 90, optimize=True)))


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    image = Image.fromarray(k.rgb)
    return optimised(k, pil_save(image, quality=90), pil_save(image, quality=90, optimize=True))


ROW = "arithmetic-coded output"


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    lacks([k.tj.encode], "arithmetic")  # a transform option only
    data = k.tj.transform(k.jpeg, arithmetic=True)
    assert data == k.jpegtran(k.jpeg, "-arithmetic")
    assert k.header(data).arithmetic
    assert np.array_equal(k.tj.decode(data, "RGB"), k.decoded)
    return True


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    m, pj = k.pyturbojpeg()
    assert not [n for n in dir(m) if n.startswith(("TJFLAG_", "TJXOPT_")) and "ARITH" in n]
    return lacks([pj.encode, pj.crop, pj.crop_multiple, pj.optimize], "arith")


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    return lacks([k.peer("simplejpeg").encode_jpeg], "arith")


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    return lacks([k.peer("imagecodecs").jpeg8_encode], "arith")


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    data = pil_save(Image.fromarray(k.rgb), quality=90, arithmetic=True)
    assert not k.header(data).arithmetic  # the keyword is ignored
    return False


# -- threads --------------------------------------------------------------------------

ROW = "releases the GIL while decoding"


@probe(ROW, "ours")
def _(k: Kit) -> bool:
    return releases_the_gil(lambda: k.tj.decode(k.big_jpeg))


@probe(ROW, "PyTurboJPEG")
def _(k: Kit) -> bool:
    _m, pj = k.pyturbojpeg()
    return releases_the_gil(lambda: pj.decode(k.big_jpeg))


@probe(ROW, "simplejpeg")
def _(k: Kit) -> bool:
    sj = k.peer("simplejpeg")
    return releases_the_gil(lambda: sj.decode_jpeg(k.big_jpeg))


@probe(ROW, "imagecodecs")
def _(k: Kit) -> bool:
    ic = k.peer("imagecodecs")
    return releases_the_gil(lambda: ic.jpeg8_decode(k.big_jpeg))


@probe(ROW, "Pillow")
def _(k: Kit) -> bool:
    k.peer("Pillow")
    return releases_the_gil(lambda: pil_decode(k.big_jpeg))


def test_the_gil_probe_tells_both_kinds_of_call_apart():
    """The GIL probe's own check: a C loop that keeps the GIL (``sum`` over a
    range) never lets the other thread in, and ``time.sleep`` always does."""
    assert not releases_the_gil(lambda: sum(range(300_000)), attempts=3)
    assert releases_the_gil(lambda: time.sleep(0.05))


# -- the test -------------------------------------------------------------------------

CELLS = [(feature, library) for feature in TABLE for library in TABLE[feature]]


def test_the_table_has_every_library_and_its_version():
    assert list(VERSIONS) == list(LIBRARIES)
    assert VERSIONS["ours"] == ""
    assert all(VERSIONS[name] for name in LIBRARIES if name != "ours")


def test_every_cell_has_a_probe_and_every_probe_a_cell():
    assert set(CELLS) == set(PROBES), {
        "no probe": sorted(set(CELLS) - set(PROBES)),
        "no cell": sorted(set(PROBES) - set(CELLS)),
    }


@pytest.mark.parametrize(("feature", "library"), CELLS, ids=[f"{f} | {lib}" for f, lib in CELLS])
def test_cell(kit, feature, library):
    found = PROBES[(feature, library)](kit)
    assert isinstance(found, bool)
    claimed = TABLE[feature][library]
    assert found is claimed, f"README says {'yes' if claimed else 'no'}, the probe found otherwise"
