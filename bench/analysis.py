"""Analysis of results files: tidy tables, summaries and comparisons for the report.

Never imports TensorFlow (the docs environment does not install it). Every aggregate here is
computed from the raw measurements stored in results files: medians, spreads and ratios are
never read from a file.

The tables are tidy (one observation per row). The central one, ``Results.epochs``, has one row
per machine, results file, workload run (workload x repeat) and epoch, with the comparability
key beside every measurement. Timings are compared only inside a `Comparison`: runs that agree
on every field of `COMPARABILITY_KEY`.

Estimators are arguments (``interval=`` for the spread of a machine's epochs, ``estimate=`` for
a ratio between two machines), so resampled confidence intervals can be added as new functions
without touching the grouping code.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bench import attribution as attribution_rules
from bench import baselines, probes, stats, workloads
from bench import results as results_io
from bench.errors import UserError
from bench.results import Result, model

ROOT = Path(__file__).resolve().parents[1]
RESULTS_ENV = "BENCHBOOK_RESULTS"
"""Environment variable naming the results folder to analyse (default: ``<repo>/results``).

A relative path is taken from the repository root, so the docs build (which runs in ``docs/``)
and a shell in the root agree."""
BASELINE_ENV = "BENCHBOOK_BASELINE"
"""Environment variable naming the baseline machine slug of the speedup tables."""

WORKLOADS = workloads.WORKLOADS
WORKLOAD_TITLES = workloads.WORKLOAD_TITLES
SECTIONS = probes.SECTIONS
SECTION_TITLES = {"single_core": "Single-core", "multi_core": "Multi-core", "gpu": "GPU"}
COMPARABILITY_KEY = model.FIELDS
"""Runs are comparable only when they agree on all of these (`bench.results.model.KEY`)."""


# --- The article ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleClaim:
    """One figure the article states, as the M1 Pro over the M1."""

    measure: str
    """A workload name or a probe section (``single_core``, ``multi_core``, ``gpu``)."""
    title: str
    ratio: float
    """M1 Pro over M1: times faster (training) or times higher (scores)."""
    stated: str
    """The article's own words, shortened."""


# The only numbers in the project that do not come from a results file: what the blog study
# "MacBook M1 vs M1 Pro for Data Science" (2021) states in its text, comparing a base M1 (8 GPU
# cores) with an M1 Pro (16 GPU cores). Geekbench rows are its Geekbench scores; training rows
# are its average seconds per epoch on the Dogs vs Cats images.
ARTICLE_BASELINE_CHIP = "Apple M1"
ARTICLE_CONTENDER_CHIP = "Apple M1 Pro"
ARTICLE_CLAIMS = (
    ArticleClaim(
        "single_core", "Single-core score", 1.0, "about equal; the M1 scored 13 points higher"
    ),
    ArticleClaim("multi_core", "Multi-core score", 1.60, "about 60 % higher on the M1 Pro"),
    ArticleClaim("gpu", "GPU (Metal) score", 1.95, "about 95 % higher on the M1 Pro"),
    ArticleClaim("cnn", WORKLOAD_TITLES["cnn"], 1.5, "1.5x faster on the M1 Pro"),
    ArticleClaim("cnn-aug", WORKLOAD_TITLES["cnn-aug"], 1.0, "almost identical"),
    ArticleClaim("vgg16", WORKLOAD_TITLES["vgg16"], 2.45, "2.45x faster on the M1 Pro"),
    ArticleClaim("vgg16-aug", WORKLOAD_TITLES["vgg16-aug"], 2.72, "2.72x faster on the M1 Pro"),
)
NOT_MEASURED = "not measured here yet"


# --- Loading ----------------------------------------------------------------------------------


def results_dir() -> Path:
    """The results folder to analyse: ``$BENCHBOOK_RESULTS``, else ``<repo>/results``."""
    configured = os.environ.get(RESULTS_ENV)
    return ROOT / configured if configured else ROOT / "results"


def load_results(directory: str | os.PathLike[str] | None = None) -> Results:
    """Load every results file under ``directory`` (default: `results_dir`), once all pass
    `bench.results.check_tree` (schema, place, plausibility, duplicates, completeness, stray
    files): the report shows only what `nox -s validate` and `compare` accept.

    The report shows only what `nox -s validate` accepts. A missing default folder means no
    results yet; a folder named explicitly (argument or ``$BENCHBOOK_RESULTS``) must exist.

    Raises
    ------
    ResultsError
        Naming the first problem and how many there are.
    UserError
        When the folder named explicitly does not exist.
    """
    explicit = directory is not None or bool(os.environ.get(RESULTS_ENV))
    root = Path(directory) if directory is not None else results_dir()
    if explicit and not root.is_dir():
        msg = f"results folder {root} does not exist; set {RESULTS_ENV} to a folder of results"
        raise UserError(msg)
    if not root.is_dir():
        return tidy([])
    return tidy(sorted(results_io.checked(root).items()))


# --- Tidy tables ------------------------------------------------------------------------------


