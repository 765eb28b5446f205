"""Where a training step's time goes, judged from stored throughputs: computing, producing input,
or neither.

The worker measures three throughputs of one workload run (`bench.worker.throughputs`): input only,
compute only and end to end. From them, computed at analysis time (never stored), the end-to-end
time per image is split into three parts that add up to it:

- **compute**: the compute-only time per image (capped at the whole step, since a noisy
  compute-only figure can come out slower than the step);
- **input**: the input-only time per image, as much of it as the rest of the step holds: what the
  pipeline alone needs to produce the batch, counted as if it did not overlap the computation;
- **other**: whatever is left, the part of the step that neither the pipeline alone nor the model
  alone explains: the two sharing the same cores, per-step overhead, the generator's handoff to
  ``fit``. Because input is counted without overlap, this is the least that is unexplained.

The **verdict** names the largest part: ``compute-bound`` (a faster processor for the model helps
most), ``input-bound`` (only a faster pipeline helps) or ``overhead-bound`` (neither: closing
other programs, more cores or a pipeline that hands batches over more cheaply help). When the
end-to-end rate is unknown it falls back to comparing the pipeline alone with the model alone.
The **input wait share** (one minus end to end over compute only: input and other together) gives
the **speedup bound**: how much faster the step could get with faster compute alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

INPUT_BOUND = "input-bound"


COMPUTE_BOUND = "compute-bound"


OVERHEAD_BOUND = "overhead-bound"


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


def parts(input_only: float, compute_only: float, end_to_end: float) -> tuple[float, float, float]:
    """Milliseconds per image of compute, input and other (see the module's docstring), which add
    up to the end-to-end milliseconds per image; NaN where a throughput is missing."""
    rates = (input_only, compute_only, end_to_end)
    if not all(math.isfinite(r) and r > 0 for r in rates):
        return math.nan, math.nan, math.nan
    total = 1000 / end_to_end
    compute = min(1000 / compute_only, total)
    source = min(1000 / input_only, total - compute)
    return compute, source, total - compute - source


def verdict(input_only: float, compute_only: float, end_to_end: float = math.nan) -> str:
    """The largest of the three `parts`: `COMPUTE_BOUND`, `INPUT_BOUND` or `OVERHEAD_BOUND` (a
    tie goes to the first of these); without the end-to-end rate, `INPUT_BOUND` when the
    pipeline alone is slower than the model alone, else `COMPUTE_BOUND`.

    `NOT_MEASURED` when the input-only or compute-only throughput is missing.
    """
    if not (math.isfinite(input_only) and math.isfinite(compute_only)):
        return NOT_MEASURED
    compute, source, other = parts(input_only, compute_only, end_to_end)
    if math.isnan(compute):
        return INPUT_BOUND if input_only < compute_only else COMPUTE_BOUND
    largest = max(compute, source, other)
    if compute == largest:
        return COMPUTE_BOUND
    return INPUT_BOUND if source == largest else OVERHEAD_BOUND


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

    ``compute_ms``, ``input_ms`` and ``other_ms`` split the end-to-end time per image
    (milliseconds, `parts`), with their shares of it; ``input_wait_ms`` is input and other
    together (the step's time beyond compute), of which ``input_wait_share`` is the share.
    """
    share = input_wait_share(end_to_end, compute_only)
    total_ms = 1000 / end_to_end if math.isfinite(end_to_end) and end_to_end > 0 else math.nan
    compute_ms = (
        min(1000 / compute_only, total_ms)
        if math.isfinite(compute_only) and compute_only > 0
        else math.nan
    )
    _, input_ms, other_ms = parts(input_only, compute_only, end_to_end)
    return {
        "input_wait_share": share,
        "end_to_end_ms": total_ms,
        "compute_ms": compute_ms,
        "input_wait_ms": total_ms - compute_ms,
        "input_ms": input_ms,
        "other_ms": other_ms,
        "other_share": other_ms / total_ms,
        "verdict": verdict(input_only, compute_only, end_to_end),
    }


def split_text(figures: Mapping[Any, Any], missing: str = "-") -> str:
    """``compute 33%, input 7%, other 60%``: the shares of the end-to-end step of `derive`'s
    figures, or of an attribution table row, which holds the same ``*_ms`` fields; ``missing``
    when any part is unknown."""
    names = ("compute", "input", "other")
    values = [figures[f"{name}_ms"] for name in names]
    total = figures["end_to_end_ms"]
    if not all(math.isfinite(x) for x in values) or not total > 0:
        return missing
    return ", ".join(f"{name} {x / total:.0%}" for name, x in zip(names, values, strict=True))
