"""Every results file as tidy tables: what each report page starts from.

Never imports TensorFlow (the docs environment does not install it). Files are read through
`bench.results.checked`, the validation `nox -s validate` and `compare` use, then flattened: one
row per file, per workload run, per epoch (``Results.epochs``, the comparability key beside
every measurement), per probe section and probe. Every aggregate the pages show is computed
from these raw measurements; medians, spreads and ratios are never read from a file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from bench import results as results_io
from bench.errors import UserError
from bench.readers import energy, reference
from bench.results import Result, model
from bench.results.model import SECTIONS

ROOT = Path(__file__).resolve().parents[2]


RESULTS_ENV = "BENCHBOOK_RESULTS"
"""Environment variable naming the results folder to analyse (default: ``<repo>/results``).

A relative path is taken from the repository root, so the docs build (which runs in ``docs/``)
and a shell in the root agree."""


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


def as_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_FILE_COLUMNS = [
    "machine", "path", "run_id", "status", "started_at", "finished_at", "label", "profile",
    "dataset_kind", "tensorflow", "keras", "tensorflow_metal",
]  # fmt: skip


_RUN_COLUMNS = [
    "machine", "path", "run_id", "started_at", *model.FIELDS, "repeat", "status", "error",
    "device", "tensorflow", "tensorflow_metal", "epochs_recorded",
]  # fmt: skip
"""The Keras version is a field of the comparability key, so it is not repeated here."""


_EPOCH_COLUMNS = [
    "machine", "path", "run_id", "started_at", *model.FIELDS, "repeat", "run_status",
    "device", "epoch", "warmup", "epoch_s", "train_s", "validation_s", "images_per_s",
    "loss", "accuracy", "val_loss", "val_accuracy", "epoch_j", "train_j", "step_error", "step_df",
]  # fmt: skip
"""``epoch_s`` and ``images_per_s`` are the epoch's steady figures, which every estimate counts
(`bench.results.model.steady_seconds`: the training steps, the first at the mean of the others,
and validation; the epoch as measured where its steps were not timed). ``epoch_j`` and
``train_j``: joules over the epoch and its training phase, all domains together
(`bench.readers.energy.total`); empty where not measured. ``step_error`` and ``step_df``: the
run's (the same on each of its epochs), one epoch's error from its steps
(`bench.results.model.step_error`), which resamples a short run (`bench.stats.Run`)."""


_ATTRIBUTION_COLUMNS = [
    "machine", "path", "run_id", "started_at", *model.FIELDS, "repeat", "logical_cores",
    "attribution", "input_images_per_s", "compute_images_per_s", "end_to_end_images_per_s",
    "elapsed_s", "wall_s", "error",
]  # fmt: skip


_SECTION_COLUMNS = [
    "machine", "path", "started_at", "baseline_version", "section", "status", "score",
    "threads", "device", "reason", "backend", "backend_version",
]  # fmt: skip


_PROBE_COLUMNS = [
    "machine", "path", "started_at", "section", "probe", "status", "unit", "value", "spread",
    "score", "backend", "backend_version",
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
    throughputs (`bench.worker.throughputs`); ``attribution`` says ``measured``, ``not measured``
    (a file without the block) or ``failed`` (with ``error``)."""

    @property
    def empty(self) -> bool:
        """True when there is no results file."""
        return self.files.empty

    @cached_property
    def machines(self) -> list[str]:
        """Machine slugs, sorted."""
        return sorted(self.files["machine"].unique())

    @cached_property
    def labels(self) -> dict[str, str | None]:
        """Each machine's label (from its newest file), by slug."""
        return {m: self.newest(m)["machine"].get("label") for m in self.machines}

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
            error = model.step_error(model.measured_epochs(run))
            runs.append(
                [*where, *key, run["repeat"], run["status"], run["error"], device,
                 software["tensorflow"], software["tensorflow_metal"], len(run["epochs"])]
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
                     model.steady_seconds(e), e["train_s"], e["validation_s"],
                     model.steady_images_per_s(e),
                     model.as_float(e["loss"]), model.as_float(e["accuracy"]), model.as_float(e["val_loss"]),
                     model.as_float(e["val_accuracy"]), *_joules(e), *error]
                )  # fmt: skip
        scored, problem = _rescored(data.get("probes"))
        framework = [software["backend"], software["backend_version"]]
        sections.extend(
            [*row, *framework]
            for row in _probe_sections(machine, str(path), started, scored, problem)
        )
        probes.extend(
            [*row, *framework] for row in _probe_values(machine, str(path), started, scored)
        )
        gb = data.get("geekbench")
        if gb:
            geekbench.append(
                [machine, str(path), started, gb["version"], model.as_float(gb.get("single_core")),
                 model.as_float(gb.get("multi_core")), model.as_float(gb.get("gpu")), gb.get("gpu_api")]
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
        model.images_per_s(run), found.elapsed_s, model.as_float(run.get("wall_s")), found.error,
    ]  # fmt: skip