def _float(value: Any) -> float:
    """A JSON number as a float; None (not finite when written) becomes NaN."""
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_FILE_COLUMNS = [
    "machine", "path", "run_id", "status", "started_at", "finished_at", "label", "profile",
    "dataset_kind", "tensorflow", "keras", "tensorflow_metal",
]  # fmt: skip
_RUN_COLUMNS = [
    "machine", "path", "run_id", "started_at", *COMPARABILITY_KEY, "repeat", "status", "error",
    "device", "tensorflow", "keras", "tensorflow_metal", "epochs_recorded",
]  # fmt: skip
_EPOCH_COLUMNS = [
    "machine", "path", "run_id", "started_at", *COMPARABILITY_KEY, "repeat", "run_status",
    "device", "epoch", "warmup", "epoch_s", "train_s", "validation_s", "images_per_s",
    "loss", "accuracy", "val_loss", "val_accuracy",
]  # fmt: skip
_ATTRIBUTION_COLUMNS = [
    "machine", "path", "run_id", "started_at", *COMPARABILITY_KEY, "repeat", "logical_cores",
    "attribution", "input_images_per_s", "compute_images_per_s", "end_to_end_images_per_s",
    "elapsed_s", "wall_s", "error",
]  # fmt: skip
_SECTION_COLUMNS = [
    "machine", "path", "started_at", "baseline_version", "section", "status", "score",
    "threads", "device", "reason",
]  # fmt: skip
_PROBE_COLUMNS = [
    "machine", "path", "started_at", "section", "probe", "status", "unit", "value", "spread",
    "score",
]  # fmt: skip
_GEEKBENCH_COLUMNS = [
    "machine", "path", "started_at", "version", "single_core", "multi_core", "gpu", "gpu_api",
]  # fmt: skip


@dataclass(frozen=True)
class Results:
    """Every results file as tidy tables (see the module docstring)."""

    files: pd.DataFrame
    """One row per results file."""
    documents: tuple[Result, ...]
    """The validated documents, in the order of ``files``."""
    runs: pd.DataFrame
    """One row per workload run (workload x repeat), failed runs included."""
    epochs: pd.DataFrame
    """One row per epoch of every workload run, warm-up included and marked."""
    probe_sections: pd.DataFrame
    """One row per probe section (single-core, multi-core, GPU) per file that has probes."""
    probe_values: pd.DataFrame
    """One row per individual probe."""
    geekbench: pd.DataFrame
    """One row per file with user-reported Geekbench scores."""
    attribution: pd.DataFrame
    """One row per finished workload run: its input-only, compute-only and end-to-end
    throughputs (`bench.attribution`); ``attribution`` says ``measured``, ``not measured``
    (a file without the block) or ``failed`` (with ``error``)."""

    @property
    def empty(self) -> bool:
        """True when there is no results file."""
        return self.files.empty

    @cached_property
    def machines(self) -> list[str]:
        """Machine slugs, sorted."""
        return sorted(self.files["machine"].unique())

    def newest(self, machine: str) -> Result:
        """The most recent document of a machine (it describes the machine's current setup)."""
        rows = self.files[self.files["machine"] == machine]
        return self.documents[int(rows.sort_values("started_at").index[-1])]


def tidy(documents: Iterable[tuple[Path, Result]]) -> Results:
    """Turn validated documents into the tidy tables of `Results`."""
    files: list[list[Any]] = []
    docs: list[Result] = []
    runs: list[list[Any]] = []
    epochs: list[list[Any]] = []
    sections: list[list[Any]] = []
    probes: list[list[Any]] = []
    geekbench: list[list[Any]] = []
    attributions: list[list[Any]] = []
    for path, data in documents:
        machine = data["machine"]["slug"]
        started = data["started_at"]
        software, config, dataset = data["software"], data["config"], data["dataset"]
        versions = [software["tensorflow"], software["keras"], software["tensorflow_metal"]]
        where = [machine, str(path), data["run_id"], started]
        files.append(
            [*where[:3], data["status"], started, data["finished_at"], data["machine"]["label"],
             config["profile"], dataset["kind"], *versions]
        )  # fmt: skip
        docs.append(data)
        for run in data["workloads"]:
            key = list(model.setting_of(data, run))
            device = model.short_device(run["device"])
            runs.append(
                [*where, *key, run["repeat"], run["status"], run["error"], device, *versions,
                 len(run["epochs"])]
            )  # fmt: skip
            if run["status"] == "ok":
                cores = data["machine"]["cpu"].get("logical_cores")
                attributions.append(
                    [*where, *key, run["repeat"], cores if isinstance(cores, int) else None,
                     *_attribution_values(run)]
                )  # fmt: skip
            for e in run["epochs"]:
                epochs.append(
                    [*where, *key, run["repeat"], run["status"], device, e["epoch"], e["warmup"],
                     e["epoch_s"], e["train_s"], e["validation_s"], e["images_per_s"],
                     _float(e["loss"]), _float(e["accuracy"]), _float(e["val_loss"]),
                     _float(e["val_accuracy"])]
                )  # fmt: skip
        scored, problem = _rescored(data.get("probes"))
        sections.extend(_probe_sections(machine, str(path), started, scored, problem))
        probes.extend(_probe_values(machine, str(path), started, scored))
        gb = data.get("geekbench")
        if gb:
            geekbench.append(
                [machine, str(path), started, gb["version"], _float(gb.get("single_core")),
                 _float(gb.get("multi_core")), _float(gb.get("gpu")), gb.get("gpu_api")]
            )  # fmt: skip
    return Results(
        files=pd.DataFrame(files, columns=_FILE_COLUMNS),
        documents=tuple(docs),
        runs=pd.DataFrame(runs, columns=_RUN_COLUMNS),
        epochs=_typed_epochs(pd.DataFrame(epochs, columns=_EPOCH_COLUMNS)),
        probe_sections=pd.DataFrame(sections, columns=_SECTION_COLUMNS),
        probe_values=pd.DataFrame(probes, columns=_PROBE_COLUMNS),
        geekbench=pd.DataFrame(geekbench, columns=_GEEKBENCH_COLUMNS),
        attribution=pd.DataFrame(attributions, columns=_ATTRIBUTION_COLUMNS).astype(
            dict.fromkeys(_ATTRIBUTION_FLOATS, float)
        ),
    )


