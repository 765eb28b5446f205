"""One workload run in a fresh process (a `bench.protocol.jobs.TrainingJob`).

Each run gets its own process so that memory and caches start clean, the peak resident memory
belongs to that workload alone, the Keras backend (chosen by ``KERAS_BACKEND`` before Keras is
first imported) is the job's, and the framework's thread settings (which must be set before its
first operation) can differ between runs. The parent (`bench.harness.runner`) never imports a framework.

`run_job` fills in the record `bench.protocol.jobs.failure` starts it from; when the workload
itself fails (out of memory, an operation a plugin lacks) the record says ``failed`` with the error.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.protocol import config
from bench.protocol.jobs import TrainingJob
from bench.text import error_line
from bench.worker import (
    backends,
    clock,
    crosscheck,
    energy,
    introspect,
    pipelines,
    throughputs,
    workloads,
)

_START = time.perf_counter()
CUDA_CACHE_MAXSIZE = 4 * 2**30
"""The CUDA driver's largest compute cache (bytes)."""


def _progress(tag: str) -> Any:
    def report(epoch: dict[str, Any]) -> None:
        warmup = " (warm-up)" if epoch["warmup"] else ""
        acc = epoch["val_accuracy"]
        acc_text = f"{acc:.3f}" if acc is not None else "n/a"
        print(
            f"  {tag} epoch {epoch['epoch']}: {epoch['epoch_s']:.1f} s "
            f"(train {epoch['train_s']:.1f} s, validation {epoch['validation_s']:.1f} s), "
            f"{epoch['images_per_s']:.1f} img/s, val_accuracy {acc_text}{warmup}",
            file=sys.stderr,
            flush=True,
        )

    return report


def run_job(job: TrainingJob, record: dict[str, Any]) -> None:
    """Train one workload as ``job`` describes, filling ``record`` as it goes.

    Filling in place keeps what was measured (epochs done, memory) when training fails.
    """
    backend = job.backend
    backends.select(backend)  # before the first import of Keras
    if job.keras2:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
    if job.cuda_cache:  # read by the CUDA driver when TensorFlow initialises it
        os.environ.setdefault("CUDA_CACHE_PATH", job.cuda_cache)
        os.environ.setdefault("CUDA_CACHE_MAXSIZE", str(CUDA_CACHE_MAXSIZE))
    backends.framework(backend)
    backends.keras()

    record["import_s"] = time.perf_counter() - _START
    # Threads must be set before the framework's first operation; 0 keeps its default.
    backends.set_threads(backend, job.intra_op_threads, job.inter_op_threads)
    record["framework"] = (
        introspect.tensorflow_info() if backend == "tensorflow" else introspect.keras_info()
    )
    record["framework"].update(backends.info(backend))
    workload = workloads.get(job.workload)
    backends.seed(job.seed)
    meter = _energy_meter(job, record)
    pipeline = _pipeline(job, workload, record)
    try:
        if backend == "mlx":
            from bench.worker import mlx_training  # imports MLX: only where it trains

            mlx_training.run(job, workload, pipeline, record, _progress(job.tag), meter)
        else:
            _train_keras(job, workload, pipeline, record, meter)
    finally:
        record["energy"]["notes"] = list(meter.notes)


def _energy_meter(job: TrainingJob, record: dict[str, Any]) -> energy.EnergyMeter:
    """The machine's energy counters, with the idle power sampled first where there are any;
    the run's ``energy`` block goes into ``record``."""
    meter = energy.EnergyMeter.open()
    idle = meter.idle_watts() if meter.available else None
    record["energy"] = meter.block(idle, energy.IDLE_SAMPLE_S)
    if meter.available:
        domains = ", ".join(f"{d} ({v['source']})" for d, v in record["energy"]["domains"].items())
        print(f"  {job.tag}: energy counters: {domains}", file=sys.stderr, flush=True)
    return meter


def _pipeline(
    job: TrainingJob, workload: workloads.Workload, record: dict[str, Any]
) -> pipelines.Pipeline:
    """The job's input pipeline, checked against the images listed before training; its sizes
    go into ``record``."""
    data_root = Path(job.data_root)
    pipeline = pipelines.make(
        job.pipeline,
        data_root,
        workload.augment,
        job.image_size,
        job.batch_size,
        job.seed,
    )
    expected = job.expected_images
    found = {"train": pipeline.train_images, "validation": pipeline.validation_images}
    if expected is not None and expected != found:
        msg = (
            f"Keras lists {found} images where the checks before training listed {expected}: "
            "the dataset changed during the run, or Keras reads files bench.data.list_images "
            "does not"
        )
        raise RuntimeError(msg)
    record["augmentation"] = pipeline.augmentation
    record["train_images"] = pipeline.train_images
    record["validation_images"] = pipeline.validation_images
    record["steps_per_epoch"] = pipeline.steps_per_epoch
    return pipeline


