"""The Training page: comparable groups of runs, their summaries and speed-ups.

Timings are compared only inside a `Comparison`: runs that agree on every field of the
comparability key (`bench.results.model.KEY`). Every ratio carries its bootstrap interval and is
worded by `bench.stats.verdict`, as `bench.readers.comparison` words it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bench import stats
from bench.errors import UserError
from bench.readers import verdicts
from bench.report.tables import Results, measured_epochs, run_rate
from bench.results import model
from bench.results.model import WORKLOAD_TITLES, WORKLOADS, differences

BASELINE_ENV = "BENCHBOOK_BASELINE"
"""Environment variable naming the baseline machine slug of the speedup tables."""


@dataclass(frozen=True)
class Comparison:
    """Runs that may be compared: they agree on every field of `bench.results.model.FIELDS`."""

    setting: Mapping[str, Any]
    """The shared values of `bench.results.model.FIELDS`."""
    epochs: pd.DataFrame
    """Measured epochs (warm-up left out) of every run in the group, all machines."""

    @property
    def workload(self) -> str:
        """The workload all these runs trained."""
        return str(self.setting["workload"])

    @property
    def machines(self) -> list[str]:
        """Machine slugs in the group, sorted."""
        return sorted(self.epochs["machine"].unique())

    def describe(self) -> str:
        """The setting in words (`bench.results.model.describe`), the workload left out."""
        return model.describe(self.setting)

    def values(self, machine: str) -> npt.NDArray[np.float64]:
        """Seconds per measured epoch of one machine, every repeat and file together."""
        rows = self.epochs[self.epochs["machine"] == machine]
        return rows["epoch_s"].to_numpy(dtype=float)

    def _by_run(self, column: str, steps: bool = False) -> dict[str, list[stats.Run]]:
        """``column`` of the measured epochs, one `stats.Run` per run of each machine; with
        ``steps``, carrying the run's step error (`bench.results.model.step_error`)."""
        runs: dict[str, list[tuple[str, int, stats.Run]]] = {}
        frame = self.epochs.dropna(subset=[column]) if column in self.epochs else self.epochs[:0]
        found = frame.groupby(["machine", "path", "repeat"], sort=False)
        values = found[column].agg(list)
        errors = found[["step_error", "step_df"]].first() if steps else None
        for i, (key, seconds) in enumerate(values.items()):
            machine, path, repeat = (str(part) for part in key)  # type: ignore[attr-defined]
            error, df = errors.iloc[i] if errors is not None else (math.nan, 0)
            run = stats.Run(tuple(float(x) for x in seconds), float(error), int(df))
            runs.setdefault(machine, []).append((path, int(repeat), run))
        return {machine: model.epoch_groups(found) for machine, found in runs.items()}

    @cached_property
    def _groups(self) -> dict[str, list[stats.Run]]:
        return self._by_run("epoch_s", steps=True)

    @cached_property
    def _joule_groups(self) -> dict[str, list[stats.Run]]:
        return self._by_run("epoch_j")

    def groups(self, machine: str) -> list[stats.Run]:
        """Seconds per measured epoch of one machine, one `stats.Run` per run
        (`model.epoch_groups`)."""
        return self._groups.get(machine, [])

    def joule_groups(self, machine: str) -> list[stats.Run]:
        """Joules per measured epoch of one machine, one list per run with energy counters, in
        `groups`' order (`bench.readers.comparison.joule_groups` for the same runs); empty
        where the machine has none."""
        return self._joule_groups.get(machine, [])

    def ratio(self, baseline: str, machine: str) -> stats.Interval:
        """How many times faster ``machine`` is than ``baseline``, with its bootstrap interval:
        the figure and interval `bench.readers.comparison` gives for the same runs."""
        return stats.ratio_interval(self.groups(baseline), self.groups(machine))


def _rank(comparison: Comparison) -> tuple[Any, ...]:
    preferred = model.preference(comparison.setting)
    return (-len(comparison.machines), *preferred[:-1], -len(comparison.epochs), preferred[-1])


def comparisons(epochs: pd.DataFrame) -> list[Comparison]:
    """Every group of comparable runs, by workload; within one, the most useful first.

    Most useful: more machines, then the larger profile (full, medium, quick), real data, larger
    images, the article's pipeline (legacy) at the default thread count, more epochs.
    """
    measured = measured_epochs(epochs)
    groups = [
        Comparison(dict(zip(model.FIELDS, key, strict=True)), frame)
        for key, frame in measured.groupby(list(model.FIELDS), sort=False, dropna=False)
    ]
    order = {w: i for i, w in enumerate(WORKLOADS)}
    return sorted(groups, key=lambda c: (order.get(c.workload, 99), _rank(c)))