_ATTRIBUTION_FLOATS = (
    "input_images_per_s", "compute_images_per_s", "end_to_end_images_per_s", "elapsed_s", "wall_s",
)  # fmt: skip


def _attribution_values(run: Mapping[str, Any]) -> list[Any]:
    """``attribution``, input, compute and end-to-end images/s, elapsed_s, wall_s, error."""
    found = model.attribution_of(run)
    return [
        found.status, found.input_images_per_s, found.compute_images_per_s,
        model.images_per_s(run), found.elapsed_s, _float(run.get("wall_s")), found.error,
    ]  # fmt: skip


def _typed_epochs(frame: pd.DataFrame) -> pd.DataFrame:
    """Give an empty epochs table the dtypes a full one has, so filters work on both."""
    types = {"warmup": bool, "epoch_s": float, "train_s": float, "images_per_s": float}
    return frame.astype(types)


PROBE_BASELINE = baselines.CURRENT.version
"""The baseline version every probe score in the report is computed against."""


def _rescored(probes: Any) -> tuple[Any, str | None]:
    """A probes block scored again against the current baselines, or why it cannot be.

    Stored scores follow the baseline version of their day; the stored throughputs are scored
    again so files of every version compare. A block that cannot be (a probe the current
    baselines do not know) keeps its measurements but none of its scores.
    """
    if not isinstance(probes, Mapping):
        return probes, None
    try:
        return baselines.rescore(probes), None
    except (UserError, ValueError, TypeError, AttributeError, KeyError) as exc:
        return probes, str(exc) or type(exc).__name__


# The probes block is read defensively (its schema may be looser than the code that writes it):
# anything of an unexpected shape is treated as missing rather than failing the report.
def _sections(probes: Any) -> Mapping[str, Any]:
    if not isinstance(probes, Mapping):
        return {}
    sections = probes.get("sections")
    return sections if isinstance(sections, Mapping) else {}


def _probe_sections(
    machine: str, path: str, started: str, probes: Any, problem: str | None
) -> list[list[Any]]:
    rows = []
    version = _text(probes.get("baseline_version")) if isinstance(probes, Mapping) else None
    for name, section in _sections(probes).items():
        if name not in SECTIONS or not isinstance(section, Mapping):
            continue
        status = _text(section.get("status")) or "missing"
        reason = _text(section.get("reason"))
        if status == "ok" and problem is not None:
            status, reason = "not comparable", problem
        score = _float(section.get("score")) if status == "ok" else math.nan
        threads = section.get("threads")
        rows.append(
            [machine, path, started, version, name, status, score,
             threads if isinstance(threads, int) else None, _text(section.get("device")), reason]
        )  # fmt: skip
    return rows


def _probe_values(machine: str, path: str, started: str, probes: Any) -> list[list[Any]]:
    rows = []
    for name, section in _sections(probes).items():
        if name not in SECTIONS or not isinstance(section, Mapping):
            continue
        items = section.get("probes")
        for probe in items if isinstance(items, list) else []:
            if isinstance(probe, Mapping) and isinstance(probe.get("name"), str):
                rows.append(
                    [machine, path, started, name, probe["name"],
                     _text(probe.get("status")) or "ok", _text(probe.get("unit")),
                     _float(probe.get("value")), _float(probe.get("spread")),
                     _float(probe.get("score"))]
                )  # fmt: skip
    return rows


# --- Overview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    """Counts for the front page."""

    machines: int
    files: int
    workload_runs: int
    failed_runs: int
    interrupted_files: int
    newest_date: str | None
    """UTC date (YYYY-MM-DD) of the most recently finished results file."""


def overview(results: Results) -> Overview:
    """How many machines, files and runs there are, and how recent the newest is."""
    newest = None if results.empty else str(results.files["finished_at"].max())[:10]
    return Overview(
        machines=len(results.machines),
        files=len(results.files),
        workload_runs=len(results.runs),
        failed_runs=int((results.runs["status"] == "failed").sum()),
        interrupted_files=int((results.files["status"] == "interrupted").sum()),
        newest_date=newest,
    )


# --- Comparable groups ------------------------------------------------------------------------


def measured_epochs(epochs: pd.DataFrame) -> pd.DataFrame:
    """Epochs that count: from runs that finished, warm-up epochs left out."""
    return epochs[(epochs["run_status"] == "ok") & ~epochs["warmup"]]


