"""The JPEG roundtrip suite: adapters, the seeded order, outputs, skips and the quality flag."""

from __future__ import annotations

import importlib.util
import itertools
import json
import multiprocessing
import os
import pickle
import re
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage.metrics import structural_similarity

from benchmarks import datasets, loaded, peers
from benchmarks.__main__ import main as cli
from benchmarks.jpeg import contenders, report, runners, suite
from tests.benchmarks import jpeg_fakes

OUTPUTS = (
    "rounds.csv",
    "quality.csv",
    "benchmark.json",
    "provenance.json",
    "report.md",
    "encode_by_quality.png",
    "decode_by_quality.png",
    "decode_by_size.png",
    "rate_distortion.csv",
    "bytes_at_equal_ssim.png",
)
# Contenders made in this process; the ones in a benchmark environment are tested
# in their process, with its site-packages, in tests/benchmarks/test_channel_suites.py
# (slow).
# PyTorch's decoders are made only where the full run installed torch.
LOCAL = [
    n
    for n in contenders.JPEG_SUITE
    if n not in contenders.ENVIRONMENT and n not in contenders.NEEDS_TORCH
]
HAVE_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(scope="module")
def bgr() -> np.ndarray:
    photo = datasets.embedded_photos(1)[0]
    return datasets.sixteen_by_nine(photo, (192, 108))[0]


@pytest.mark.parametrize("name", LOCAL)
def test_every_adapter_roundtrips(name, bgr):
    try:
        contender = contenders.make(name)
    except peers.PeerUnavailable as exc:
        pytest.fail(f"{name} should be installed by tools/run.sh: {exc}")
    _check_roundtrip(contender, bgr)


@pytest.mark.parametrize("name", contenders.NEEDS_TORCH)
def test_torch_decoders_roundtrip_or_say_the_full_run_installs_them(name, bgr):
    """With torch (the full run's install) they decode like every adapter; without
    it (the default setup) making one fails with a reason that names the full run."""
    if not HAVE_TORCH:
        with pytest.raises(peers.PeerUnavailable, match="--full-run"):
            contenders.make(name)
        return
    _check_roundtrip(contenders.make(name), bgr)


def _check_roundtrip(contender: contenders.Contender, bgr: np.ndarray) -> None:
    # make() decoded its sample first, and recorded the codec files this process mapped
    assert contender.extra["mapped"], contender.extra.get("mapped")
    source = np.ascontiguousarray(bgr[:, :, ::-1]) if contender.needs_rgb else bgr
    reference = contenders.make("turbojpeg").encode(bgr, 95)
    data = contender.encode(source, 95) if contender.encode else reference
    assert data[:2] == b"\xff\xd8"
    for decoded in (contender.decode(data), contender.decode(reference)):
        assert decoded.shape == source.shape
        assert decoded.dtype == np.uint8
        assert structural_similarity(source, decoded, channel_axis=2) > 0.9


def small_config(tmp_path: Path, **overrides) -> suite.Config:
    settings = {
        "photos": datasets.embedded_photos(1),
        "sizes": {"96x54": (96, 54), "192x108": (192, 108)},
        "qualities": (80, 95),
        "contenders": ("turbojpeg", "turbojpeg-fast_upsample", "opencv-wheel", "jpegli"),
        "rounds": 2,
        "seed": 3,
        "out": tmp_path / "run",
        "command": ["test"],
    }
    settings.update(overrides)
    return suite.Config(**settings)


def test_every_factory_can_be_handed_to_a_process_of_its_own():
    """runners.start sends the registry's factory to the contender's process by name."""
    for name, factory in contenders.FACTORIES.items():
        # by name: the same function (and a partial's same arguments) come back
        assert repr(pickle.loads(pickle.dumps(factory))) == repr(factory), name


def test_the_sample_is_a_small_colour_jpeg():
    decoded = contenders.make("turbojpeg").decode(contenders.SAMPLE)
    assert decoded.shape == (16, 16, 3)
    assert len(contenders.SAMPLE) < 1000


