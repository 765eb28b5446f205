"""The one protocol between the parent harness and a worker process.

The parent writes a job as JSON (`dumps`), starts ``WORKER JOB_FILE OUT_FILE`` (`command`) in the
environment `environment` gives, and waits (`bench.protocol.processes.run_worker`). The worker
(``python -m bench.worker``) reads the job (`loads`), does it, and writes one JSON record to
``OUT_FILE``: a ``workload_run`` for a `TrainingJob`, ``{"section": ..., "gpus": [...]}`` for a
`ProbeJob`. A job that fails, in the worker or because the worker died without a record, gets
the record `failure` makes: the same shape either way, so the results file never tells a crash
from a caught error by its form.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from bench.protocol import processes
from bench.protocol.config import DEFAULT_BACKEND, DEFAULT_PIPELINE, SEED, Config
from bench.protocol.stopping import StoppingRule
from bench.results.model import BACKENDS, SECTIONS, WORKLOADS
from bench.stats import PRECISION_TARGET

WORKER = (sys.executable, "-m", "bench.worker")
"""The worker's command line before its two arguments, the job file and the output file."""

SOURCE_ROOT = Path(__file__).resolve().parents[2]
"""The folder holding the ``bench`` package the parent runs: the worker must run this very code."""

REASON_CHARS = 1000
"""Characters kept of why a probe section was not measured."""

SINGLE_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
"""Set to 1 for the single-core probes: NumPy and SciPy (inside ImageDataGenerator) stay on one
thread too."""


class JobError(ValueError):
    """A job file that is not a job of this protocol."""


