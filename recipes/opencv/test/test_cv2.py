"""Checks of the packaged cv2, run by the recipe's tests in the staging prefix and
again in every installed prefix. Plain Python: a conda test environment has no pytest.

Each check prints one line; the first failure raises with what was found.
Usage: python test/test_cv2.py turbo|ijg   (the variant's jpeg_implementation; with PREFIX
set, and cv2 importable from it)
"""

import ctypes
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

import cv2
import numpy as np

PREFIX = os.path.realpath(os.environ["PREFIX"])
HERE = os.path.dirname(os.path.abspath(__file__))
ASTRONAUT = os.path.join(HERE, "astronaut.jpg")
# RGB pixels of astronaut.jpg as libjpeg-turbo 3.1.3 decodes it (accurate integer DCT,
# fancy upsampling): the golden digest of recipes/libjpeg-turbo's djpeg test.
# The same for IJG libjpeg 9f: the golden digest of recipes/libjpeg's djpeg test.
ASTRONAUT_RGB_SHA256 = {
    "turbo": "4ef42bd4c1c2a531fc31e48fbe3fa7b5d5f7d56c734e5490179e7e64fb563ea0",
    "ijg": "08d758c087aac2c1cd9aff76d583b807941b105b0532b58f44aee42ea87327ba",
}
# What getBuildInformation()'s JPEG line and the library's own strings say.
JPEG_NAME = {"turbo": "libjpeg-turbo 3.1.3", "ijg": "IJG libjpeg 9f"}
JPEG_ARCHIVE = {"turbo": "lib/libjpeg-turbo/lib/libjpeg.a", "ijg": "/lib/libjpeg.a"}
JPEG_VERSION_STRING = {"turbo": b"libjpeg-turbo version 3.1.3", "ijg": b"9f  14-Jan-2024"}
FRAMES = 24


def ok(message):
    print(f"ok: {message}", flush=True)


def library(name):
    found = sorted(glob.glob(os.path.join(PREFIX, "lib", f"lib{name}.so.*")))
    assert found, f"lib{name}.so.* not found in {PREFIX}/lib"
    return os.path.realpath(found[0])


def ldd(path):
    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
    return dict(re.findall(r"^\s*(\S+) => (\S+)", out, re.MULTILINE))


def ffmpeg(*args, **kwargs):
    cmd = [os.path.join(PREFIX, "bin", "ffmpeg"), "-hide_banner", "-v", "error", *args]
    return subprocess.run(cmd, capture_output=True, check=True, **kwargs).stdout


def build_info(key):
    match = re.search(rf"^\s*{re.escape(key)}:\s*(.*)$", cv2.getBuildInformation(), re.MULTILINE)
    assert match, f"{key} is not in cv2.getBuildInformation()"
    return match.group(1).strip()


def check_cv2_is_ours():
    where = os.path.realpath(cv2.__file__)
    assert where.startswith(PREFIX + os.sep), f"cv2 comes from {where}, not from {PREFIX}"
    assert cv2.__version__.startswith("5."), cv2.__version__
    ok(f"cv2 {cv2.__version__} from {where}")


def check_jpeg_is_static(jpeg):
    line = build_info("JPEG")
    assert JPEG_NAME[jpeg] in line, f"JPEG: {line}"
    assert JPEG_ARCHIVE[jpeg] in line, f"JPEG: {line}"
    imgcodecs = library("opencv_imgcodecs")
    with open(imgcodecs, "rb") as fh:
        assert JPEG_VERSION_STRING[jpeg] in fh.read(), f"{JPEG_NAME[jpeg]} is not linked in"
    needed = ldd(imgcodecs)
    assert not [n for n in needed if "jpeg" in n], f"a shared libjpeg is linked: {needed}"
    # Linked statically with --exclude-libs: no jpeg_* symbol is exported to clash.
    lib = ctypes.CDLL(imgcodecs)
    exported = [s for s in ("jpeg_CreateDecompress", "jpeg_read_header", "jpeg_std_error")
                if hasattr(lib, s)]  # fmt: skip
    assert not exported, f"libopencv_imgcodecs exports {exported}"
    ok(f"JPEG: {line}; static, no jpeg_* symbol exported")