@pytest.fixture
def started():
    """runners.start, each runner closed after the test."""
    made = []

    def start(name):
        made.append(runners.start(name))
        return made[-1]

    yield start
    for runner in made:
        runner.close()


def _real(files):
    return {os.path.realpath(f) for f in files}


def test_each_contender_records_what_its_own_process_mapped(started):
    """Ours and Pillow in one run: each process mapped its own JPEG library and not
    the other's (in one shared process both would have both)."""
    ours, pillow = started("turbojpeg").describe(), started("pillow").describe()
    assert ours.process == pillow.process == "its own"
    # exactly one JPEG library in ours's process: the libturbojpeg it names
    assert _real(ours.extra["mapped"]) == {os.path.realpath(ours.extra["lib_path"])}
    # Pillow's process: the libjpeg its wheel bundles, beside PIL, and no libturbojpeg
    import PIL

    beside = os.path.realpath(Path(PIL.__file__).parents[1])
    assert pillow.extra["mapped"]
    assert all(f.startswith(beside + os.sep) for f in _real(pillow.extra["mapped"]))
    assert any(Path(f).name.startswith("libjpeg") for f in pillow.extra["mapped"])
    assert not _real(pillow.extra["mapped"]) & _real(ours.extra["mapped"])


@pytest.mark.parametrize(
    ("name", "variable"),
    [("opencv-wheel", "OPENCV_FOR_THREADS_NUM"), ("torchcodec-jpeg", "OMP_NUM_THREADS")],
)
def test_a_contender_sets_its_library_threads_from_the_suite(name, variable, started,
                                                             monkeypatch):  # fmt: skip
    """The suite's --threads reaches OpenCV's and PyTorch's pools in their processes
    (through the variable suite.pin_threads sets), and 1 is the default."""
    if name in contenders.NEEDS_TORCH and not HAVE_TORCH:
        with pytest.raises(peers.PeerUnavailable, match=r"^PyTorch is not installed"):
            started(name)
        return
    monkeypatch.delenv(variable, raising=False)
    assert started(name).describe().extra["threads"] == 1
    monkeypatch.setenv(variable, "2")
    assert started(name).describe().extra["threads"] == 2


def test_a_contender_process_leaves_ctrl_c_to_the_suite(started, bgr):
    runner = started("turbojpeg")
    os.kill(runner.worker.pid, signal.SIGINT)  # as a terminal's Ctrl-C reaches it too
    time.sleep(0.5)
    assert runner.worker.alive()
    runner.load([(("p", "s"), bgr, {})])
    assert runner.timed(("p", "s"), 95, "encode") > 0


def test_why_a_contender_cannot_run_reads_well(monkeypatch):
    monkeypatch.setitem(contenders.FACTORIES, "missing", jpeg_fakes.missing)
    monkeypatch.setitem(contenders.FACTORIES, "broken-install", jpeg_fakes.broken_install)
    ready, skipped = suite.load_contenders(("missing", "broken-install"))
    assert ready == {}
    assert skipped == {
        # the reason alone, as if the contender had been made here
        "missing": "simplejpeg is not installed (pip install simplejpeg)",
        # anything else: named by its type
        "broken-install": "ImportError: libfoo.so.1: cannot open shared object file",
    }


def test_a_wrong_library_in_a_contender_process_fails_the_run(monkeypatch):
    monkeypatch.setitem(contenders.FACTORIES, "liar", jpeg_fakes.liar)
    before = set(multiprocessing.active_children())
    with pytest.raises(loaded.WrongLibrary, match=r"liar claims libjpeg-turbo 3\.x"):
        suite.load_contenders(("turbojpeg", "liar", "pillow"))
    # the process started before it is closed; none after it is started
    assert set(multiprocessing.active_children()) <= before


