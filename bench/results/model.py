"""Reading a results document: the accessors every consumer uses, and the comparability key.

`compare`, the report's tables and charts, the utilisation figures and the article page read
workload runs only through these functions, so they cannot disagree about which epochs count,
how fast a run was or which runs may be compared.

Estimators
----------
- The measured epochs of a run: those of a finished run (``status`` ``ok``), warm-up left out.
  A failed or interrupted run has none.
- A run's end-to-end throughput (`images_per_s`): the median over its measured epochs of the
  training images per second of the training phase. Several runs of one configuration: the
  median of their run figures (`median_over_runs`), so each run (fresh process) weighs the same.
- Epoch times of several runs are compared as one group per run (`epoch_groups`), the unit the
  bootstrap in `bench.stats` resamples.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from bench import stats

WORKLOADS = ("cnn", "cnn-aug", "vgg16", "vgg16-aug")
"""The article's four workloads, in its order (`bench.worker.workloads` builds them)."""


WORKLOAD_TITLES = {
    "cnn": "Custom CNN",
    "cnn-aug": "Custom CNN with augmentation",
    "vgg16": "VGG-16 transfer learning",
    "vgg16-aug": "VGG-16 transfer learning with augmentation",
}
"""How the report names each workload."""


SECTIONS = ("single_core", "multi_core", "gpu")
"""The Geekbench-style probe sections, in the order they run."""


SECTION_TITLES = {"single_core": "Single-core", "multi_core": "Multi-core", "gpu": "GPU"}
"""How every page, table and summary names a probe section."""


SHORT_TEXT_MAX = 200  # `short_text` in the schema


TEXT_MAX = 4000  # `text` in the schema


PIPELINES = ("legacy", "tfdata-affine", "tfdata-layers")
"""The input pipelines of the current format (`bench.worker.pipelines` builds them)."""
PIPELINE_NAMES = {
    "legacy": "legacy",
    "tfdata-affine": "tf.data affine",
    "tfdata-layers": "tf.data layers",
}
"""Short pipeline names for chart legends, labels and one-line descriptions."""
PIPELINE_TITLES = {
    "legacy": "legacy (ImageDataGenerator)",
    "tfdata-affine": "tf.data, one affine resampling",
    "tfdata-layers": "tf.data, Keras layers",
}
"""Pipeline names in full, for table headings."""


def pipeline_name(pipeline: Any) -> str:
    """A pipeline's short name (`PIPELINE_NAMES`), else its own."""
    return PIPELINE_NAMES.get(str(pipeline), str(pipeline))


BACKENDS = ("tensorflow", "torch", "jax", "mlx")
"""What a run can train on (`bench.worker.backends` runs them): Keras 3 on TensorFlow, PyTorch
or JAX, or the same models written in Apple's MLX (`bench.worker.mlx_models`)."""
BACKEND_TITLES = {"tensorflow": "TensorFlow", "torch": "PyTorch", "jax": "JAX", "mlx": "MLX"}
"""How readers are shown each backend."""


def backend_title(backend: Any) -> str:
    """A backend's name for readers (`BACKEND_TITLES`), else its own."""
    return BACKEND_TITLES.get(str(backend), str(backend))


def framework(document: Mapping[str, Any]) -> str:
    """What a file trained on, for readers: ``TensorFlow 2.18.1``, ``PyTorch 2.11.0+cu130``."""
    software = document["software"]
    backend = software.get("backend") or "tensorflow"
    version = software.get("backend_version") or software.get(backend)
    return f"{backend_title(backend)} {version if version is not None else '?'}"


def _threads(value: Any) -> str:
    return "default" if value == 0 else str(value)


def stopping_rule(stored: Any) -> str:
    """A ``config.stopping`` block as the comparability key holds it: ``whole epochs`` (format 4
    and older), ``fixed epochs`` or ``adaptive to +-3%``. The budget is left out: it says how
    long to try, not what an epoch's figure means."""
    rule = stored.get("rule") if isinstance(stored, Mapping) else None
    if rule == "adaptive":
        return f"adaptive to +-{float(stored['target']) * 100:g}%"
    return "fixed epochs" if rule == "fixed" else "whole epochs"


