"""The probes' timing rule: warm up, calibrate the iterations so a repeat lasts at least
``min_time_s``, then time repeats until their spread is under the target (or the maximum is
reached); the stored form of a measured or failed probe."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench import stats
from bench.protocol import jobs
from bench.protocol.jobs import ProbeSettings


@dataclass(frozen=True)
class Measurement:
    """The timings of one probe: warm-up, iterations per repeat and every repeat's seconds."""

    warmup_s: float
    iterations: int
    repeats_s: tuple[float, ...]

    @property
    def median_s(self) -> float:
        """The median repeat, in seconds."""
        return statistics.median(self.repeats_s)

    @property
    def spread(self) -> float:
        """The relative spread of the repeats (sample standard deviation / mean)."""
        return relative_spread(self.repeats_s)


def relative_spread(times: Sequence[float]) -> float:
    """`bench.stats.coefficient_of_variation` of the repeats, 0 for a single repeat (a probe
    stores a number; one repeat has no spread to report)."""
    cv = stats.coefficient_of_variation(times)
    return cv if math.isfinite(cv) else 0.0


def measure(
    run: Callable[[int], object],
    settings: ProbeSettings,
    clock: Callable[[], float] = time.perf_counter,
) -> Measurement:
    """Time ``run(iterations)``: warm-up, calibration, then repeats until the spread settles.

    Parameters
    ----------
    run
        Does the given number of iterations of the work and returns when they are finished
        (an accelerator's queue included).
    settings
        ``min_time_s`` per repeat, ``min_repeats`` to ``max_repeats`` repeats, stopping early
        once the relative spread of the last ``min_repeats`` repeats is at most
        ``target_spread``.
    clock
        Seconds as a float; tests pass a fake one.

    Returns
    -------
    Measurement
        Every repeat kept, in order.
    """

    def timed(iterations: int) -> float:
        start = clock()
        run(iterations)
        return clock() - start

    warmup_s = timed(1)  # first call: graph building, allocation, kernel selection
    # Calibrate: double the iterations until a run lasts a quarter of a repeat, then scale up.
    # (A tenth was too short: a tf.data pipeline's start-up then inflated the estimate of one
    # iteration and repeats came out at 0.65 s instead of 1 s.)
    iterations, elapsed = 1, timed(1)
    while elapsed < settings.min_time_s / 4 and iterations < 2**30:
        iterations *= 2
        elapsed = timed(iterations)
    per_repeat = max(1, math.ceil(iterations * settings.min_time_s / max(elapsed, 1e-9)))
    repeats: list[float] = []
    while len(repeats) < settings.max_repeats:
        repeats.append(timed(per_repeat))
        # Settled: the last `min_repeats` repeats agree (one early outlier does not force the
        # cap); every repeat is kept, and the stored spread covers them all.
        window = repeats[-settings.min_repeats :]
        if (
            len(window) >= settings.min_repeats
            and relative_spread(window) <= settings.target_spread
        ):
            break
    return Measurement(warmup_s=warmup_s, iterations=per_repeat, repeats_s=tuple(repeats))


@dataclass
class Probe:
    """One probe ready to time: ``run(n)`` does ``n`` iterations of ``work_per_iteration``."""

    name: str
    unit: str
    work: str
    work_per_iteration: float  # in the unit's numerator: GFLOP or images
    parallelism: str
    run: Callable[[int], object]


def probe_record(probe: Probe, measurement: Measurement, threads: int | None) -> dict[str, Any]:
    """The stored form of a measured probe (unscored: `bench.readers.reference.rescore` adds scores)."""
    value = probe.work_per_iteration * measurement.iterations / measurement.median_s
    return {
        "name": probe.name,
        "status": "ok",
        "reason": None,
        "unit": probe.unit,
        "value": value,
        "baseline": None,
        "score": None,
        "median_s": measurement.median_s,
        "spread": measurement.spread,
        "repeats_s": list(measurement.repeats_s),
        "warmup_s": measurement.warmup_s,
        "iterations": measurement.iterations,
        "work_per_iteration": probe.work_per_iteration,
        "work": probe.work,
        "threads": threads,
        "parallelism": probe.parallelism,
    }


def failed_probe_record(name: str, unit: str, reason: str) -> dict[str, Any]:
    """The stored form of a probe that could not be measured."""
    return {
        "name": name,
        "status": "failed",
        "reason": reason[: jobs.REASON_CHARS],
        "unit": unit,
        "value": None,
        "baseline": None,
        "score": None,
        "repeats_s": [],
    }