def test_the_order_is_shuffled_reproducibly(tmp_path):
    config = small_config(tmp_path)
    ready, _ = suite.load_contenders(config.contenders)
    try:
        _check_the_order(config, ready)
    finally:
        for runner in ready.values():
            runner.close()


def _check_the_order(config: suite.Config, ready: dict) -> None:
    images = suite.prepare_images(config, suite.reference_encoder())
    first, again = suite.plan(images, ready, config), suite.plan(images, ready, config)
    assert first == again
    config.seed = 4
    other = suite.plan(images, ready, config)
    assert other != first
    assert sorted(other, key=repr) == sorted(first, key=repr)  # the same work, another order
    # Every cell appears `rounds` times, and the decode-only variant has no encode cell.
    cells = pd.Series([cell for cell, _ in first]).value_counts()
    assert set(cells) == {config.rounds}
    assert not any(
        c.contender == "turbojpeg-fast_upsample" and c.operation == "encode" for c in cells.index
    )
    assert len(cells) == 2 * 2 * (2 + 1 + 2 + 2)  # sizes x qualities x (ops per contender)
    # The order is not grouped by contender: neighbours often differ.
    changes = sum(a.contender != b.contender for (a, _), (b, _) in itertools.pairwise(first))
    assert changes > len(first) / 3


def test_a_tiny_run_writes_every_output_and_figure(tmp_path, monkeypatch):
    for variable in suite.THREAD_VARIABLES:
        monkeypatch.setenv(variable, "1")  # restored after the runs, which set them
    folder = suite.run(small_config(tmp_path))
    path = report.write([folder])
    for name in OUTPUTS:
        assert (folder / name).is_file(), name
        assert (folder / name).stat().st_size > 0, name
    rounds = pd.read_csv(folder / "rounds.csv")
    assert len(rounds) == 2 * 2 * 7 * 2
    assert (rounds["seconds"] > 0).all()
    bench = json.loads((folder / "benchmark.json").read_text())
    assert len(bench["benchmarks"]) == 2 * 2 * 7
    assert {"median", "q1", "q3", "rounds"} <= set(bench["benchmarks"][0]["stats"])
    provenance = json.loads((folder / "provenance.json").read_text())
    assert provenance["suite"] == "jpeg"
    assert provenance["seed"] == 3
    assert bench["datetime"] == provenance["finished"]
    assert "turbojpeg" in provenance["contenders"]
    described = provenance["contenders"]
    assert "libjpeg-turbo" in described["opencv-wheel"]["jpeg"]
    assert described["opencv-wheel"]["process"] == "its own"
    assert described["opencv-wheel"]["threads"] == 1
    # Each contender's process mapped its own JPEG codec: no file in two of them.
    mapped = {name: _real(c["mapped"]) for name, c in described.items()}
    assert all(mapped.values()), mapped
    for (a, files_a), (b, files_b) in itertools.combinations(mapped.items(), 2):
        if {a, b} != {"turbojpeg", "turbojpeg-fast_upsample"}:  # those two: one library
            assert not files_a & files_b, (a, b)
    assert mapped["turbojpeg"] == mapped["turbojpeg-fast_upsample"]
    assert set(provenance["environments"]) == {"bench", "bench-ijg"}
    rd = pd.read_csv(folder / "rate_distortion.csv")
    assert set(rd["contender"]) == {"turbojpeg", "jpegli"}  # the encoders that ask for it
    assert len(rd) == 2 * 2 * len(suite.RD_QUALITIES)
    assert rd.groupby(["contender", "size"])["jpeg_bytes"].is_monotonic_increasing.all()
    text = path.read_text()
    for heading in (
        "## The study's claims",
        "## Space savings",
        "## Bytes at equal SSIM",
        "## The photos",
        "## Quality check",
        "## Provenance",
    ):
        assert heading in text
    assert "upscaled" not in text  # both sizes are smaller than the photo
    # a claim this run measured: a ratio with its interval, and one of the three verdicts
    claim = next(line for line in text.splitlines() if line.startswith("| fast mode fast_upsample"))
    cells = [c.strip() for c in claim.strip("|").split("|")]
    assert cells[2] == ">= 1"
    assert re.fullmatch(r"[0-9.]+x \[[0-9.]+, [0-9.]+\]", cells[3])
    assert cells[4] in ("met", "missed", "within noise")
    # what each contender's process mapped, by name
    ours = Path(described["turbojpeg"]["mapped"][0]).name
    assert re.search(rf"- turbojpeg loaded: .*; its process mapped {re.escape(ours)}\n", text)
    assert re.search(r"- jpegli loaded: .*; its process mapped _ajpegli", text)
    # Re-reporting from the saved folder, and two folders side by side.
    path.unlink()
    assert cli(["report", str(folder)]) == 0
    assert path.read_text() == text
    second = suite.run(small_config(tmp_path, out=tmp_path / "second", seed=9, threads=2))
    described = json.loads((second / "provenance.json").read_text())["contenders"]
    assert described["opencv-wheel"]["threads"] == 2  # --threads, in its process
    compare = report.write([folder, second])
    assert compare.name == "report-compare.md"
    assert f"measured: {second.name}" in compare.read_text()
    assert (folder / "compare-decode_by_size.png").is_file()