@dataclass(frozen=True)
class Field:
    """One field of the comparability key."""

    name: str
    """Its name in tables (a column of the report's frames)."""
    title: str
    """What readers are shown."""
    path: str
    """Where a results file keeps it; ``workloads[]`` is the workload run."""
    show: Callable[[Any], str] = str
    """How to read a value (a fingerprint is shown by its first 8 characters)."""

    derive: Callable[[Any], Any] | None = None
    """What the key holds of the value at ``path``, where that is not the value itself (a block)."""

    def read(self, document: Mapping[str, Any], run: Mapping[str, Any]) -> Any:
        """The value of this field for one workload run of ``document``."""
        head, _, rest = self.path.partition(".")
        node: Any = run if head == "workloads[]" else document[head]
        for part in rest.split("."):
            node = node[part]
        return self.derive(node) if self.derive is not None else node


KEY: tuple[Field, ...] = (
    Field("workload", "workload", "workloads[].workload"),
    Field("profile", "profile", "config.profile"),
    Field("image_size", "image size", "config.image_size", lambda v: f"{v} px"),
    Field("batch_size", "batch size", "config.batch_size"),
    Field("dataset_kind", "dataset kind", "dataset.kind"),
    Field("dataset_fingerprint", "dataset", "dataset.fingerprint", lambda v: str(v)[:8]),
    Field("weights", "VGG-16 weights", "workloads[].weights"),
    Field("pipeline", "input pipeline", "config.pipeline", pipeline_name),
    Field("intra_op_threads", "intra-op threads", "config.intra_op_threads", _threads),
    Field("keras", "Keras", "software.keras"),
    Field("backend", "backend", "software.backend", backend_title),
    Field("backend_version", "backend version", "software.backend_version"),
    Field("stopping", "stopping rule", "config.stopping", derive=stopping_rule),
)
"""Runs are comparable only when they agree on every one of these (the Methodology page says
why). The Keras version is one: with tensorflow-metal, Keras 3.7 and newer trained differently
from 3.6 (keras-team/keras#21668), and `nox -s bench-keras2` runs Keras 2. The backend is one:
the same model on PyTorch or JAX is a different program (the "Which framework?" page compares
them, one machine at a time), and so is another release of the framework."""
FIELDS = tuple(f.name for f in KEY)
"""The names of `KEY`, in order: the columns of a setting in the report's tables."""

Setting = tuple[Any, ...]
"""Values of `KEY`, in its order."""


def setting_of(document: Mapping[str, Any], run: Mapping[str, Any]) -> Setting:
    """The comparability key of one workload run of ``document``."""
    return tuple(f.read(document, run) for f in KEY)


def as_dict(setting: Any) -> dict[str, Any]:
    """A setting (a `Setting` tuple, a mapping or a table row with the `FIELDS`) as a dict."""
    if isinstance(setting, tuple | list):
        return dict(zip(FIELDS, setting, strict=True))
    return {name: setting[name] for name in FIELDS}


def describe(setting: Any, *, leave_out: Iterable[str] = ()) -> str:
    """A setting in words: ``quick profile, 224 px, batch 64, synthetic data 3f2a9c1e, ...``.

    ``leave_out`` names fields the reader already knows (the workload, on a workload's page).
    """
    s, skip = as_dict(setting), set(leave_out) | {"workload"}
    fingerprint = "" if "dataset_fingerprint" in skip else f" {str(s['dataset_fingerprint'])[:8]}"
    words = {
        "profile": f"{s['profile']} profile",
        "image_size": f"{s['image_size']} px",
        "batch_size": f"batch {s['batch_size']}",
        "dataset_kind": f"{s['dataset_kind']} data{fingerprint}",
        "dataset_fingerprint": "",  # read with the kind: "synthetic data 3f2a9c1e"
        "weights": f"weights {s['weights']}",
        "pipeline": f"{pipeline_name(s['pipeline'])} pipeline",
        "intra_op_threads": f"{_threads(s['intra_op_threads'])} intra-op threads",
        "keras": f"Keras {s['keras']}",
        # Every field is named, the framework's version too: two TensorFlow releases are two
        # settings, and a reader must see which is which.
        "backend": f"{backend_title(s['backend'])} {s['backend_version']} backend",
        "backend_version": "",  # read with the backend: "JAX 0.10.2 backend"
        "stopping": str(s["stopping"]),
    }
    return ", ".join(words[f] for f in FIELDS if f not in skip and words[f])


def differences(a: Any, b: Any) -> list[str]:
    """The fields where two settings differ, in words: ``profile quick vs full``."""
    left, right = as_dict(a), as_dict(b)
    return [
        f"{f.title} {f.show(left[f.name])} vs {f.show(right[f.name])}"
        for f in KEY
        if left[f.name] != right[f.name]
    ]


