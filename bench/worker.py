"""One workload run in a fresh process: ``python -m bench.worker JOB.json OUT.json``.

Each run gets its own process so that memory and caches start clean, the peak resident memory
belongs to that workload alone, the Keras backend (chosen by ``KERAS_BACKEND`` before Keras is
first imported) is the job's, and the framework's thread settings (which must be set before its
first operation) can differ between runs. The parent (`bench.runner`) never imports a framework.

The worker writes its record to OUT.json (atomically) and exits 0, also when the workload itself
failed (out of memory, an operation a plugin lacks): the record then says ``failed`` with the error.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.text import error_line

_START = time.perf_counter()
CUDA_CACHE_MAXSIZE = 4 * 2**30
"""The CUDA driver's largest compute cache (bytes)."""


def _progress(workload: str, repeat: int) -> Any:
    def report(epoch: dict[str, Any]) -> None:
        tag = " (warm-up)" if epoch["warmup"] else ""
        acc = epoch["val_accuracy"]
        acc_text = f"{acc:.3f}" if acc is not None else "n/a"
        print(
            f"  {workload} #{repeat} epoch {epoch['epoch']}: {epoch['epoch_s']:.1f} s "
            f"(train {epoch['train_s']:.1f} s, validation {epoch['validation_s']:.1f} s), "
            f"{epoch['images_per_s']:.1f} img/s, val_accuracy {acc_text}{tag}",
            file=sys.stderr,
            flush=True,
        )

    return report


def new_record(job: dict[str, Any]) -> dict[str, Any]:
    """The ``workload_run`` record of ``job`` before anything ran."""
    vgg = job["workload"].startswith("vgg16")
    return {
        "workload": job["workload"],
        "repeat": job["repeat"],
        "status": "failed",
        "error": None,
        "weights": job.get("weights_kind", "random") if vgg else "none",
        "weights_note": job.get("weights_note") if vgg else None,
        "device": None,
        "optimizer": None,
        "epochs": [],
    }


def run_job(job: dict[str, Any], record: dict[str, Any]) -> None:
    """Train one workload as ``job`` describes, filling ``record`` as it goes.

    Filling in place keeps what was measured (epochs done, memory) when training fails.
    """
    from bench import attribution, backends, environment, pipelines, timing, workloads

    backend = job.get("backend", backends.DEFAULT_BACKEND)
    backends.select(backend)  # before the first import of Keras
    if job.get("keras2"):
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
    if job.get("cuda_cache"):  # read by the CUDA driver when TensorFlow initialises it
        os.environ.setdefault("CUDA_CACHE_PATH", job["cuda_cache"])
        os.environ.setdefault("CUDA_CACHE_MAXSIZE", str(CUDA_CACHE_MAXSIZE))
    backends.framework(backend)
    backends.keras()

    record["import_s"] = time.perf_counter() - _START
    # Threads must be set before the framework's first operation; 0 keeps its default.
    backends.set_threads(backend, job["intra_op_threads"], job["inter_op_threads"])
    record["tf"] = (
        environment.tensorflow_info() if backend == "tensorflow" else environment.keras_info()
    )
    record["tf"].update(backends.info(backend))
    workload = workloads.get(job["workload"])
    backends.seed(job["seed"])

    weights_path = Path(job["weights_path"]) if job.get("weights_path") else None
    data_root = Path(job["data_root"])
    pipeline = pipelines.make(
        job.get("pipeline", pipelines.DEFAULT_PIPELINE),
        data_root,
        workload.augment,
        job["image_size"],
        job["batch_size"],
        job["seed"],
    )
    train, valid = pipeline.train, pipeline.valid
    workers = int(job.get("generator_workers", 1))
    if workers > 1 and pipeline.name == "legacy":
        train.workers = workers  # Keras 3 PyDataset; Keras 2 takes fit(workers=...) instead
    expected = job.get("expected_images")
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

    if job.get("crosscheck", True):
        # Before the timed model exists, so that its seeded start is the same with or without.
        record["crosscheck"] = _crosscheck(job, workload, weights_path, pipeline)
        backends.seed(job["seed"])
    with timing.Stopwatch() as sw:
        model = workloads.build(workload, job["image_size"], weights_path)
    record["build_s"] = sw.seconds
    with timing.Stopwatch() as sw:
        workloads.compile_model(model)
    record["compile_s"] = sw.seconds
    record["parameters"] = int(model.count_params())
    record["trainable_parameters"] = sum(backends.count(w) for w in model.trainable_weights)
    record["optimizer"] = f"{type(model.optimizer).__module__}.{type(model.optimizer).__name__}"
    record["device"] = backends.variable_device(backend, model.trainable_weights[0])

    timer = timing.make_epoch_timer(
        record["train_images"], _progress(job["workload"], job["repeat"])
    )
    fit_kwargs: dict[str, Any] = {}
    if workers > 1 and pipeline.name == "legacy" and record["tf"]["keras_major"] == 2:
        fit_kwargs["workers"] = workers
    if pipeline.name in pipelines.TFDATA_PIPELINES:
        # The dataset shuffles itself; fit's default shuffle=True only earns a UserWarning.
        fit_kwargs["shuffle"] = False
    try:
        model.fit(
            train,
            validation_data=valid,
            epochs=job["epochs"],
            callbacks=[timer],
            verbose=0,
            **fit_kwargs,
        )
    finally:
        record["epochs"] = timer.epochs
        # Read before the attribution measurement, so it is the peak of training alone with or
        # without --skip-attribution.
        record["peak_rss_bytes"] = timing.peak_rss_bytes()
    record["status"] = "ok"
    if job.get("attribution", True):
        # After the epochs, so the seeded training is the same with or without it.
        print(f"  {job['workload']} #{job['repeat']}: timing input only and compute only ...",
              file=sys.stderr, flush=True)  # fmt: skip
        try:
            record["attribution"] = attribution.measure(
                model, pipelines.batches(pipeline), pipeline.steps_per_epoch, job["epochs"]
            )
        except Exception as exc:  # noqa: BLE001 (the training run stands; say why this is missing)
            traceback.print_exc(file=sys.stderr)
            record["attribution"] = {"error": error_line(exc)}
        else:
            a = record["attribution"]
            print(
                f"  {job['workload']} #{job['repeat']}: input only "
                f"{a['input_only']['images_per_s']:.1f} img/s, compute only "
                f"{a['compute_only']['images_per_s']:.1f} img/s ({a['elapsed_s']:.1f} s)",
                file=sys.stderr,
                flush=True,
            )


