"""The report kit: claims judged the same way in every report, cells summarised with
their intervals, grouped bars with whiskers, the footer and the provenance section."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

from benchmarks import measure, results
from benchmarks import report_kit as kit


def test_a_verdict_is_within_noise_when_the_interval_straddles_the_target():
    claim = kit.Claim("ours / theirs", 1.0)
    straddles = measure.Ratio(1.02, 0.97, 1.08)
    assert claim.judged(straddles) == {"target": "<= 1", "measured": "1.020x [0.970, 1.080]",
                                       "verdict": "within noise"}  # fmt: skip
    assert claim.inline(straddles) == "1.020x [0.970, 1.080] (within noise)"
    # the same from samples: one distribution on both sides, whatever the medians say
    rng = np.random.default_rng(1)
    same = measure.ratio(rng.lognormal(0, 0.2, 9), rng.lognormal(0, 0.2, 9))
    assert claim.verdict(same) == "within noise"


@pytest.mark.parametrize(
    ("claim", "measured"),
    [
        (kit.Claim("ours / theirs, time", 1.05), measure.Ratio(1.20, 1.10, 1.31)),
        (kit.Claim("speed-up", 1.85, lower_is_better=False), measure.Ratio(1.6, 1.5, 1.7)),
    ],
    ids=["lower-is-better", "higher-is-better"],
)
def test_a_claim_whose_interval_is_entirely_past_the_target_is_missed(claim, measured):
    assert claim.verdict(measured) == "missed"
    assert claim.judged(measured, ": run")["verdict: run"] == "missed"
    # the same interval on the target's good side is met
    flipped = measure.Ratio(
        *(claim.target**2 / x for x in (measured.value, measured.high, measured.low))
    )
    assert claim.verdict(flipped) == "met"


def test_an_unmeasured_claim_says_so():
    claim = kit.Claim("x", 1.0, lower_is_better=False)
    assert claim.wants == ">= 1"
    assert claim.judged(None) == {"target": ">= 1", "measured": "not measured",
                                  "verdict": "not measured"}  # fmt: skip


def test_the_provenance_section_names_the_load_average_and_the_cpus():
    record = results.provenance("jpeg", ["python", "-m", "benchmarks", "jpeg"], 3)
    record["load"] = {"load_average": [1.5, 0.75, 0.5], "cpu_affinity": [0, 1, 2, 3, 6],
                      "cpu_count": 8}  # fmt: skip
    text = kit.provenance_section(
        record, ["- 7 rounds per cell"], {"turbojpeg": "libjpeg-turbo 3.1.3"}
    )
    lines = text.splitlines()
    assert lines[0] == "## Provenance"
    assert ("- load average (1, 5, 15 min) as the run ended: 1.5, 0.75, 0.5; CPU affinity: "
            "0-3, 6 (5 of 8 CPUs)") in lines  # fmt: skip
    assert "- command: `python -m benchmarks jpeg`" in lines
    assert "- seed: 3" in lines
    assert "- mode: full" in lines
    assert lines[-2:] == ["- 7 rounds per cell", "- turbojpeg loaded: libjpeg-turbo 3.1.3"]
    older = kit.provenance_lines({"seed": 0})
    assert "- load average: not recorded (a run from before runs kept it)" in older


def test_summaries_over_cells_give_the_median_of_the_medians():
    rows = pd.DataFrame({
        "contender": ["a"] * 6 + ["b"] * 3, "photo": ["p", "p", "p", "q", "q", "q", "p", "p", "p"],
        "seconds": [1.0, 1.1, 0.9, 3.0, 3.1, 2.9, 5.0, 5.0, 5.0]})  # fmt: skip
    table = kit.summaries(rows, ["contender"], over=["photo"]).set_index("contender")
    assert table.loc["a", "median"] == pytest.approx(2.0)  # the middle of 1.0 and 3.0
    assert (table.loc["a", "n"], table.loc["a", "cells"]) == (6, 2)
    assert table.loc["b", ["median", "low", "high"]].tolist() == [5.0, 5.0, 5.0]
    assert kit.fmt_summary(table.loc["b"], 1e3, 1) == "5000.0 [5000.0, 5000.0]"


def test_pairs_leave_out_cells_lacking_a_side():
    rows = pd.DataFrame({"contender": ["a", "b", "a", "a"], "photo": ["p", "p", "q", "q"],
                         "seconds": [2.0, 1.0, 4.0, 4.0]})  # fmt: skip
    assert kit.paired(rows, "contender", "a", "b", ["photo"]) == [([2.0], [1.0])]
    assert kit.ratio_over([]) is None
    assert kit.ratio_over([([2.0], [1.0])]) == measure.Ratio(2.0, 2.0, 2.0)


def test_grouped_bars_have_their_interval_as_whiskers():
    table = pd.DataFrame({"what": ["x", "x", "y"], "reader": ["a", "b", "a"],
                          "median": [2.0, 3.0, 4.0], "low": [1.5, 2.5, 3.0],
                          "high": [2.5, 4.0, 4.5]})  # fmt: skip
    fig, ax = plt.subplots()
    kit.bars(ax, table, "what", "reader", scale=10)
    heights = sorted((bar.get_x(), bar.get_height()) for bar in ax.patches)
    assert [h for _, h in heights] == [20.0, 30.0, 40.0]  # x: a, b; y: a (no bar for y, b)
    whiskers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    spans = sorted(tuple(seg[:, 1]) for c in whiskers for seg in c.lines[2][0].get_segments())
    assert spans == [(15.0, 25.0), (25.0, 40.0), (30.0, 45.0)]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y"]
    plt.close(fig)


def test_the_footer_says_what_the_bars_are_and_the_load(tmp_path):
    record = {
        "cpu": "CPU",
        "seed": 4,
        "load": {"load_average": [0.5, 0.4, 0.3], "cpu_affinity": [0, 1]},
    }
    fig, _ = plt.subplots(figsize=(12, 3))
    kit.footer(fig, record, "q95", over="the photos")
    text = fig.texts[0].get_text()
    assert "seed 4 · load 0.5, 0.4, 0.3 on CPUs 0-1 · q95" in text
    assert text.endswith(
        "median over the photos of each one's median, bootstrap 95% interval (noise only)"
    )
    plt.close(fig)


def test_a_figure_not_drawn_this_run_leaves_no_file_of_an_earlier_run(tmp_path):
    stale = tmp_path / "thread_type.png"
    stale.write_bytes(b"an earlier run's figure")
    assert kit.drawn(stale, None) is None
    assert not stale.exists()
    kept = tmp_path / "latency.png"
    kept.write_bytes(b"drawn now")
    assert kit.drawn(kept, kept) == kept
    assert kept.read_bytes() == b"drawn now"
    assert kit.drawn(tmp_path / "never.png", None) is None  # nothing there: no error