@dataclass(frozen=True)
class Comparison:
    """Runs that may be compared: they agree on every field of `COMPARABILITY_KEY`."""

    setting: Mapping[str, Any]
    """The shared values of `COMPARABILITY_KEY`."""
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

    @cached_property
    def _groups(self) -> dict[str, list[list[float]]]:
        runs: dict[str, list[tuple[str, int, list[float]]]] = {}
        seconds = self.epochs.groupby(["machine", "path", "repeat"], sort=False)["epoch_s"]
        for key, values in seconds.agg(list).items():
            machine, path, repeat = (str(part) for part in key)  # type: ignore[attr-defined]
            runs.setdefault(machine, []).append((path, int(repeat), values))
        return {machine: model.epoch_groups(found) for machine, found in runs.items()}

    def groups(self, machine: str) -> list[list[float]]:
        """Seconds per measured epoch of one machine, one list per run (`model.epoch_groups`)."""
        return self._groups.get(machine, [])

    def ratio(self, baseline: str, machine: str) -> stats.Interval:
        """How many times faster ``machine`` is than ``baseline``, with its bootstrap interval:
        the figure and interval `bench.compare` gives for the same runs."""
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
        Comparison(dict(zip(COMPARABILITY_KEY, key, strict=True)), frame)
        for key, frame in measured.groupby(list(COMPARABILITY_KEY), sort=False, dropna=False)
    ]
    order = {w: i for i, w in enumerate(WORKLOADS)}
    return sorted(groups, key=lambda c: (order.get(c.workload, 99), _rank(c)))


def main_comparisons(results: Results) -> dict[str, Comparison]:
    """Per workload, the comparable group the report charts (the first of `comparisons`)."""
    chosen: dict[str, Comparison] = {}
    for comparison in comparisons(results.epochs):
        chosen.setdefault(comparison.workload, comparison)
    return chosen


differences = model.differences


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


def same_hardware(results: Results) -> list[tuple[str, str]]:
    """Pairs of machine folders whose newest files describe the same hardware, as far as both
    record it (`bench.environment.hardware_differences` finds nothing).

    Typically one folder written before CPU identities were recorded (a VM's ``amd-epyc-2c``)
    and one after (``amd-epyc-zen4-2c``): the report must not present them as two machines
    without saying so.
    """
    from bench import environment

    machines = {m: results.newest(m)["machine"] for m in results.machines}
    names = sorted(machines)
    return [
        (a, b)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if not environment.hardware_differences(machines[a], machines[b])
    ]


def flagged_runs(results: Results) -> pd.DataFrame:
    """Every run whose training checks fail (`bench.sanity.run_warnings`), one row per check.

    Columns: ``machine``, ``workload``, ``repeat``, ``device``, ``check`` (the one-line reason)
    and ``path``. A run here still appears in the charts, marked by this table: a GPU nobody
    used, training that did not learn or a device that disagrees with the CPU.
    """
    from bench import sanity

    rows = []
    for (_, file_row), document in zip(results.files.iterrows(), results.documents, strict=True):
        for run in document["workloads"]:
            for warning in sanity.run_warnings(document, run):
                rows.append(
                    [file_row["machine"], run["workload"], run["repeat"],
                     model.short_device(run["device"]), warning, file_row["path"]]
                )  # fmt: skip
    return pd.DataFrame(rows, columns=["machine", "workload", "repeat", "device", "check", "path"])


