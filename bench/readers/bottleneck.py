"""Where a training step's time goes, judged from stored throughputs: waiting for input, or computing.

The worker measures three throughputs of one workload run (`bench.worker.throughputs`): input only,
compute only and end to end. From them, computed at analysis time (never stored):

- the **input wait share** of an end-to-end step: ``max(0, 1 - end_to_end / compute_only)``,
  the part of each step's time that the model's own computation does not explain: time spent
  waiting for (or producing) the next batch;
- the **verdict**: ``input-bound`` when the input-only throughput is below the compute-only
  throughput (the pipeline alone cannot feed the model as fast as the model trains, so a faster
  processor for the model, such as more GPU cores, cannot make training faster), otherwise
  ``compute-bound``. Under Keras 3 even the legacy pipeline overlaps training (``fit`` prefetches
  from its iterator in a background thread), so an end-to-end step can be shorter than input
  time plus compute time;
- the **speedup bound**: how much faster the step could get with faster compute alone.
"""

from __future__ import annotations

import math
from typing import Any

INPUT_BOUND = "input-bound"


COMPUTE_BOUND = "compute-bound"


NOT_MEASURED = "not measured"


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
