"""Statistics of epoch times: medians, bootstrap intervals, ratios, noise and plain verdicts.

Only NumPy; no pandas, no TensorFlow, so the docs, `bench.readers.comparison` and CI can all call it.

The data are the measured epochs of workload runs (warm-up epochs left out), one array per run.
A run is one workload in one fresh worker process (one repeat of one results file), so runs are
the independent units: epochs inside a run share that process's memory layout, caches and
thermal state, and on a busy machine a whole run can be slow.

Bootstrap scheme
----------------
Two-level (hierarchical) percentile bootstrap, seeded. Each resample draws as many runs as there
are, with replacement; from each drawn run it draws as many epochs as that run has, with
replacement, scaled by that run's own factor ``exp(PROCESS_SPREAD * z)``, ``z`` standard
normal; and takes the median of the pooled draws. The 2.5th and 97.5th percentiles of 10,000
such medians give the 95 % interval. Resampling runs first keeps the run-to-run spread the runs
show in the interval; the factor allows for the spread between processes that one run's epochs
cannot show (`PROCESS_SPREAD`), so a single run's interval speaks for the machine, not only for
its process. ``spread=0`` gives the epochs' own interval.

A run of fewer than `MIN_EPOCHS` measured epochs cannot hold a 95 % interval by resampling its
epochs; where its steps were timed it is drawn instead as its median times its own Student-t
factor, sized by the spread of its steps (`Run`), and scaled by the allowance as any run is.

The ratio of two medians is resampled the same way, each side independently, and its interval
is the percentile interval of the resampled ratios.

Each side's resamples depend on that side's data alone: the random stream is derived from the
values (`stream_of`), not from the side's role. So a machine's resamples are drawn once and
stored (the Compare page fetches them, `bench.report.compare_data`), and any pair's interval is
the same percentiles (`percentile`, a plain linear interpolation the page repeats exactly) of
the same elementwise ratios, whoever computes it.

How honest the interval is, simulated without the allowance (400 trials, true median known):
three runs of five epochs, each run offset by N(0, 0.2) s and each epoch by N(0, 0.3) s around
10 s, the 95 % interval held the true median in 90 % of trials (80 % when the epochs were pooled
and the runs ignored); ten runs, 96 %. With three runs whose offsets dwarf the epoch spread
(0.5 s against 0.1 s) it fell to 75 %: with few runs the interval is optimistic, and more
repeats are the cure. Single runs of 2 epochs whose processes differ by 1.1 % and epochs by
0.3 %: 13 % without the allowance, 98 % with it (`tests/test_stats.py`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

CONFIDENCE = 0.95
"""Coverage of every interval, unless a caller asks for another."""
RESAMPLES = 10_000
"""Bootstrap resamples; the interval bounds move by well under 1 % between seeds at this size."""
SEED = 20_261_128
"""Seed of every bootstrap, so the same files always give the same interval."""
NOISY_CV = 0.05
"""A run whose measured epochs have a coefficient of variation above this is flagged noisy."""
PROCESS_SPREAD = 0.012
"""The standard deviation (as a share, on the log scale) of a run's level from one process to the
next on the same machine, which the epochs of one process cannot show: every interval allows for
it (`bootstrap_medians`). Estimated on a 2-vCPU Zen 4 VM from four back-to-back quick runs of each
workload (`scripts/benchmark_aa.py`, one-way random effects on the runs' steady epochs): 0.5 to
1.6 % per workload, 1.1 % pooled, rounded up; five runs in a later session gave 0.7 % pooled.
Within one process the quick VGG-16's epochs agreed to within 0.5 %, while the runs' medians
differed by up to 2.5 %."""
PRECISION_TARGET = 0.03
"""The half-width of the 95 % interval of a run's median (the allowance for other processes
included, as printed), as a share of the median, that the stopping rule aims for; wider is said
to be imprecise. The allowance alone gives +-2.4 %, so a run at this target has its own epochs
(or steps) within about +-1.8 %, and two such runs resolve a difference of about 5 % between
two machines."""

# Values held at once in one batch of resamples: bounds memory for 1000-epoch x 100-repeat data.
_BATCH_VALUES = 2_000_000

MIN_EPOCHS = 6
"""Measured epochs a run needs before its own epochs are its resampling unit. The percentile
bootstrap of a median undercovers on very few values: the true median lies outside the range of
n values with probability 2 x 0.5^n, 6.25 % for 5 values, 3.1 % for 6, so fewer than 6 cannot
hold a 95 % interval whatever the resamples say. A shorter run whose steps were timed is
resampled through them instead (`Run`)."""


@dataclass(frozen=True)
class Run:
    """One run's measured epoch times, with what its timed steps say of one epoch's error.

    A run with fewer than `MIN_EPOCHS` measured epochs and a finite ``step_error`` is resampled
    as its median times ``exp(step_error * t)``, ``t`` drawn from Student's t with ``step_df``
    degrees of freedom (``by_steps``): an epoch is the sum of its steps, so their spread gives
    one epoch's error even where only one epoch was measured (a quick VGG-16 epoch on a CPU
    takes a minute). Not dividing by the epochs' count keeps the error that of one epoch: a
    bound for the median of two to five. Any other run is resampled by its epochs.
    """

    seconds: tuple[float, ...]
    step_error: float = math.nan
    """The standard error of one epoch as a share of it, from its steps
    (`bench.results.model.step_error`); NaN where the steps were not timed."""
    step_df: int = 0
    """The degrees of freedom of ``step_error``."""

    @property
    def by_steps(self) -> bool:
        """Whether the run's steps, not its epochs, are its resampling unit."""
        return (
            0 < len(self.seconds) < MIN_EPOCHS
            and math.isfinite(self.step_error)
            and self.step_df > 0
        )

    def __len__(self) -> int:
        return len(self.seconds)

    def __iter__(self) -> Iterator[float]:
        return iter(self.seconds)

    def __array__(self, dtype: object = None, copy: object = None) -> npt.NDArray[np.float64]:
        return np.asarray(self.seconds, dtype=float)


