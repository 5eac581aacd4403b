"""ICC profiles: embedded by encode, read by decode_header, on both backends.

References: Pillow (reads and writes ICC JPEGs), cjpeg -icc and djpeg -icc,
and libjpeg-turbo 3.1's own reader, tj3GetICCProfile, called here through
ctypes. Our reader (``turbojpeg._markers``) is fuzzed against it. The
profiles are libjpeg-turbo's test profiles: test1.icc (557 KB, 9 APP2
chunks) and test3.icc (28 KB, one chunk).
"""

from __future__ import annotations

import ctypes as C
import dataclasses
import io
import struct
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

import turbojpeg
from turbojpeg import _exif, _markers

from ._tools import run
from .conftest import _tj2_path, pil_jpeg

FUZZ = settings(max_examples=300, deadline=timedelta(seconds=5))
SAVEMARKERS = 25  # TJPARAM_SAVEMARKERS


@pytest.fixture(scope="module")
def profiles(testimages) -> dict[str, bytes]:
    return {name: (testimages / name).read_bytes() for name in ("test1.icc", "test3.icc")}


@pytest.fixture(scope="module")
def small(photo) -> np.ndarray:
    return np.ascontiguousarray(photo[:48, :64])


class LibjpegIcc:
    """libjpeg-turbo 3.1's ICC reader: tj3DecompressHeader with APP2 saved
    (TJPARAM_SAVEMARKERS = 2, its default), then tj3GetICCProfile."""

    def __init__(self, path: str) -> None:
        lib = C.CDLL(path)
        self.init = lib.tj3Init
        self.init.restype, self.init.argtypes = C.c_void_p, [C.c_int]
        self.destroy = lib.tj3Destroy
        self.destroy.restype, self.destroy.argtypes = None, [C.c_void_p]
        self.set = lib.tj3Set
        self.set.restype, self.set.argtypes = C.c_int, [C.c_void_p, C.c_int, C.c_int]
        self.header = lib.tj3DecompressHeader
        self.header.restype = C.c_int
        self.header.argtypes = [C.c_void_p, C.c_char_p, C.c_size_t]
        self.get_icc = lib.tj3GetICCProfile
        self.get_icc.restype = C.c_int
        self.get_icc.argtypes = [C.c_void_p, C.POINTER(C.c_void_p), C.POINTER(C.c_size_t)]
        self.free = lib.tj3Free
        self.free.restype, self.free.argtypes = None, [C.c_void_p]

    def __call__(self, data: bytes) -> bytes | None:
        handle = self.init(1)
        assert handle
        try:
            assert self.set(handle, SAVEMARKERS, 2) == 0
            # -1 with a warning for inconsistent chunks; the header is read all the same.
            self.header(handle, data, len(data))
            buf, size = C.c_void_p(), C.c_size_t()
            if self.get_icc(handle, C.byref(buf), C.byref(size)):
                assert not buf
                return None
            try:
                return C.string_at(buf.value, size.value)
            finally:
                self.free(buf)
        finally:
            self.destroy(handle)


@pytest.fixture(scope="module")
def libjpeg_icc(tj3_path) -> LibjpegIcc:
    return LibjpegIcc(tj3_path)


def segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def chunk(seq: int, count: int, data: bytes) -> bytes:
    return segment(0xFFE2, b"ICC_PROFILE\x00" + bytes((seq, count)) + data)


def with_segments(jpeg: bytes, *segments: bytes) -> bytes:
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


# -- round trips against the references ---------------------------------------------


@pytest.mark.parametrize("name", ["test1.icc", "test3.icc"])
def test_embedded_profile_reads_back(tj, libjpeg_icc, profiles, small, name):
    icc = profiles[name]
    data = tj.encode(small, 90, icc_profile=icc)
    info = tj.decode_header(data)
    assert info.icc_profile == icc
    assert libjpeg_icc(data) == icc
    with Image.open(io.BytesIO(data)) as pil:
        assert pil.info["icc_profile"] == icc
    # The profile changes nothing else: same pixels, same header fields.
    plain = tj.encode(small, 90)
    assert np.array_equal(tj.decode(data), tj.decode(plain))
    assert dataclasses.replace(info, icc_profile=None) == tj.decode_header(plain)
    assert tj.decode_header(plain).icc_profile is None
    assert "icc_profile" not in repr(info)  # half a megabyte is not for repr


