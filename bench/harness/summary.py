"""The console summary after a run: per workload the median epoch with its interval, noise, where
the time went, the probe scores and every training check that failed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import median
from typing import Any

from bench import stats
from bench.protocol.stopping import MIN_FOR_TARGET, holds_interval, precision
from bench.readers import bottleneck, verdicts
from bench.results import model


def _cv_text(cv: float, noisy: bool) -> str:
    """The spread of a run's measured epochs, flagged when `stats.is_noisy` says so."""
    if not math.isfinite(cv):
        return "-"
    return f"{cv:.0%}" + (" noisy" if noisy else "")


def _interval_text(interval: stats.Interval | None) -> str:
    """``3.91 to 4.12 (+-2.6 %)``; ``-`` where the run has no interval (`stopping.precision`)."""
    if interval is None:
        return "-"
    return f"{interval.low:.2f} to {interval.high:.2f} (+-{stats.half_width(interval):.1%})"


def imprecise_lines(
    runs: Sequence[dict[str, Any]], target: float = stats.PRECISION_TARGET
) -> list[str]:
    """A line per finished run whose 95 % interval of its median is wider than ``target`` either
    side (or that has too few epochs to hold one), saying why and what to do.

    The interval is the printed one, which the stopping rule reads too
    (`bench.protocol.stopping.precision`), so a run that stopped at its target is never imprecise.
    """
    lines = []
    for run in runs:
        s = summarise(run)
        width = s["half_width"] if s["half_width"] is not None else math.nan
        few = not s["holds_interval"]
        if s["status"] != "ok" or (width <= target and not few):
            continue
        if not math.isfinite(width):
            why = "there is no interval from one measured epoch without three timed steps"
        elif width > target:
            why = f"its 95 % interval of the median is +-{width:.1%}, wider than +-{target:.0%}"
        else:
            why = (
                f"{s['epochs_measured']} measured epochs without three timed steps are fewer than the "
                f"{MIN_FOR_TARGET} a 95 % interval needs (their +-{width:.1%} is not one)"
            )
        ran_out = (
            "the time budget ran out first: the machine was too noisy, or the workload too "
            "slow, for the budget; "
            if s["stopped"] == "budget"
            else ""
        )
        lines.append(
            f"imprecise: {s['workload']} #{s['repeat']}: {why}, so a 5 % difference between "
            f"machines cannot be told from noise; {ran_out}close other programs, raise "
            "--budget, add --repeats 3 or use the medium profile."
        )
    return lines


def _text_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows (the first is the header) as left-aligned columns with a rule under the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_summary(runs: list[dict[str, Any]]) -> str:
    """The table printed at the end of a run."""
    header = (
        "workload",
        "rep",
        "epochs measured",
        "median s/epoch",
        "95 % CI",
        "images/s",
        "epoch CV",
        "device",
        "weights",
    )
    rows = [header]
    for run in runs:
        s = summarise(run)
        if s["status"] != "ok":
            rows.append(
                (
                    s["workload"],
                    str(s["repeat"]),
                    "FAILED",
                    "-",
                    "-",
                    "-",
                    "-",
                    s["device"],
                    s["weights"],
                )
            )
            continue
        rows.append(
            (
                s["workload"],
                str(s["repeat"]),
                str(s["epochs_measured"]),
                f"{s['median_epoch_s']:.2f}" if s["median_epoch_s"] is not None else "-",
                _interval_text(s["interval"]),
                f"{s['images_per_s']:.1f}" if s["images_per_s"] is not None else "-",
                _cv_text(s["epoch_cv"], s["noisy"]),
                s["device"],
                s["weights"],
            )
        )
    return _text_table(rows)


def format_attribution(runs: list[dict[str, Any]]) -> str:
    """The table of where each run's step time went (`bench.worker.throughputs`), printed after the summary."""
    header = (
        "workload",
        "rep",
        "input only",
        "compute only",
        "end to end",
        "step time",
        "verdict",
    )
    rows = [header]
    for run in runs:
        found = model.attribution_of(run)
        if run["status"] != "ok" or found.status != "measured":
            why = f"failed: {found.error}" if found.status == "failed" else "not measured"
            rows.append((run["workload"], str(run["repeat"]), why, "", "", "", ""))
            continue
        source, compute = found.input_images_per_s, found.compute_images_per_s
        end = model.images_per_s(run)
        figures = bottleneck.derive(source, compute, end)
        rows.append(
            (
                run["workload"],
                str(run["repeat"]),
                f"{source:.1f} img/s",
                f"{compute:.1f} img/s",
                f"{end:.1f} img/s" if math.isfinite(end) else "-",
                bottleneck.split_text(figures),
                figures["verdict"],
            )
        )
    return _text_table(rows)


def format_probe_scores(block: dict[str, Any]) -> str:
    """One line: each section's score, or its status and reason when it has none."""
    parts = []
    for key, name in model.SECTION_TITLES.items():
        section = block.get("sections", {}).get(key) or {}
        if section.get("score") is not None:
            parts.append(f"{name} {section['score']:.0f}")
        else:
            why = section.get("reason") or section.get("error")
            parts.append(
                f"{name} {section.get('status', 'not run')}" + (f" ({why})" if why else "")
            )
    return (
        "Probe scores (1000 = one core of the reference machine, version "
        f"{block.get('baseline_version')}): " + ", ".join(parts)
    )


def check_lines(document: dict[str, Any]) -> list[str]:
    """One line that stands out per failed training check of a run (`bench.worker.crosscheck`)."""
    return [
        f"WARNING: {run['workload']} #{run['repeat']}: {warning}"
        for run in document["workloads"]
        for warning in verdicts.run_warnings(document, run)
    ]


def summarise(run: dict[str, Any]) -> dict[str, Any]:
    """Headline figures of one workload run: measured epochs (warm-up excluded)."""
    measured = [e for e in run["epochs"] if not e["warmup"]]
    rate = model.images_per_s(run)  # the report's estimator; none for a run that did not finish
    sample = model.run_sample(run)  # no epochs for a run that did not finish
    seconds = list(sample.seconds)
    width = precision(sample)
    # The interval `compare` gives this run alone (its epochs, or its steps: `stats.Run`).
    interval = stats.median_interval([sample]) if width is not None else None
    return {
        "workload": run["workload"],
        "repeat": run["repeat"],
        "status": run["status"],
        "epochs_measured": len(measured),
        "median_epoch_s": median(seconds) if seconds else None,
        "interval": interval,
        "half_width": width,
        "holds_interval": holds_interval(sample),
        "images_per_s": rate if math.isfinite(rate) else None,
        "epoch_cv": stats.coefficient_of_variation(seconds),
        "noisy": stats.is_noisy(seconds),
        "device": model.short_device(run.get("device")) or "?",
        "weights": run["weights"],
        "stopped": (run.get("stopping") or {}).get("reason"),
    }
