"""Did a run train right: on the device it should have, with finite losses, learning something, and
agreeing with the CPU. A fast number from wrong training means nothing.

Public reports say why this is checked on every run: tensorflow-metal training wrong, not only
slowly (keras-team/keras#21668: a model that must not learn does, with Keras >= 3.7 on an M2;
keras#21108; tensorflow#62361; tf-keras#140: loss rising after an epoch or two), the plugin failing
to load (tensorflow#81987, #84167) and a GPU silently unused.

`measure_crosscheck`: before timing, the model trains a few steps from one seed on the same
batches on the CPU and on the device it is timed on; their losses must agree within
`CROSSCHECK_TOLERANCE`. On a machine without an accelerator this runs CPU against CPU (and proves
the check itself). The verdicts over stored numbers are `bench.readers.verdicts`'.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from bench.protocol.config import CROSSCHECK_TOLERANCE
from bench.worker import backends

CROSSCHECK_STEPS = 3
"""Training steps compared between the CPU and the timed device."""
CROSSCHECK_BATCH = 8
"""Images per cross-check step: small, so that VGG-16's check costs seconds, not minutes."""


def relative_differences(reference: Sequence[float], candidate: Sequence[float]) -> list[float]:
    """``|a - b| / max(|a|, tiny)`` per step; infinity where either loss is not finite."""
    out = []
    for a, b in zip(reference, candidate, strict=True):
        if not (math.isfinite(a) and math.isfinite(b)):
            out.append(math.inf)
        else:
            out.append(abs(a - b) / max(abs(a), 1e-12))
    return out


def measure_crosscheck(
    build: Callable[[], Any],
    batches: Sequence[tuple[Any, Any]],
    device: str,
    *,
    reference: str | None = None,
    seed: int = 42,
    perturb: Callable[[Any], Any] | None = None,
    backend: str = "tensorflow",
) -> dict[str, Any]:
    """Train a fresh model from ``seed`` on ``batches`` on ``reference`` (the CPU by default) and
    on ``device``, both names of `bench.worker.backends.scope` on ``backend``.

    ``build`` makes and compiles the model (called once per device, after seeding). The model on
    ``device`` then takes the reference model's initial weights: one seed draws different numbers
    on PyTorch's CPU and CUDA generators, and the check compares training, not the draw. ``perturb``
    (tests only) changes the inputs on ``device``: an injected fault the check must catch. Returns
    the ``crosscheck`` block of a workload run.
    """
    import time

    reference = backends.cpu_device(backend) if reference is None else reference
    started = time.perf_counter()

    def losses_on(
        where: str, change: Callable[[Any], Any] | None, start: list[Any] | None
    ) -> tuple[list[float], list[Any]]:
        with backends.scope(backend, where):
            backends.seed(seed)
            model = build()
            if start is not None:
                model.set_weights(start)
            initial = model.get_weights()
            out = []
            for x, y in batches:
                inputs = change(x) if change else x
                out.append(float(model.train_on_batch(inputs, y, return_dict=True)["loss"]))
        return out, initial

    expected, initial = losses_on(reference, None, None)
    found, _ = losses_on(device, perturb, initial)
    return crosscheck_block(device, reference, batches, expected, found, started)


def crosscheck_block(
    device: str,
    reference: str,
    batches: Sequence[tuple[Any, Any]],
    expected: Sequence[float],
    found: Sequence[float],
    started: float,
) -> dict[str, Any]:
    """The ``crosscheck`` block: the losses of ``batches`` on ``reference`` (``expected``) and on
    ``device`` (``found``), their largest relative difference, and the time since ``started``
    (a `time.perf_counter` reading). Keras's `measure_crosscheck` and MLX's
    (`bench.worker.mlx_training`) both write it."""
    import time

    differences = relative_differences(expected, found)
    worst = max(differences, default=0.0)
    return {
        "device": device,
        "reference": reference,
        "steps": len(batches),
        "batch_size": int(batches[0][0].shape[0]) if batches else 0,
        "reference_losses": list(expected),
        "device_losses": list(found),
        "max_relative_difference": worst if math.isfinite(worst) else None,
        "tolerance": CROSSCHECK_TOLERANCE,
        "elapsed_s": time.perf_counter() - started,
    }


def summary_line(tag: str, block: dict[str, Any]) -> str:
    """The progress line of a finished cross-check of run ``tag``."""
    worst = block["max_relative_difference"]
    if worst is None:
        return f"  {tag}: cross-check: a loss was not finite"
    return (
        f"  {tag}: cross-check {block['device']} against {block['reference']}: largest loss "
        f"difference {worst:.1e} ({block['elapsed_s']:.1f} s)"
    )
