"""One workload run on MLX: the article's models of `bench.worker.mlx_models`, trained by a loop of
its own on the same input pipelines and timed by the same epoch clock as the Keras backends.

What is the same as on Keras (`bench.worker.training`): the batches (`bench.worker.pipelines`:
the article's ImageDataGenerator, or tf.data), their order and the epoch's reshuffle; the model's
layers and parameter counts, and its initial weights, which are the Keras model's own for the
run's seed (VGG-16's ImageNet base read by Keras from the same file); Adam with Keras's defaults and update rule; the loss and the
article's metric, averaged over an epoch's images as Keras averages them; validation after each
epoch; `bench.worker.clock.EpochClock` for the readings; the cross-check against the CPU; the
input-only and compute-only throughputs.

What differs: MLX is lazy, so each training step is evaluated (``mx.eval``) before the next batch
is read, and so before any clock reading; Keras's ``fit`` may queue steps ahead on a GPU. Where
MLX sees a GPU (Apple silicon's, through Metal) it trains there; its Linux build trains on the CPU.
"""

from __future__ import annotations

import math
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import mlx.core as mx

from bench.protocol.jobs import TrainingJob
from bench.text import error_line
from bench.worker import backends, clock, crosscheck, mlx_models, pipelines, throughputs, workloads
from bench.worker.energy import EnergyMeter
from bench.worker.workloads import Workload

CPU = "cpu:0"
GPU = "gpu:0"


def device() -> Any:
    """The device MLX trains on: its GPU where it has one, else the CPU."""
    return mx.gpu if mx.is_available(mx.gpu) else mx.cpu


def device_name(found: Any) -> str:
    """``gpu:0`` or ``cpu:0``, as the results name the device a run trained on."""
    return GPU if found == mx.gpu else CPU


def build(
    workload: Workload, image_size: int, weights: Path | None, seed: int
) -> mlx_models.CustomCNN | mlx_models.VGG16Transfer:
    """The workload's MLX model, starting from the Keras model's own initial weights for
    ``seed`` (Keras on the backend that reads the images: on TensorFlow, the very weights a
    TensorFlow run of that seed starts from), VGG-16's ImageNet base from ``weights`` when
    given; evaluated, so its cost is the build's."""
    backends.seed(seed)
    start = workloads.build(workload, image_size, weights).get_weights()
    model = mlx_models.build(workload.model, image_size)
    mlx_models.load_keras_weights(model, start)
    mx.eval(model.parameters())
    return model


class Average:
    """A mean over images: Keras weights each batch's loss and accuracy by its size."""

    def __init__(self) -> None:
        self.loss = self.accuracy = 0.0
        self.images = 0

    def add(self, loss: float, accuracy: float, images: int) -> None:
        self.loss += loss * images
        self.accuracy += accuracy * images
        self.images += images

    def values(self, prefix: str = "") -> dict[str, float | None]:
        if not self.images:
            return {f"{prefix}loss": None, f"{prefix}accuracy": None}
        return {
            f"{prefix}loss": self.loss / self.images,
            f"{prefix}accuracy": self.accuracy / self.images,
        }


def _finite(value: float | None) -> float | None:
    """None for a loss that is not a number: the results store it so."""
    return value if value is not None and math.isfinite(value) else None


def fit(
    step: mlx_models.TrainStep,
    train: Callable[[], Iterable[tuple[Any, Any]]],
    valid: Callable[[], Iterable[tuple[Any, Any]]],
    epochs: int,
    timer: clock.EpochClock,
) -> None:
    """Train ``epochs`` epochs of ``train()``'s batches, each followed by ``valid()``'s, read by
    ``timer``. Each step is evaluated before the next batch is drawn, so every reading follows
    finished work."""
    for epoch in range(epochs):
        timer.begin_epoch()
        seen = Average()
        for x, y in train():
            loss, accuracy = step(*mlx_models.arrays((x, y)))
            seen.add(loss, accuracy, int(x.shape[0]))
            timer.end_step()
        timer.begin_validation()
        checked = Average()
        for x, y in valid():
            loss, accuracy = mlx_models.evaluate(step.model, *mlx_models.arrays((x, y)))
            checked.add(loss, accuracy, int(x.shape[0]))
        timer.end_validation()
        metrics = {**seen.values(), **checked.values("val_")}
        timer.end_epoch(epoch, {k: _finite(v) for k, v in metrics.items()})
        if timer.stop:
            break