_PROFILE_RANK = {"full": 0, "medium": 1, "quick": 2, "custom": 3, "smoke": 4}


def preference(setting: Any) -> tuple[Any, ...]:
    """Sort key of settings, the most telling first: the larger profile (full, medium, quick),
    real data, larger images, the article's pipeline (legacy), the default thread count."""
    s = as_dict(setting)
    return (
        _PROFILE_RANK.get(str(s["profile"]), 9),
        s["dataset_kind"] != "real",
        -int(s["image_size"]),
        s["pipeline"] != "legacy",
        s["intra_op_threads"] != 0,
        s["backend"] != "tensorflow",
        str(s["dataset_fingerprint"]),
    )


# --- One workload run ---------------------------------------------------------------------------


def measured_epochs(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The epochs that count: those of a finished run, warm-up left out."""
    if run["status"] != "ok":
        return []
    return [e for e in run["epochs"] if not e["warmup"]]


def _steps_timed(epoch: Mapping[str, Any]) -> bool:
    steps = epoch.get("step_s")
    return steps is not None and len(steps) >= 2


def steady_train_seconds(epoch: Mapping[str, Any]) -> float:
    """The epoch's training phase with its first step counted at the mean of its other steps.

    The first step of an epoch includes the input pipeline starting again: on a 2-vCPU VM the
    quick CNN's took 0.6 s or 1.9 s by turns while its other five stayed within 2 % of 0.52 s,
    so a 6-step epoch's time was mostly that coin toss. In the article's epochs of 360 steps it is
    under 1 % of the epoch. Epochs without timed steps (format 4 and older) count whole.
    """
    train = float(epoch["train_s"])
    if not _steps_timed(epoch):
        return train
    steps = [float(x) for x in epoch["step_s"]]
    return train - steps[0] + sum(steps[1:]) / (len(steps) - 1)


def steady_seconds(epoch: Mapping[str, Any]) -> float:
    """The seconds of an epoch that estimates count: its steady training phase
    (`steady_train_seconds`) and its validation phase.

    The rest of the epoch, after validation, is left out where the steps were timed (format 5
    and newer): like the first step, it is a cost of the epoch's boundary that tosses a coin, not
    one of its steps. On a 2-vCPU VM it was about a third of a step in half the epochs and
    nothing in the others (3 s of a 70 s quick VGG-16 epoch, 0.2 s of a 3.5 s CNN epoch). Over
    four runs of each quick workload, leaving it out narrowed the widest spread of one run's
    epochs from 4.5 to 0.5 % (VGG-16) and from 5.1 to 1.1 % (augmented); the spread of the runs'
    medians moved within the noise of four runs (1.3 to 0.6 %, 2.2 to 1.5 %, 1.0 to 1.4 %,
    1.2 to 1.8 % for VGG-16, the CNN and their augmented forms). Epochs without timed steps
    count whole.
    """
    if not _steps_timed(epoch):
        return float(epoch["epoch_s"])
    return steady_train_seconds(epoch) + float(epoch["validation_s"])


def epoch_seconds(run: Mapping[str, Any]) -> list[float]:
    """Seconds of each measured epoch as estimates count them (`steady_seconds`)."""
    return [steady_seconds(e) for e in measured_epochs(run)]


def step_error(epochs: Sequence[Mapping[str, Any]]) -> tuple[float, int]:
    """The standard error of one steady epoch as a share of it, from the spread of the
    ``epochs``' timed steps, and its degrees of freedom; ``(nan, 0)`` where no epoch has three
    timed steps.

    The steps after the first give each epoch's squared coefficient of variation ``c^2``, pooled
    over the epochs by their degrees of freedom (steps - 2). An epoch of ``k`` steps of mean
    ``m`` counts ``k`` times the mean of ``k - 1`` of them (`steady_train_seconds`), variance
    ``c^2 m^2 k^2 / (k - 1)``, and its validation phase of ``v`` seconds as ``v / m`` more steps,
    variance ``c^2 m v``. The share is the root mean square over the epochs; where two or more
    epochs were measured, their own coefficient of variation when that is larger (an epoch can
    vary by more than its steps show). Steps of one epoch are at most weakly correlated, and
    negatively where at all (lag-1 -0.16 to -0.35 for the quick CNN here), so treating them as
    independent does not understate the sum's spread. Over nine quick runs on a 2-vCPU VM the
    share was 0.16 to 0.82 % for the VGG-16 workloads' epochs, whose two measured epochs
    differed as much (coefficients of variation 0.04 to 0.8 %); for the augmented CNN it was 4
    to 11 % against epochs within 2 %: an upper bound.
    """
    usable = [
        (e, [float(x) for x in e["step_s"][1:]])
        for e in epochs
        if e.get("step_s") is not None and len(e["step_s"]) >= 3
    ]
    df = sum(len(steps) - 1 for _, steps in usable)
    if not df:
        return math.nan, 0
    means = [sum(steps) / len(steps) for _, steps in usable]
    cv2 = (
        sum(
            sum((x - m) ** 2 for x in steps) / m**2
            for (_, steps), m in zip(usable, means, strict=True)
        )
        / df
    )
    shares = []
    for (epoch, steps), m in zip(usable, means, strict=True):
        k = len(steps) + 1
        variance = cv2 * (m**2 * k**2 / (k - 1) + m * float(epoch["validation_s"]))
        shares.append(variance / steady_seconds(epoch) ** 2)
    share = math.sqrt(sum(shares) / len(shares))
    spread = stats.coefficient_of_variation([steady_seconds(e) for e in epochs])
    return (max(share, spread) if math.isfinite(spread) else share), df


def run_sample(run: Mapping[str, Any]) -> stats.Run:
    """The run's measured epochs as estimates resample them (`bench.stats.Run`)."""
    measured = measured_epochs(run)
    return stats.Run(tuple(steady_seconds(e) for e in measured), *step_error(measured))


def steady_images_per_s(epoch: Mapping[str, Any]) -> float:
    """Training images per second of the epoch's steady training phase."""
    return float(epoch["images_per_s"]) * float(epoch["train_s"]) / steady_train_seconds(epoch)


def images_per_s(run: Mapping[str, Any]) -> float:
    """The run's end-to-end throughput: median training images/s of its measured epochs' steady
    training phases (NaN when it has none)."""
    rates = [steady_images_per_s(e) for e in measured_epochs(run)]
    return float(median(rates)) if rates else math.nan


def median_over_runs(values: Iterable[float]) -> float:
    """The median of per-run figures, NaN ones left out (NaN when none is left)."""
    finite = [v for v in values if math.isfinite(v)]
    return float(median(finite)) if finite else math.nan


def epoch_groups(runs: Iterable[tuple[str, int, Sequence[float] | stats.Run]]) -> list[stats.Run]:
    """Measured epoch times as one group per run, ordered by (file, repeat).

    ``runs`` holds ``(file, repeat, seconds)``, the seconds as a `bench.stats.Run` where its
    steps' error is known (`run_sample`); the fixed order makes the seeded bootstrap of
    `bench.stats` give the same interval to every caller with the same runs.
    """
    ordered = sorted(runs, key=lambda r: (r[0], r[1]))
    return [s if isinstance(s, stats.Run) else stats.Run(tuple(s)) for _, _, s in ordered if len(s)]


@dataclass(frozen=True)
class Attribution:
    """The input-versus-compute measurement of one run (`bench.worker.throughputs`)."""

    status: str
    """``measured``, ``failed`` (``error`` says why) or ``not measured`` (skipped, or a file
    from before the measurement existed)."""
    input_images_per_s: float = math.nan
    compute_images_per_s: float = math.nan
    elapsed_s: float = math.nan
    """How long the measurement took."""
    error: str | None = None


def as_float(value: Any) -> float:
    """A JSON number as a float; anything else (None: not finite when written) is NaN."""
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    )