def test_djpeg_extracts_ours_and_we_read_cjpegs(tj, jpeg_tools, profiles, small, tmp_path):
    for name, icc in profiles.items():
        ours = tmp_path / f"ours-{name}.jpg"
        ours.write_bytes(tj.encode(small, 85, subsampling="444", icc_profile=icc))
        extracted = tmp_path / f"extracted-{name}"
        run(
            jpeg_tools,
            "djpeg",
            "-icc",
            str(extracted),
            "-outfile",
            str(tmp_path / "x.ppm"),
            str(ours),
        )
        assert extracted.read_bytes() == icc
        (tmp_path / name).write_bytes(icc)
        source = tmp_path / "small.ppm"
        source.write_bytes(b"P6\n64 48\n255\n" + small.tobytes())
        theirs = run(jpeg_tools, "cjpeg", "-icc", str(tmp_path / name), str(source))
        assert tj.decode_header(theirs).icc_profile == icc


@pytest.mark.parametrize("name", ["test1.icc", "test3.icc"])
def test_profiles_pillow_writes(tj, profiles, photo, name):
    icc = profiles[name]
    for subsampling in ("420", "gray"):
        data = pil_jpeg(photo[:64, :80], 90, subsampling, icc_profile=icc)
        assert tj.decode_header(data).icc_profile == icc
    progressive = pil_jpeg(photo[:64, :80], 90, "444", icc_profile=icc, progressive=True)
    assert tj.decode_header(progressive).icc_profile == icc


def test_both_generations_write_the_same_bytes(tj3_path, profiles, small, monkeypatch):
    """TurboJPEG 2 has no tj3SetICCProfile: the profile is inserted into the
    JPEG, where libjpeg writes it. The bytes are tj3SetICCProfile's."""
    tj3 = turbojpeg.Turbojpeg(tj3_path)
    tj2_path = _tj2_path()
    if tj2_path is None:
        pytest.skip("no TurboJPEG 2 library here (CI installs both: bash tools/run.sh test)")
    tj2 = turbojpeg.Turbojpeg(tj2_path)
    gray = np.ascontiguousarray(small[:, :, 1])
    cmyk = np.ascontiguousarray(np.dstack([small, small[:, :, :1]]))
    cases = [
        (small, {}),
        (small, {"subsampling": "444", "quality": 75}),
        (small, {"progressive": True}),
        (gray, {}),
        (cmyk, {"pixel_format": "CMYK"}),
    ]
    for icc in profiles.values():
        for image, options in cases:
            native = tj3.encode(image, icc_profile=icc, **options)
            assert tj2.encode(image, icc_profile=icc, **options) == native, options
            assert native != tj3.encode(image, **options)
    # libjpeg-turbo 3.0 has no tj3SetICCProfile either: the same insertion.
    monkeypatch.setattr(tj3._api, "set_icc_profile", None)
    for icc in profiles.values():
        assert tj3.encode(small, icc_profile=icc) == tj2.encode(small, icc_profile=icc)


def test_a_handle_forgets_the_profile(tj, profiles, small):
    icc = profiles["test3.icc"]
    plain = tj.encode(small, 90)
    assert tj.decode_header(tj.encode(small, 90, icc_profile=icc)).icc_profile == icc
    assert tj.encode(small, 90) == plain
    other = profiles["test1.icc"]
    assert tj.decode_header(tj.encode(small, 90, icc_profile=other)).icc_profile == other
    planes = tj.decode_yuv(plain)
    assert tj.decode_header(tj.encode_yuv(planes, 90)).icc_profile is None
    # Any bytes-like object, the same profile.
    for form in (bytearray(icc), memoryview(icc), np.frombuffer(icc, np.uint8)):
        assert tj.encode(small, 90, icc_profile=form) == tj.encode(small, 90, icc_profile=icc)


def test_profiles_on_12bit_and_lossless(tj3_path, jpeg_tools, profiles, small, tmp_path):
    tj = turbojpeg.Turbojpeg(tj3_path)
    icc = profiles["test3.icc"]
    for data in (
        tj.encode(small.astype(np.uint16) << 4, 90, precision=12, icc_profile=icc),
        tj.encode(small, lossless=True, icc_profile=icc),
        tj.encode(small.astype(np.uint16) << 8, lossless=True, icc_profile=icc),
    ):
        assert tj.decode_header(data).icc_profile == icc
        path = tmp_path / "in.jpg"
        path.write_bytes(data)
        run(
            jpeg_tools,
            "djpeg",
            "-icc",
            str(tmp_path / "out.icc"),
            "-outfile",
            str(tmp_path / "out.ppm"),
            str(path),
        )
        assert (tmp_path / "out.icc").read_bytes() == icc


# -- bad profiles ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "error", "message"),
    [
        ("sRGB.icc", TypeError, "not a str; read the file first"),
        (42, TypeError, "bytes-like object or None, not int"),
        ([1, 2, 3], TypeError, "not list"),
        (b"", ValueError, "icc_profile is empty; pass None"),
        (bytes(_markers.MAX_ICC_SIZE + 1), ValueError, "16707346 bytes; a JPEG holds at most"),
    ],
)
def test_bad_profiles_are_refused(tj, small, profile, error, message):
    with pytest.raises(error, match=message):
        tj.encode(small, icc_profile=profile)


