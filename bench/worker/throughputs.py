"""Where a training step's time goes: waiting for input, or computing.

Three throughputs of one workload run, in training images per second:

- **input only**: the training pipeline iterated with no model (decoding, resizing, augmenting);
- **compute only**: the same model trained on one batch already in memory (same shape and batch
  size, taken from the pipeline), so no decoding or augmentation happens;
- **end to end**: the normal training epochs (the median of the measured epochs).

The measurement functions run in the worker after the normal epochs (so the seeded training is
the same with and without them) over a bounded number of batches (`timed_steps`): a sixth of
the training batches of the epochs asked for (not those an adaptive run adds), at least 2, at
most one epoch and at most `THROUGHPUT_MAX_STEPS`, timed from the pipeline's start for input
only and after one warm-up step for compute only. Input only plus compute only cost about one
end-to-end step per batch each, so the run grows by about a third of its training time at most,
less once import, build and validation are counted (quick profile: 2 timed batches of 12;
full: 20 of 1,800).

The verdicts over the three (input wait share, input- or compute-bound) are
`bench.readers.bottleneck`'s.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from bench.protocol.config import THROUGHPUT_MAX_STEPS
from bench.text import error_line
from bench.worker import backends

WARMUP_STEPS = 1
"""Compute-only steps run before timing (a retrace for the in-memory batch's fixed shape)."""


def _sample(warmup: list[float], steps: list[float], images: int) -> dict[str, Any]:
    return {
        "warmup_steps": len(warmup),
        "warmup_s": sum(warmup),
        "step_s": steps,
        "images": images,
        "images_per_s": images / sum(steps),
    }


def measure_input(batches: Iterator[Any], steps: int, warmup: int = 0) -> dict[str, Any]:
    """Time ``steps`` batches drawn from ``batches`` (after ``warmup`` untimed ones), no model.

    Returns the ``input_only`` block: every timed step, the images they held and images/s.
    The harness times from the pipeline's start with no warm-up: a parallel, prefetching
    pipeline (tf.data) works on several batches at once, so batches finished during a warm-up
    would then be counted for free. Counting the start-up instead understates the rate by at
    most about one batch's time.
    """
    warm: list[float] = []
    timed: list[float] = []
    images = 0
    for i in range(warmup + steps):
        start = time.perf_counter()
        x, _ = next(batches)
        elapsed = time.perf_counter() - start
        if i < warmup:
            warm.append(elapsed)
        else:
            timed.append(elapsed)
            images += int(x.shape[0])
    return _sample(warm, timed, images)


def keras_tensors(batch: tuple[Any, Any]) -> tuple[Any, Any]:
    """``batch`` as the Keras backend's own tensors, on its default device, as fit passes them."""
    if backends.legacy_keras():  # Keras 2: TensorFlow's tensors
        import tensorflow as tf

        x, y = (tf.convert_to_tensor(v) for v in batch)
    else:
        ops = backends.keras().ops
        x, y = (ops.convert_to_tensor(v) for v in batch)
    return x, y


def measure_compute(
    model: Any,
    batch: tuple[Any, Any],
    steps: int,
    warmup: int = WARMUP_STEPS,
    convert: Callable[[tuple[Any, Any]], tuple[Any, Any]] = keras_tensors,
) -> dict[str, Any]:
    """Train ``model`` on the in-memory ``batch`` ``steps`` times (after ``warmup`` untimed).

    ``model`` is a Keras model, or anything with its ``train_on_batch(x, y)`` (MLX's
    `bench.worker.mlx_models.TrainStep`); ``convert`` makes the batch its tensors first, untimed.
    ``train_on_batch`` returns its loss as numbers, so each timed step has finished on the
    device (a GPU included) before the clock stops.
    """
    x, y = convert(batch)
    warm: list[float] = []
    timed: list[float] = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        elapsed = time.perf_counter() - start
        (warm if i < warmup else timed).append(elapsed)
    return _sample(warm, timed, int(x.shape[0]) * steps)


def timed_steps(steps_per_epoch: int, epochs: int, max_steps: int = THROUGHPUT_MAX_STEPS) -> int:
    """Batches each measurement times: a sixth of the run's, at least 2, at most an epoch."""
    return max(1, min(steps_per_epoch, max_steps, max(2, steps_per_epoch * epochs // 6)))


def measure(
    model: Any,
    batches: Iterator[Any],
    steps_per_epoch: int,
    epochs: int,
    convert: Callable[[tuple[Any, Any]], tuple[Any, Any]] = keras_tensors,
) -> dict[str, Any]:
    """The ``attribution`` block of a workload run: input only, then compute only
    (`measure_compute` says what ``model`` and ``convert`` are).

    ``batches`` should start the pipeline on its first draw (a fresh generator, as
    `bench.worker.pipelines.batches` is), so input only includes its start-up. The compute-only batch
    is the next one the pipeline yields, so its shape and values are those training sees.
    """
    started = time.perf_counter()
    steps = timed_steps(steps_per_epoch, epochs)
    input_only = measure_input(batches, steps)
    compute_only = measure_compute(model, next(batches), steps, convert=convert)
    return {
        "input_only": input_only,
        "compute_only": compute_only,
        "elapsed_s": time.perf_counter() - started,
    }


def measure_run(
    tag: str,
    model: Any,
    batches: Iterator[Any],
    steps_per_epoch: int,
    epochs: int,
    convert: Callable[[tuple[Any, Any]], tuple[Any, Any]] = keras_tensors,
) -> dict[str, Any]:
    """`measure` for the run ``tag``, with its progress lines; where it fails, an ``error`` block
    instead (the training run stands; the block says why this part is missing)."""
    print(f"  {tag}: timing input only and compute only ...", file=sys.stderr, flush=True)
    try:
        block = measure(model, batches, steps_per_epoch, epochs, convert=convert)
    except Exception as exc:  # noqa: BLE001 (the training run stands; say why this is missing)
        traceback.print_exc(file=sys.stderr)
        return {"error": error_line(exc)}
    print(
        f"  {tag}: input only {block['input_only']['images_per_s']:.1f} img/s, compute only "
        f"{block['compute_only']['images_per_s']:.1f} img/s ({block['elapsed_s']:.1f} s)",
        file=sys.stderr,
        flush=True,
    )
    return block