def decode_astronaut():
    with open(ASTRONAUT, "rb") as fh:
        data = np.frombuffer(fh.read(), np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert bgr is not None, "cv2.imdecode failed on astronaut.jpg"
    return bgr


def check_jpeg_decodes_like_its_library(jpeg):
    bgr = decode_astronaut()
    assert bgr.shape == (160, 240, 3), bgr.shape
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    digest = hashlib.sha256(rgb.tobytes()).hexdigest()
    assert digest == ASTRONAUT_RGB_SHA256[jpeg], (
        f"pixels differ from {JPEG_NAME[jpeg]}'s ({digest})"
    )
    encoded_ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert encoded_ok
    again = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    psnr = cv2.PSNR(bgr, again)
    assert psnr > 38, f"q95 roundtrip PSNR {psnr:.1f} dB"
    ok(f"imdecode gives {JPEG_NAME[jpeg]}'s exact pixels; q95 roundtrip {psnr:.1f} dB")


def check_beside_libjpeg9():
    """libjpeg 9 loaded globally first: cv2 must still use its own turbo, and 9 its own."""
    try:
        import jpeglib  # optional: in the runner's environment, not in conda's
    except ImportError:
        print("note: jpeglib not installed: libjpeg 9 coexistence not checked here")
        return
    libs = glob.glob(os.path.join(os.path.dirname(jpeglib.__file__), "cjpeglib", "*9e*.so"))
    assert libs, "jpeglib has no libjpeg 9e library"
    ctypes.CDLL(libs[0], mode=ctypes.RTLD_GLOBAL)  # its jpeg_* symbols now come first
    bgr = decode_astronaut()
    digest = hashlib.sha256(np.ascontiguousarray(bgr[:, :, ::-1]).tobytes()).hexdigest()
    assert digest == ASTRONAUT_RGB_SHA256["turbo"], "with libjpeg 9 loaded, cv2 decodes differently"
    jpeglib.version.set("9e")
    rgb9 = jpeglib.read_spatial(ASTRONAUT).spatial
    assert rgb9.shape == (160, 240, 3), rgb9.shape
    psnr = cv2.PSNR(np.ascontiguousarray(rgb9[:, :, ::-1]), bgr)
    assert psnr > 35, f"libjpeg 9e and turbo disagree: {psnr:.1f} dB"
    print(f"ok: libjpeg 9e ({os.path.basename(libs[0])}) loaded globally in the same "
          f"process; turbo pixels unchanged; 9e decode within {psnr:.1f} dB")  # fmt: skip


def check_ffmpeg_is_ours():
    assert build_info("FFMPEG") == "YES", build_info("FFMPEG")
    built = build_info("avcodec")
    version = ffmpeg("-version").decode()
    runtime = re.search(r"libavcodec\s+(\d+)\.\s*(\d+)\.\s*(\d+)", version).groups()
    assert built == f"YES ({'.'.join(runtime)})", f"built {built}, runtime {runtime}"
    needed = ldd(library("opencv_videoio"))
    for lib in ("libavcodec", "libavformat", "libavutil", "libswscale"):
        path = next((p for n, p in needed.items() if n.startswith(lib + ".so")), None)
        assert path, f"libopencv_videoio does not link {lib}"
        assert os.path.realpath(path).startswith(PREFIX), f"{lib} resolves to {path}"
    ok(f"FFmpeg: avcodec {built}, every library from {PREFIX}/lib")


def check_no_gpl_with_lgpl_ffmpeg():
    """With the LGPL FFmpeg, nothing in the environment's libraries links GPL code."""
    if "--disable-gpl" not in ffmpeg("-buildconf").decode():
        print("note: GPL FFmpeg in this environment: GPL closure not checked")
        return
    gpl = ("libx264", "libx265", "libxvid", "libpostproc")
    objects = glob.glob(os.path.join(PREFIX, "lib", "**", "*.so*"), recursive=True)
    objects = sorted({os.path.realpath(p) for p in objects if not os.path.islink(p)})
    for path in objects:
        linked = [n for n in ldd(path) if n.startswith(gpl)]
        assert not linked, f"{path} links GPL code: {linked}"
    ok(f"LGPL FFmpeg: none of {len(objects)} shared objects links {', '.join(gpl)}")


def ffmpeg_frames(path):
    raw = ffmpeg("-i", path, "-f", "rawvideo", "-pix_fmt", "bgr24", "-")
    return np.frombuffer(raw, np.uint8).reshape(-1, 240, 320, 3)


def cv2_frames(path, params=()):
    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG, list(params))
    assert cap.isOpened(), f"cv2 cannot open {path}"
    frames = []
    while True:
        got, frame = cap.read()
        if not got:
            break
        frames.append(frame)
    return np.stack(frames), cap