def test_the_largest_profile_fits(tj3_path, small):
    tj = turbojpeg.Turbojpeg(tj3_path)
    icc = bytes(range(256)) * (_markers.MAX_ICC_SIZE // 256) + b"x" * (_markers.MAX_ICC_SIZE % 256)
    assert len(icc) == _markers.MAX_ICC_SIZE
    data = tj.encode(small, icc_profile=icc)
    assert tj.decode_header(data).icc_profile == icc


def test_inconsistent_chunks_give_none_and_no_warning(tj, libjpeg_icc, small, lib_path):
    """libjpeg rejects them with a warning ("bad ICC marker"); our decoders
    never ask libjpeg to read ICC, so a plain decode stays quiet even when strict."""
    base = tj.encode(small, 90)
    broken = [
        with_segments(base, chunk(1, 2, b"abc")),  # a chunk missing
        with_segments(base, chunk(1, 2, b"abc"), chunk(1, 2, b"def")),  # a duplicate
        with_segments(base, chunk(1, 1, b"abc"), chunk(1, 2, b"def")),  # counts disagree
        with_segments(base, chunk(0, 1, b"abc")),  # sequence number 0
        with_segments(base, chunk(1, 1, b"")),  # empty
    ]
    strict = turbojpeg.Turbojpeg(lib_path, strict=True)
    for data in broken:
        assert libjpeg_icc(data) is None
        assert tj.decode_header(data).icc_profile is None
        assert np.array_equal(strict.decode(data), tj.decode(base))


# -- our reader against libjpeg's, fuzzed -------------------------------------------

icc_chunks = st.builds(chunk, st.integers(0, 4), st.integers(0, 4), st.binary(max_size=24))
other_app2 = st.builds(
    lambda prefix, tail: segment(0xFFE2, prefix + tail),
    st.sampled_from(
        [
            b"",
            b"ICC_PROFILE",
            b"ICC_PROFILE\x00",
            b"ICC_PROFILE\x00\x01",
            b"XCC_PROFILE\x00\x01\x01",
        ]
    ),
    st.binary(max_size=8),
)
others = st.builds(
    segment, st.sampled_from([0xFFE1, 0xFFE3, 0xFFEF, 0xFFFE]), st.binary(max_size=16)
)


@FUZZ
@given(st.lists(st.one_of(icc_chunks, icc_chunks, other_app2, others), max_size=8))
# A chunk header one byte short is not a chunk, even before a good one.
@example([segment(0xFFE2, b"ICC_PROFILE\x00\x01"), chunk(1, 1, b"abc")])
@example([chunk(2, 2, b"second"), segment(0xFFFE, b"comment"), chunk(1, 2, b"first")])
def test_fuzz_our_reader_agrees_with_libjpegs(tj, libjpeg_icc, small, segments):
    data = with_segments(tj.encode(small, 90), *segments)
    expected = libjpeg_icc(data)
    assert _markers.icc_profile(data) == expected
    assert tj.decode_header(data).icc_profile == expected


def exif_segment(orientation: int) -> bytes:
    """APP1 EXIF whose IFD0 holds one Orientation entry (big-endian TIFF)."""
    entry = struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x01" + entry + bytes(4)
    return segment(0xFFE1, b"Exif\x00\x00" + tiff)


@FUZZ
@given(
    st.lists(
        st.one_of(
            icc_chunks,
            others,
            st.builds(exif_segment, st.integers(0, 9)),
            st.binary(min_size=1, max_size=6),  # not a segment: the walk stops there
            st.sampled_from([b"\xff", b"\xff\xd0", b"\xff\xda\x00\x02", b"\xff\xc2\x00\x03\x0c"]),
        ),
        max_size=10,
    ),
    st.integers(0, 400),
)
def test_fuzz_one_walk_finds_what_the_exif_walk_finds(segments, cut):
    """decode_header walks the header once, for ICC and EXIF together: its
    orientation must be the EXIF parser's own, on any input, and it never raises."""
    data = (b"\xff\xd8" + b"".join(segments))[: cut + 2]
    icc, frame, orientation = _markers.scan(data)
    assert orientation == _exif.orientation(data)
    assert icc is None or (isinstance(icc, bytes) and icc)
    if frame is not None:
        assert 0xC0 <= frame.marker <= 0xCF
        assert 0 <= frame.precision <= 255
    assert _markers.scan(memoryview(data)) == (icc, frame, orientation)
    assert _markers.scan(bytearray(data)) == (icc, frame, orientation)
    assert _markers.scan("not bytes") == (None, None, None)
