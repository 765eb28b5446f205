"""Tests for bench/stats.py: medians, bootstrap intervals, ratios, noise and verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench import stats
from bench.results import model


def test_pooled_median_pools_every_run() -> None:
    """The median is taken over the epochs of all runs together, not over run medians."""
    assert stats.pooled_median([[1.0, 2.0, 3.0], [4.0, 5.0]]) == 3.0
    assert stats.pooled_median([[10.0], [1.0, 2.0, 3.0]]) == 2.5


def test_empty_runs_are_dropped_and_no_values_is_an_error() -> None:
    """Runs without measured epochs are ignored; no values at all is refused."""
    assert stats.pooled_median([[], [2.0, 4.0]]) == 3.0
    with pytest.raises(ValueError, match="no measured values"):
        stats.pooled_median([[], []])


def test_non_finite_values_are_refused() -> None:
    """NaN or infinite epoch times never reach a median."""
    with pytest.raises(ValueError, match="finite"):
        stats.median_interval([[1.0, math.nan]])


def test_constant_values_give_a_zero_width_interval() -> None:
    """When every epoch took the same time, the epochs' own interval is that time exactly, and
    the reported one is the allowance for other processes alone (+-1.96 x 1.2 %)."""
    interval = stats.median_interval([[2.5, 2.5, 2.5], [2.5, 2.5]], spread=0.0)
    assert (interval.value, interval.low, interval.high) == (2.5, 2.5, 2.5)
    single = stats.median_interval([[2.5, 2.5, 2.5]])
    assert single.value == 2.5
    assert single.low == pytest.approx(2.5 * math.exp(-1.96 * stats.PROCESS_SPREAD), rel=0.005)
    assert single.high == pytest.approx(2.5 * math.exp(1.96 * stats.PROCESS_SPREAD), rel=0.005)


def test_interval_is_deterministic_and_seeded() -> None:
    """The same data give the same interval every time; another seed gives another one."""
    groups = [[10.1, 9.8, 10.4], [10.9, 10.2, 10.0], [9.7, 10.3, 10.6]]
    first = stats.median_interval(groups)
    assert stats.median_interval(groups) == first
    again = stats.bootstrap_medians(groups, 1000, np.random.default_rng(1))
    assert np.array_equal(again, stats.bootstrap_medians(groups, 1000, np.random.default_rng(1)))
    assert not np.array_equal(
        again, stats.bootstrap_medians(groups, 1000, np.random.default_rng(2))
    )
    assert first.low <= first.value <= first.high
    assert first.confidence == 0.95


def test_single_run_matches_scipy_percentile_bootstrap() -> None:
    """With one run the scheme is the plain percentile bootstrap that scipy implements."""
    from scipy.stats import bootstrap

    values = np.random.default_rng(3).lognormal(0.0, 0.2, 25)
    ours = stats.median_interval([values], spread=0.0)
    theirs = bootstrap((values,), np.median, method="percentile", n_resamples=10_000, rng=0)
    low, high = theirs.confidence_interval
    assert ours.low == pytest.approx(low, rel=0.02)
    assert ours.high == pytest.approx(high, rel=0.02)


def _coverage(hierarchical: bool, trials: int = 200) -> float:
    """Share of simulated measurements whose 95 % interval holds the true median, 10."""
    rng = np.random.default_rng(7)
    hits = 0
    for seed in range(trials):
        # Three runs of five epochs; each run is offset as a whole (a slow process), as here.
        groups = [10.0 + o + rng.normal(0.0, 0.3, 5) for o in rng.normal(0.0, 0.2, 3)]
        data = groups if hierarchical else [np.concatenate(groups)]
        interval = stats.median_interval(data, resamples=1000, seed=seed, spread=0.0)
        hits += interval.contains(10.0)
    return hits / trials


def test_interval_covers_the_true_median_about_95_percent_of_the_time() -> None:
    """With runs resampled first, the 95 % interval holds the true median in about 90 % or more of trials."""
    assert _coverage(hierarchical=True) >= 0.85


def test_resampling_runs_covers_better_than_pooling_epochs() -> None:
    """Ignoring which run an epoch came from gives a too-narrow interval that misses more often."""
    assert _coverage(hierarchical=True) > _coverage(hierarchical=False)


def test_between_run_spread_widens_the_interval() -> None:
    """Runs that disagree give a wider interval than the same epochs all in one run would suggest."""
    runs = [[10.0, 10.1, 10.0], [12.0, 12.1, 12.0], [14.0, 14.1, 14.0]]
    hierarchical = stats.median_interval(runs)
    assert hierarchical.high - hierarchical.low >= 2.0


def test_unequal_run_lengths_are_resampled_correctly() -> None:
    """Runs of different lengths (a failed run's partial epochs) still give a sound interval."""
    interval = stats.median_interval([[5.0], [5.0, 5.0, 5.0, 5.0], [5.0, 5.0]], spread=0.0)
    assert (interval.low, interval.high) == (5.0, 5.0)
    mixed = stats.median_interval([[1.0, 2.0], [3.0, 4.0, 5.0, 6.0]], spread=0.0)
    assert 1.0 <= mixed.low <= mixed.value <= mixed.high <= 6.0


def test_bootstrap_medians_stay_within_the_data() -> None:
    """Every resampled median lies between the smallest and largest measured value."""
    groups = [[3.0, 9.0], [4.0, 8.0, 6.0], [5.0]]
    medians = stats.bootstrap_medians(groups, 5000)
    assert medians.shape == (5000,)
    assert medians.min() >= 3.0
    assert medians.max() <= 9.0


def test_batches_do_not_change_the_distribution() -> None:
    """Resamples drawn in several batches have the same centre as in one batch."""
    groups = [np.linspace(1.0, 2.0, 50) for _ in range(4)]
    medians = stats.bootstrap_medians(groups, 20_000)  # 50 x 4 values: several batches
    assert float(np.median(medians)) == pytest.approx(1.5, abs=0.02)


def test_ratio_of_exact_multiples() -> None:
    """A machine twice as fast in every epoch is 2x faster with a zero-width interval."""
    ratio = stats.ratio_interval([[4.0, 4.0], [4.0]], [[2.0, 2.0, 2.0]], spread=0.0)
    assert (ratio.value, ratio.low, ratio.high) == (2.0, 2.0, 2.0)
    assert stats.verdict(ratio) == "2.00x faster, 95 % CI 2.00 to 2.00"


def _single_runs(rng: np.random.Generator, epochs: int) -> list[list[float]]:
    """One run of a simulated machine: its process's level is off by N(0, 1.1 %) (as measured
    here between processes, `stats.PROCESS_SPREAD`), its epochs by N(0, 0.3 %) around that."""
    level = 10.0 * math.exp(rng.normal(0.0, 0.011))
    return [list(level * np.exp(rng.normal(0.0, 0.003, epochs)))]


def test_the_allowance_for_other_processes_makes_single_runs_honest() -> None:
    """Single runs whose epochs agree closely but whose processes differ: without the
    allowance their interval rarely holds the true median (10) and A/A pairs are mostly called
    different; with it, it holds it in about 95 % of trials and few pairs are called different."""
    rng = np.random.default_rng(11)
    trials = [(_single_runs(rng, 2), _single_runs(rng, 2)) for _ in range(120)]
    for spread, least, most in ((0.0, 0.0, 0.5), (stats.PROCESS_SPREAD, 0.9, 1.0)):
        held = np.mean([
            stats.median_interval(a, resamples=2000, spread=spread).contains(10.0)
            for a, _ in trials
        ])  # fmt: skip
        called = np.mean([
            not stats.ratio_interval(a, b, resamples=2000, spread=spread).contains(1.0)
            for a, b in trials
        ])  # fmt: skip
        assert least <= held <= most
        if spread:
            assert called <= 0.06
        else:
            assert called >= 0.5


def _one_epoch_run(rng: np.random.Generator, cv: float) -> stats.Run:
    """One run of one measured epoch, as a quick VGG-16 run on a CPU: its process's level off
    by N(0, 1.1 %), six steps of 8.6 s and 2 s of validation each off by N(0, ``cv``)."""
    level = math.exp(rng.normal(0.0, 0.011))
    steps = [float(x) for x in 8.6 * level * (1 + rng.normal(0.0, cv, 6))]
    validation = 2.0 * level * (1 + rng.normal(0.0, cv))
    epoch = {"step_s": steps, "train_s": sum(steps), "validation_s": validation}
    return stats.Run((model.steady_seconds(epoch),), *model.step_error([epoch]))


def test_one_epoch_runs_are_honest_through_their_steps() -> None:
    """Single runs of one epoch whose steps vary by 3 %: resampled through their steps, the
    interval holds the true median (53.6 s) in about 95 % of trials and few A/A pairs are called
    different; the allowance alone (the epoch as a lone value) held it in about 80 %."""
    rng = np.random.default_rng(12)
    trials = [(_one_epoch_run(rng, 0.03), _one_epoch_run(rng, 0.03)) for _ in range(120)]
    truth = 6 * 8.6 + 2.0
    for by_steps, least, most in ((True, 0.92, 1.0), (False, 0.0, 0.88)):
        sides = [
            (a, b) if by_steps else (stats.Run(a.seconds), stats.Run(b.seconds)) for a, b in trials
        ]
        assert all(a.by_steps == by_steps for a, _ in sides)
        held = np.mean(
            [stats.median_interval([a], resamples=2000).contains(truth) for a, _ in sides]
        )
        called = np.mean([
            not stats.ratio_interval([a], [b], resamples=2000).contains(1.0) for a, b in sides
        ])  # fmt: skip
        assert least <= held <= most
        assert (called <= 0.06) if by_steps else (called >= 0.1)


def test_a_run_is_resampled_through_its_steps_only_below_six_epochs() -> None:
    """A run of fewer than `stats.MIN_EPOCHS` epochs with a step error is drawn as its median
    times a Student-t factor: one epoch at 1 % with 4 degrees of freedom is +-2.78 % from its
    own steps (t's 97.5th percentile). Six epochs or more are resampled by their epochs, the step
    error unused; a run without one is resampled as plain values, as before."""
    one = stats.Run((10.0,), 0.01, 4)
    assert one.by_steps
    own = stats.median_interval([one], spread=0.0)
    assert own.value == 10.0
    assert stats.half_width(own) == pytest.approx(0.0278, rel=0.05)
    long = stats.Run((10.0, 10.1, 9.9, 10.0, 10.05, 9.95), 0.05, 20)
    assert not long.by_steps
    assert stats.median_interval([long]) == stats.median_interval([list(long.seconds)])
    plain = stats.Run((10.0, 10.2))
    assert not plain.by_steps
    assert stats.median_interval([plain]) == stats.median_interval([[10.0, 10.2]])
    assert stats.half_width(stats.median_interval([stats.Run((10.0, 10.2), 0.01, 8)])) > (
        stats.half_width(stats.median_interval([plain]))
    )


def test_the_allowance_widens_a_ratio_by_both_sides_spread() -> None:
    """Two constant single runs, one twice as fast: the ratio's interval is 2 x
    exp(+-1.96 x sqrt(2) x 1.2 %), both processes' allowance together."""
    ratio = stats.ratio_interval([[4.0, 4.0, 4.0]], [[2.0, 2.0, 2.0]])
    margin = 1.96 * math.sqrt(2) * stats.PROCESS_SPREAD
    assert ratio.value == 2.0
    assert ratio.low == pytest.approx(2.0 * math.exp(-margin), rel=0.005)
    assert ratio.high == pytest.approx(2.0 * math.exp(margin), rel=0.005)


def test_process_variance_is_the_spread_the_epochs_do_not_explain() -> None:
    """Runs at levels 1 % apart with tight epochs give about that spread; runs that differ no
    more than their epochs do give none; one run is refused."""
    levels = [10.0, 10.1, 9.9, 10.05, 9.95]
    runs = [[x * 0.999, x, x * 1.001] for x in levels]
    variance, df = stats.process_variance(runs)
    assert df == 4
    assert math.sqrt(variance) == pytest.approx(0.0079, rel=0.1)
    noisy = [[9.0, 11.0, 10.0], [10.0, 9.0, 11.0], [11.0, 10.0, 9.0]]
    assert stats.process_variance(noisy) == (0.0, 2)
    with pytest.raises(ValueError, match="at least 2 runs"):
        stats.process_variance([[1.0, 2.0]])


def test_ratio_interval_surrounds_the_ratio_of_medians() -> None:
    """The ratio is baseline median over other median, inside its own interval."""
    base = [[12.0, 12.2, 11.9], [12.4, 12.1, 12.3], [11.8, 12.0, 12.6]]
    other = [[8.0, 8.1, 7.9], [8.2, 8.0, 7.8], [7.9, 9.2, 8.0]]
    ratio = stats.ratio_interval(base, other)
    assert ratio.value == pytest.approx(12.1 / 8.0)
    assert 1.0 < ratio.low < ratio.value < ratio.high
    assert stats.ratio_interval(base, other) == ratio


def test_coefficient_of_variation() -> None:
    """CV is the sample standard deviation over the mean; undefined below two epochs."""
    assert stats.coefficient_of_variation([2.0, 2.0, 2.0]) == 0.0
    assert stats.coefficient_of_variation([0.9, 1.1]) == pytest.approx(math.sqrt(0.02))
    assert math.isnan(stats.coefficient_of_variation([1.0]))


def test_noisy_flag_is_above_five_percent() -> None:
    """A run is noisy above 5 % CV, not at or below it, and never with one epoch."""
    assert stats.is_noisy([7.9, 9.2, 8.0])  # CV 8.6 %
    assert not stats.is_noisy([12.0, 12.2, 11.9])  # CV 1.3 %
    assert not stats.is_noisy([5.0])
    assert stats.is_noisy([1.0, 1.1], threshold=0.05)
    assert not stats.is_noisy([1.0, 1.1], threshold=0.1)


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (stats.Interval(1.52, 1.47, 1.58), "1.52x faster, 95 % CI 1.47 to 1.58"),
        (
            stats.Interval(0.97, 0.90, 1.05),
            "no clear difference (0.97x, 95 % CI 0.90 to 1.05)",
        ),
        (stats.Interval(0.5, 0.4, 0.625), "2.00x slower, 95 % CI 1.60 to 2.50"),
        (stats.Interval(1.0, 1.0, 1.0), "no clear difference (1.00x, 95 % CI 1.00 to 1.00)"),
        (stats.Interval(1.2, 1.1, 1.3, 0.9), "1.20x faster, 90 % CI 1.10 to 1.30"),
    ],
)
def test_verdict_wording(interval: stats.Interval, expected: str) -> None:
    """The verdict says faster, slower or no clear difference, with the interval."""
    assert stats.verdict(interval) == expected


def test_bad_confidence_is_refused() -> None:
    """A confidence outside (0, 1) is a programming error."""
    with pytest.raises(ValueError, match="confidence"):
        stats.median_interval([[1.0, 2.0]], confidence=95)