def _joules(epoch: Mapping[str, Any]) -> tuple[float | None, float | None]:
    split = epoch.get("energy_j") or {}
    return energy.total(split.get("epoch")), energy.total(split.get("train"))


def _typed_epochs(frame: pd.DataFrame) -> pd.DataFrame:
    """Give an empty epochs table the dtypes a full one has, so filters work on both."""
    types = {
        "warmup": bool, "epoch_s": float, "train_s": float, "images_per_s": float,
        "epoch_j": float, "train_j": float, "step_error": float, "step_df": int,
    }  # fmt: skip
    return frame.astype(types)


PROBE_REFERENCE_VERSION = reference.CURRENT.version
"""The probes' reference version every score in the report is computed against."""


def _rescored(probes: Any) -> tuple[Any, str | None]:
    """A probes block scored again against the current references, or why it cannot be.

    Stored scores follow the baseline version of their day; the stored throughputs are scored
    again so files of every version compare. A block that cannot be (a probe the current
    baselines do not know) keeps its measurements but none of its scores.
    """
    if not isinstance(probes, Mapping):
        return probes, None
    try:
        return reference.rescore(probes), None
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
    version = as_text(probes.get("baseline_version")) if isinstance(probes, Mapping) else None
    for name, section in _sections(probes).items():
        if name not in SECTIONS or not isinstance(section, Mapping):
            continue
        status = as_text(section.get("status")) or "missing"
        reason = as_text(section.get("reason"))
        if status == "ok" and problem is not None:
            status, reason = "not comparable", problem
        score = model.as_float(section.get("score")) if status == "ok" else math.nan
        threads = section.get("threads")
        rows.append(
            [machine, path, started, version, name, status, score,
             threads if isinstance(threads, int) else None, as_text(section.get("device")), reason]
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
                     as_text(probe.get("status")) or "ok", as_text(probe.get("unit")),
                     model.as_float(probe.get("value")), model.as_float(probe.get("spread")),
                     model.as_float(probe.get("score"))]
                )  # fmt: skip
    return rows


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


def newest_machines(results: Results, count: int = 5) -> list[tuple[str, str]]:
    """The ``count`` machines with the most recent results files, newest first, as
    ``(slug, date of its newest file)``."""
    if results.empty:
        return []
    newest = results.files.groupby("machine")["finished_at"].max().astype(str)
    ordered = sorted(newest.items(), key=lambda item: (item[1], item[0]), reverse=True)
    return [(str(slug), str(stamp)[:10]) for slug, stamp in ordered[:count]]


def on_tensorflow(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of a probe table measured on TensorFlow, the article's framework and the
    default: the Scores and Compare pages rank machines by these alone, so a machine's score is
    never a mix of frameworks; the other backends' scores are on the "Which framework?" page."""
    return frame[frame["backend"] == "tensorflow"]


def measured_epochs(epochs: pd.DataFrame) -> pd.DataFrame:
    """Epochs that count: from runs that finished, warm-up epochs left out."""
    return epochs[(epochs["run_status"] == "ok") & ~epochs["warmup"]]


def newest_row(frame: pd.DataFrame) -> pd.Series:
    """The row of the most recent results file."""
    return frame.sort_values("started_at", kind="stable").iloc[-1]


def run_rates(epochs: pd.DataFrame) -> list[float]:
    """Each run's end-to-end images/s over a frame of measured epochs, one figure per (file,
    repeat): the median of its epochs, as `bench.results.model.images_per_s` reads a run."""
    return epochs.groupby(["path", "repeat"], sort=False)["images_per_s"].median().tolist()


def run_rate(epochs: pd.DataFrame) -> float:
    """The one end-to-end estimator over a frame of measured epochs: `run_rates`, then the
    median over runs (`bench.results.model.median_over_runs`)."""
    return model.median_over_runs(run_rates(epochs))
