"""The measurement kit: its interval covers what it claims to, its verdicts keep "within
noise" apart from a win, and bad samples are refused with a reason."""

import numpy as np
import pytest

from benchmarks import measure


def test_the_median_interval_covers_the_true_median_about_95_percent_of_the_time():
    """A seeded simulation: 400 experiments of 15 lognormal timings each (right-skewed,
    as timings are), against the distribution's known median."""
    rng = np.random.default_rng(7)
    true_median = np.exp(0.0)  # lognormal(0, 0.3): median e^0
    hits = 0
    experiments = 400
    for i in range(experiments):
        samples = rng.lognormal(0.0, 0.3, size=15)
        s = measure.summarize(samples, seed=i)
        hits += s.low <= true_median <= s.high
    coverage = hits / experiments
    assert 0.90 <= coverage <= 0.99, coverage


def test_the_ratio_interval_covers_the_true_ratio():
    rng = np.random.default_rng(11)
    hits = 0
    for i in range(300):
        ours = rng.lognormal(np.log(0.8), 0.2, size=12)
        theirs = rng.lognormal(0.0, 0.2, size=12)
        r = measure.ratio(ours, theirs, seed=i)
        hits += r.low <= 0.8 <= r.high
    assert 0.88 <= hits / 300 <= 0.995, hits / 300


def test_verdicts_have_three_states():
    tight_win = measure.Ratio(0.90, 0.88, 0.92)
    straddles = measure.Ratio(1.02, 0.97, 1.08)
    tight_loss = measure.Ratio(1.20, 1.15, 1.25)
    assert measure.verdict(tight_win, 1.0) == "met"
    assert measure.verdict(straddles, 1.0) == "within noise"
    assert measure.verdict(tight_loss, 1.0) == "missed"
    # higher is better (a speed-up, frames per second)
    assert measure.verdict(tight_loss, 1.1, lower_is_better=False) == "met"
    assert measure.verdict(tight_win, 1.0, lower_is_better=False) == "missed"


def test_a_median_below_the_target_by_noise_alone_is_not_a_win():
    """The same distribution on both sides: whatever the medians say, the interval of
    their ratio straddles 1, so the verdict is within noise, not met."""
    rng = np.random.default_rng(3)
    a, b = rng.lognormal(0, 0.25, 9), rng.lognormal(0, 0.25, 9)
    assert measure.verdict(measure.ratio(a, b), 1.0) == "within noise"


def test_one_sample_claims_no_spread():
    s = measure.summarize([0.25])
    assert (s.median, s.low, s.high, s.n) == (0.25, 0.25, 0.25, 1)


def test_the_same_samples_give_the_same_interval():
    samples = [1.0, 1.2, 0.9, 1.1, 1.05, 0.95, 1.3]
    assert measure.summarize(samples) == measure.summarize(samples)


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [[1.0, 2.0]]])
def test_bad_samples_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError, match="sample"):
        measure.summarize(bad)


def test_a_ratio_over_a_zero_median_is_refused():
    with pytest.raises(ValueError, match="median of b must be positive"):
        measure.ratio([1.0, 2.0], [0.0, 0.0])


def test_load_names_the_load_average_and_the_cpus():
    found = measure.load()
    assert len(found["load_average"]) == 3
    assert found["cpu_affinity"]
    assert found["cpu_count"] >= 1


def test_one_cell_is_the_plain_summary_and_ratio():
    rng = np.random.default_rng(5)
    a, b = rng.lognormal(0, 0.2, 8), rng.lognormal(0.1, 0.2, 6)
    assert measure.summarize_cells([a]) == measure.summarize(a)
    assert measure.ratio_of_cells([(a, b)]) == measure.ratio(a, b)


def test_over_cells_the_interval_is_noise_not_the_spread_between_cells():
    """Three photos whose times differ fivefold, each measured tightly: the median over
    them is known to within the noise, where pooling their samples is not."""
    rng = np.random.default_rng(9)
    cells = [rng.normal(level, 0.01, 9) for level in (1.0, 3.0, 5.0)]
    over = measure.summarize_cells(cells)
    assert over.n == 27
    assert 2.95 < over.low <= over.median <= over.high < 3.05
    pooled = measure.summarize(np.concatenate(cells))
    assert pooled.high - pooled.low > 10 * (over.high - over.low)
    # the same for ratios: every photo 2x apart, whatever its own level
    ratio = measure.ratio_of_cells([(2 * c, c[::-1]) for c in cells])
    assert 1.95 < ratio.low <= ratio.value <= ratio.high < 2.05


def test_no_cells_is_refused():
    with pytest.raises(ValueError, match="at least one cell"):
        measure.summarize_cells([])
    with pytest.raises(ValueError, match="at least one cell"):
        measure.ratio_of_cells([])
