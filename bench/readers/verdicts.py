"""Did a run train right: on the device it should have, with finite losses, learning something, and
agreeing with the CPU. A fast number from wrong training means nothing.

Public reports say why this is checked on every run: tensorflow-metal training wrong, not only
slowly (keras-team/keras#21668: a model that must not learn does, with Keras >= 3.7 on an M2;
keras#21108; tensorflow#62361; tf-keras#140: loss rising after an epoch or two), the plugin failing
to load (tensorflow#81987, #84167) and a GPU silently unused.

Each verdict is computed from what a results file stores, by one function, used by the run
summary, ``compare`` and the report:

- `accelerator`: the machine has a GPU; did the backend see it, and did the training run on it?
- `learning`: a NaN or infinite loss, or validation accuracy on the separable stand-in that never
  rises clearly above chance (`DID_NOT_LEARN_SIGMAS` standard errors of chance accuracy).
- `crosscheck_verdict`: before timing, the model trains a few steps from one seed on the same
  batches on the CPU and on the device it is timed on (`bench.worker.crosscheck.measure_crosscheck`, in the
  worker); their losses must agree within the tolerance the block records.
- `throttled`: the power and thermal snapshots of the run name a throttle (`throttling`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from bench.protocol.config import CROSSCHECK_TOLERANCE
from bench.results import model

DID_NOT_LEARN_SIGMAS = 2.0
"""A run "did not learn" when its best validation accuracy stays within this many standard errors
of chance (1/classes) on the stand-in. At the quick profile's 128 validation images that is 0.588;
the 41 committed quick and medium CNN runs here all reached 0.727 or more."""


MIN_VALIDATION_IMAGES = 100
"""Below this many validation images (the smoke profile's 16) chance and learning cannot be told
apart in a few epochs: the learning check says ``not-checked``."""


def accelerator(
    machine: Mapping[str, Any],
    software: Mapping[str, Any],
    run_device: str | None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Whether the machine's accelerator did the training, with the likely cause when not.

    Judged for the run's backend (``software.backend``): the devices it saw
    (``software.backend_devices``) and where the model's variables lived.

    Returns
    -------
    dict
        ``status``: ``none`` (no GPU in the machine), ``used`` (training ran on a GPU the backend
        saw), ``not-visible`` (the machine has a GPU the backend does not list) or ``not-used``
        (the backend lists a GPU, the training ran on the CPU); ``reason``: one line, or None.
    """
    environ = software.get("env", {}) if environ is None else environ
    gpus = [g for g in machine.get("gpus") or [] if isinstance(g, Mapping)]
    backend = str(software.get("backend") or "tensorflow")
    name = model.backend_title(backend)
    seen = model.listed_gpus(software.get("backend_devices") or [])
    kind = model.device_kind(run_device)
    if kind == "GPU":
        return {"status": "used", "reason": None}
    if not gpus:
        return {"status": "none", "reason": None}
    names = ", ".join(str(g.get("name")) for g in gpus)
    if seen:
        return {
            "status": "not-used",
            "reason": f"{name} lists {seen[0]} but the training ran on {kind or 'an unknown device'}",
        }
    return {
        "status": "not-visible",
        "reason": f"{names} is not visible to {name}: {_cause(gpus, software, environ)}",
    }


def _cause(
    gpus: Sequence[Mapping[str, Any]], software: Mapping[str, Any], environ: Mapping[str, str]
) -> str:
    """The likeliest reason the run's backend lists none of ``gpus``."""
    hidden = environ.get("CUDA_VISIBLE_DEVICES")
    if hidden is not None and hidden.strip() in {"", "-1"}:
        return f"CUDA_VISIBLE_DEVICES={hidden!r} hides every GPU; unset it"
    vendors = " ".join(str(g.get("vendor") or g.get("name") or "") for g in gpus).lower()
    packages = software.get("packages") or {}
    backend = str(software.get("backend") or "tensorflow")
    version = str(software.get("backend_version") or "")
    if backend == "jax":
        if "apple" in vendors:
            return (
                "JAX has no Apple GPU support (jax-metal is abandoned); "
                "`nox -s bench-torch` reaches the GPU through PyTorch's MPS device"
            )
        if "nvidia" in vendors:
            return "JAX's CPU build is installed; install jax[cuda12] for the GPU"
        return "JAX has no plugin for this GPU"
    if backend == "mlx":
        if "apple" in vendors:
            return (
                "MLX lists no GPU (its Metal build, mlx-metal, needs macOS 14 or newer on "
                "Apple silicon and an arm64 Python)"
            )
        return (
            "the MLX that benchbook installs on Linux is its CPU build (mlx[cpu]); MLX reaches "
            "this GPU only through a build benchbook does not install"
        )
    if backend == "torch":
        if "apple" in vendors:
            return "PyTorch lists no MPS device (it needs macOS 12.3 or newer and an arm64 Python)"
        if "nvidia" in vendors:
            if version.endswith("+cpu"):
                return f"PyTorch's CPU build ({version}) is installed; install a CUDA build"
            return "PyTorch's CUDA build found no usable GPU (driver older than its CUDA?)"
        return "PyTorch has no build for this GPU here"
    if "apple" in vendors:
        if not software.get("tensorflow_metal"):
            return "tensorflow-metal is not installed; run `nox -s bench`, which installs it"
        if software.get("plugin_error"):
            return f"tensorflow-metal is installed but did not load: {software['plugin_error']}"
        return (
            "tensorflow-metal is installed but did not load (its error is in the worker's output; "
            "tensorflow#81987 and #84167 report 'Symbol not found' with TF 2.18)"
        )
    if "nvidia" in vendors:
        if packages.get("tensorflow-cpu"):
            return "TensorFlow's CPU build is installed; run `nox -s bench-cuda`"
        return "TensorFlow's CUDA build found no usable GPU (driver too old for CUDA 12.5?)"
    return "TensorFlow has no plugin for this GPU"


def learning(run: Mapping[str, Any], dataset: Mapping[str, Any]) -> dict[str, Any]:
    """Whether a finished run learned: ``ok``, ``diverged``, ``did-not-learn`` or ``not-checked``.

    ``diverged``: a loss that was not finite (stored as null). ``did-not-learn``: on the
    stand-in, the best validation accuracy stayed within `DID_NOT_LEARN_SIGMAS` standard errors of
    chance. Returns ``status``, ``reason`` and ``threshold`` (None unless the accuracy was checked).
    """
    epochs = run.get("epochs") or []
    if run.get("status") != "ok" or not epochs:
        return {"status": "not-checked", "reason": "the run did not finish", "threshold": None}
    if any(e.get("loss") is None or not math.isfinite(float(e["loss"])) for e in epochs):
        return {
            "status": "diverged",
            "reason": "a training loss was NaN or infinite",
            "threshold": None,
        }
    images = run.get("validation_images")
    if dataset.get("kind") != "synthetic":
        return {"status": "ok", "reason": "accuracy not judged on real images", "threshold": None}
    if not isinstance(images, int) or images < MIN_VALIDATION_IMAGES:
        reason = f"{images} validation images are too few to tell learning from chance"
        return {"status": "not-checked", "reason": reason, "threshold": None}
    classes = len(dataset.get("classes") or [0, 0])
    chance = 1 / classes
    threshold = chance + DID_NOT_LEARN_SIGMAS * math.sqrt(chance * (1 - chance) / images)
    accuracies = [
        e["val_accuracy"] for e in epochs if isinstance(e.get("val_accuracy"), int | float)
    ]
    best = max(accuracies, default=math.nan)
    if not best > threshold:
        reason = (
            f"best validation accuracy {best:.3f} is within {DID_NOT_LEARN_SIGMAS:g} standard "
            f"errors of chance ({threshold:.3f} needed on {images} images)"
        )
        if run.get("weights") == "random":
            reason += "; VGG-16 ran with random weights"
        return {"status": "did-not-learn", "reason": reason, "threshold": threshold}
    return {"status": "ok", "reason": None, "threshold": threshold}


def crosscheck_verdict(block: Mapping[str, Any] | None) -> dict[str, Any]:
    """``agrees``, ``diverges``, ``failed`` or ``not-run`` for a run's stored cross-check."""
    if not block:
        return {"status": "not-run", "reason": "no cross-check in this file"}
    if block.get("error"):
        return {"status": "failed", "reason": str(block["error"])}
    worst = block.get("max_relative_difference")
    tolerance = block.get("tolerance", CROSSCHECK_TOLERANCE)
    if not isinstance(worst, int | float) or not math.isfinite(worst) or worst > tolerance:
        shown = f"{worst:.2g}" if isinstance(worst, int | float) else "not finite"
        return {
            "status": "diverges",
            "reason": (
                f"{block.get('device')} and {block.get('reference')} disagree: losses differ by "
                f"{shown} (relative), more than {tolerance:g}; its timings are not trustworthy"
            ),
        }
    return {"status": "agrees", "reason": None}


def run_warnings(document: Mapping[str, Any], run: Mapping[str, Any]) -> list[str]:
    """Every check ``run`` of ``document`` fails, one line each (the summary, ``compare`` and the
    report show these)."""
    found = []
    used = accelerator(document["machine"], document.get("software") or {}, run.get("device"))
    if used["reason"]:
        found.append(str(used["reason"]))
    if run.get("status") != "ok":
        return found
    learned = learning(run, document["dataset"])
    if learned["status"] in {"diverged", "did-not-learn"}:
        found.append(f"{learned['status'].replace('-', ' ')}: {learned['reason']}")
    checked = crosscheck_verdict(run.get("crosscheck"))
    if checked["status"] in {"diverges", "failed"}:
        found.append(f"cross-check {checked['status']}: {checked['reason']}")
    slowed = throttled(run.get("conditions"))
    if slowed:
        found.append(f"throttled: {slowed}")
    return found


def throttled(conditions: Mapping[str, Any] | None) -> str | None:
    """What slowed a run down, from its power and thermal record (macOS), or None.

    Reads the snapshots before, during and after the run (`throttling`):
    Low Power Mode, battery power, a CPU speed limit under 100 %, a thermal warning.
    """

    if not conditions:
        return None
    snapshots = [
        conditions.get("before"),
        *(conditions.get("during") or []),
        conditions.get("after"),
    ]
    seen: dict[str, None] = {}
    for snapshot in snapshots:
        for what in throttling(snapshot):
            seen.setdefault(what)
    return "; ".join(seen) if seen else None


def on_battery(snapshot: Mapping[str, Any] | None) -> bool:
    """Whether a `power_and_thermal` snapshot says the machine runs on its battery."""
    if not snapshot:
        return False
    return str(snapshot.get("power_source") or "").lower().startswith("battery")


def has_battery(snapshot: Mapping[str, Any] | None) -> bool:
    """Whether the machine has a battery (a laptop): it runs on it, or reports its charge."""
    if not snapshot:
        return False
    return on_battery(snapshot) or snapshot.get("battery_percent") is not None


def throttling(snapshot: Mapping[str, Any] | None) -> list[str]:
    """What in one `power_and_thermal` snapshot can slow a run down, in words (empty when none)."""
    if not snapshot:
        return []
    found = []
    if snapshot.get("low_power_mode"):
        found.append("Low Power Mode on")
    if on_battery(snapshot):
        found.append("on battery")
    limit = snapshot.get("cpu_speed_limit")
    if isinstance(limit, int) and limit < 100:
        found.append(f"CPU speed limited to {limit} %")
    for key, what in (
        ("thermal_warning_level", "thermal"),
        ("performance_warning_level", "performance"),
    ):
        level = snapshot.get(key)
        if isinstance(level, int) and level > 0:
            found.append(f"{what} warning level {level}")
    return found