def test_a_missing_contender_is_skipped_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setitem(contenders.FACTORIES, "simplejpeg", jpeg_fakes.missing)
    folder = suite.run(
        small_config(
            tmp_path,
            contenders=("turbojpeg", "simplejpeg"),
            qualities=(95,),
            sizes={"96x54": (96, 54)},
        )
    )
    provenance = json.loads((folder / "provenance.json").read_text())
    assert provenance["skipped"] == {
        "simplejpeg": "simplejpeg is not installed (pip install simplejpeg)"
    }
    assert "simplejpeg" not in set(pd.read_csv(folder / "rounds.csv")["contender"])
    text = report.write([folder]).read_text()
    assert "**skipped simplejpeg**: simplejpeg is not installed" in text


def test_a_contender_returning_wrong_pixels_is_flagged(tmp_path, monkeypatch):
    monkeypatch.setitem(contenders.FACTORIES, "broken", jpeg_fakes.upside_down)
    # 192x108 at q95 is well above the thresholds for a correct codec.
    folder = suite.run(
        small_config(
            tmp_path,
            contenders=("turbojpeg", "broken"),
            qualities=(95,),
            sizes={"192x108": (192, 108)},
        )
    )
    quality = pd.read_csv(folder / "quality.csv")
    assert quality[quality["contender"] == "broken"]["flagged"].all()
    assert not quality[quality["contender"] == "turbojpeg"]["flagged"].any()
    text = report.write([folder]).read_text()
    assert "flagged cells" in text
    assert "| broken" in text