def _train_keras(
    job: TrainingJob,
    workload: workloads.Workload,
    pipeline: pipelines.Pipeline,
    record: dict[str, Any],
    meter: energy.EnergyMeter,
) -> None:
    """Build, compile and ``fit`` the Keras model of ``workload``, filling ``record``."""
    backend = job.backend
    weights_path = Path(job.weights_path) if job.weights_path else None
    train, valid = pipeline.train, pipeline.valid
    workers = job.generator_workers
    if workers > 1 and pipeline.name == "legacy":
        train.workers = workers  # Keras 3 PyDataset; Keras 2 takes fit(workers=...) instead
    if job.crosscheck:
        # Before the timed model exists, so that its seeded start is the same with or without.
        record["crosscheck"] = _crosscheck(job, workload, weights_path, pipeline)
        backends.seed(job.seed)
    with clock.Stopwatch() as sw:
        model = workloads.build(workload, job.image_size, weights_path)
    record["build_s"] = sw.seconds
    with clock.Stopwatch() as sw:
        workloads.compile_model(model)
    record["compile_s"] = sw.seconds
    record["parameters"] = int(model.count_params())
    record["trainable_parameters"] = sum(backends.count(w) for w in model.trainable_weights)
    record["optimizer"] = f"{type(model.optimizer).__module__}.{type(model.optimizer).__name__}"
    record["device"] = backends.variable_device(backend, model.trainable_weights[0])

    rule = job.stopping
    timer = clock.make_epoch_timer(record["train_images"], _progress(job.tag), meter, rule)
    fit_kwargs: dict[str, Any] = {}
    if workers > 1 and pipeline.name == "legacy" and record["framework"]["keras_major"] == 2:
        fit_kwargs["workers"] = workers
    if pipeline.name in config.TFDATA_PIPELINES:
        # The dataset shuffles itself; fit's default shuffle=True only earns a UserWarning.
        fit_kwargs["shuffle"] = False
    try:
        model.fit(
            train,
            validation_data=valid,
            epochs=rule.most_epochs,
            callbacks=[timer],
            verbose=0,
            **fit_kwargs,
        )
    finally:
        record["epochs"] = timer.epochs
        # Read before the attribution measurement, so it is the peak of training alone with or
        # without --skip-attribution.
        record["peak_rss_bytes"] = clock.peak_rss_bytes()
    record["status"] = "ok"
    record["stopping"] = clock.stopping_block(timer.clock)
    print(clock.stopping_line(job.tag, record["stopping"]), file=sys.stderr, flush=True)
    if job.attribution:
        # After the epochs, so the seeded training is the same with or without it.
        record["attribution"] = throughputs.measure_run(
            job.tag,
            model,
            pipelines.batches(pipeline),
            pipeline.steps_per_epoch,
            job.epochs,  # the epochs asked for: the same batches whatever the rule added
        )


def _crosscheck(
    job: TrainingJob, workload: Any, weights_path: Path | None, pipeline: Any
) -> dict[str, Any]:
    """`bench.worker.crosscheck.measure_crosscheck` for this job: the CPU against the device it trains on."""
    import gc

    backend = job.backend
    device = backends.accelerator(backend) or backends.cpu_device(backend)

    def build() -> Any:
        model = workloads.build(workload, job.image_size, weights_path)
        workloads.compile_model(model)
        return model

    try:
        batches = pipelines.validation_arrays(
            pipeline, crosscheck.CROSSCHECK_STEPS, crosscheck.CROSSCHECK_BATCH
        )
        block = crosscheck.measure_crosscheck(
            build, batches, device, seed=job.seed, backend=backend
        )
    except Exception as exc:  # noqa: BLE001 (the timed run stands; the check says why it is missing)
        traceback.print_exc(file=sys.stderr)
        return {"error": error_line(exc)}
    finally:
        gc.collect()
    print(crosscheck.summary_line(job.tag, block), file=sys.stderr, flush=True)
    return block
