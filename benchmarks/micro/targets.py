"""The micro suite's targets: each a ratio of two benchmarks' medians against a
figure, judged met, missed or within noise (``benchmarks.report_kit.Claim``); and the
context rows printed with their ratio but never judged.

A benchmark is named by (group, contender), or (group, contender@size) for tjbench,
whose group holds every size.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks import report_kit as kit


@dataclass(frozen=True)
class Target:
    label: str
    numerator: tuple[str, str]  # (group, contender)
    denominator: tuple[str, str]
    op: str  # "<=" or ">="
    target: float
    note: str = ""

    @property
    def claim(self) -> kit.Claim:
        return kit.Claim(self.label, self.target, self.op == "<=", self.note)


SIZES = ("480x270", "960x540", "1920x1080")

TARGETS = [
    Target("1. decode time ours / tjbench, 1920x1080", ("decode-1920x1080", "turbojpeg"),
           ("tjbench-decode", "tjbench@1920x1080"), "<=", 1.00,
           "tjbench reads the header once and decodes into one reused buffer; each of our "
           "calls reads the header and allocates its output"),
    Target("1. decode time ours / tjbench, 480x270", ("decode-480x270", "turbojpeg"),
           ("tjbench-decode", "tjbench@480x270"), "<=", 1.00),
    Target("2. fixed cost per call (16x16 decode) ours / simplejpeg",
           ("fixed-cost-decode", "turbojpeg"), ("fixed-cost-decode", "simplejpeg"), "<=", 1.35,
           "issue 10's figure; simplejpeg is compiled Cython, four C calls per decode; "
           "ours makes one, as this JPEG repeats its header and the handle is kept"),
    Target("2. fixed cost per call, 16x16 JPEGs of different tables in turn, ours / simplejpeg",
           ("fixed-cost-decode-mixed", "turbojpeg"), ("fixed-cost-decode-mixed", "simplejpeg"),
           "<=", 1.35, "a new handle per image: eight C calls through ctypes"),
    Target("2. whole real photos, one thread, ours / simplejpeg", ("photos-decode", "turbojpeg"),
           ("photos-decode", "simplejpeg"), "<=", 1.00),
    Target("2. fixed cost per call (16x16 encode) ours / simplejpeg",
           ("fixed-cost-encode", "turbojpeg"), ("fixed-cost-encode", "simplejpeg"), "<=", 0.90),
    *[Target(f"3. encode time ours / PyTurboJPEG, {size}", (f"encode-{size}", "turbojpeg"),
             (f"encode-{size}", "pyturbojpeg"), "<=", 0.93) for size in SIZES],
    Target("4. decode_many(threads=2) speed-up over a serial decode loop (64 x 1080p)",
           ("decode-many", "serial-decode"), ("decode-many", "decode_many-2"), ">=", 1.85,
           "the loop makes 64 separate output arrays, decode_many one batch array"),
    Target("5. 480x270 top-left crop / full decode time, 1080p",
           ("crop", "crop-480x270-top-left"), ("crop", "full-decode"), "<=", 0.20),
]  # fmt: skip

# framereader (issue 11): every reader on one decoder thread, on the same files
# (the file keys are test_framereader's).
GOP_FILES = ("arena.x264-crf18-bframes", "vtest.x264-crf18-bframes", "arena.x264-lossless-k30")
INTRA_FILES = ("arena.ffv1-g1", "arena.ffvhuff", "arena.x264-lossless-k1", "arena.mjpeg")
FRAMEREADER_TARGETS = [
    *[Target(f"framereader: random frame ours / torchcodec exact, {key}",
             (f"frame-random-{key}", "framereader"), (f"frame-random-{key}", "torchcodec-exact"),
             "<=", 0.80) for key in GOP_FILES],
    *[Target(f"framereader: random frame / sequential time per frame, {key}",
             (f"frame-intra-{key}", "framereader"), (f"frame-intra-{key}", "sequential"),
             "<=", 1.10) for key in INTRA_FILES],
    Target("framereader: random MJPEG frame / exploded JPEG through turbojpeg",
           ("frame-mjpeg", "framereader"), ("frame-mjpeg", "exploded-jpeg"), "<=", 1.00),
    Target("framereader: 32 single reads / get_batch(32), x264 keyint 30",
           ("frame-batch-32", "single-reads"), ("frame-batch-32", "get_batch"), ">=", 2.00),
    Target("framereader: get_batch(32) / torchcodec get_frames_at(32), x264 keyint 30",
           ("frame-batch-32", "get_batch"), ("frame-batch-32", "torchcodec-get_frames_at"),
           "<=", 1.00),
    Target("framereader: fresh scan / open with the cached index, 10-minute recording",
           ("frame-open-10min", "fresh-scan"), ("frame-open-10min", "cached-index"), ">=", 10.0),
]  # fmt: skip

# What the parked decoders add: the random reads again with ``decoders=1``.
FRAMEREADER_CONTEXT = [
    Target(f"framereader with one decoder: random frame / torchcodec exact, {key}",
           (f"frame-random-{key}", "framereader-1-decoder"),
           (f"frame-random-{key}", "torchcodec-exact"), "<=", 0.80)
    for key in GOP_FILES
]  # fmt: skip

# Context for the targets above: printed with their ratio, never judged.
CONTEXT = [
    *[Target(f"decode time ours with out= / tjbench, {size}", (f"decode-{size}", "turbojpeg-out"),
             ("tjbench-decode", f"tjbench@{size}"), "<=", 1.00)
      for size in ("1920x1080", "480x270")],
    *[Target(f"encode time ours / tjbench, {size}", (f"encode-{size}", "turbojpeg"),
             ("tjbench-encode", f"tjbench@{size}"), "<=", 1.00)
      for size in ("480x270", "1920x1080")],
    Target("decode_many(threads=2) speed-up over decode_many(threads=1)",
           ("decode-many", "decode_many-1"), ("decode-many", "decode_many-2"), ">=", 1.85),
]  # fmt: skip