def write_clips(tmp):
    source = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25,format=bgr0",
              "-frames:v", str(FRAMES)]  # fmt: skip
    clips = {"ffv1": os.path.join(tmp, "clip.mkv")}
    # Lossless, with 4 slices so that both frame and slice threading apply.
    ffmpeg(*source, "-c:v", "ffv1", "-level", "3", "-slices", "4", "-y", clips["ffv1"])
    if b"libx264" in ffmpeg("-encoders"):  # the GPL variant
        clips["h264"] = os.path.join(tmp, "clip.mp4")
        ffmpeg(*source, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-y", clips["h264"])
    return clips


def check_reads_video(clips):
    frames, cap = cv2_frames(clips["ffv1"])
    expected = ffmpeg_frames(clips["ffv1"])
    assert frames.shape == expected.shape == (FRAMES, 240, 320, 3), (frames.shape, expected.shape)
    assert np.array_equal(frames, expected), "cv2's ffv1 frames differ from ffmpeg's"
    assert cap.set(cv2.CAP_PROP_POS_FRAMES, 17)
    got, frame = cap.read()
    assert got
    assert np.array_equal(frame, expected[17]), "frame 17 after a seek differs"
    ok(f"ffv1: {FRAMES} frames bit-identical to ffmpeg's decode, and after a seek")
    if "h264" in clips:
        frames = cv2_frames(clips["h264"])[0]
        expected = ffmpeg_frames(clips["h264"])
        assert frames.shape == expected.shape, (frames.shape, expected.shape)
        diff = np.abs(frames.astype(int) - expected).mean()
        assert diff < 1.0, f"h264 frames differ from ffmpeg's by {diff:.2f} on average"
        ok(f"h264 (libx264, GPL build): {len(frames)} frames, mean |diff| {diff:.3f}")


def write_video(path, fourcc, fps, frames):
    """The frames written by cv2.VideoWriter through FFmpeg; the path."""
    writer = cv2.VideoWriter(path, cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*fourcc), fps,
                             (320, 240))  # fmt: skip
    assert writer.isOpened(), f"cv2.VideoWriter cannot open a {fourcc} writer"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def check_writes_video(tmp, clips):
    """cv2.VideoWriter through our FFmpeg (the code patch 0002 moves to FFmpeg 9's
    avcodec_get_supported_config): FFV1 is lossless, so the frames come back exact;
    MPEG-1 allows only a fixed list of frame rates, and 24.5 fps snaps to one of them."""
    frames = ffmpeg_frames(clips["ffv1"])
    back = ffmpeg_frames(write_video(os.path.join(tmp, "written.mkv"), "FFV1", 25.0, frames))
    assert np.array_equal(back, frames), "FFV1 written by cv2 does not decode to its input"
    path = write_video(os.path.join(tmp, "written.mpg"), "PIM1", 24.5, frames)
    probe = [os.path.join(PREFIX, "bin", "ffprobe"), "-v", "error", "-select_streams", "v:0",
             "-show_entries", "stream=avg_frame_rate", "-of", "default=nw=1:nk=1", path]  # fmt: skip
    rate = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()
    assert rate in ("24/1", "25/1"), f"MPEG-1 at 24.5 fps was written at {rate} fps"
    assert len(ffmpeg_frames(path)) == FRAMES, "MPEG-1 written by cv2 lost frames"
    ok(f"VideoWriter: FFV1 exact over {FRAMES} frames; MPEG-1 at 24.5 fps written at {rate}")