def attribution_of(run: Mapping[str, Any]) -> Attribution:
    """The run's attribution block, read once for everyone."""
    block = run.get("attribution")
    if not isinstance(block, Mapping):
        return Attribution("not measured")
    if "input_only" not in block:
        error = block.get("error")
        return Attribution("failed", error=error if isinstance(error, str) else None)
    return Attribution(
        "measured",
        as_float(block["input_only"]["images_per_s"]),
        as_float(block["compute_only"]["images_per_s"]),
        as_float(block.get("elapsed_s")),
    )


def short_device(device: str | None) -> str | None:
    """``/job:localhost/replica:0/task:0/device:GPU:0`` -> ``GPU:0``; None when unknown."""
    if not device:
        return None
    match = re.search(r"device:([A-Za-z_]+:\d+)$", device)
    return match.group(1) if match else device


_ACCELERATORS = frozenset({"GPU", "CUDA", "MPS", "ROCM"})
"""Device types that are a GPU: TensorFlow's ``GPU``, PyTorch's ``cuda`` and ``mps``, JAX's
``gpu``, ``cuda`` and ``rocm``."""


def device_kind(device: str | None) -> str | None:
    """``CPU`` or ``GPU`` (else the type as written) from any backend's device name:
    ``/job:localhost/replica:0/task:0/device:GPU:0`` (TensorFlow), ``cuda:0``, ``mps:0``,
    ``cpu`` (PyTorch), ``cpu:0``, ``gpu:0`` (JAX); None when unknown."""
    short = short_device(device)
    if short is None:
        return None
    kind = short.rsplit("device:", 1)[-1].split(":", 1)[0].upper()
    return "GPU" if kind in _ACCELERATORS else (kind or None)


