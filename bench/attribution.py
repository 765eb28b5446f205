"""Where a training step's time goes: waiting for input, or computing.

Three throughputs of one workload run, in training images per second:

- **input only**: the training pipeline iterated with no model (decoding, resizing, augmenting);
- **compute only**: the same model trained on one batch already in memory (same shape and batch
  size, taken from the pipeline), so no decoding or augmentation happens;
- **end to end**: the normal training epochs (the median of the measured epochs).

The measurement functions run in the worker after the normal epochs (so the seeded training is
the same with and without them) over a bounded number of batches (`timed_steps`): a sixth of
the run's training batches, at least 2, at most one epoch and at most `MAX_STEPS`, timed from
the pipeline's start for input only and after one warm-up step for compute only. Input only
plus compute only cost about one end-to-end step per batch each, so the run grows by about a
third of its training time at most, less once import, build and validation are counted (quick
profile: 3 timed batches of 18; full: 20 of 1,800).

From the three, computed at analysis time (never stored):

- the **input wait share** of an end-to-end step: ``max(0, 1 - end_to_end / compute_only)``,
  the part of each step's time that the model's own computation does not explain: time spent
  waiting for (or producing) the next batch;
- the **verdict**: ``input-bound`` when the input-only throughput is below the compute-only
  throughput (the pipeline alone cannot feed the model as fast as the model trains, so a faster
  processor for the model, such as more GPU cores, cannot make training faster), otherwise
  ``compute-bound``. Under Keras 3 even the legacy pipeline overlaps training (``fit`` prefetches
  from its iterator in a background thread), so an end-to-end step can be shorter than input
  time plus compute time.

This module imports TensorFlow only inside the measurement functions: the report
(`bench.report.attribution`) uses `derive` without it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

MAX_STEPS = 20
"""Timed batches per measurement at most (full profile: 360 batches per epoch)."""
WARMUP_STEPS = 1
"""Compute-only steps run before timing (a retrace for the in-memory batch's fixed shape)."""
INPUT_BOUND = "input-bound"
COMPUTE_BOUND = "compute-bound"
NOT_MEASURED = "not measured"


def _sample(warmup: list[float], steps: list[float], images: int) -> dict[str, Any]:
    return {
        "warmup_steps": len(warmup),
        "warmup_s": sum(warmup),
        "step_s": steps,
        "images": images,
        "images_per_s": images / sum(steps),
    }


def measure_input(batches: Iterator[Any], steps: int, warmup: int = 0) -> dict[str, Any]:
    """Time ``steps`` batches drawn from ``batches`` (after ``warmup`` untimed ones), no model.

    Returns the ``input_only`` block: every timed step, the images they held and images/s.
    The harness times from the pipeline's start with no warm-up: a parallel, prefetching
    pipeline (tf.data) works on several batches at once, so batches finished during a warm-up
    would then be counted for free. Counting the start-up instead understates the rate by at
    most about one batch's time.
    """
    warm: list[float] = []
    timed: list[float] = []
    images = 0
    for i in range(warmup + steps):
        start = time.perf_counter()
        x, _ = next(batches)
        elapsed = time.perf_counter() - start
        if i < warmup:
            warm.append(elapsed)
        else:
            timed.append(elapsed)
            images += int(x.shape[0])
    return _sample(warm, timed, images)


def measure_compute(
    model: Any, batch: tuple[Any, Any], steps: int, warmup: int = WARMUP_STEPS
) -> dict[str, Any]:
    """Train ``model`` on the in-memory ``batch`` ``steps`` times (after ``warmup`` untimed).

    ``train_on_batch`` returns its loss as NumPy values, so each timed step has finished on the
    device (a GPU included) before the clock stops.
    """
    from bench import backends

    if backends.legacy_keras():  # Keras 2: TensorFlow's tensors
        import tensorflow as tf

        x, y = (tf.convert_to_tensor(v) for v in batch)
    else:  # the backend's own tensors, on its default device, as fit would pass them
        ops = backends.keras().ops
        x, y = (ops.convert_to_tensor(v) for v in batch)
    warm: list[float] = []
    timed: list[float] = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        elapsed = time.perf_counter() - start
        (warm if i < warmup else timed).append(elapsed)
    return _sample(warm, timed, int(x.shape[0]) * steps)


def timed_steps(steps_per_epoch: int, epochs: int, max_steps: int = MAX_STEPS) -> int:
    """Batches each measurement times: a sixth of the run's, at least 2, at most an epoch."""
    return max(1, min(steps_per_epoch, max_steps, max(2, steps_per_epoch * epochs // 6)))


def measure(
    model: Any, batches: Iterator[Any], steps_per_epoch: int, epochs: int
) -> dict[str, Any]:
    """The ``attribution`` block of a workload run: input only, then compute only.

    ``batches`` should start the pipeline on its first draw (a fresh generator, as
    `bench.pipelines.batches` is), so input only includes its start-up. The compute-only batch
    is the next one the pipeline yields, so its shape and values are those training sees.
    """
    started = time.perf_counter()
    steps = timed_steps(steps_per_epoch, epochs)
    input_only = measure_input(batches, steps)
    compute_only = measure_compute(model, next(batches), steps)
    return {
        "input_only": input_only,
        "compute_only": compute_only,
        "elapsed_s": time.perf_counter() - started,
    }


def input_wait_share(end_to_end: float, compute_only: float) -> float:
    """Share of an end-to-end step not explained by computing: ``max(0, 1 - e2e / compute)``.

    NaN when either throughput is missing or not positive.
    """
    if not (math.isfinite(end_to_end) and math.isfinite(compute_only)):
        return math.nan
    if end_to_end <= 0 or compute_only <= 0:
        return math.nan
    return max(0.0, 1.0 - end_to_end / compute_only)


def verdict(input_only: float, compute_only: float) -> str:
    """`INPUT_BOUND` when the pipeline alone is slower than the model alone, else `COMPUTE_BOUND`.

    `NOT_MEASURED` when either throughput is missing.
    """
    if not (math.isfinite(input_only) and math.isfinite(compute_only)):
        return NOT_MEASURED
    return INPUT_BOUND if input_only < compute_only else COMPUTE_BOUND


def speedup_bound(input_wait_share: float, compute_factor: float) -> float:
    """How much faster a step gets at most when only the computation gets faster.

    With the input wait unchanged and the compute part ``compute_factor`` times faster
    (``math.inf``: instant), Amdahl's law: ``1 / (wait + (1 - wait) / factor)``. NaN when the
    share is unknown; ``math.inf`` when nothing is left to wait for (no input wait, instant
    compute).
    """
    if not math.isfinite(input_wait_share) or math.isnan(compute_factor):
        return math.nan
    # No input wait and an instant computation leave nothing to wait for: no finite bound
    # (a fast machine's noise gives a zero wait share; the quotient would divide by zero).
    remaining = input_wait_share + (1.0 - input_wait_share) / compute_factor
    return math.inf if remaining <= 0 else 1.0 / remaining


def derive(input_only: float, compute_only: float, end_to_end: float) -> dict[str, Any]:
    """The figures the report shows, from the three throughputs (images/s).

    ``compute_ms`` and ``input_wait_ms`` split the end-to-end time per image (milliseconds):
    the compute part is the compute-only time per image, capped at the end-to-end time (a
    noisy compute-only measurement can come out slower than the whole step); the rest is input
    wait.
    """
    share = input_wait_share(end_to_end, compute_only)
    total_ms = 1000 / end_to_end if math.isfinite(end_to_end) and end_to_end > 0 else math.nan
    compute_ms = (
        min(1000 / compute_only, total_ms)
        if math.isfinite(compute_only) and compute_only > 0
        else math.nan
    )
    return {
        "input_wait_share": share,
        "end_to_end_ms": total_ms,
        "compute_ms": compute_ms,
        "input_wait_ms": total_ms - compute_ms,
        "verdict": verdict(input_only, compute_only),
    }
