"""What a run's energy counters say: joules per epoch, images per joule and mean watts beside the
time, or why there are none.

The worker (`bench.worker.energy`) stores each domain's joules over the training phase and the
whole epoch at the epoch clock's readings. Here they are added over domains (an epoch with a
domain that was not measured has no total: a part is never passed off as the whole) and taken
over the measured epochs as the time is: the median, warm-up left out. Images per joule is an
epoch's training images over its training phase's joules, as images per second is over its
seconds.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SOURCE_TITLES = {
    "zeus-apple-silicon": "Apple IOReport",
    "nvml": "NVIDIA NVML",
    "rapl": "RAPL",
}
"""How readers are shown each counter."""


def total(joules: Mapping[str, Any] | None) -> float | None:
    """The sum over domains, or None when there is none or any domain was not measured."""
    if not joules:
        return None
    values = list(joules.values())
    if any(not isinstance(v, int | float) or isinstance(v, bool) for v in values):
        return None
    return float(sum(values))


@dataclass(frozen=True)
class RunEnergy:
    """One workload run's energy over its measured epochs."""

    joules_per_epoch: float
    images_per_joule: float | None
    watts: float
    idle_watts: float | None
    sources: str
    """The counters, as readers are shown them, with ``estimate`` or ``measurement``."""


def _epoch_totals(run: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], float]]:
    """Each measured epoch with its joules over all domains, where the run's counters worked and
    the epoch has a total (warm-up left out)."""
    block = run.get("energy")
    if not isinstance(block, Mapping) or block.get("status") != "ok":
        return []
    measured = [e for e in run.get("epochs") or [] if not e.get("warmup") and e.get("energy_j")]
    return [(e, j) for e in measured if (j := total(e["energy_j"].get("epoch"))) is not None]


def epoch_joules(run: Mapping[str, Any]) -> list[float]:
    """Joules of each measured epoch (warm-up left out, all domains), as `epoch_seconds` lists
    seconds; epochs without a total are left out, and a run without counters has none."""
    return [j for _, j in _epoch_totals(run)]


def of_run(run: Mapping[str, Any]) -> RunEnergy | None:
    """The run's energy, or None where it has no counter or no measured epoch with a total."""
    epochs = _epoch_totals(run)
    if not epochs:
        return None
    block = run["energy"]
    # The training images of an epoch are its images per second times its training seconds.
    per_joule = [
        e["images_per_s"] * e["train_s"] / j
        for e, _ in epochs
        if (j := total(e["energy_j"].get("train")))
    ]
    return RunEnergy(
        joules_per_epoch=statistics.median(j for _, j in epochs),
        images_per_joule=statistics.median(per_joule) if per_joule else None,
        watts=statistics.median(j / e["epoch_s"] for e, j in epochs),
        idle_watts=total(block.get("idle_w")),
        sources=describe_sources(block),
    )


def describe_sources(block: Mapping[str, Any]) -> str:
    """``RAPL estimate`` or ``NVIDIA NVML measurement, RAPL estimate``: the counters used."""
    found: dict[str, str] = {}
    for domain in (block.get("domains") or {}).values():
        source = str(domain.get("source"))
        found[SOURCE_TITLES.get(source, source)] = str(domain.get("kind"))
    return ", ".join(f"{name} {kind}" for name, kind in found.items())


def why_not(runs: Iterable[Mapping[str, Any]]) -> str | None:
    """Why the runs have no energy figures, in one line; None when one has, or none says."""
    for run in runs:
        block = run.get("energy")
        if not isinstance(block, Mapping):
            continue
        if block.get("status") == "ok":
            return None
        reasons = block.get("unavailable") or {}
        parts = [f"{SOURCE_TITLES.get(k, k)}: {v}" for k, v in reasons.items()]
        return "not available on this machine" + (f" ({'; '.join(parts)})" if parts else "")
    return None


def summary_lines(runs: Iterable[Mapping[str, Any]]) -> list[str]:
    """The run summary's energy lines: one per run with figures, or one saying why none."""
    runs = list(runs)
    lines = []
    sources = set()
    for run in runs:
        found = of_run(run)
        if found is None:
            continue
        sources.add(found.sources)
        per_image = (
            f", {found.images_per_joule:.2f} images/J" if found.images_per_joule is not None else ""
        )
        idle = f" (idle {found.idle_watts:.1f} W)" if found.idle_watts is not None else ""
        lines.append(
            f"  {run['workload']} #{run['repeat']}: {found.joules_per_epoch:.1f} J/epoch"
            f"{per_image}, {found.watts:.1f} W{idle}"
        )
    if lines:
        return [f"Energy per epoch ({'; '.join(sorted(sources))}):", *lines]
    reason = why_not(runs)
    return [f"Energy: {reason}"] if reason else []
