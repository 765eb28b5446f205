"""Tests for bench/stats.py: medians, bootstrap intervals, ratios, noise and verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench import stats


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
    """When every epoch took the same time, the interval is that time exactly."""
    interval = stats.median_interval([[2.5, 2.5, 2.5], [2.5, 2.5]])
    assert (interval.value, interval.low, interval.high) == (2.5, 2.5, 2.5)


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
    ours = stats.median_interval([values])
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
        hits += stats.median_interval(data, resamples=1000, seed=seed).contains(10.0)
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
    interval = stats.median_interval([[5.0], [5.0, 5.0, 5.0, 5.0], [5.0, 5.0]])
    assert (interval.low, interval.high) == (5.0, 5.0)
    mixed = stats.median_interval([[1.0, 2.0], [3.0, 4.0, 5.0, 6.0]])
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
    ratio = stats.ratio_interval([[4.0, 4.0], [4.0]], [[2.0, 2.0, 2.0]])
    assert (ratio.value, ratio.low, ratio.high) == (2.0, 2.0, 2.0)
    assert stats.verdict(ratio) == "2.00x faster, 95 % CI 2.00 to 2.00"


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