def main_comparisons(results: Results) -> dict[str, Comparison]:
    """Per workload, the comparable group the report charts (the first of `comparisons`)."""
    chosen: dict[str, Comparison] = {}
    for comparison in comparisons(results.epochs):
        chosen.setdefault(comparison.workload, comparison)
    return chosen


def energy_comparisons(results: Results) -> dict[str, Comparison]:
    """Per workload, the comparable group with the most machines that have energy counters
    (the most useful first among equals, as `comparisons` orders them); workloads no machine
    measured energy in are left out. The charted group may have none: energy counters come
    with some backends and machines only (NVML on an NVIDIA GPU, IOReport on Apple silicon)."""
    chosen: dict[str, tuple[int, Comparison]] = {}
    for comparison in comparisons(results.epochs):
        counted = comparison.epochs.dropna(subset=["epoch_j"])["machine"].nunique()
        if counted and counted > chosen.get(comparison.workload, (0, comparison))[0]:
            chosen[comparison.workload] = (counted, comparison)
    return {w: c for w, (_, c) in chosen.items()}


def set_aside(results: Results) -> pd.DataFrame:
    """Runs left out of the charts because they are not comparable with the charted group.

    One row per machine and non-charted group, saying which settings differ.
    """
    main = main_comparisons(results)
    rows = []
    for comparison in comparisons(results.epochs):
        charted = main[comparison.workload]
        if comparison.setting == charted.setting:
            continue
        why = "; ".join(differences(comparison.setting, charted.setting))
        for machine in comparison.machines:
            rows.append([comparison.workload, machine, comparison.describe(), why])
    return pd.DataFrame(rows, columns=["workload", "machine", "setting", "differs from the chart"])


def flagged_runs(results: Results) -> pd.DataFrame:
    """Every run whose training checks fail (`bench.readers.verdicts.run_warnings`), one row per check.

    Columns: ``machine``, ``workload``, ``repeat``, ``device``, ``check`` (the one-line reason)
    and ``path``. A run here still appears in the charts, marked by this table: a GPU nobody
    used, training that did not learn or a device that disagrees with the CPU.
    """

    rows = []
    for (_, file_row), document in zip(results.files.iterrows(), results.documents, strict=True):
        for run in document["workloads"]:
            for warning in verdicts.run_warnings(document, run):
                rows.append(
                    [file_row["machine"], run["workload"], run["repeat"],
                     model.short_device(run["device"]), warning, file_row["path"]]
                )  # fmt: skip
    return pd.DataFrame(rows, columns=["machine", "workload", "repeat", "device", "check", "path"])


Interval = Callable[[npt.NDArray[np.float64]], tuple[float, float]]
"""A spread estimator: measured values -> (low, high)."""