def crosscheck_batches(pipeline: Any, steps: int, size: int) -> list[tuple[Any, Any]]:
    """Up to ``steps`` batches of ``size`` validation images (never shuffled, never augmented),
    as NumPy arrays so that every device is given the very same numbers."""
    import numpy as np

    from bench import pipelines

    wanted = steps * size
    xs: list[Any] = []
    ys: list[Any] = []
    source = (
        iter(pipeline.valid)
        if pipeline.name in pipelines.TFDATA_PIPELINES
        else (pipeline.valid[i] for i in range(len(pipeline.valid)))
    )
    for x, y in source:
        xs.append(np.asarray(x))
        ys.append(np.asarray(y))
        if sum(len(a) for a in xs) >= wanted:
            break
    images, labels = np.concatenate(xs)[:wanted], np.concatenate(ys)[:wanted]
    return [
        (images[i : i + size], labels[i : i + size]) for i in range(0, len(images) - size + 1, size)
    ]


def _crosscheck(
    job: dict[str, Any], workload: Any, weights_path: Path | None, pipeline: Any
) -> dict[str, Any]:
    """`bench.sanity.measure_crosscheck` for this job: the CPU against the device it trains on."""
    import gc

    from bench import backends, sanity, workloads

    backend = job.get("backend", backends.DEFAULT_BACKEND)
    device = backends.accelerator(backend) or backends.cpu_device(backend)

    def build() -> Any:
        model = workloads.build(workload, job["image_size"], weights_path)
        workloads.compile_model(model)
        return model

    try:
        batches = crosscheck_batches(pipeline, sanity.CROSSCHECK_STEPS, sanity.CROSSCHECK_BATCH)
        block = sanity.measure_crosscheck(build, batches, device, seed=job["seed"], backend=backend)
    except Exception as exc:  # noqa: BLE001 (the timed run stands; the check says why it is missing)
        traceback.print_exc(file=sys.stderr)
        return {"error": error_line(exc)}
    finally:
        gc.collect()
    print(
        f"  {job['workload']} #{job['repeat']}: cross-check {block['device']} against "
        f"{block['reference']}: largest loss difference {block['max_relative_difference']:.1e} "
        f"({block['elapsed_s']:.1f} s)"
        if block["max_relative_difference"] is not None
        else f"  {job['workload']} #{job['repeat']}: cross-check: a loss was not finite",
        file=sys.stderr,
        flush=True,
    )
    return block


def main(argv: list[str] | None = None) -> int:
    """Entry point of the worker process."""
    from bench import files, processes

    processes.hold_lifeline()  # never train on as an orphan when the parent is gone
    args = sys.argv[1:] if argv is None else argv
    job_path, out_path = Path(args[0]), Path(args[1])
    job = json.loads(job_path.read_text())
    record = new_record(job)
    try:
        run_job(job, record)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 (any failure of the workload is recorded, not fatal)
        traceback.print_exc(file=sys.stderr)
        record["status"] = "failed"
        record["error"] = error_line(exc)
    record["wall_s"] = time.perf_counter() - _START
    files.write_atomic(out_path, json.dumps(record, allow_nan=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