def probe(path, env=None, n_threads=None):
    """Open path in a fresh process (OpenCV reads its variables once) and report."""
    args = [sys.executable, __file__, "--probe", path]
    if n_threads is not None:
        args.append(str(n_threads))
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_FFMPEG_THREAD")}
    full_env.update(env or {})
    proc = subprocess.run(args, capture_output=True, text=True, env=full_env, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report["stderr"] = proc.stderr
    return report


def probe_main(path, n_threads=None):
    """The --probe side: open, count the threads that opening started, read all frames."""
    params = [] if n_threads is None else [cv2.CAP_PROP_N_THREADS, int(n_threads)]
    before = len(os.listdir("/proc/self/task"))
    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG, params)
    report = {"opened": cap.isOpened()}
    if cap.isOpened():
        report.update(
            started=len(os.listdir("/proc/self/task")) - before,
            n_threads=cap.get(cv2.CAP_PROP_N_THREADS),
            thread_type=cap.get(cv2.CAP_PROP_THREAD_TYPE),
            settable=cap.set(cv2.CAP_PROP_THREAD_TYPE, 2),
        )
        digest = hashlib.sha256()
        while True:
            got, frame = cap.read()
            if not got:
                break
            digest.update(frame.tobytes())
        report["frames"] = digest.hexdigest()
    print(json.dumps(report))


def check_threads(clips):
    clip = clips["ffv1"]
    one, three = probe(clip, n_threads=1), probe(clip, n_threads=3)
    assert (one["n_threads"], three["n_threads"]) == (1, 3), (one, three)
    # Frame threading starts one worker per thread; one thread starts none.
    assert three["started"] - one["started"] >= 2, (one["started"], three["started"])
    from_env = probe(clip, env={"OPENCV_FFMPEG_THREADS": "2"})
    assert from_env["n_threads"] == 2, from_env
    ok(f"CAP_PROP_N_THREADS 1 -> {one['started']} threads started, 3 -> {three['started']}; "
       "OPENCV_FFMPEG_THREADS=2 -> 2")  # fmt: skip

    default = probe(clip, n_threads=2)
    kinds = {
        kind: probe(clip, env={"OPENCV_FFMPEG_THREAD_TYPE": kind}, n_threads=2)
        for kind in ("frame", "slice", "frame+slice")
    }
    # FFmpeg's report of what it really does: 1 frame threading, 2 slice threading.
    assert default["thread_type"] == 1, default
    assert kinds["frame"]["thread_type"] == 1, kinds["frame"]
    assert kinds["slice"]["thread_type"] == 2, kinds["slice"]
    assert kinds["frame+slice"]["thread_type"] == 1, kinds["frame+slice"]
    assert one["thread_type"] == 0, one
    assert not default["settable"], "CAP_PROP_THREAD_TYPE must be read-only"
    frames = {r["frames"] for r in (default, one, *kinds.values())}
    assert len(frames) == 1, "the thread type changed the decoded pixels"
    bad = probe(clip, env={"OPENCV_FFMPEG_THREAD_TYPE": "fast"})
    assert not bad["opened"], "an unknown OPENCV_FFMPEG_THREAD_TYPE must fail the open"
    assert "OPENCV_FFMPEG_THREAD_TYPE='fast'" in bad["stderr"], bad["stderr"]
    ok("OPENCV_FFMPEG_THREAD_TYPE frame -> 1, slice -> 2, default -> 1, one thread -> 0; "
       "same pixels; read-only; 'fast' refused")  # fmt: skip