def iqr(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    """The interquartile range (25th and 75th percentiles)."""
    low, high = np.percentile(values, [25, 75])
    return float(low), float(high)


def summarise(comparison: Comparison, interval: Interval = iqr) -> pd.DataFrame:
    """One row per machine of a comparable group, fastest first.

    Columns: ``machine``, ``median_epoch_s``, ``low_epoch_s`` and ``high_epoch_s`` (the
    ``interval``), ``min_epoch_s``, ``max_epoch_s``, ``median_images_per_s``,
    ``measured_epochs``, ``repeats`` (workload runs, across files), ``noisy_runs`` (runs whose
    measured epochs vary by more than `stats.NOISY_CV`), ``files``, ``device``, and from the
    energy counters, where the machine has any (NaN where not), ``median_epoch_j`` (joules per
    epoch, all domains) and ``median_images_per_j`` (training images per joule of the training
    phase).
    """
    rows = []
    for machine, frame in comparison.epochs.groupby("machine", sort=True):
        seconds = frame["epoch_s"].to_numpy(dtype=float)
        low, high = interval(seconds)
        per_run = frame.groupby(["path", "repeat"])["epoch_s"]
        noisy = sum(stats.is_noisy(run.to_numpy(dtype=float)) for _, run in per_run)
        rows.append(
            {
                "machine": machine,
                "median_epoch_s": float(np.median(seconds)),
                "low_epoch_s": low,
                "high_epoch_s": high,
                "min_epoch_s": float(seconds.min()),
                "max_epoch_s": float(seconds.max()),
                "median_images_per_s": run_rate(frame),
                "measured_epochs": len(seconds),
                "repeats": len(frame[["path", "repeat"]].drop_duplicates()),
                "noisy_runs": int(noisy),
                "files": frame["path"].nunique(),
                "device": ", ".join(sorted(frame["device"].dropna().unique())),
                **_energy(frame),
            }
        )
    summary = pd.DataFrame(rows)
    if summary.empty:
        return summary
    return summary.sort_values(["median_epoch_s", "machine"], ignore_index=True)


def _energy(frame: pd.DataFrame) -> dict[str, float]:
    """Median joules per epoch and images per joule of the epochs with energy figures."""
    joules = frame["epoch_j"].dropna() if "epoch_j" in frame else pd.Series(dtype=float)
    measured = frame.dropna(subset=["train_j"]) if "train_j" in frame else frame.iloc[0:0]
    per_joule = measured["images_per_s"] * measured["train_s"] / measured["train_j"]
    per_joule = per_joule[np.isfinite(per_joule)]
    return {
        "median_epoch_j": float(joules.median()) if len(joules) else math.nan,
        "median_images_per_j": float(per_joule.median()) if len(per_joule) else math.nan,
    }


def energy_columns(summary: pd.DataFrame) -> dict[str, list[str]]:
    """The table columns of the energy figures, formatted, where any machine of ``summary`` has
    them; none at all where no machine has (a blank column says nothing)."""
    if "median_epoch_j" not in summary or summary["median_epoch_j"].isna().all():
        return {}
    return {
        "J/epoch": [_or_dash(v, "{:,.1f} J") for v in summary["median_epoch_j"]],
        "Images/J": [_or_dash(v, "{:,.2f}") for v in summary["median_images_per_j"]],
    }


def energy_note(results: Results) -> str:
    """What the report can say of energy: how many machines have counters, or that none has
    and what a machine needs for them (so the tables have no blank energy column)."""
    machines = results.epochs["machine"].nunique()
    with_energy = results.epochs.dropna(subset=["epoch_j"])["machine"].nunique()
    if not with_energy:
        return (
            f"Energy per epoch: not available on any of the {machines} machines yet. It needs "
            "Apple silicon (IOReport through zeus-apple-silicon), an NVIDIA GPU of the Volta "
            "generation or newer (NVML), or Linux RAPL counters readable without root; a "
            "machine without them is recorded as such, never as zero."
        )
    return (
        f"Energy per epoch: {with_energy} of {machines} machines have energy counters; their "
        "rows show joules per epoch and training images per joule beside the time "
        "([Methodology](methodology.md#energy) says where each figure comes from)."
    )


def _or_dash(value: float, form: str) -> str:
    return "not measured" if math.isnan(value) else form.format(value)


def default_baseline(machines: Sequence[str], preferred: str | None = None) -> str:
    """The baseline machine among ``machines``: ``preferred`` when present, else the first slug.

    ``preferred`` defaults to ``$BENCHBOOK_BASELINE``.
    """
    if not machines:
        msg = "no machines to choose a baseline from"
        raise ValueError(msg)
    wanted = os.environ.get(BASELINE_ENV) if preferred is None else preferred
    return wanted if wanted is not None and wanted in machines else min(machines)


def check_baseline(results: Results) -> str | None:
    """The baseline machine for the whole report, or None without results.

    Raises
    ------
    UserError
        When ``$BENCHBOOK_BASELINE`` names a machine that has no results.
    """
    wanted = os.environ.get(BASELINE_ENV)
    if wanted and wanted not in results.machines:
        msg = (
            f"{BASELINE_ENV}={wanted} is not a machine with results; "
            f"use one of: {', '.join(results.machines) or '(none yet)'}"
        )
        raise UserError(msg)
    return default_baseline(results.machines) if results.machines else None


def speedups(comparison: Comparison, baseline: str) -> pd.Series:
    """How many times faster each machine of the group is than ``baseline``, as
    `bench.stats.Interval` values (the baseline's own is None: it is the reference)."""
    return pd.Series(
        {
            machine: None if machine == baseline else comparison.ratio(baseline, machine)
            for machine in comparison.machines
        },
        name=f"speedup vs {baseline}",
        dtype=object,
    )


def speedup_verdict(ratio: Any) -> str:
    """A speed-up as `bench.readers.comparison` words it (`bench.stats.verdict`); ``baseline`` for the
    reference machine, an em dash where there is no ratio."""
    if ratio is None:
        return "baseline"
    if not isinstance(ratio, stats.Interval):
        return "\u2014"
    return stats.verdict(ratio)


def speedup_table(results: Results, baseline: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Machines x workloads: how many times faster than the baseline, in each charted group.

    Cells are `bench.stats.Interval` values (None for the baseline, NaN where a machine is not
    in the charted group). The baseline of a workload is ``baseline`` when it ran in the charted
    group, else the group's first slug (`default_baseline`); the second value maps workload ->
    baseline used.
    """
    table = pd.DataFrame(index=pd.Index(results.machines, name="machine"), dtype=object)
    used: dict[str, str] = {}
    for workload, comparison in main_comparisons(results).items():
        used[workload] = default_baseline(comparison.machines, baseline)
        table[workload] = speedups(comparison, used[workload])
    return table, used


def format_ratio(ratio: float) -> str:
    """``1.5`` -> ``1.50x``, the article's way; NaN -> an em dash."""
    return "\u2014" if not math.isfinite(ratio) else f"{ratio:.2f}x"


def headlines(results: Results) -> list[str]:
    """Plain-text findings for the front page that hold at any number of machines: per workload
    (the charted configuration), how many machines ran it, the median machine, and the fastest
    machine of each hardware family (`model.hardware_family`), fastest family first.

    Untrusted text (slugs are safe, labels are not) is not included; escape before display.
    """
    family = {m: model.hardware_family(results.newest(m)["machine"]) for m in results.machines}
    lines = []
    for comparison in main_comparisons(results).values():
        summary = summarise(comparison)
        if len(summary) < 2:
            continue
        title = WORKLOAD_TITLES.get(comparison.workload, comparison.workload)
        middle = float(np.median(summary["median_epoch_s"]))
        best: dict[str, tuple[float, str]] = {}
        for machine, seconds in zip(summary["machine"], summary["median_epoch_s"], strict=True):
            best.setdefault(family[str(machine)], (float(seconds), str(machine)))
        fastest = "; ".join(
            f"{name}: {slug} ({seconds:.3g} s)"
            for name, (seconds, slug) in sorted(best.items(), key=lambda item: item[1])
        )
        lines.append(
            f"{title}: {len(summary)} machines, median machine {middle:.3g} s per epoch; "
            f"fastest per family: {fastest}"
        )
    return lines


def fastest_against_slowest(comparison: Comparison) -> str:
    """``fast vs slow: 1.52x faster, 95 % CI 1.47 to 1.58`` (or ``no clear difference (...)``):
    the group's fastest machine against its slowest, in `bench.readers.comparison`'s words."""
    summary = summarise(comparison)
    fast, slow = str(summary.iloc[0]["machine"]), str(summary.iloc[-1]["machine"])
    if len(summary) == 1:
        return f"{fast} takes {summary.iloc[0]['median_epoch_s']:.1f} s per epoch (the only machine so far)"
    return f"{fast} vs {slow}: {stats.verdict(comparison.ratio(slow, fast))}"


def training_finding(comparison: Comparison) -> str:
    """The fastest against the slowest machine of a group, in one sentence, with its interval."""
    summary = summarise(comparison)
    title = WORKLOAD_TITLES.get(comparison.workload, comparison.workload)
    finding = f"{title}: {fastest_against_slowest(comparison)}"
    if len(summary) == 1:
        return finding
    fast, slow = summary.iloc[0], summary.iloc[-1]
    return (
        f"{finding}; median {fast['median_epoch_s']:.1f} s vs {slow['median_epoch_s']:.1f} s "
        "per epoch"
    )


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def training_table(comparison: Comparison, baseline: str) -> pd.DataFrame:
    """The numbers behind a training chart, formatted, one row per machine, fastest first."""
    summary = summarise(comparison)
    ratios = speedups(comparison, baseline)
    return pd.DataFrame(
        {
            "Machine": summary["machine"],
            "Median s/epoch": summary["median_epoch_s"].map(_seconds),
            "Middle half (IQR)": [
                f"{lo:.1f} to {hi:.1f} s"
                for lo, hi in zip(summary["low_epoch_s"], summary["high_epoch_s"], strict=True)
            ],
            "Fastest to slowest": [
                f"{lo:.1f} to {hi:.1f} s"
                for lo, hi in zip(summary["min_epoch_s"], summary["max_epoch_s"], strict=True)
            ],
            "Images/s": summary["median_images_per_s"].map(lambda v: f"{v:,.1f}"),
            f"vs {baseline}": [speedup_verdict(ratios.get(m)) for m in summary["machine"]],
            "Measured epochs": summary["measured_epochs"],
            "Runs": summary["repeats"],
            "Noisy runs": summary["noisy_runs"],
            "Device": summary["device"],
            **energy_columns(summary),
        }
    )


def speedup_display(table: pd.DataFrame, baselines: dict[str, str], baseline: str) -> pd.DataFrame:
    """`speedup_table` in `bench.readers.comparison`'s words (``1.52x faster, 95 % CI 1.47 to
    1.58``, ``no clear difference (...)``), baselines in the headers."""
    shown = pd.DataFrame(index=table.index)
    for workload in table.columns:
        header = WORKLOAD_TITLES.get(workload, workload)
        if baselines[workload] != baseline:
            header += f" (vs {baselines[workload]})"
        shown[header] = table[workload].map(speedup_verdict)
    return shown.reset_index().rename(columns={"machine": "Machine"})