Groups = Sequence[npt.ArrayLike | Run]
"""Measured epoch times, one array (or `Run`) per run (repeat)."""


@dataclass(frozen=True)
class Interval:
    """An estimate with its bootstrap confidence interval."""

    value: float
    """The point estimate (computed from the data, not from the resamples)."""
    low: float
    high: float
    confidence: float = CONFIDENCE

    def contains(self, x: float) -> bool:
        """True when ``x`` lies inside the interval, bounds included."""
        return self.low <= x <= self.high


def as_groups(groups: Groups) -> list[npt.NDArray[np.float64]]:
    """``groups`` as a list of 1-D float arrays, empty runs dropped.

    Raises
    ------
    ValueError
        When no value is left, or a value is not finite.
    """
    arrays = [a for a in (_values(g) for g in groups) if a.size]
    if not arrays:
        msg = "no measured values"
        raise ValueError(msg)
    if not all(np.isfinite(a).all() for a in arrays):
        msg = "measured values must be finite"
        raise ValueError(msg)
    return arrays


def _values(group: npt.ArrayLike | Run) -> npt.NDArray[np.float64]:
    return np.asarray(group, dtype=float).reshape(-1)


def _step_errors(groups: Groups) -> tuple[tuple[float, int] | None, ...]:
    """Per run that `as_groups` keeps, ``(step_error, step_df)`` where it is resampled by its
    steps (`Run.by_steps`), None where by its epochs."""
    return tuple(
        (g.step_error, g.step_df) if isinstance(g, Run) and g.by_steps else None
        for g in groups
        if _values(g).size
    )


def pooled_median(groups: Groups) -> float:
    """The median of every value of every run, pooled."""
    return float(np.median(np.concatenate(as_groups(groups))))