def _check(what: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        msg = f"unknown {what} {value!r}; choose one of {', '.join(allowed)}"
        raise JobError(msg)


@dataclass(frozen=True)
class ProbeSettings:
    """How long and how often each probe is timed, and the size of the work (``scale``)."""

    scale: float = 1.0
    min_time_s: float = 1.0
    min_repeats: int = 3
    max_repeats: int = 5
    target_spread: float = 0.025

    def __post_init__(self) -> None:
        if not (0 < self.scale <= 4 and self.min_time_s > 0 and self.target_spread >= 0):
            msg = f"probe settings out of range: {self}"
            raise ValueError(msg)
        if not 1 <= self.min_repeats <= self.max_repeats <= 100:
            msg = f"probe repeats out of range: {self}"
            raise ValueError(msg)


@dataclass(frozen=True)
class ProbeJob:
    """Measure one probe section (`bench.worker.probes.run_section`)."""

    kind: ClassVar[str] = "probes"
    section: str
    backend: str = DEFAULT_BACKEND
    settings: ProbeSettings = field(default_factory=ProbeSettings)

    def __post_init__(self) -> None:
        _check("probes section", self.section, SECTIONS)
        _check("backend", self.backend, BACKENDS)


@dataclass(frozen=True)
class TrainingJob:
    """Train one workload once and time its epochs (`bench.worker.training`).

    Every setting a worker reads is here, with its default: nothing else re-declares one.
    """

    kind: ClassVar[str] = "training"
    workload: str
    repeat: int
    data_root: str
    image_size: int
    batch_size: int
    epochs: int
    budget_s: float = 0.0
    target: float = PRECISION_TARGET
    seed: int = SEED
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    weights_kind: str = "random"
    weights_path: str | None = None
    weights_note: str | None = None
    keras2: bool = False
    backend: str = DEFAULT_BACKEND
    generator_workers: int = 1
    pipeline: str = DEFAULT_PIPELINE
    attribution: bool = True
    crosscheck: bool = True
    cuda_cache: str | None = None
    """Where the CUDA driver caches compiled kernels (read when the framework initialises it)."""
    expected_images: Mapping[str, int] | None = None
    """What the parent listed and checked per split; the worker refuses to train on anything else."""

    def __post_init__(self) -> None:
        _check("workload", self.workload, WORKLOADS)
        _check("backend", self.backend, BACKENDS)

    @classmethod
    def of(cls, config: Config, **per_run: Any) -> TrainingJob:
        """The job of one workload run of ``config``: every setting the two share is copied by
        name, the rest (workload, repeat, data, weights) given in ``per_run``."""
        shared = {f.name for f in fields(cls)} & {f.name for f in fields(config)}
        return cls(**{name: getattr(config, name) for name in shared}, **per_run)

    @property
    def stopping(self) -> StoppingRule:
        """When the run stops measuring (`bench.protocol.stopping`)."""
        return StoppingRule(self.epochs, self.budget_s, self.target)

    @property
    def tag(self) -> str:
        """``cnn #2``: how progress lines name this run."""
        return f"{self.workload} #{self.repeat}"


Job = TrainingJob | ProbeJob
_KINDS: dict[str, type[TrainingJob | ProbeJob]] = {
    TrainingJob.kind: TrainingJob,
    ProbeJob.kind: ProbeJob,
}


def dumps(job: Job) -> str:
    """``job`` as the JSON a worker reads: its kind and every field."""
    return json.dumps({"kind": job.kind, **asdict(job)}, allow_nan=False)


def loads(text: str) -> Job:
    """The job in ``text`` (`dumps`); `JobError` when it is not one."""
    try:
        raw = json.loads(text)
        kind = _KINDS[raw.pop("kind")]
        names = {f.name for f in fields(kind)}
        unknown = sorted(set(raw) - names)
        if unknown:
            msg = f"unknown job fields {unknown}"
            raise JobError(msg)
        if kind is ProbeJob:
            return ProbeJob(**{**raw, "settings": ProbeSettings(**raw.get("settings", {}))})
        return TrainingJob(**raw)
    except JobError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        msg = f"not a job: {exc}"
        raise JobError(msg) from exc


def command(job_file: Path, out_file: Path, worker: tuple[str, ...] = WORKER) -> list[str]:
    """The command line of the worker process for the job in ``job_file``."""
    return [*worker, str(job_file), str(out_file)]


def run(
    job: Job, folder: Path, name: str, *, worker: tuple[str, ...] = WORKER, **options: Any
) -> tuple[int, str, Path]:
    """Run ``job`` in a worker process to its end: the job is written to
    ``folder/<name>.job.json`` and the worker started with `command` and `environment` through
    `bench.protocol.processes.run_worker` (``options``: its timeout, capture and ticks).

    Returns the exit status, the captured standard error and the file the record goes to (which
    a worker that died may not have written). Raises what ``run_worker`` raises.
    """
    job_file, out_file = folder / f"{name}.job.json", folder / f"{name}.out.json"
    job_file.write_text(dumps(job), encoding="utf-8")
    code, stderr = processes.run_worker(
        command(job_file, out_file, worker), env=environment(job), **options
    )
    return code, stderr, out_file


def environment(job: Job, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The worker's environment: ``base`` (this process's by default), the source root first on
    ``PYTHONPATH``, TensorFlow's C++ info lines off (warnings and errors still show) and, for
    the single-core probes, every numeric library held to one thread."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SOURCE_ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    if isinstance(job, ProbeJob) and job.section == "single_core":
        env.update(dict.fromkeys(SINGLE_THREAD_VARIABLES, "1"))
    return env


def not_measured(status: str, reason: str, device: str | None = None) -> dict[str, Any]:
    """A probe section that has no measurement: ``skipped``, ``unavailable`` or ``failed``."""
    return {
        "status": status,
        "reason": reason[:REASON_CHARS],
        "score": None,
        "threads": None,
        "device": device,
        "probes": [],
    }


def failure(job: Job, reason: str | None) -> dict[str, Any]:
    """The record of ``job`` when it failed for ``reason``.

    For a `TrainingJob` with ``reason`` None it is the record before anything ran: the worker
    starts from it and fills it in, so a run that fails midway keeps what it measured.
    """
    if isinstance(job, ProbeJob):
        return {"section": not_measured("failed", reason or "failed"), "gpus": None}
    vgg = job.workload.startswith("vgg16")
    return {
        "workload": job.workload,
        "repeat": job.repeat,
        "status": "failed",
        "error": reason,
        "weights": job.weights_kind if vgg else "none",
        "weights_note": job.weights_note if vgg else None,
        "device": None,
        "optimizer": None,
        "epochs": [],
    }