# --- Summaries and ratios ---------------------------------------------------------------------

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
    measured epochs vary by more than `stats.NOISY_CV`), ``files``, ``device``.
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
                "median_images_per_s": _per_run_rate(frame),
                "measured_epochs": len(seconds),
                "repeats": len(frame[["path", "repeat"]].drop_duplicates()),
                "noisy_runs": int(noisy),
                "files": frame["path"].nunique(),
                "device": ", ".join(sorted(frame["device"].dropna().unique())),
            }
        )
    summary = pd.DataFrame(rows)
    if summary.empty:
        return summary
    return summary.sort_values(["median_epoch_s", "machine"], ignore_index=True)


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
    """A speed-up as `bench.compare` words it (`bench.stats.verdict`); ``baseline`` for the
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
    """Plain-text findings for the front page, one per workload with two or more machines.

    Untrusted text (slugs are safe, labels are not) is not included; escape before display.
    """
    lines = []
    for comparison in main_comparisons(results).values():
        if len(comparison.machines) < 2:
            continue
        lines.append(training_finding(comparison))
    return lines


def fastest_against_slowest(comparison: Comparison) -> str:
    """``fast vs slow: 1.52x faster, 95 % CI 1.47 to 1.58`` (or ``no clear difference (...)``):
    the group's fastest machine against its slowest, in `bench.compare`'s words."""
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


# --- Hardware ---------------------------------------------------------------------------------


def _gib(n: Any) -> str:
    return f"{n / 2**30:.0f} GiB" if isinstance(n, int) else "\u2014"


def _cores(cpu: Mapping[str, Any]) -> str:
    p, e = cpu.get("performance_cores"), cpu.get("efficiency_cores")
    if isinstance(p, int) and isinstance(e, int):
        return f"{p + e} ({p} performance + {e} efficiency)"
    physical, logical = cpu.get("physical_cores"), cpu.get("logical_cores")
    if physical and logical and physical != logical:
        return f"{physical} ({logical} threads)"
    return str(physical or logical or "\u2014")


def _gpus(machine: Mapping[str, Any]) -> str:
    names = []
    for gpu in machine["gpus"]:
        cores = gpu.get("cores")
        names.append(gpu["name"] + (f", {cores} cores" if cores else ""))
    return "; ".join(names) or "none found"


HARDWARE_ROWS = (
    "Label", "Chip or CPU", "CPU cores", "GPU", "Memory", "OS", "Python", "TensorFlow", "Keras",
    "tensorflow-metal", "Device used", "Dataset (newest file)", "Results files",
)  # fmt: skip


def dataset_label(dataset: Mapping[str, Any]) -> str:
    """What a results file trained on, e.g. "Kaggle Dogs vs Cats (petimages), 1a2b3c4d"."""
    if dataset.get("kind") == "synthetic":
        name = "synthetic stand-in"
    else:
        name = dataset.get("name") or "unnamed dataset"
    return f"{name}, {str(dataset.get('fingerprint') or '')[:8]}"


def hardware(results: Results) -> pd.DataFrame:
    """The machines side by side (one column each), from each machine's newest file.

    "Device used" lists every device that ran training for the machine, across all files.
    """
    columns = {}
    for slug in results.machines:
        doc = results.newest(slug)
        m, sw = doc["machine"], doc["software"]
        apple = m.get("apple") or {}
        os_info = m["os"]
        devices = results.runs.loc[results.runs["machine"] == slug, "device"].dropna().unique()
        columns[slug] = [
            m["label"] or "\u2014",
            apple.get("chip") or m["cpu"]["model"] or m["cpu"]["architecture"],
            _cores(m["cpu"]),
            _gpus(m),
            _gib(m["memory_bytes"]),
            os_info.get("name") or f"{os_info['system']} {os_info['release']}",
            sw["python"],
            sw["tensorflow"] or "\u2014",
            sw["keras"] or "\u2014",
            sw["tensorflow_metal"] or "\u2014",
            ", ".join(sorted(devices)) or "\u2014",
            dataset_label(doc["dataset"]),
            str(int((results.files["machine"] == slug).sum())),
        ]
    return pd.DataFrame(columns, index=pd.Index(HARDWARE_ROWS, name=""))


# --- Synthetic scores -------------------------------------------------------------------------


def _newest(frame: pd.DataFrame) -> pd.Series:
    """The row of the most recent results file."""
    return frame.sort_values("started_at", kind="stable").iloc[-1]


def probe_scores(results: Results) -> pd.DataFrame:
    """One row per machine and section: median score over the files where it ran.

    ``status`` is ``ok`` when any file has a score, else the newest file's status (e.g.
    ``unavailable``, with its ``reason``), or ``not run`` when no file of the machine has the
    section. A score that is not ``ok`` is NaN, never zero.
    """
    rows = []
    sections = results.probe_sections
    for machine in results.machines:
        for section in SECTIONS:
            mine = sections[(sections["machine"] == machine) & (sections["section"] == section)]
            ok = mine[mine["status"] == "ok"].dropna(subset=["score"])
            if not ok.empty:
                newest = _newest(ok)
                rows.append(
                    [machine, section, "ok", float(ok["score"].median()), len(ok),
                     newest["threads"], newest["device"], None]
                )  # fmt: skip
            elif not mine.empty:
                newest = _newest(mine)
                rows.append(
                    [machine, section, newest["status"], math.nan, 0, None, None, newest["reason"]]
                )
            else:
                reason = "no probes in this machine's results (skipped, or recorded before them)"
                rows.append([machine, section, "not run", math.nan, 0, None, None, reason])
    columns = ["machine", "section", "status", "score", "files", "threads", "device", "reason"]
    return pd.DataFrame(rows, columns=columns)


def probe_details(results: Results) -> pd.DataFrame:
    """One row per machine, section and probe: medians of value, spread and score across files.

    Only probes that were measured count; ``files`` says how many files measured each.
    """
    columns = ["machine", "section", "probe", "unit", "value", "spread", "score", "files"]
    values = results.probe_values
    values = values[(values["status"] == "ok") & values["value"].notna()]
    if values.empty:
        return pd.DataFrame(columns=columns)
    grouped = values.groupby(["machine", "section", "probe"], sort=True, dropna=False)
    table = grouped.agg(
        unit=("unit", "last"), value=("value", "median"), spread=("spread", "median"),
        score=("score", "median"), files=("path", "nunique"),
    ).reset_index()  # fmt: skip
    order = {s: i for i, s in enumerate(SECTIONS)}
    return table.sort_values(
        ["machine", "section", "probe"], key=lambda c: c.map(order) if c.name == "section" else c,
        ignore_index=True,
    )[columns]  # fmt: skip


def geekbench_scores(results: Results) -> pd.DataFrame:
    """Per machine, the Geekbench scores its user reported: medians, newest version and API."""
    gb = results.geekbench
    columns = ["machine", "version", "single_core", "multi_core", "gpu", "gpu_api", "files"]
    rows = []
    for machine, frame in gb.groupby("machine", sort=True):
        newest = _newest(frame)
        rows.append(
            [machine, newest["version"], frame["single_core"].median(),
             frame["multi_core"].median(), frame["gpu"].median(), newest["gpu_api"], len(frame)]
        )  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


# --- The article beside the results here ------------------------------------------------------


def machines_with_chip(results: Results, chip: str) -> list[str]:
    """Slugs whose newest file names this Apple chip exactly (case and spaces ignored)."""
    wanted = " ".join(chip.lower().split())
    found = []
    for slug in results.machines:
        apple = results.newest(slug)["machine"].get("apple") or {}
        name = apple.get("chip")
        if isinstance(name, str) and " ".join(name.lower().split()) == wanted:
            found.append(slug)
    return found


def _article_scores(
    results: Results, claim: ArticleClaim, base: str, contender: str
) -> tuple[float, str] | None:
    """The ratio of reported Geekbench scores, else of probe scores; None when missing."""
    gb = geekbench_scores(results).set_index("machine")
    if base in gb.index and contender in gb.index:
        low, high = _float(gb.at[base, claim.measure]), _float(gb.at[contender, claim.measure])
        if math.isfinite(low) and math.isfinite(high) and low > 0:
            api = _text(gb.at[contender, "gpu_api"]) if claim.measure == "gpu" else None
            points = f"; {high - low:+.0f} points" if claim.measure == "single_core" else ""
            version = _text(gb.at[contender, "version"])
            source = f"Geekbench {version} scores reported with the results"
            return high / low, source + (f" ({api})" if api else "") + points
    scores = probe_scores(results).set_index(["machine", "section"])
    low = _float(scores.at[(base, claim.measure), "score"])
    high = _float(scores.at[(contender, claim.measure), "score"])
    if math.isfinite(low) and math.isfinite(high) and low > 0:
        return high / low, "benchbook's probe scores"
    return None


def _article_training(
    results: Results, claim: ArticleClaim, bases: Sequence[str], contenders: Sequence[str]
) -> tuple[stats.Interval, str] | str:
    """The training ratio, with its interval, from a comparable group with both chips, or why
    there is none."""
    candidates = [c for c in comparisons(results.epochs) if c.workload == claim.measure]
    for comparison in candidates:
        base = next((m for m in bases if m in comparison.machines), None)
        contender = next((m for m in contenders if m in comparison.machines), None)
        if base and contender:
            interval = comparison.ratio(base, contender)
            return interval, f"{contender} vs {base}, {comparison.describe()}"
    base_runs = [c for c in candidates if set(bases) & set(c.machines)]
    contender_runs = [c for c in candidates if set(contenders) & set(c.machines)]
    if base_runs and contender_runs:
        why = "; ".join(differences(base_runs[0].setting, contender_runs[0].setting))
        return f"the M1 and M1 Pro runs are not comparable ({why})"
    missing = ARTICLE_BASELINE_CHIP if not base_runs else ARTICLE_CONTENDER_CHIP
    return f"no {missing} run of this workload"


def article_comparison(results: Results) -> pd.DataFrame:
    """The article's ratios (M1 Pro over M1) beside the same ratios from the results here.

    Columns: ``measure``, ``title``, ``article`` (its words), ``article_ratio``,
    ``here_ratio``, ``here_low`` and ``here_high`` (the ratio and its 95 % bootstrap interval;
    NaN when not measured, the interval NaN for scores, which are single figures), ``here``
    (the verdict in `bench.compare`'s words, the score ratio, or `NOT_MEASURED`), ``source``
    (what the ratio here is made of, or why it is missing). With several machines of one chip,
    the first slug is used.
    """
    bases = machines_with_chip(results, ARTICLE_BASELINE_CHIP)
    contenders = machines_with_chip(results, ARTICLE_CONTENDER_CHIP)
    rows = []
    for claim in ARTICLE_CLAIMS:
        ratio, source, interval = math.nan, "", None
        if not bases or not contenders:
            missing = [c for c, m in ((ARTICLE_BASELINE_CHIP, bases),
                                      (ARTICLE_CONTENDER_CHIP, contenders)) if not m]  # fmt: skip
            source = f"no {' or '.join(missing)} results"
        elif claim.measure in SECTIONS:
            found = _article_scores(results, claim, bases[0], contenders[0])
            if found is None:
                source = "no scores for both chips"
            else:
                ratio, source = found
                source = f"{contenders[0]} vs {bases[0]}, {source}"
        else:
            outcome = _article_training(results, claim, bases, contenders)
            if isinstance(outcome, str):
                source = outcome
            else:
                interval, source = outcome
                ratio = interval.value
        if interval is not None:
            here, low, high = stats.verdict(interval), interval.low, interval.high
        else:
            here = format_ratio(ratio) if math.isfinite(ratio) else NOT_MEASURED
            low = high = math.nan
        rows.append(
            [claim.measure, claim.title, claim.stated, claim.ratio, ratio, low, high, here, source]
        )
    columns = ["measure", "title", "article", "article_ratio", "here_ratio", "here_low",
               "here_high", "here", "source"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


# --- Bottlenecks: input wait vs compute ------------------------------------------------------

SETTING_KEY = tuple(k for k in COMPARABILITY_KEY if k not in ("pipeline", "intra_op_threads"))
"""What must agree for configurations to share a bottleneck chart: everything in
`COMPARABILITY_KEY` except the input pipeline and the thread count, which the chart compares."""
PIPELINE_TITLES = model.PIPELINE_TITLES
pipeline_name = model.pipeline_name


_BOTTLENECK_COLUMNS = [
    "workload", "machine", "pipeline", "intra_op_threads", "threads", *SETTING_KEY[1:],
    "runs", "measured_runs", "attribution", "input_images_per_s", "compute_images_per_s",
    "end_to_end_images_per_s", "input_wait_share", "end_to_end_ms", "compute_ms",
    "input_wait_ms", "verdict", "overhead_share",
]  # fmt: skip


def threads_label(intra_op_threads: int, logical_cores: Any = None) -> str:
    """``0`` -> ``default (8 cores)`` (or ``default``); ``2`` -> ``2 threads``."""
    if intra_op_threads == 0:
        return f"default ({logical_cores} cores)" if isinstance(logical_cores, int) else "default"
    return f"{intra_op_threads} thread" + ("s" if intra_op_threads != 1 else "")


def bottleneck_table(results: Results) -> pd.DataFrame:
    """Where each configuration's training step time goes: one row per machine and setting.

    A configuration is a machine with one value of every `COMPARABILITY_KEY` field (so the
    pipeline and thread count are part of it). Throughputs are medians over its finished runs
    (end to end: each run's median of measured epochs); input wait share, milliseconds per image
    and the verdict follow `bench.attribution.derive`. ``attribution`` is ``measured`` when at
    least one run has the measurement, else ``failed`` or ``not measured`` (files from before
    it, or runs with --skip-attribution): their throughputs are NaN and their verdict
    ``not measured``. ``overhead_share`` is the measurement's time over the rest of the run's
    wall time (median; NaN where the run's wall time was not recorded).
    """
    frame = results.attribution
    if frame.empty:
        return pd.DataFrame(columns=_BOTTLENECK_COLUMNS)
    rows = []
    keys = ["machine", *COMPARABILITY_KEY]
    for key, group in frame.groupby(keys, sort=False, dropna=False):
        values = dict(zip(keys, key, strict=True))
        measured = group[group["attribution"] == "measured"]
        status = (
            "measured" if not measured.empty
            else "failed" if (group["attribution"] == "failed").any() else "not measured"
        )  # fmt: skip
        source = float(measured["input_images_per_s"].median()) if len(measured) else math.nan
        compute = float(measured["compute_images_per_s"].median()) if len(measured) else math.nan
        end = float(group["end_to_end_images_per_s"].median())
        derived = attribution_rules.derive(source, compute, end)
        overhead = measured["elapsed_s"] / (measured["wall_s"] - measured["elapsed_s"])
        cores = group["logical_cores"].dropna()
        threads = int(group["intra_op_threads"].iloc[0])
        rows.append(
            [values["workload"], values["machine"], values["pipeline"], threads,
             threads_label(threads, int(cores.iloc[-1]) if len(cores) else None),
             *(values[k] for k in SETTING_KEY[1:]), len(group), len(measured), status, source,
             compute, end, derived["input_wait_share"], derived["end_to_end_ms"],
             derived["compute_ms"], derived["input_wait_ms"], derived["verdict"],
             float(overhead.median()) if overhead.notna().any() else math.nan]
        )  # fmt: skip
    table = pd.DataFrame(rows, columns=_BOTTLENECK_COLUMNS)
    order = {w: i for i, w in enumerate(WORKLOADS)}
    return table.sort_values(
        ["workload", "machine", "pipeline", "intra_op_threads"],
        key=lambda c: c.map(order) if c.name == "workload" else c,
        ignore_index=True,
    )


def _setting_rank(rows: pd.DataFrame) -> tuple[Any, ...]:
    first = rows.iloc[0]
    profile, real, size, *_, fingerprint = model.preference(first)
    return (
        -rows["machine"].nunique(),
        profile,
        real,
        -int((rows["attribution"] == "measured").sum()),
        size,
        fingerprint,
    )


def bottleneck_groups(results: Results) -> dict[str, pd.DataFrame]:
    """Per workload, the `bottleneck_table` rows the report charts together.

    They share every `SETTING_KEY` field (profile, sizes, dataset, weights) and differ in
    machine, pipeline and thread count. Where a workload ran in several settings, the one with
    the most machines is charted, then the largest profile (full, medium, quick), real data, and
    the most measured configurations: as on the training pages (`comparisons`).
    """
    table = bottleneck_table(results)
    chosen: dict[str, pd.DataFrame] = {}
    for workload in WORKLOADS:
        mine = table[table["workload"] == workload]
        if mine.empty:
            continue
        groups = [g for _, g in mine.groupby(list(SETTING_KEY[1:]), sort=False, dropna=False)]
        chosen[workload] = min(groups, key=_setting_rank).reset_index(drop=True)
    return chosen


def configuration_label(row: Any, *, threads: bool = True) -> str:
    """``laptop-a, tf.data, 2 threads``: how a bottleneck row is named on charts and tables."""
    pipeline = pipeline_name(row["pipeline"])
    return f"{row['machine']}, {pipeline}" + (f", {row['threads']}" if threads else "")


def _per_run_rate(epochs: pd.DataFrame) -> float:
    """The one end-to-end estimator over a frame of measured epochs: each run's median images/s
    (`bench.results.model.images_per_s`), then the median over runs."""
    per_run = epochs.groupby(["path", "repeat"], sort=False)["images_per_s"].median()
    return model.median_over_runs(per_run.tolist())


def thread_scaling(results: Results) -> pd.DataFrame:
    """End-to-end images/s against intra-op threads, where a machine ran several thread counts.

    One row per machine, workload, pipeline, setting (`SETTING_KEY`, named in ``setting``:
    ``quick, 224 px, batch 64, synthetic data 3f2a9c1e``) and thread count, with the
    end-to-end images/s (`_per_run_rate`); only series with two or more thread
    counts in effect are kept (the default and an explicit count of every core are one).
    ``cores`` is the thread count as a number: the machine's logical cores for the default
    (0), when known.
    """
    columns = ["workload", "machine", "pipeline", "intra_op_threads", "threads", "cores",
               "images_per_s", "epochs", "setting"]  # fmt: skip
    epochs = measured_epochs(results.epochs)
    if epochs.empty:
        return pd.DataFrame(columns=columns)
    cores_of = results.attribution.set_index("path")["logical_cores"].to_dict()
    rows = []
    series_key = ["machine", "workload", "pipeline", *SETTING_KEY[1:]]
    for key, series in epochs.groupby(series_key, sort=False, dropna=False):
        if series["intra_op_threads"].nunique() < 2:
            continue
        values = dict(zip(series_key, key, strict=True))
        setting = (
            f"{values['profile']}, {values['image_size']} px, batch {values['batch_size']}, "
            f"{values['dataset_kind']} data {str(values['dataset_fingerprint'])[:8]}"
        )
        points: list[list[Any]] = []
        for _, frame in series.groupby("intra_op_threads", sort=True):
            logical = cores_of.get(frame["path"].iloc[-1])
            count = int(frame["intra_op_threads"].iloc[0])
            cores = count if count else (logical if isinstance(logical, int) else math.nan)
            points.append(
                [values["workload"], values["machine"], values["pipeline"], count,
                 threads_label(count, logical), cores, _per_run_rate(frame),
                 len(frame), setting]
            )  # fmt: skip
        # The default and an explicit count of every core are one point on the axis: a series
        # needs two different thread counts in effect.
        if len({float(p[5]) for p in points if not math.isnan(float(p[5]))}) >= 2:
            rows.extend(points)
    order = {w: i for i, w in enumerate(WORKLOADS)}
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table
    return table.sort_values(
        ["workload", "machine", "pipeline", "setting", "cores"],
        key=lambda c: c.map(order) if c.name == "workload" else c,
        ignore_index=True,
    )


@dataclass(frozen=True)
class AugmentationStory:
    """The figures behind the explanation of the article's augmentation result, one machine."""

    machine: str
    threads: str
    legacy: Mapping[str, Any]
    """The ``cnn-aug`` legacy row of `bottleneck_table`."""
    plain: Mapping[str, Any] | None
    """The ``cnn`` legacy row (no augmentation), when measured."""
    tfdata: Mapping[str, Any] | None
    """The ``cnn-aug`` tf.data row, when measured."""
    layers: Mapping[str, Any] | None = None
    """The ``cnn-aug`` row of tf.data with the Keras preprocessing layers, when measured."""

    @property
    def augmentation_cost(self) -> float:
        """How many times fewer images/s the legacy pipeline delivers once it augments."""
        if self.plain is None:
            return math.nan
        return float(self.plain["input_images_per_s"]) / float(self.legacy["input_images_per_s"])

    def _over_legacy(self, row: Mapping[str, Any] | None) -> float:
        """``row``'s end-to-end images/s over the legacy row's; NaN when ``row`` is missing."""
        if row is None:
            return math.nan
        end = float(self.legacy["end_to_end_images_per_s"])
        return float(row["end_to_end_images_per_s"]) / end

    @property
    def tfdata_speedup(self) -> float:
        """tf.data over legacy, end-to-end images/s on ``cnn-aug``."""
        return self._over_legacy(self.tfdata)

    @property
    def layers_speedup(self) -> float:
        """tf.data with the Keras layers over legacy, end-to-end images/s on ``cnn-aug``."""
        return self._over_legacy(self.layers)


def augmentation_story(results: Results) -> AugmentationStory | None:
    """The machine and figures that explain the augmentation result, or None when not measured.

    Uses the charted ``cnn-aug`` setting (`bottleneck_groups`); prefers a configuration at the
    default thread count (else the most threads), and a machine that also measured ``cnn`` and
    the tf.data pipeline.
    """
    groups = bottleneck_groups(results)
    aug = groups.get("cnn-aug")
    if aug is None:
        return None
    measured = aug[aug["attribution"] == "measured"]
    legacy_rows = measured[measured["pipeline"] == "legacy"]
    if legacy_rows.empty:
        return None
    plain_rows = groups.get("cnn", pd.DataFrame(columns=_BOTTLENECK_COLUMNS))
    plain_rows = plain_rows[
        (plain_rows["attribution"] == "measured") & (plain_rows["pipeline"] == "legacy")
    ]

    def find(rows: pd.DataFrame, machine: str, threads: int) -> Mapping[str, Any] | None:
        hit = rows[(rows["machine"] == machine) & (rows["intra_op_threads"] == threads)]
        return None if hit.empty else {str(k): v for k, v in hit.iloc[0].items()}

    def rank(row: Any) -> tuple[Any, ...]:
        m, t = row.machine, int(row.intra_op_threads)
        tf_rows = measured[measured["pipeline"] != "legacy"]
        return (t != 0, find(tf_rows, m, t) is None, find(plain_rows, m, t) is None, m, -t)

    best = min(legacy_rows.itertuples(), key=rank)
    machine, threads = str(best.machine), int(str(best.intra_op_threads))
    return AugmentationStory(
        machine=machine,
        threads=str(best.threads),
        legacy=find(legacy_rows, machine, threads) or {},
        plain=find(plain_rows, machine, threads),
        tfdata=find(measured[measured["pipeline"] == "tfdata-affine"], machine, threads),
        layers=find(measured[measured["pipeline"] == "tfdata-layers"], machine, threads),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.analysis [FOLDER]``: validate every results file, say so in one line.

    Exit status 0 when every file is valid (an empty or missing default folder included), 2 with
    the first bad file's path and the reason otherwise.
    """
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        results = load_results(args[0] if args else None)
        check_baseline(results)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    facts = overview(results)
    print(f"{facts.files} results files from {facts.machines} machines, all valid")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