def on_gpu(devices: Iterable[str | None]) -> bool:
    """Whether any of these device names (`device_kind`) is a GPU."""
    return any(device_kind(d) == "GPU" for d in devices)


def listed_gpus(listing: Iterable[str]) -> list[str]:
    """The GPUs of a device listing, whose entries read ``KIND:name`` (``GPU:0``, ``CPU:cpu:0``:
    how the worker lists a backend's devices, and the results file stores them)."""
    return [d for d in listing if d.split(":", 1)[0].upper() == "GPU"]


# --- The machine block ---------------------------------------------------------------------------


def hardware_signature(machine: Mapping[str, Any]) -> dict[str, Any]:
    """What must be equal for two results files to come from one kind of hardware.

    The CPU name, architecture, core counts, recorded vector extensions, GPU names and Apple chip;
    with a CPU identity (files from this version on), also vendor, family, model, stepping and the
    digest of the whole flag set. Files written before identities were recorded carry no such
    fields, and are judged on the rest.
    """
    cpu = machine.get("cpu") or {}
    apple = machine.get("apple") or {}
    signature: dict[str, Any] = {
        "cpu model": cpu.get("model"),
        "architecture": cpu.get("architecture"),
        "cores": (cpu.get("physical_cores"), cpu.get("logical_cores")),
        "vector extensions": tuple(cpu.get("flags") or ()),
        "GPUs": tuple(sorted(str(g.get("name")) for g in machine.get("gpus") or [])),
        "chip": apple.get("chip"),
    }
    identity = cpu.get("identity") or {}
    names = {"vendor": "cpu vendor", "family": "cpu family", "model": "cpu model number",
             "stepping": "cpu stepping", "flags_sha256": "cpu flag set"}  # fmt: skip
    for key, name in names.items():
        if identity.get(key) is not None:
            signature[name] = identity[key]
    return signature


def hardware_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """The fields of `hardware_signature` where two machines differ (fields both have)."""
    sa, sb = hardware_signature(a), hardware_signature(b)
    return [f"{k} {sa[k]!r} vs {sb[k]!r}" for k in sa if k in sb and sa[k] != sb[k]]


FAMILIES = ("Apple M-series", "NVIDIA GPU", "x86 CPU", "Arm CPU", "other")
"""Hardware families the report groups machines into, in the order it shows them."""


def hardware_family(machine: Mapping[str, Any]) -> str:
    """The family of a machine block: an NVIDIA GPU (whatever the CPU), an Apple M-series chip,
    else the CPU's architecture (x86 or Arm); ``other`` when nothing says."""
    if any("nvidia" in str(g.get("name", "")).lower() for g in machine.get("gpus") or []):
        return "NVIDIA GPU"
    apple = machine.get("apple") or {}
    cpu = machine.get("cpu") or {}
    if str(apple.get("chip") or cpu.get("model") or "").startswith("Apple M"):
        return "Apple M-series"
    architecture = str(cpu.get("architecture") or "").lower()
    if architecture in {"x86_64", "amd64", "i686", "x86"}:
        return "x86 CPU"
    if architecture in {"arm64", "aarch64"}:
        return "Arm CPU"
    return "other"


def keras_major(version: str | None) -> int | None:
    """The major version of a Keras version string, or None when it is not one (Keras 2 or later)."""
    if version is None:
        return None
    match = re.match(r"\s*(\d+)", version)
    if match is None:
        return None
    major = int(match.group(1))
    return major if 2 <= major <= 99 else None


def clip(text: str | None, limit: int = SHORT_TEXT_MAX) -> str | None:
    """``text`` stripped and cut to ``limit`` characters; None when empty."""
    if text is None:
        return None
    text = text.strip()
    return text[:limit] or None