def _masked_medians(
    values: npt.NDArray[np.float64], counts: npt.NDArray[np.int_]
) -> npt.NDArray[np.float64]:
    """Row medians of ``values`` where only the first ``counts[i]`` sorted values are real.

    Padding is NaN, which ``np.sort`` puts last, so row ``i``'s real values are its first
    ``counts[i]`` after sorting; about 4x faster than ``np.nanmedian`` (10,000 rows of 12).
    """
    ordered = np.sort(values, axis=1)
    rows = np.arange(len(ordered))
    upper = ordered[rows, counts // 2]
    lower = ordered[rows, (counts - 1) // 2]
    medians: npt.NDArray[np.float64] = (upper + lower) / 2
    return medians


def bootstrap_medians(
    groups: Groups,
    resamples: int = RESAMPLES,
    rng: np.random.Generator | None = None,
    spread: float = 0.0,
) -> npt.NDArray[np.float64]:
    """Medians of ``resamples`` two-level bootstrap resamples (runs, then epochs in each run).

    Parameters
    ----------
    groups
        Measured epoch times, one array per run.
    resamples
        How many resampled medians to return.
    rng
        The random generator; a fresh one seeded with `SEED` when None.
    spread
        The between-process standard deviation to allow for (`PROCESS_SPREAD`; 0: none): each
        drawn run's epochs are scaled by its own factor ``exp(spread * z)``, ``z`` standard
        normal, as if the run had come from another process.

    Returns
    -------
    numpy.ndarray
        One median per resample.
    """
    rng = np.random.default_rng(SEED) if rng is None else rng
    arrays = as_groups(groups)
    errors = _step_errors(groups)
    by_steps = np.array([e is not None for e in errors])
    if by_steps.any():
        centres = np.array([np.median(a) for a in arrays])
        shares = np.array([e[0] if e else 0.0 for e in errors])
        dfs = np.array([e[1] if e else 1 for e in errors])
    sizes = np.array([a.size for a in arrays])
    runs, width = len(arrays), int(sizes.max())
    table = np.full((runs, width), np.nan)
    for i, a in enumerate(arrays):
        table[i, : a.size] = a
    columns = np.arange(width)
    # Runs of one file have the same epoch count: no padding, and np.median partitions (no sort).
    equal = bool((sizes == width).all())
    out = np.empty(resamples)
    batch = max(1, _BATCH_VALUES // (runs * width))
    for start in range(0, resamples, batch):
        b = min(batch, resamples - start)
        picked = rng.integers(0, runs, size=(b, runs))
        n = sizes[picked]
        # floor(u * n) is uniform over 0..n-1 for each drawn run, whatever its size.
        position = (rng.random((b, runs, width)) * n[..., None]).astype(np.intp)
        drawn = table[picked[..., None], position]
        if by_steps.any():
            # A run resampled by its steps: its median times its own Student-t factor.
            chosen = by_steps[picked]
            factor = np.exp(shares[picked] * rng.standard_t(dfs[picked]))
            drawn = np.where(chosen[..., None], (centres[picked] * factor)[..., None], drawn)
        if spread:
            drawn *= np.exp(spread * rng.standard_normal((b, runs)))[..., None]
        if equal:
            out[start : start + b] = np.median(drawn.reshape(b, -1), axis=1)
        else:
            drawn[columns >= n[..., None]] = np.nan
            out[start : start + b] = _masked_medians(drawn.reshape(b, -1), n.sum(axis=1))
    return out


def percentile(ordered: npt.NDArray[np.float64], q: float) -> float:
    """The ``q`` quantile of sorted ``ordered`` by linear interpolation between closest ranks
    (NumPy's default method), written out so the Compare page's script can repeat it exactly:
    index ``h = (n - 1) q``, then ``x[lo] + (x[hi] - x[lo]) (h - lo)``."""
    h = (len(ordered) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(ordered) - 1)
    below, above = float(ordered[lo]), float(ordered[hi])
    if below == above:  # also keeps inf - inf from making a NaN
        return below
    return below + (above - below) * (h - lo)


def _percentiles(samples: npt.NDArray[np.float64], confidence: float) -> tuple[float, float]:
    if not 0 < confidence < 1:
        msg = f"confidence must be between 0 and 1, not {confidence}"
        raise ValueError(msg)
    tail = (1 - confidence) / 2
    ordered = np.sort(samples)
    return percentile(ordered, tail), percentile(ordered, 1 - tail)


Key = tuple[tuple[float, ...], ...]
"""A side's values, one tuple per run: what its resamples are cached and streamed by."""
Errors = tuple[tuple[float, int] | None, ...]
"""Per run of a `Key`, its step error and degrees of freedom where it is resampled by its steps."""


def _key(groups: Groups) -> tuple[Key, Errors]:
    values = tuple(tuple(float(x) for x in a) for a in as_groups(groups))
    errors = _step_errors(groups)
    return values, (errors if any(errors) else ())


def _runs(values: Key, errors: Errors) -> list[tuple[float, ...] | Run]:
    if not errors:
        return list(values)
    return [v if e is None else Run(v, *e) for v, e in zip(values, errors, strict=True)]


def stream_of(groups: Key | tuple[Key, Errors]) -> int:
    """The random stream of a side's resamples: a digest of its values (in run order), so the
    same data always draw the same resamples, whichever side of a comparison they are on."""
    digest = hashlib.sha256(repr(groups).encode("ascii")).digest()
    return int.from_bytes(digest[:8], "little")


@lru_cache(maxsize=1024)
def _resampled(
    key: tuple[Key, Errors], resamples: int, seed: int, spread: float
) -> npt.NDArray[np.float64]:
    """`bootstrap_medians` of the runs of ``key`` from their own stream (`stream_of`) of
    ``seed``, kept: the report compares every machine with one baseline, whose resamples are
    then drawn once. Runs resampled by their steps add their errors to the stream's digest."""
    values, errors = key
    stream = stream_of(values) if not errors else stream_of((values, errors))
    rng = np.random.default_rng([seed, stream])
    medians = bootstrap_medians(_runs(values, errors), resamples, rng, spread)
    medians.setflags(write=False)
    return medians


def resampled_medians(
    groups: Groups, *, resamples: int = RESAMPLES, seed: int = SEED, spread: float = PROCESS_SPREAD
) -> npt.NDArray[np.float64]:
    """The seeded bootstrap medians of ``groups`` that every interval of these data uses
    (read-only; the same array for the same data)."""
    return _resampled(_key(groups), resamples, seed, spread)


def ratio_from_resamples(
    baseline_median: float,
    baseline: npt.NDArray[np.float64],
    other_median: float,
    other: npt.NDArray[np.float64],
    *,
    confidence: float = CONFIDENCE,
) -> Interval:
    """``baseline_median / other_median`` with the percentile interval of the elementwise
    ratios of two sides' stored resamples (`resampled_medians`)."""
    # Times near the float limits (a denormal epoch_s is schema-valid) overflow to inf or 0:
    # the verdict copes with both, so no warning is worth raising.
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        low, high = _percentiles(np.asarray(baseline) / np.asarray(other), confidence)
        value = float(np.float64(baseline_median) / np.float64(other_median))
    return Interval(value, low, high, confidence)


def median_interval(
    groups: Groups,
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    spread: float = PROCESS_SPREAD,
) -> Interval:
    """The pooled median of measured epoch times and its bootstrap interval.

    Parameters
    ----------
    groups
        Measured epoch times (warm-up left out), one array per run.
    confidence
        Coverage of the interval.
    resamples
        Bootstrap resamples.
    seed
        Seed of the resampling: the same inputs and seed always give the same interval.
    spread
        The between-process spread allowed for (`PROCESS_SPREAD`); 0 for the precision of
        these runs' own epochs alone, which more epochs can narrow.

    Returns
    -------
    Interval
        ``value`` is the median of all values pooled.
    """
    low, high = _percentiles(_resampled(_key(groups), resamples, seed, spread), confidence)
    return Interval(pooled_median(groups), low, high, confidence)


def ratio_interval(
    baseline: Groups,
    other: Groups,
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    spread: float = PROCESS_SPREAD,
) -> Interval:
    """How many times faster ``other`` is than ``baseline``: median time over median time.

    Above 1, ``other`` is faster. Each side is resampled independently (two-level bootstrap),
    each from the random stream of its own values (`stream_of`), so the same two sides always
    give the same interval, whoever asks and in whichever role.

    Parameters
    ----------
    baseline, other
        Measured epoch times, one array per run, of the two machines (or setups).
    confidence
        Coverage of the interval.
    resamples
        Bootstrap resamples.
    seed
        Seed of the resampling.
    spread
        The between-process spread allowed for on each side (`PROCESS_SPREAD`).

    Returns
    -------
    Interval
        ``value`` is ``pooled_median(baseline) / pooled_median(other)``.
    """
    return ratio_from_resamples(
        pooled_median(baseline),
        _resampled(_key(baseline), resamples, seed, spread),
        pooled_median(other),
        _resampled(_key(other), resamples, seed, spread),
        confidence=confidence,
    )


def half_width(interval: Interval) -> float:
    """Half the interval's width as a share of its value (``0.03``: +-3 %); NaN when the value
    is not positive."""
    if not interval.value > 0:
        return math.nan
    return (interval.high - interval.low) / 2 / interval.value


def coefficient_of_variation(values: npt.ArrayLike) -> float:
    """Sample standard deviation over mean of one run's measured epochs; NaN below 2 values."""
    a = np.asarray(values, dtype=float).reshape(-1)
    if a.size < 2:
        return math.nan
    return float(np.std(a, ddof=1) / np.mean(a))


def process_variance(groups: Groups) -> tuple[float, int]:
    """How much a run's level varies from one process to the next, beyond its epochs' own spread:
    the one-way random-effects estimate of the between-run variance of log epoch times (the
    variance of the runs' mean logs less the mean variance of those means within runs, at least
    0), with its degrees of freedom (runs - 1). Its square root is what `PROCESS_SPREAD`
    estimates; pool several as ``sum(df * v) / sum(df)``.

    Raises
    ------
    ValueError
        With fewer than 2 runs, or a value that is not positive.
    """
    arrays = as_groups(groups)
    if len(arrays) < 2:
        msg = "the spread between processes needs at least 2 runs"
        raise ValueError(msg)
    if not all((a > 0).all() for a in arrays):
        msg = "epoch times must be positive"
        raise ValueError(msg)
    logs = [np.log(a) for a in arrays]
    means = np.array([g.mean() for g in logs])
    within = [g.var(ddof=1) / g.size for g in logs if g.size > 1]
    noise = float(np.mean(within)) if within else 0.0
    return max(float(means.var(ddof=1)) - noise, 0.0), len(arrays) - 1


def is_noisy(values: npt.ArrayLike, threshold: float = NOISY_CV) -> bool:
    """True when a run's coefficient of variation is above ``threshold`` (5 %).

    A run with fewer than 2 measured epochs has no measurable spread and is not flagged.
    """
    cv = coefficient_of_variation(values)
    return math.isfinite(cv) and cv > threshold


def _percent(confidence: float) -> str:
    return f"{confidence * 100:g} %"


def verdict(ratio: Interval, better: str = "faster", worse: str = "slower") -> str:
    """A ratio in words, from the faster side's point of view.

    ``1.52x faster, 95 % CI 1.47 to 1.58`` when the interval is above 1,
    ``1.52x slower, 95 % CI 1.47 to 1.58`` when below (the interval inverted too), and
    ``no clear difference (0.97x, 95 % CI 0.90 to 1.05)`` when it contains 1. ``better`` and
    ``worse`` are the words of other ratios (`energy_verdict`).
    """
    ci = f"{_percent(ratio.confidence)} CI"
    if any(math.isnan(x) for x in (ratio.value, ratio.low, ratio.high)):
        return "no verdict (the ratio could not be computed)"
    if ratio.contains(1.0):
        return f"no clear difference ({ratio.value:.2f}x, {ci} {ratio.low:.2f} to {ratio.high:.2f})"
    if ratio.low > 1:
        return f"{ratio.value:.2f}x {better}, {ci} {ratio.low:.2f} to {ratio.high:.2f}"
    return (
        f"{_inverse(ratio.value):.2f}x {worse}, "
        f"{ci} {_inverse(ratio.high):.2f} to {_inverse(ratio.low):.2f}"
    )


def energy_verdict(ratio: Interval) -> str:
    """A ratio of joules per epoch (A's over B's, as `ratio_interval` divides seconds) in words:
    ``1.52x less energy, 95 % CI 1.47 to 1.58`` when B needs less."""
    return verdict(ratio, "less energy", "more energy")


def _inverse(x: float) -> float:
    return math.inf if x == 0 else 1 / x