def check_modules():
    """The modules a behaviour-recording user reaches for, called on real data: video
    (background subtraction, optical flow), geometry (homography), features (ORB)."""
    rng = np.random.default_rng(0)
    scene = cv2.GaussianBlur(rng.integers(0, 256, (120, 160), np.uint8), (0, 0), 2)
    shifted = np.roll(scene, 3, axis=1)
    flow = cv2.calcOpticalFlowFarneback(scene, shifted, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    assert abs(float(np.median(flow[20:-20, 20:-20, 0])) - 3) < 0.5, np.median(flow[..., 0])
    subtractor = cv2.createBackgroundSubtractorMOG2()
    for _ in range(5):
        subtractor.apply(scene)
    entered = scene.copy()
    entered[40:80, 60:100] = 255  # a bright animal walks in
    mask = subtractor.apply(entered)
    assert (mask[40:80, 60:100] == 255).mean() > 0.9, np.unique(mask[40:80, 60:100])
    assert mask[:20, :20].max() == 0, mask[:20, :20].max()
    src = rng.uniform(0, 100, (20, 1, 2)).astype(np.float32)
    truth = np.array([[1.1, 0.05, 4.0], [-0.03, 0.95, -2.0], [1e-4, 2e-4, 1.0]])
    dst = cv2.perspectiveTransform(src, truth)
    found, _ = cv2.findHomography(src, dst)
    assert np.allclose(found / found[2, 2], truth, atol=1e-3), found
    orb = cv2.ORB_create(nfeatures=100)
    photo = cv2.imread(ASTRONAUT, cv2.IMREAD_GRAYSCALE)
    keypoints, descriptors = orb.detectAndCompute(photo, None)
    assert len(keypoints) > 20, len(keypoints)
    assert descriptors.shape[1] == 32, descriptors.shape
    missing = [m for m in ("video", "calib", "features", "flann", "geometry", "objdetect",
                           "photo", "stereo", "stitching")
               if not re.search(rf"\b{m}\b", build_info("To be built") or "")]  # fmt: skip
    assert not missing, f"modules not built: {missing}"
    ok(
        "video, geometry and features work (Farneback, MOG2, findHomography, ORB); "
        f"modules: {build_info('To be built')}"
    )


def check_pip_sees_cv2():
    """pip counts cv2 as opencv-python and opencv-python-headless, of this version."""
    from importlib import metadata

    for dist in ("opencv-python", "opencv-python-headless"):
        found = metadata.distribution(dist)
        assert found.version == cv2.__version__, (dist, found.version)
        where = os.path.realpath(found.locate_file(""))
        assert where.startswith(PREFIX), f"{dist} metadata found in {where}, not in {PREFIX}"
    ok("pip sees opencv-python and opencv-python-headless " + cv2.__version__)


def main(jpeg):
    assert jpeg in JPEG_NAME, f"usage: test_cv2.py {'|'.join(JPEG_NAME)} (got {jpeg!r})"
    check_cv2_is_ours()
    check_jpeg_is_static(jpeg)
    check_jpeg_decodes_like_its_library(jpeg)
    check_ffmpeg_is_ours()
    check_no_gpl_with_lgpl_ffmpeg()
    check_modules()
    check_pip_sees_cv2()
    with tempfile.TemporaryDirectory(prefix="test-cv2-") as tmp:
        clips = write_clips(tmp)
        check_reads_video(clips)
        check_writes_video(tmp, clips)
        check_threads(clips)
    if jpeg == "turbo":
        check_beside_libjpeg9()  # last: it loads libjpeg 9 into this process for good


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        probe_main(*sys.argv[2:])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "")
