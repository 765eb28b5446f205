"""The "Which framework?" page: the same workload on each Keras backend, one machine at a time.

Runs on different backends are never compared across machines (the backend is a field of the
comparability key, so they fall into different groups of `training.comparisons`). This page
pairs those groups within one machine instead: two groups that agree on every field of the key
but the backend and its version are the same workload, settings and data on two frameworks. For
each machine with more than one backend, each such workload gets every backend's median seconds
per epoch with its 95 % interval and, for each backend beside the reference (TensorFlow, the
article's, where the machine has it), the one verdict `bench.stats.verdict` words from
`training.Comparison`'s bootstrap ratio: the figure `nox -s compare --force` gives for the same
runs. The probe scores of each backend on the machine come beside, with the same kind of verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bench import stats
from bench.report import training
from bench.report.compare_data import score_groups_verdict
from bench.report.tables import Results
from bench.results import model
from bench.results.model import SECTION_TITLES, SECTIONS, WORKLOAD_TITLES

BACKEND_FIELDS = ("backend", "backend_version")
"""The fields of the key that name the framework: what this page lets differ."""
REFERENCE = "tensorflow"
"""The backend the others are measured against where a machine has it."""


def _rest(setting: Mapping[str, Any]) -> tuple[Any, ...]:
    """The key without the framework's fields (the workload included)."""
    return tuple(setting[f] for f in model.FIELDS if f not in BACKEND_FIELDS)


def _framework(setting: Mapping[str, Any]) -> str:
    title = model.backend_title(setting["backend"])
    return f"{title} {setting['backend_version']}"


def _seconds(interval: stats.Interval) -> str:
    return f"{interval.value:.3g} s (95 % CI {interval.low:.3g} to {interval.high:.3g})"


@dataclass(frozen=True)
class MachineFrameworks:
    """One machine's workloads and probe scores on each of its backends."""

    machine: str
    backends: list[str]
    """Each backend with its version (``JAX 0.10.2``), the reference first."""
    training: pd.DataFrame
    """Workload, configuration, backend, median s/epoch with interval, verdict."""
    scores: pd.DataFrame
    """Probe section, backend, median score, verdict against the reference."""


def _order(setting: Mapping[str, Any]) -> tuple[bool, str, str]:
    """The reference backend first, then the others by name and version."""
    return setting["backend"] != REFERENCE, str(setting["backend"]), str(setting["backend_version"])


def _training_rows(
    machine: str, comparisons: Sequence[training.Comparison]
) -> tuple[list[list[str]], set[str]]:
    """Rows for ``machine``: per group of comparisons that differ only by framework."""
    groups: dict[tuple[Any, ...], list[training.Comparison]] = {}
    for comparison in comparisons:
        if machine in comparison.machines:
            groups.setdefault(_rest(comparison.setting), []).append(comparison)
    rows: list[list[str]] = []
    seen: set[str] = set()
    for found in groups.values():
        if len({(c.setting["backend"], c.setting["backend_version"]) for c in found}) < 2:
            continue
        ordered = sorted(found, key=lambda c: _order(c.setting))
        reference = ordered[0]
        settings = model.describe(
            reference.setting, leave_out=("workload", *BACKEND_FIELDS, "keras")
        )
        title = WORKLOAD_TITLES.get(reference.workload, reference.workload)
        for comparison in ordered:
            framework = _framework(comparison.setting)
            seen.add(framework)
            groups_here = comparison.groups(machine)
            if comparison is reference:
                verdict = "reference"
            else:
                ratio = stats.ratio_interval(reference.groups(machine), groups_here)
                verdict = f"{stats.verdict(ratio)}, against {_framework(reference.setting)}"
            keras = f"Keras {comparison.setting['keras']}"
            if comparison.setting["backend"] == "mlx":
                # MLX trains models of its own; Keras only reads the images for it.
                keras = f"none (images read by {keras})"
            rows.append(
                [title, settings, framework, keras,
                 _seconds(stats.median_interval(groups_here)), str(len(groups_here)), verdict]
            )  # fmt: skip
    return rows, seen


def _score_rows(machine: str, results: Results) -> tuple[list[list[str]], set[str]]:
    """Per probe section, each backend's median score on ``machine`` and its verdict."""
    sections = results.probe_sections
    mine = sections[
        (sections["machine"] == machine) & (sections["status"] == "ok") & sections["score"].notna()
    ]
    frameworks = {
        (str(b), str(v)) for b, v in zip(mine["backend"], mine["backend_version"], strict=True)
    }
    if len(frameworks) < 2:
        return [], set()
    ordered = sorted(frameworks, key=lambda f: (f[0] != REFERENCE, f))
    rows: list[list[str]] = []
    for section in SECTIONS:
        here = mine[mine["section"] == section].sort_values("path")
        groups = {
            f: [[float(s)] for s in here[(here["backend"] == f[0]) &
                                         (here["backend_version"] == f[1])]["score"]]
            for f in ordered
        }  # fmt: skip
        present = [f for f in ordered if groups[f]]
        if len(present) < 2:
            continue
        reference = present[0]
        for f in present:
            values = groups[f]
            median = stats.median_interval(values)
            shown = (
                f"{median.value:,.0f} (1 file: no interval)"
                if len(values) < 2
                else f"{median.value:,.0f} (95 % CI {median.low:,.0f} to {median.high:,.0f})"
            )
            name = f"{model.backend_title(f[0])} {f[1]}"
            verdict = (
                "reference"
                if f == reference
                else f"{score_groups_verdict(groups[reference], values)}, against "
                f"{model.backend_title(reference[0])} {reference[1]}"
            )
            rows.append([f"{SECTION_TITLES.get(section, section)} score", name, shown,
                         str(len(values)), verdict])  # fmt: skip
    return rows, {f"{model.backend_title(b)} {v}" for b, v in frameworks}


TRAINING_COLUMNS = ["Workload", "Configuration", "Backend", "Keras", "Median s/epoch", "Runs",
                    "Speed"]  # fmt: skip
SCORE_COLUMNS = ["Score", "Backend", "Median", "Files", "Speed"]


def by_machine(
    results: Results, comparisons: Sequence[training.Comparison] | None = None
) -> list[MachineFrameworks]:
    """Every machine with runs or probe scores on more than one backend, by slug."""
    if comparisons is None:
        comparisons = training.comparisons(results.epochs)
    found = []
    for machine in results.machines:
        train, trained = _training_rows(machine, comparisons)
        scored, probed = _score_rows(machine, results)
        if not train and not scored:
            continue
        names = sorted(trained | probed, key=lambda n: (not n.startswith("TensorFlow"), n))
        found.append(
            MachineFrameworks(
                machine,
                names,
                pd.DataFrame(train, columns=TRAINING_COLUMNS),
                pd.DataFrame(scored, columns=SCORE_COLUMNS),
            )
        )
    return found