def run(
    job: TrainingJob,
    workload: Workload,
    pipeline: pipelines.Pipeline,
    record: dict[str, Any],
    report: Callable[[dict[str, Any]], None],
    meter: EnergyMeter | None = None,
) -> None:
    """Train ``job``'s workload on MLX, filling ``record`` as `bench.worker.training.run_job`
    does on Keras (whose part before the model, the pipeline included, it has already done)."""
    target = device()
    mx.set_default_device(target)
    weights = Path(job.weights_path) if job.weights_path else None
    if job.crosscheck:
        record["crosscheck"] = _crosscheck(job, workload, weights, pipeline, target)
    with clock.Stopwatch() as sw:
        model = build(workload, job.image_size, weights, job.seed)
    record["build_s"] = sw.seconds
    with clock.Stopwatch() as sw:
        step = mlx_models.TrainStep(model)
    record["compile_s"] = sw.seconds
    record["parameters"], record["trainable_parameters"] = mlx_models.count(model)
    record["optimizer"] = f"{mlx_models.KerasAdam.__module__}.{mlx_models.KerasAdam.__name__}"
    record["device"] = device_name(target)
    rule = job.stopping
    timer = clock.EpochClock(record["train_images"], report, meter=meter, rule=rule)
    try:
        fit(
            step,
            lambda: pipelines.training_epoch(pipeline),
            lambda: pipelines.validation_batches(pipeline),
            rule.most_epochs,
            timer,
        )
    finally:
        record["epochs"] = timer.epochs
        record["peak_rss_bytes"] = clock.peak_rss_bytes()
    record["status"] = "ok"
    record["stopping"] = clock.stopping_block(timer)
    print(clock.stopping_line(job.tag, record["stopping"]), file=sys.stderr, flush=True)
    if job.attribution:
        record["attribution"] = throughputs.measure_run(
            job.tag,
            step,
            pipelines.batches(pipeline),
            pipeline.steps_per_epoch,
            job.epochs,  # the epochs asked for: the same batches whatever the rule added
            convert=mlx_models.arrays,
        )


def _crosscheck(
    job: TrainingJob, workload: Workload, weights: Path | None, pipeline: Any, target: Any
) -> dict[str, Any]:
    """The cross-check on MLX: one seeded model's start trained on the same batches on the CPU
    and on ``target``; the ``crosscheck`` block (`bench.worker.crosscheck.crosscheck_block`)."""
    started = time.perf_counter()
    try:
        batches = pipelines.validation_arrays(
            pipeline, crosscheck.CROSSCHECK_STEPS, crosscheck.CROSSCHECK_BATCH
        )
        model = build(workload, job.image_size, weights, job.seed)
        start = model.parameters()  # MLX arrays are immutable: training replaces, never edits

        def losses_on(where: Any) -> list[float]:
            model.update(start)
            step = mlx_models.TrainStep(model)
            with mx.stream(where):
                return [step(x, y)[0] for x, y in batches]

        expected = losses_on(mx.cpu)
        found = losses_on(target)
    except Exception as exc:  # noqa: BLE001 (the timed run stands; the check says why it is missing)
        traceback.print_exc(file=sys.stderr)
        return {"error": error_line(exc)}
    block = crosscheck.crosscheck_block(device_name(target), CPU, batches, expected, found, started)
    print(crosscheck.summary_line(job.tag, block), file=sys.stderr, flush=True)
    return block
