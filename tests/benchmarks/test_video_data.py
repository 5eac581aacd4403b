"""The video suite's data: burned-in frame codes, synthetic recordings, encodings, adversarial files."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks.video import adversarial, codecs, frames

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="no ffmpeg on PATH")
SMALL = (320, 180)
COUNT = 30  # frames in the encoded test recordings


def small_recording(color: bool, frames_count: int = COUNT) -> frames.Recording:
    return frames.Recording(
        f"test-{'color' if color else 'gray'}", *SMALL, color, frames_count, seed=5
    )


@pytest.fixture(scope="module")
def info() -> dict:
    if FFMPEG is None:
        pytest.skip("no ffmpeg on PATH")
    return codecs.ffmpeg_info(FFMPEG)


@pytest.fixture(scope="module")
def encode(tmp_path_factory, info):
    """encode(encoding, color) -> path of the small test recording in that encoding (cached)."""
    folder = tmp_path_factory.mktemp("encoded")
    made: dict[tuple[str, bool], Path] = {}

    def run(encoding: codecs.Encoding, color: bool) -> Path:
        reason = codecs.unavailable_reason(encoding, info)
        if reason:
            pytest.skip(reason)
        key = (encoding.name, color)
        if key not in made:
            recording = small_recording(color)
            path = folder / f"{recording.name}.{encoding.name}{encoding.extension}"
            seconds = codecs.encode_ffmpeg(recording, encoding, path, threads=1, ffmpeg=FFMPEG)
            assert seconds > 0
            made[key] = path
        return made[key]

    yield run
    codecs.discard_raw_frames()


def decode_all(path: Path, fmt: str = "bgr24") -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format=fmt) for f in container.decode(video=0)]


# -- the burned-in code -----------------------------------------------------------------------

INDICES = sorted(
    {
        0,
        1,
        2,
        3,
        255,
        256,
        65535,
        65536,
        2**19,
        2**20 - 2,
        2**20 - 1,
        *range(0, 2**20, 1009),
        *range(600),
    }
)


@pytest.mark.parametrize("size", [SMALL, (1920, 1080)], ids=["320x180", "1920x1080"])
@pytest.mark.parametrize("color", [False, True], ids=["gray", "color"])
def test_burn_read_roundtrip(size, color):
    recording = frames.Recording("rt", *size, color, 1, seed=1)
    frame = recording.frame(0)
    for index in INDICES:
        frames.burn_code(frame, index)
        assert frames.read_code(frame) == index
        if color:
            assert frames.read_code(frame[:, :, ::-1]) == index  # RGB mix-up
    band_w, band_h = frames.band_size(size[0])
    assert band_w <= size[0]
    assert band_h <= size[1]


def test_code_layout():
    assert frames.block_size(320) == 8
    assert frames.block_size(1920) == 40
    assert all(frames.block_size(w) % 8 == 0 for w in range(64, 4096, 7))
    assert frames.band_size(320) == (144, 32)
    bits = frames.code_bits(0)
    assert len(bits) == frames.ROWS * frames.COLS
    assert tuple(bits[:4]) == frames.START
    with pytest.raises(ValueError, match="index"):
        frames.code_bits(2**20)
    with pytest.raises(ValueError, match="index"):
        frames.code_bits(-1)
    with pytest.raises(ValueError, match="too small"):
        frames.burn_code(np.zeros((20, 100), np.uint8), 3)


def test_read_code_rejects_frames_without_a_code():
    rng = np.random.default_rng(0)
    h, w = 180, 320
    candidates = [
        np.zeros((h, w), np.uint8),
        np.full((h, w), 128, np.uint8),
        np.full((h, w, 3), 255, np.uint8),
        rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
        rng.integers(0, 256, (h, w), dtype=np.uint8),
        np.array(frames.arena(w, h, True, 0)),
        np.array(frames.arena(w, h, False, 0)),
        np.zeros((10, 10), np.uint8),  # too small for a band
    ]
    found = [frames.read_code(c) for c in candidates]
    assert found == [None] * len(candidates)


def _band_with_bits(bits: list[int], width: int = 320, height: int = 180) -> np.ndarray:
    frame = np.full((height, width), 128, np.uint8)
    b = frames.block_size(width)
    cells = np.array(bits).reshape(frames.ROWS, frames.COLS) * 255
    frame[b : b * (frames.ROWS + 1), b : b * (frames.COLS + 1)] = np.kron(cells, np.ones((b, b)))
    return frame


def test_read_code_checks_start_pattern_and_crc():
    rng = np.random.default_rng(1)
    start, crc_at = len(frames.START), len(frames.START) + frames.INDEX_BITS
    for index in rng.integers(0, 2**20, 200).tolist():
        bits = frames.code_bits(index)
        assert frames.read_code(_band_with_bits(bits)) == index
        wrong_crc = [
            *bits[:crc_at],
            *(
                b ^ int(k)
                for b, k in zip(
                    bits[crc_at:],
                    rng.integers(0, 2, frames.CHECK_BITS)
                    | np.eye(1, 8, int(rng.integers(8)), dtype=int)[0],
                    strict=True,
                )
            ),
        ]
        assert frames.read_code(_band_with_bits(wrong_crc)) is None
        wrong_start = [*(1 - b for b in bits[:start]), *bits[start:]]
        assert frames.read_code(_band_with_bits(wrong_start)) is None


@pytest.mark.parametrize("color", [False, True], ids=["gray", "color"])
def test_read_code_rejects_every_single_damaged_block(color):
    recording = frames.Recording("dmg", *SMALL, color, 1, seed=2)
    clean = recording.frame(0)
    frames.burn_code(clean, 654321)
    assert frames.read_code(clean) == 654321
    b = frames.block_size(SMALL[0])
    for row in range(frames.ROWS + 2):
        for col in range(frames.COLS + 2):
            frame = clean.copy()
            block = frame[row * b : (row + 1) * b, col * b : (col + 1) * b]
            inner = 1 <= row <= frames.ROWS and 1 <= col <= frames.COLS
            block[...] = 255 - block if inner else 0  # flip a code block; blacken a quiet-zone one
            assert frames.read_code(frame) is None, (row, col)
            if inner:  # a block neither black nor white is unreadable, not guessed
                block[...] = 128
                assert frames.read_code(frame) is None, (row, col)


# -- recordings -------------------------------------------------------------------------------


@pytest.mark.parametrize("color", [False, True], ids=["gray", "color"])
def test_recording_frames_are_deterministic(color):
    recording = frames.Recording("det", 640, 360, color, 50, seed=9)
    first = [recording.frame(i) for i in (0, 1, 49)]
    frames.arena.cache_clear()
    again = frames.Recording("det", 640, 360, color, 50, seed=9)
    for i, frame in zip((0, 1, 49), first, strict=True):
        assert np.array_equal(again.frame(i), frame)
        assert frame.dtype == np.uint8
        assert frame.shape == recording.shape
        assert frames.read_code(frame) == i
    assert frame.shape == ((360, 640, 3) if color else (360, 640))
    assert not np.array_equal(first[0], first[1])  # animals move and the noise changes
    other_seed = frames.Recording("det", 640, 360, color, 50, seed=10)
    assert not np.array_equal(other_seed.frame(0), first[0])
    # The animals move smoothly: consecutive frames differ far less than distant ones.
    near = np.abs(recording.frame(10).astype(int) - recording.frame(11)).mean()
    far = np.abs(recording.frame(10).astype(int) - recording.frame(40)).mean()
    assert 0 < near < far


def test_recording_properties():
    color = frames.Recording("c", 480, 270, True, 10)
    gray = frames.Recording("g", 480, 270, False, 10)
    assert (color.channels, color.pix_fmt, color.raw_bytes) == (3, "bgr24", 480 * 270 * 3 * 10)
    assert (gray.channels, gray.pix_fmt, gray.raw_bytes) == (1, "gray", 480 * 270 * 10)
    with pytest.raises(IndexError):
        color.frame(10)
    with pytest.raises(ValueError, match="too small"):
        frames.Recording("tiny", 64, 16, True, 10)
    frame = color.frame(3)
    frame[0, 0] = 1  # a frame is the caller's copy, not the cached arena
    assert frames.arena(480, 270, True, 0).flags.writeable is False


def test_default_recordings():
    quick = frames.default_recordings(quick=True)
    assert [r.name for r in quick] == [
        "arena-color-480x270",
        "vtest-768x576",  # real footage beside the synthetic recordings
    ]
    assert [r.frames for r in quick] == [frames.QUICK_FRAMES, 25]
    full = frames.default_recordings(quick=False)
    synthetic = [r for r in full if not isinstance(r, frames.Footage)]
    # Colour at every size; gray at the smallest only.
    assert sorted((r.width, r.height, r.color) for r in synthetic) == sorted(
        [(w, h, True) for w, h in frames.SIZES] + [(*frames.SIZES[0], False)]
    )
    assert [r.name for r in full if isinstance(r, frames.Footage)] == ["vtest-768x576"]
    # More than one 250-frame GOP at 480x270 (the GOP sweep), fewer frames where they
    # cost most, never fewer sizes.
    assert {r.width: r.frames for r in full} == {480: 300, 960: 20, 1920: 10, 768: 25}
    assert quick[0].frames > max(codecs.GOP_LENGTHS)
    assert frames.full_frames(10_000) == frames.MIN_FULL_FRAMES
    assert [r.frames for r in frames.default_recordings(False, 7)] == [7] * len(full)
    assert len({r.name for r in full}) == len(full)
    assert len({r.seed for r in synthetic}) == 1


# -- encodings --------------------------------------------------------------------------------

LOSSY = [e for e in codecs.ENCODINGS if not e.lossless]
LOSSLESS = [e for e in codecs.ENCODINGS if e.lossless]
MJPEG_Q5 = dataclasses.replace(
    codecs.ENCODINGS_BY_NAME["mjpeg"], name="mjpeg-q5", args=("-q:v", "5")
)


def test_encodings_table():
    assert len(codecs.ENCODINGS_BY_NAME) == len(codecs.ENCODINGS)
    assert {
        "ffv1",
        "ffv1-g1",
        "ffvhuff",
        "x264-lossless-k1",
        "x264-lossless-k30",
        "x264-lossless-k250",
        "x264-lossless-k30-fastdecode",
        "x264-crf18-bframes",
        "mjpeg",
    } <= set(codecs.ENCODINGS_BY_NAME)
    assert LOSSY
    assert LOSSLESS
    for e in codecs.ENCODINGS:
        assert "-threads" not in e.args
        assert "-pix_fmt" not in e.args
        args = e.output_args(True, 3)
        assert args[args.index("-threads") + 1] == "3"


@needs_ffmpeg
@pytest.mark.parametrize("color", [False, True], ids=["gray", "color"])
@pytest.mark.parametrize("encoding", [*LOSSY, MJPEG_Q5], ids=lambda e: e.name)
def test_code_survives_lossy_encodings(encode, encoding, color):
    decoded = decode_all(encode(encoding, color))
    assert len(decoded) == COUNT
    assert [frames.read_code(f) for f in decoded] == list(range(COUNT))
    assert [frames.read_code(np.ascontiguousarray(f[:, :, ::-1])) for f in decoded] == list(
        range(COUNT)
    )


@pytest.mark.parametrize("color", [False, True], ids=["gray", "color"])
def test_code_survives_our_jpeg(tmp_path, color):
    from turbojpeg import Turbojpeg

    recording = small_recording(color)
    seconds = codecs.encode_exploded_jpeg(recording, tmp_path, threads=2, quality=80)
    assert seconds > 0
    paths = sorted(tmp_path.iterdir())
    assert [p.name for p in paths] == [f"frame_{i:06d}.jpg" for i in range(COUNT)]
    with Turbojpeg() as tj:
        for i, path in enumerate(paths):
            data = path.read_bytes()
            assert tj.decode_header(data).width == SMALL[0]
            image = tj.decode(data, "BGR" if color else "GRAY")
            assert frames.read_code(image[:, :, 0] if not color else image) == i


def test_exploded_png_is_lossless(tmp_path):
    import cv2

    recording = small_recording(True, 8)
    codecs.encode_exploded_png(recording, tmp_path, threads=1)
    paths = sorted(tmp_path.glob("frame_*.png"))
    assert len(paths) == 8
    for i, path in enumerate(paths):
        assert np.array_equal(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), recording.frame(i))


@needs_ffmpeg
@pytest.mark.parametrize("color", [False, True], ids=["gray", "color"])
@pytest.mark.parametrize("encoding", LOSSLESS, ids=lambda e: e.name)
def test_lossless_encodings_are_bit_exact(encode, encoding, color):
    """Every "lossless" row decodes to exactly the source pixels, as BGR and (gray) as gray.

    Gray x264 is 4:0:0 tagged full range: without ``-color_range pc`` the luma
    samples are exact but decoders expand them as limited range when converting.
    """
    path = encode(encoding, color)
    recording = small_recording(color)
    bgr = decode_all(path)
    assert len(bgr) == COUNT
    for i, image in enumerate(bgr):
        source = recording.frame(i)
        if color:
            assert np.array_equal(image, source), (encoding.name, i)
        else:
            assert all(np.array_equal(image[:, :, k], source) for k in range(3)), (encoding.name, i)
    if not color:
        for i, image in enumerate(decode_all(path, "gray")):
            assert np.array_equal(image, recording.frame(i)), (encoding.name, i)


@needs_ffmpeg
def test_keyframes_match_intra_only(encode, info):
    import av

    for encoding in codecs.ENCODINGS:
        if codecs.unavailable_reason(encoding, info):
            continue
        with av.open(str(encode(encoding, True))) as container:
            keys = [p.is_keyframe for p in container.demux(video=0) if p.size]
        assert len(keys) == COUNT
        assert all(keys) == encoding.intra_only, encoding.name


@needs_ffmpeg
def test_raw_frames_are_written_once(tmp_path):
    recording = small_recording(False, 5)
    path = codecs.raw_frames_path(recording, tmp_path)
    assert path.stat().st_size == recording.raw_bytes
    mtime = path.stat().st_mtime_ns
    assert codecs.raw_frames_path(recording, tmp_path) == path
    assert path.stat().st_mtime_ns == mtime
    data = np.fromfile(path, np.uint8).reshape(5, *recording.shape)
    assert np.array_equal(data[4], recording.frame(4))
    codecs.discard_raw_frames()
    assert not path.exists()


def test_only_the_latest_raw_files_are_kept(tmp_path):
    paths = [codecs.raw_frames_path(small_recording(False, n), tmp_path) for n in (2, 3, 4)]
    kept = [p.exists() for p in paths]
    assert kept == [False] + [True] * codecs.MAX_RAW_FILES
    codecs.discard_raw_frames()
    assert not any(p.exists() for p in paths)


@needs_ffmpeg
def test_encode_ffmpeg_reports_ffmpeg_errors(tmp_path):
    bogus = codecs.Encoding(
        "bogus",
        "no-such-encoder",
        (),
        ".mkv",
        intra_only=True,
        lossless=True,
        pix_fmt_color="bgr0",
        pix_fmt_gray="gray",
    )
    with pytest.raises(RuntimeError, match="bogus") as caught:
        codecs.encode_ffmpeg(
            small_recording(True, 3), bogus, tmp_path / "x.mkv", threads=1, ffmpeg=FFMPEG
        )
    assert "ffmpeg exit" in str(caught.value)
    assert not (tmp_path / "x.mkv").exists()
    codecs.discard_raw_frames()


# -- ffmpeg info ------------------------------------------------------------------------------


@needs_ffmpeg
def test_ffmpeg_info(info):
    assert info["path"] == FFMPEG
    assert info["version"].startswith("ffmpeg version ")
    assert "configuration:" in info["buildconf"]
    assert {"ffv1", "ffvhuff", "mjpeg", "rawvideo"} <= set(info["encoders"])
    assert info["encoders"] == sorted(info["encoders"])
    assert info["license"] in ("gpl", "lgpl")
    assert isinstance(info["libvmaf"], bool)
    with pytest.raises(FileNotFoundError):
        codecs.ffmpeg_info("/nonexistent/ffmpeg")


def test_parse_encoders():
    text = (
        " V..... = Video\n ------\n V....D libx264              libx264 H.264 (codec h264)\n"
        " A....D aac                  AAC (Advanced Audio Coding)\n V.S... ffv1  FFmpeg video codec #1\n"
    )
    assert codecs.parse_encoders(text) == {"libx264", "aac", "ffv1"}


def test_a_sweep_interval_past_the_recording_is_left_out_as_a_twin():
    by_name = codecs.ENCODINGS_BY_NAME
    # 300 frames: every interval makes its own file.
    assert all(codecs.same_file_as(by_name[n], 300) is None for n in codecs.GOP_SWEEP)
    # 20 frames: 30, 120 and 250 all make one keyframe; 30 stays, the others are its twins.
    twins = {n: codecs.same_file_as(by_name[n], 20) for n in codecs.GOP_SWEEP}
    assert twins == {
        "x264-lossless-k1": None,
        "x264-lossless-k10": None,
        "x264-lossless-k30": None,
        "x264-lossless-k120": "x264-lossless-k30",
        "x264-lossless-k250": "x264-lossless-k30",
    }
    # 10 frames: an interval of exactly the length is one keyframe too.
    assert codecs.same_file_as(by_name["x264-lossless-k30"], 10) == "x264-lossless-k10"
    assert codecs.same_file_as(by_name["x264-lossless-k10"], 10) is None
    # Outside the sweep nothing is a twin, whatever its GOP.
    assert codecs.same_file_as(by_name["x264-lossless-k30-fastdecode"], 10) is None
    assert codecs.same_file_as(by_name["x264-crf18-bframes"], 10) is None


def test_unavailable_reason():
    lgpl = {"encoders": ["ffv1", "ffvhuff", "mjpeg"], "license": "lgpl"}
    x264 = codecs.ENCODINGS_BY_NAME["x264-lossless-k30"]
    reason = codecs.unavailable_reason(x264, lgpl)
    assert reason is not None
    assert "libx264" in reason
    assert "LGPL" in reason
    assert codecs.unavailable_reason(codecs.ENCODINGS_BY_NAME["x264-crf18-bframes"], lgpl)
    assert codecs.unavailable_reason(codecs.ENCODINGS_BY_NAME["ffv1"], lgpl) is None
    full = {"encoders": ["libx264", "libx264rgb"], "license": "gpl"}
    assert codecs.unavailable_reason(x264, full) is None
    assert "libx264rgb" in codecs.unavailable_reason(
        x264, {"encoders": ["libx264"], "license": "gpl"}
    )


# -- adversarial files ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adversarial_files(tmp_path_factory, info) -> dict[str, adversarial.AdversarialFile]:
    if "libx264" not in info["encoders"]:
        pytest.skip("this ffmpeg has no libx264")
    folder = tmp_path_factory.mktemp("adversarial")
    made = adversarial.make_adversarial(folder, ffmpeg=FFMPEG)
    codecs.discard_raw_frames()
    return {f.name: f for f in made}


def _stream(path: Path):
    import av

    container = av.open(str(path))
    return container, container.streams.video[0]


def test_adversarial_set(adversarial_files):
    assert list(adversarial_files) == list(adversarial.NAMES)
    for f in adversarial_files.values():
        assert f.path.exists()
        assert f.path.stat().st_size > 0
        assert f.description
        assert f.expect_error == (f.name in ("truncated.mkv", "corrupt.mkv"))


def test_adversarial_is_idempotent(adversarial_files):
    stamps = {n: f.path.stat().st_mtime_ns for n, f in adversarial_files.items()}
    again = adversarial.make_adversarial(
        next(iter(adversarial_files.values())).path.parent, ffmpeg=FFMPEG
    )
    assert {f.name: f.path.stat().st_mtime_ns for f in again} == stamps
    assert [f.description for f in again] == [f.description for f in adversarial_files.values()]


def test_adversarial_vfr_has_gaps_and_source_codes(adversarial_files):
    container, stream = _stream(adversarial_files["vfr-dropped.mkv"].path)
    with container:
        decoded = [
            (f.time, frames.read_code(f.to_ndarray(format="bgr24")))
            for f in container.decode(stream)
        ]
    deltas = np.diff([t for t, _ in decoded])
    assert deltas.max() > 1.5 / 30
    assert deltas.min() < 1.5 / 30
    assert [c for _, c in decoded] == [i for i in range(90) if i % 7 != 3]


def test_adversarial_ts_is_mpegts(adversarial_files):
    container, _ = _stream(adversarial_files["h264.ts"].path)
    with container:
        assert container.format.name == "mpegts"
        codes = [frames.read_code(f.to_ndarray(format="bgr24")) for f in container.decode(video=0)]
    assert codes == list(range(90))


def test_adversarial_shifted_start(adversarial_files):
    container, stream = _stream(adversarial_files["shifted-start.mp4"].path)
    with container:
        first = next(container.decode(stream))
        assert first.time > 0
        assert first.pts > 0
        assert frames.read_code(first.to_ndarray(format="bgr24")) == 0


def test_adversarial_bframes_reorder(adversarial_files):
    container, stream = _stream(adversarial_files["bframes-open-gop.mp4"].path)
    with container:
        packets = [(p.pts, p.dts, p.is_keyframe) for p in container.demux(stream) if p.size]
    assert any(pts != dts for pts, dts, _ in packets)
    assert adversarial._leading_frames(packets) > 0  # open GOP: shown before their keyframe


def test_adversarial_wrong_frame_count(adversarial_files):
    container, stream = _stream(adversarial_files["wrong-frame-count.mp4"].path)
    with container:
        header = stream.frames
        codes = [frames.read_code(f.to_ndarray(format="bgr24")) for f in container.decode(stream)]
    assert header != len(codes)
    assert codes == list(range(15, 90))
    assert str(header) in adversarial_files["wrong-frame-count.mp4"].description


def test_adversarial_broken_files(adversarial_files):
    whole = adversarial_files["truncated.mkv"]
    scan = adversarial.scan(whole.path)
    assert len(scan.codes) < 90
    broken = adversarial.scan(adversarial_files["corrupt.mkv"].path)
    readable = [c for c in broken.codes if c is not None]
    assert readable == sorted(set(readable))  # lost frames, never a wrong or repeated code
