"""The shared figure pieces: one palette, the system footer, the save step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from benchmarks import figures
from benchmarks.jpeg import contenders
from benchmarks.video import readers

# The names that share a figure: JPEG contenders with tjbench (jpeg and micro), and readers.
JPEG_NAMES = tuple(dict.fromkeys((*contenders.JPEG_SUITE, *contenders.DATALOADER, "tjbench")))
READER_NAMES = tuple(readers.READERS)


@pytest.mark.parametrize("names", [JPEG_NAMES, READER_NAMES], ids=["contenders", "readers"])
def test_names_that_share_a_figure_have_distinct_colours(names):
    colours = [figures.color(n) for n in names]
    assert len(set(colours)) == len(names), dict(zip(names, colours, strict=True))


def test_a_library_keeps_its_colour_as_contender_and_as_reader():
    assert figures.color("opencv-wheel") in {figures.color(n) for n in JPEG_NAMES}
    assert figures.color("opencv-wheel") in {figures.color(n) for n in READER_NAMES}
    assert figures.color("turbojpeg") == figures.color("indexed")  # ours, red in every figure


def test_an_unknown_name_gets_the_same_spare_colour_in_every_process():
    names = ["a-new-reader", "off-by-one", "broken"]
    here = [figures.color(n) for n in names]
    assert all(c in figures.SPARE_COLORS for c in here)
    code = f"from benchmarks import figures; print([figures.color(n) for n in {names!r}])"
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=Path(__file__).parents[2],
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == repr(here)


def test_the_footer_names_the_system_and_save_writes_the_file(tmp_path):
    provenance = {
        "cpu": "Test CPU 3000",
        "commit_info": {"id": "0123456789abcdef", "dirty": True},
        "finished": "2026-01-02T03:04:05+00:00",
    }
    assert figures.system_details(provenance) == [
        "Test CPU 3000",
        "commit 0123456789ab (dirty)",
        "2026-01-02",
    ]
    assert figures.system_details({}) == ["unknown CPU", "commit ?", "?"]
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1], color=figures.color("turbojpeg"))
    figures.footer(fig, *figures.system_details(provenance), "seed 0")
    assert [t.get_text() for t in fig.texts] == [
        "Test CPU 3000 · commit 0123456789ab (dirty) · 2026-01-02 · seed 0"
    ]
    path = figures.save(fig, tmp_path / "f.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert fig.number not in plt.get_fignums()  # closed


def test_a_long_footer_wraps_to_the_figure_and_keeps_its_room(tmp_path):
    parts = [f"detail number {i} of a long provenance" for i in range(12)]
    fig, ax = plt.subplots(figsize=(4, 3))
    figures.footer(fig, *parts)
    lines = fig.texts[0].get_text().split("\n")
    assert len(lines) > 2
    assert " · ".join(lines) == " · ".join(parts)
    figures.save(fig, tmp_path / "f.png")
    assert ax.get_position().y0 > (0.03 + len(lines) * 7 * 1.2 / 72) / 3  # above the footer