@pytest.fixture
def ctrl_c_raises():
    """SIGINT raises KeyboardInterrupt here, as in a terminal. Python installs that
    handler only when SIGINT was not ignored at its start, and a shell without job
    control starts a background job (a CI runner's, say) with SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_keeps_what_was_measured(tmp_path, monkeypatch):
    """Ctrl-C (a SIGINT to the suite, from a contender's process during the timed
    rounds) keeps what was measured, and the processes are closed."""
    monkeypatch.setitem(contenders.FACTORIES, "interrupting", jpeg_fakes.interrupting)
    before = set(multiprocessing.active_children())
    folder = suite.run(small_config(tmp_path, contenders=("turbojpeg", "interrupting"), rounds=5))
    assert set(multiprocessing.active_children()) <= before
    provenance = json.loads((folder / "provenance.json").read_text())
    assert provenance["interrupted"] is True
    rounds = pd.read_csv(folder / "rounds.csv")
    assert 0 < len(rounds) < 2 * 2 * 4 * 5  # sizes x qualities x cells x rounds
    assert "interrupted (Ctrl-C" in report.write([folder]).read_text()


def test_the_progressive_encoder_is_timed_for_encode_only(bgr):
    """jpegli's coding options on our encoder: progressive (SOF2), optimized tables, so
    smaller than our baseline at the same quality; its decode is turbojpeg's, not
    timed twice."""
    contender = contenders.make(contenders.OURS_PROGRESSIVE)
    assert contender.operations == ("encode",)
    assert contender.rate_distortion
    progressive, baseline = contender.encode(bgr, 80), contenders.make("turbojpeg").encode(bgr, 80)
    assert b"\xff\xc2" in progressive
    assert b"\xff\xc2" not in baseline
    assert len(progressive) < len(baseline)
    _check_roundtrip(contender, bgr)


def test_a_native_run_compares_sizes_in_bins_and_jpegli_on_equal_terms(tmp_path):
    photos = datasets.embedded_photos(3)
    folder = suite.run(small_config(
        tmp_path, photos=photos, sizes=None, qualities=(80,),
        contenders=("turbojpeg", "jpegli", contenders.OURS_PROGRESSIVE)))  # fmt: skip
    provenance = json.loads((folder / "provenance.json").read_text())
    assert provenance["sizes"] == datasets.NATIVE
    bins = datasets.size_bins(photos)
    for image, photo in zip(provenance["images"], photos, strict=True):
        assert image["size"] == bins[photo.name]
        assert image["resample"] == f"native {photo.rgb.shape[1]}x{photo.rgb.shape[0]}"
    rounds = pd.read_csv(folder / "rounds.csv")
    timed = rounds.groupby("contender")["operation"].unique().map(sorted).to_dict()
    assert timed[contenders.OURS_PROGRESSIVE] == ["encode"]
    assert set(pd.read_csv(folder / "rate_distortion.csv")["contender"]) == {
        "turbojpeg", "jpegli", contenders.OURS_PROGRESSIVE}  # fmt: skip
    text = report.write([folder]).read_text()
    assert "upscaled" not in text
    assert "| size bin" in text
    assert f"jpegli / {contenders.OURS_PROGRESSIVE}" in text
    assert "progressive + optimized, jpegli's own options" in text
    smallest, largest = sorted(set(bins.values()), key=datasets.size_order)[:: len(bins) - 1]
    claim = next(line for line in text.splitlines() if "decode faster per pixel" in line)
    assert f"{largest} / {smallest}" in claim
    assert re.search(r"\| [0-9.]+x \[[0-9.]+, [0-9.]+\]", claim)


def test_command_line_with_a_folder_of_photos(tmp_path, bgr):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(bgr[:, :, ::-1]).save(photos / "a.png")
    Image.fromarray(bgr[::-1, :, ::-1]).save(photos / "b.jpg", quality=90)
    (photos / "notes.txt").write_text("not an image")
    (photos / "broken.png").write_bytes(b"\x89PNG garbage")
    out = tmp_path / "out"
    code = cli(
        [
            "jpeg",
            "--images",
            str(photos),
            "--sizes",
            "64x36",
            "--qualities",
            "90",
            "--contenders",
            "turbojpeg,pillow",
            "--rounds",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    provenance = json.loads((out / "provenance.json").read_text())
    assert [i["photo"] for i in provenance["images"]] == ["a", "b"]
    assert (out / "report.md").is_file()
    assert cli(["report", str(out)]) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["jpeg", "--images", "/nonexistent"], "is not a folder"),
        (["jpeg", "--contenders", "turbojpeg,nope"], "unknown contender(s) nope"),
        (["report", "/nonexistent"], "is not a results folder"),
    ],
)
def test_command_line_errors_name_the_problem(argv, message, capsys):
    assert cli(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["jpeg", "--sizes", "480by270"], ["jpeg", "--qualities", "0,95"]])
def test_bad_options_are_refused(argv, capsys):
    with pytest.raises(SystemExit):
        cli(argv)
    assert "error" in capsys.readouterr().err
