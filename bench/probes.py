"""Geekbench-style probes: what one core, all cores and the GPU do per second.

Four probes measure the work the article's training does, each as a physical throughput:

- ``matmul``: float32 matrix product (GFLOP/s, counting ``2 n^3`` per ``n x n`` product);
- ``conv2d``: a VGG-16 block 3 convolution forward pass (GFLOP/s, ``2 x output pixels x
  kernel volume x filters``, the border counted as full windows);
- ``jpeg_decode``: ``tf.io.decode_jpeg`` plus ``tf.image.resize`` to 224x224 of photo-like
  400x350 JPEGs held in memory (images/s);
- ``augment``: ``ImageDataGenerator.random_transform`` with the article's augmentation on
  224x224x3 float32 arrays (images/s).

Sections:

- ``single_core``: every probe on one thread (TensorFlow intra- and inter-op threads 1, one
  tf.data call, one Python thread);
- ``multi_core``: every probe on all the cores the process may use: TensorFlow's default
  threading for ``matmul`` and ``conv2d``, a tf.data map with one parallel call per core for
  ``jpeg_decode``, and a pool of one Python thread per core calling ``random_transform`` for
  ``augment`` (ImageDataGenerator itself is single-threaded Python; threads are how Keras
  spreads a generator over cores, and SciPy's transforms let them run in parallel);
- ``gpu``: ``matmul`` (4096x4096) and ``conv2d`` (batch 32) on the first GPU TensorFlow sees
  (Metal or CUDA, with TensorFlow's default precision settings, as training uses them:
  TensorFloat-32 on recent NVIDIA GPUs); without one the section is ``unavailable`` and has no
  score, never a zero one. The multi-core worker lists the GPUs, so a third worker (and a
  third TensorFlow import) is started only when there is one.

TensorFlow's thread counts are fixed by the first operation, so each section runs in a fresh
worker process, ``python -m bench.probes --section NAME --output FILE.json``; `run_probes`
starts them one after another and merges what they write. A worker that fails or hangs turns
into a section with status ``failed`` and the reason, never into an exception.

Each probe is measured the same way (`measure`): one warm-up call, a calibration that finds how
many iterations last ``min_time_s``, then timed repeats of that many iterations until the
relative spread (sample standard deviation / mean) of the last ``min_repeats`` repeats is at
most ``target_spread`` or ``max_repeats`` is reached. Every repeat's seconds, their median and
spread are stored; the throughput uses the median. Scores come from `bench.readers.reference`.

TensorFlow is imported only inside the worker: the rest of benchbook can import this module
without it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import jsonschema

from bench import files, processes, results, stats, workloads
from bench.errors import UserError
from bench.readers import reference
from bench.results import model, schema
from bench.results.model import SECTIONS
from bench.text import error_line

PROBES = ("matmul", "conv2d", "jpeg_decode", "augment")
UNITS: Mapping[str, str] = {
    "matmul": "GFLOP/s",
    "conv2d": "GFLOP/s",
    "jpeg_decode": "images/s",
    "augment": "images/s",
}

# The article's ImageDataGenerator settings for the augmented workloads, from one place.
AUGMENTATION: Mapping[str, Any] = workloads.AUGMENTATION

IMAGE_SIZE = 224
JPEG_COUNT = 16
JPEG_WIDTH, JPEG_HEIGHT, JPEG_QUALITY = 400, 350, 90
MATMUL_SIZE = 2048
GPU_MATMUL_SIZE = 4096
# VGG-16 block3_conv2: the middle of the network whose frozen base dominates vgg16 training.
CONV_SPATIAL, CONV_CHANNELS, CONV_KERNEL = 56, 256, 3
GPU_CONV_BATCH = 32

REASON_CHARS = 1000


@dataclass(frozen=True)
class Settings:
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
class Measurement:
    """The timings of one probe: warm-up, iterations per repeat and every repeat's seconds."""

    warmup_s: float
    iterations: int
    repeats_s: tuple[float, ...]

    @property
    def median_s(self) -> float:
        """The median repeat, in seconds."""
        return statistics.median(self.repeats_s)

    @property
    def spread(self) -> float:
        """The relative spread of the repeats (sample standard deviation / mean)."""
        return relative_spread(self.repeats_s)


def relative_spread(times: Sequence[float]) -> float:
    """`bench.stats.coefficient_of_variation` of the repeats, 0 for a single repeat (a probe
    stores a number; one repeat has no spread to report)."""
    cv = stats.coefficient_of_variation(times)
    return cv if math.isfinite(cv) else 0.0


def measure(
    run: Callable[[int], object],
    settings: Settings,
    clock: Callable[[], float] = time.perf_counter,
) -> Measurement:
    """Time ``run(iterations)``: warm-up, calibration, then repeats until the spread settles.

    Parameters
    ----------
    run
        Does the given number of iterations of the work and returns when they are finished
        (an accelerator's queue included).
    settings
        ``min_time_s`` per repeat, ``min_repeats`` to ``max_repeats`` repeats, stopping early
        once the relative spread of the last ``min_repeats`` repeats is at most
        ``target_spread``.
    clock
        Seconds as a float; tests pass a fake one.

    Returns
    -------
    Measurement
        Every repeat kept, in order.
    """

    def timed(iterations: int) -> float:
        start = clock()
        run(iterations)
        return clock() - start

    warmup_s = timed(1)  # first call: graph building, allocation, kernel selection
    # Calibrate: double the iterations until a run lasts a quarter of a repeat, then scale up.
    # (A tenth was too short: a tf.data pipeline's start-up then inflated the estimate of one
    # iteration and repeats came out at 0.65 s instead of 1 s.)
    iterations, elapsed = 1, timed(1)
    while elapsed < settings.min_time_s / 4 and iterations < 2**30:
        iterations *= 2
        elapsed = timed(iterations)
    per_repeat = max(1, math.ceil(iterations * settings.min_time_s / max(elapsed, 1e-9)))
    repeats: list[float] = []
    while len(repeats) < settings.max_repeats:
        repeats.append(timed(per_repeat))
        # Settled: the last `min_repeats` repeats agree (one early outlier does not force the
        # cap); every repeat is kept, and the stored spread covers them all.
        window = repeats[-settings.min_repeats :]
        if (
            len(window) >= settings.min_repeats
            and relative_spread(window) <= settings.target_spread
        ):
            break
    return Measurement(warmup_s=warmup_s, iterations=per_repeat, repeats_s=tuple(repeats))


@dataclass
class Probe:
    """One probe ready to time: ``run(n)`` does ``n`` iterations of ``work_per_iteration``."""

    name: str
    unit: str
    work: str
    work_per_iteration: float  # in the unit's numerator: GFLOP or images
    parallelism: str
    run: Callable[[int], object]


def probe_record(probe: Probe, measurement: Measurement, threads: int | None) -> dict[str, Any]:
    """The stored form of a measured probe (unscored: `bench.readers.reference.rescore` adds scores)."""
    value = probe.work_per_iteration * measurement.iterations / measurement.median_s
    return {
        "name": probe.name,
        "status": "ok",
        "reason": None,
        "unit": probe.unit,
        "value": value,
        "baseline": None,
        "score": None,
        "median_s": measurement.median_s,
        "spread": measurement.spread,
        "repeats_s": list(measurement.repeats_s),
        "warmup_s": measurement.warmup_s,
        "iterations": measurement.iterations,
        "work_per_iteration": probe.work_per_iteration,
        "work": probe.work,
        "threads": threads,
        "parallelism": probe.parallelism,
    }


def failed_probe_record(name: str, unit: str, reason: str) -> dict[str, Any]:
    """The stored form of a probe that could not be measured."""
    return {
        "name": name,
        "status": "failed",
        "reason": reason[:REASON_CHARS],
        "unit": unit,
        "value": None,
        "baseline": None,
        "score": None,
        "repeats_s": [],
    }


# ---------------------------------------------------------------------------------------------
# Worker side: everything below until `run_probes` runs in a fresh process with TensorFlow.


def cores() -> int:
    """The number of CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def photo_like_jpegs(count: int = JPEG_COUNT, seed: int = 0) -> list[bytes]:
    """Encode ``count`` distinct 400x350 JPEGs (quality 90) that compress like photographs.

    Smooth colour gradients, large soft blobs and mild grain: pure noise would compress far
    worse than a photo (and decode slower), flat colour far better.
    """
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    height, width = JPEG_HEIGHT, JPEG_WIDTH
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    out = []
    for _ in range(count):
        angle = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(angle) * xx / width + np.sin(angle) * yy / height + 1) / 2
        colours = rng.uniform(0, 255, size=(2, 3))
        base = colours[0] * ramp[..., None] + colours[1] * (1 - ramp[..., None])
        cell = 25
        coarse = rng.normal(0, 40, size=(height // cell + 1, width // cell + 1, 3))
        blobs = np.kron(coarse, np.ones((cell, cell, 1)))[:height, :width]
        grain = rng.normal(0, 8, size=(height, width, 3))
        pixels = np.clip(base + blobs + grain, 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=JPEG_QUALITY)
        out.append(buffer.getvalue())
    return out


def _sized(base: int, scale: float, multiple: int) -> int:
    return max(multiple, round(base * scale / multiple) * multiple)


def _matmul(size: int, parallelism: str, run: Callable[[int], object]) -> Probe:
    """The matmul probe around ``run`` (any framework's): its work and units."""
    return Probe(
        name="matmul",
        unit=UNITS["matmul"],
        work=f"{size}x{size} by {size}x{size} float32 matrix product",
        work_per_iteration=2 * size**3 / 1e9,
        parallelism=parallelism,
        run=run,
    )


def _conv2d(batch: int, spatial: int, parallelism: str, run: Callable[[int], object]) -> Probe:
    """The conv2d probe around ``run`` (any framework's): its work and units."""
    channels, kernel = CONV_CHANNELS, CONV_KERNEL
    flops = 2 * batch * spatial * spatial * channels * channels * kernel * kernel
    return Probe(
        name="conv2d",
        unit=UNITS["conv2d"],
        work=(
            f"VGG-16 block3_conv2-like forward: {batch}x{spatial}x{spatial}x{channels} input, "
            f"{kernel}x{kernel}x{channels}x{channels} kernel, stride 1, same padding, float32"
        ),
        work_per_iteration=flops / 1e9,
        parallelism=parallelism,
        run=run,
    )


def _needs(tf: Any) -> Any:
    """TensorFlow, or the reason a probe that needs it cannot run."""
    if tf is None:
        msg = (
            "needs TensorFlow (tf.io.decode_jpeg, as the tf.data pipelines decode), "
            "which is not installed beside this backend"
        )
        raise RuntimeError(msg)
    return tf


def _decoded_images(tf: Any, jpegs: Sequence[bytes]) -> list[Any]:
    """The probe's JPEGs decoded and resized to 224x224 float32 arrays: by TensorFlow where it is
    installed, else by Pillow (the augment probe only needs photo-like pixels)."""
    import numpy as np

    if tf is not None:
        with tf.device("/CPU:0"):
            return [
                tf.image.resize(
                    tf.io.decode_jpeg(data, channels=3), (IMAGE_SIZE, IMAGE_SIZE)
                ).numpy()
                for data in jpegs
            ]
    from PIL import Image

    out = []
    for data in jpegs:
        with Image.open(io.BytesIO(data)) as image:
            resized = image.convert("RGB").resize(
                (IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR
            )
            out.append(np.asarray(resized, dtype=np.float32))
    return out


def _one_core_for_jax() -> None:
    """Keep this process, and so JAX's threads, on one CPU core.

    XLA starts its CPU thread pool over every core and JAX 0.10 has no setting for it (the
    ``XLA_FLAGS`` ``intra_op_parallelism_threads=1`` and ``--xla_cpu_multi_thread_eigen=false``
    still used both cores of a 2-core machine: CPU time 1.94x wall time in a matmul loop; pinned,
    1.0x). Where the system cannot pin a process (macOS) the section is refused rather than
    measured on every core under the name single-core.
    """
    if not hasattr(os, "sched_setaffinity"):
        msg = "JAX cannot be held to one core on this system (no CPU affinity): not measured"
        raise UserError(msg)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _thread_settings(backend: str, tf: Any) -> tuple[int | None, int | None]:
    """The framework's intra- and inter-op thread counts now (0: its default)."""
    if backend == "tensorflow":
        return (
            tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads(),
        )
    if backend == "torch":
        import torch

        return torch.get_num_threads(), torch.get_num_interop_threads()
    pinned = hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) == 1
    return (1, 1) if pinned else (0, 0)


def _device_name(backend: str) -> str | None:
    """The accelerator's product name, as the backend reports it."""
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return str(torch.cuda.get_device_name(0))
        return "Apple GPU (MPS)"
    import jax

    found = [d for d in jax.devices() if d.platform != "cpu"]
    return str(getattr(found[0], "device_kind", "")) or None if found else None


def _matmul_probe(tf: Any, device: str, size: int, parallelism: str) -> Probe:
    with tf.device(device):
        a = tf.random.stateless_normal((size, size), seed=(1, 2)) / math.sqrt(size)
        b = tf.random.stateless_normal((size, size), seed=(3, 4)) / math.sqrt(size)

    def run(iterations: int) -> None:
        with tf.device(device):
            for _ in range(iterations):
                product = tf.linalg.matmul(a, b)
            # Reading one element waits for the device to finish (GPUs queue the work).
            product[0, 0].numpy()

    return _matmul(size, parallelism, run)


def _conv2d_probe(tf: Any, device: str, batch: int, spatial: int, parallelism: str) -> Probe:
    channels, kernel = CONV_CHANNELS, CONV_KERNEL
    with tf.device(device):
        x = tf.random.stateless_normal((batch, spatial, spatial, channels), seed=(5, 6))
        w = tf.random.stateless_normal((kernel, kernel, channels, channels), seed=(7, 8)) / 48

    def run(iterations: int) -> None:
        with tf.device(device):
            for _ in range(iterations):
                y = tf.nn.conv2d(x, w, strides=1, padding="SAME")
            y[0, 0, 0, 0].numpy()

    return _conv2d(batch, spatial, parallelism, run)


class NativeOps:
    """matmul and conv2d in PyTorch's or JAX's own operations, on one device, synchronised
    (`bench.backends.synchronise`) before the clock stops."""

    def __init__(self, backend: str, accelerator: bool) -> None:
        self.backend = backend
        if backend == "jax":
            import jax

            platform = [d for d in jax.devices() if d.platform != "cpu"] if accelerator else []
            self.device = platform[0] if platform else jax.devices("cpu")[0]
        else:
            import torch

            from bench import backends

            name = backends.accelerator("torch") if accelerator else "cpu"
            self.device = torch.device(name or "cpu")

    def normal(self, shape: tuple[int, ...], seed: int, scale: float) -> Any:
        """Standard normal float32 numbers times ``scale``, on the device."""
        import numpy as np

        values = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32) * scale
        if self.backend == "jax":
            import jax

            return jax.device_put(values, self.device)
        import torch

        return torch.from_numpy(values).to(self.device)

    def matmul(self) -> Callable[[Any, Any], Any]:
        if self.backend == "jax":
            import jax
            import jax.numpy as jnp

            return jax.jit(jnp.matmul)  # type: ignore[no-any-return]
        import torch

        return torch.matmul  # type: ignore[no-any-return]

    def conv2d(self) -> Callable[[Any, Any], Any]:
        """A same-padded stride-1 convolution of NHWC inputs by HWIO kernels (JAX), or NCHW by
        OIHW (PyTorch's layout): the same arithmetic."""
        if self.backend == "jax":
            import jax

            def conv(x: Any, w: Any) -> Any:
                return jax.lax.conv_general_dilated(
                    x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
                )

            return jax.jit(conv)  # type: ignore[no-any-return]
        import torch

        def conv_torch(x: Any, w: Any) -> Any:
            return torch.nn.functional.conv2d(x, w, stride=1, padding="same")

        return conv_torch

    def run(self, operation: Callable[[Any, Any], Any], a: Any, b: Any) -> Callable[[int], None]:
        from bench import backends

        def run(iterations: int) -> None:
            if self.backend == "torch":
                import torch

                with torch.inference_mode():
                    for _ in range(iterations):
                        out = operation(a, b)
            else:
                for _ in range(iterations):
                    out = operation(a, b)
            backends.synchronise(self.backend, out)

        return run


def _native_matmul_probe(ops: NativeOps, size: int, parallelism: str) -> Probe:
    scale = 1 / math.sqrt(size)
    a, b = ops.normal((size, size), 1, scale), ops.normal((size, size), 3, scale)
    return _matmul(size, parallelism, ops.run(ops.matmul(), a, b))


def _native_conv2d_probe(ops: NativeOps, batch: int, spatial: int, parallelism: str) -> Probe:
    channels, kernel = CONV_CHANNELS, CONV_KERNEL
    if ops.backend == "jax":
        x = ops.normal((batch, spatial, spatial, channels), 5, 1.0)
        w = ops.normal((kernel, kernel, channels, channels), 7, 1 / 48)
    else:
        x = ops.normal((batch, channels, spatial, spatial), 5, 1.0)
        w = ops.normal((channels, channels, kernel, kernel), 7, 1 / 48)
    return _conv2d(batch, spatial, parallelism, ops.run(ops.conv2d(), x, w))


def _jpeg_decode_probe(tf: Any, jpegs: Sequence[bytes], threads: int) -> Probe:
    def decode(data: Any) -> Any:
        return tf.image.resize(tf.io.decode_jpeg(data, channels=3), (IMAGE_SIZE, IMAGE_SIZE))

    options = tf.data.Options()
    options.threading.private_threadpool_size = threads
    # One thread per image; the parallelism comes from the parallel calls.
    options.threading.max_intra_op_parallelism = 1
    options.autotune.enabled = False
    dataset = (
        tf.data.Dataset.from_tensor_slices(list(jpegs))
        .repeat()
        .map(decode, num_parallel_calls=threads, deterministic=False)
        .with_options(options)
    )

    def run(iterations: int) -> None:
        # reduce() drains the pipeline inside TensorFlow: no Python work per image.
        dataset.take(iterations).reduce(tf.constant(0, tf.int64), lambda n, _: n + 1).numpy()

    mean_kb = sum(len(j) for j in jpegs) / len(jpegs) / 1000
    return Probe(
        name="jpeg_decode",
        unit=UNITS["jpeg_decode"],
        work=(
            f"tf.io.decode_jpeg + tf.image.resize to {IMAGE_SIZE}x{IMAGE_SIZE} (bilinear, "
            f"float32) of {len(jpegs)} photo-like {JPEG_WIDTH}x{JPEG_HEIGHT} JPEGs in memory "
            f"(quality {JPEG_QUALITY}, mean {mean_kb:.1f} kB)"
        ),
        work_per_iteration=1.0,
        parallelism=f"tf.data map, {threads} parallel call{'s' if threads > 1 else ''}",
        run=run,
    )


def _augment_probe(images: Sequence[Any], threads: int, stack: contextlib.ExitStack) -> Probe:
    import numpy as np

    from bench import backends

    generator = backends.image_data_generator()(**AUGMENTATION)
    np.random.seed(42)  # random_transform draws from NumPy's global generator

    def transform(count: int) -> None:
        for i in range(count):
            generator.random_transform(images[i % len(images)])

    if threads == 1:
        run: Callable[[int], object] = transform
        parallelism = "1 Python thread"
    else:
        pool = stack.enter_context(ThreadPoolExecutor(threads))

        def run(iterations: int) -> None:
            shares = [iterations // threads + (i < iterations % threads) for i in range(threads)]
            list(pool.map(transform, shares))

        parallelism = f"{threads} Python threads, each calling random_transform"
    settings = ", ".join(f"{k}={v!r}" for k, v in AUGMENTATION.items())
    return Probe(
        name="augment",
        unit=UNITS["augment"],
        work=(
            f"ImageDataGenerator({settings}).random_transform of "
            f"{IMAGE_SIZE}x{IMAGE_SIZE}x3 float32 arrays"
        ),
        work_per_iteration=1.0,
        parallelism=parallelism,
        run=run,
    )


def _section_status(records: Sequence[Mapping[str, Any]]) -> tuple[str, str | None]:
    failed = [r["name"] for r in records if r["status"] != "ok"]
    if not failed:
        return "ok", None
    status = "failed" if len(failed) == len(records) else "partial"
    return status, f"{len(failed)} of {len(records)} probes failed: {', '.join(failed)}"


def run_section(
    section: str,
    settings: Settings,
    clock: Callable[[], float] = time.perf_counter,
    backend: str = "tensorflow",
) -> dict[str, Any]:
    """Measure one section in this process (the worker's job); import the framework first.

    Must run before this process has used the framework: the single-core thread counts only
    take effect then. On PyTorch and JAX, matmul and conv2d use the backend's own operations
    (`NativeOps`); jpeg_decode is TensorFlow's decoder wherever TensorFlow is installed, and
    recorded as failed where it is not; augment is the same ImageDataGenerator on every backend.

    Returns
    -------
    dict
        ``{"section": <section block, unscored>, "gpus": [visible GPU names]}``.
    """
    from bench import backends

    if section not in SECTIONS:
        msg = f"unknown probes section {section!r}; choose one of {', '.join(SECTIONS)}"
        raise UserError(msg)
    backends.select(backends.check(backend))
    if section == "single_core" and backend == "jax":
        _one_core_for_jax()
    started = time.perf_counter()
    tf: Any = None
    if backend == "tensorflow" or (section != "gpu" and backends.tensorflow_installed()):
        tf = backends.framework("tensorflow")
    if backend != "tensorflow":
        backends.framework(backend)
        if section == "single_core":
            backends.set_threads(backend, 1, 1)
    import_s = time.perf_counter() - started
    if backend == "tensorflow":
        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    else:
        gpus = backends.gpus(backend)
    if tf is not None:
        if section == "single_core":
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        if section != "gpu" and tf.config.list_physical_devices("GPU"):
            # The CPU sections must not touch the accelerator (nor pay for its start-up).
            with contextlib.suppress(RuntimeError, ValueError):
                tf.config.set_visible_devices([], "GPU")
    intra, inter = _thread_settings(backend, tf)
    framework = model.backend_title(backend)

    block: dict[str, Any] = {
        "status": "ok",
        "reason": None,
        "score": None,
        "threads": None,
        "device": "CPU",
        "device_name": None,
        "intra_op_threads": intra,
        "inter_op_threads": inter,
        "import_s": import_s,
        "elapsed_s": 0.0,
        "probes": [],
    }
    if section == "gpu" and not gpus:
        block.update(status="unavailable", reason=f"no GPU visible to {framework}", device=None)
        block["elapsed_s"] = time.perf_counter() - started
        return {"section": block, "gpus": gpus}

    threads = 1 if section == "single_core" else cores()
    builders: dict[str, Callable[[contextlib.ExitStack], Probe]]
    ops = NativeOps(backend, section == "gpu") if backend != "tensorflow" else None
    if section == "gpu":
        gpu_note = f"the GPU ({framework}'s default precision settings)"
        matmul_size = _sized(GPU_MATMUL_SIZE, settings.scale, 64)
        conv_spatial = _sized(CONV_SPATIAL, settings.scale, 4)
        if ops is None:
            device = "/GPU:0"
            physical = tf.config.list_physical_devices("GPU")[0]
            details = tf.config.experimental.get_device_details(physical)
            block.update(device=gpus[0], device_name=details.get("device_name"), threads=None)
            builders = {
                "matmul": lambda _: _matmul_probe(tf, device, matmul_size, gpu_note),
                "conv2d": lambda _: _conv2d_probe(
                    tf, device, GPU_CONV_BATCH, conv_spatial, gpu_note
                ),
            }
        else:
            native = ops
            block.update(device=gpus[0], device_name=_device_name(backend), threads=None)
            builders = {
                "matmul": lambda _: _native_matmul_probe(native, matmul_size, gpu_note),
                "conv2d": lambda _: _native_conv2d_probe(
                    native, GPU_CONV_BATCH, conv_spatial, gpu_note
                ),
            }
    else:
        device = "/CPU:0"
        block["threads"] = threads
        compute_threads = (
            f"1 thread ({framework} intra- and inter-op threads 1)"
            if threads == 1
            else f"{framework}'s default threading over {threads} cores"
        )
        jpegs = photo_like_jpegs()
        images: list[Any] = []

        def decoded() -> list[Any]:
            if not images:
                images.extend(_decoded_images(tf, jpegs))
            return images

        matmul_size = _sized(MATMUL_SIZE, settings.scale, 64)
        conv_spatial = _sized(CONV_SPATIAL, settings.scale, 4)
        if ops is None:
            builders = {
                "matmul": lambda _: _matmul_probe(tf, device, matmul_size, compute_threads),
                "conv2d": lambda _: _conv2d_probe(tf, device, 1, conv_spatial, compute_threads),
            }
        else:
            native = ops
            builders = {
                "matmul": lambda _: _native_matmul_probe(native, matmul_size, compute_threads),
                "conv2d": lambda _: _native_conv2d_probe(native, 1, conv_spatial, compute_threads),
            }
        builders["jpeg_decode"] = lambda _: _jpeg_decode_probe(_needs(tf), jpegs, threads)
        builders["augment"] = lambda stack: _augment_probe(decoded(), threads, stack)

    for name, build in builders.items():
        try:
            with contextlib.ExitStack() as stack:
                probe = build(stack)
                measurement = measure(probe.run, settings, clock)
            block["probes"].append(
                probe_record(probe, measurement, None if section == "gpu" else threads)
            )
        # A probe that breaks (a missing SciPy, a GPU kernel error) must not take the others
        # with it: its error is recorded instead.
        except Exception as exc:  # noqa: BLE001
            block["probes"].append(failed_probe_record(name, UNITS[name], error_line(exc)))
    block["status"], block["reason"] = _section_status(block["probes"])
    block["elapsed_s"] = time.perf_counter() - started
    return {"section": block, "gpus": gpus}


# ---------------------------------------------------------------------------------------------
# Parent side.


@cache
def _section_validator() -> jsonschema.Draft202012Validator:
    root = {"$ref": "#/$defs/probe_section", "$defs": schema()["$defs"]}
    return jsonschema.Draft202012Validator(root)


def _worker_command(
    section: str, output: Path, settings: Settings, backend: str = "tensorflow"
) -> list[str]:
    """The command line of one section's worker process."""
    return [
        sys.executable,
        "-m",
        "bench.probes",
        "--section",
        section,
        "--backend",
        backend,
        "--output",
        str(output),
        "--scale",
        repr(settings.scale),
        "--min-time-s",
        repr(settings.min_time_s),
        "--min-repeats",
        str(settings.min_repeats),
        "--max-repeats",
        str(settings.max_repeats),
        "--target-spread",
        repr(settings.target_spread),
    ]


def _worker_env(section: str, backend: str = "tensorflow") -> dict[str, str]:
    env = dict(os.environ)
    # The worker must run this very code, wherever the parent was started from.
    source_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH")) if p)
    if section == "single_core":
        # NumPy and SciPy (inside ImageDataGenerator) stay on one thread too.
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = "1"
        env["VECLIB_MAXIMUM_THREADS"] = "1"
    return env


def _not_measured(status: str, reason: str, device: str | None = None) -> dict[str, Any]:
    return {
        "status": status,
        "reason": reason[:REASON_CHARS],
        "score": None,
        "threads": None,
        "device": device,
        "probes": [],
    }


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def _run_worker(
    section: str, settings: Settings, timeout_s: float, folder: Path, backend: str = "tensorflow"
) -> tuple[dict[str, Any], list[str] | None]:
    """Run one worker; return its section (or a ``failed`` one) and the GPUs it saw."""
    output = folder / f"{section}.json"
    try:
        code, stderr = processes.run_worker(
            _worker_command(section, output, settings, backend),
            env=_worker_env(section, backend),
            timeout_s=timeout_s,
            capture=True,
        )
    except subprocess.TimeoutExpired:
        return _not_measured("failed", f"worker timed out after {timeout_s:.1f} s"), None
    except OSError as exc:
        return _not_measured("failed", f"worker could not start: {exc}"), None
    if code != 0:
        reason = f"worker exited with status {code}: {_last_line(stderr)}"
        return _not_measured("failed", reason), None
    try:
        data = json.loads(output.read_text(encoding="utf-8"))
        gpus = data["gpus"]
        # Scored here so that the whole section, scores included, is checked against the schema.
        scored = reference.rescore({"sections": {section: data["section"]}})
        block = scored["sections"][section]
        error = jsonschema.exceptions.best_match(_section_validator().iter_errors(block))
        if error is not None:
            msg = f"{'/'.join(map(str, error.absolute_path)) or 'section'}: {error.message}"
            raise ValueError(msg[:300])
        if not (isinstance(gpus, list) and all(isinstance(g, str) for g in gpus)):
            msg = "gpus is not a list of names"
            raise ValueError(msg)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, UserError) as exc:
        return _not_measured("failed", f"worker wrote no valid section ({exc})"), None
    return block, gpus


def run_probes(
    *,
    gpu: bool = True,
    timeout_s: float = 300,
    scale: float = 1.0,
    min_time_s: float = 1.0,
    log: Callable[[str], None] | None = None,
    backend: str = "tensorflow",
) -> dict[str, Any]:
    """Run the single-core, multi-core and GPU probes, each in a fresh process, and score them.

    Parameters
    ----------
    gpu
        Measure the GPU section; when false it is recorded as ``skipped``.
    timeout_s
        Time allowed to all the workers together; a worker still running when it is used up
        is stopped and its section (and any not yet started) recorded as ``failed``.
    scale, min_time_s
        Work size and seconds per timed repeat; only tests change them, and scores are
        comparable only at the defaults.
    log
        Called with one line of progress per section.
    backend
        The Keras backend whose framework runs matmul and conv2d (`run_section`).

    Returns
    -------
    dict
        The ``probes`` block of a results file (see the schema's ``$defs/probes``), scored
        against `bench.readers.reference.CURRENT`.
    """
    settings = Settings(scale=scale, min_time_s=min_time_s)
    say = log or (lambda _: None)
    started = time.perf_counter()
    deadline = started + timeout_s
    sections: dict[str, dict[str, Any]] = {}
    gpus: list[str] | None = None
    with tempfile.TemporaryDirectory(prefix="benchbook-probes-") as tmp:
        for section in SECTIONS:
            left = deadline - time.perf_counter()
            if section == "gpu" and not gpu:
                sections[section] = _not_measured("skipped", "GPU probes not requested")
            elif section == "gpu" and gpus == []:
                # The multi-core worker listed the GPUs: no need for a third TensorFlow import.
                reason = f"no GPU visible to {model.backend_title(backend)}"
                sections[section] = _not_measured("unavailable", reason)
            elif left <= 0:
                reason = f"not run: the probes' time limit of {timeout_s:g} s was used up"
                sections[section] = _not_measured("failed", reason)
            else:
                say(f"probes: measuring {section.replace('_', '-')} ...")
                block, seen = _run_worker(section, settings, left, Path(tmp), backend)
                sections[section] = block
                if section == "multi_core":
                    gpus = seen
            say(f"probes: {section.replace('_', '-')}: {_summary(sections[section])}")
    block = {
        "baseline_version": reference.CURRENT.version,
        "settings": asdict(settings),
        "sections": sections,
        "elapsed_s": time.perf_counter() - started,
    }
    return reference.rescore(block, reference.CURRENT)


def _summary(section: Mapping[str, Any]) -> str:
    if section["status"] in ("ok", "partial"):
        parts = [
            f"{p['name']} {p['value']:.4g} {p['unit']}"
            for p in section["probes"]
            if p["status"] == "ok"
        ]
        return f"{section['status']}: " + ", ".join(parts)
    return f"{section['status']}: {section['reason']}"


# ---------------------------------------------------------------------------------------------
# Scores the user got from the real Geekbench.

_GEEKBENCH_KEYS = {
    "single": "single_core",
    "single_core": "single_core",
    "multi": "multi_core",
    "multi_core": "multi_core",
    "gpu": "gpu",
    "version": "version",
    "api": "gpu_api",
    "gpu_api": "gpu_api",
}
_GEEKBENCH_APIS = {"metal": "Metal", "opencl": "OpenCL", "vulkan": "Vulkan", "cuda": "CUDA"}
_GEEKBENCH_EXAMPLE = '--geekbench "single=2374,multi=12360,gpu=41012,version=6.3,api=Metal"'


def _refuse_geekbench(problem: str) -> NoReturn:
    msg = f"--geekbench: {problem}; expected e.g. {_GEEKBENCH_EXAMPLE}"
    raise UserError(msg)


def parse_geekbench(arg: str) -> dict[str, Any]:
    """Parse the scores a user got from the real Geekbench, e.g. ``single=2374,version=6.3``.

    Keys: ``single``, ``multi``, ``gpu`` (whole-number scores), ``version`` (required, e.g.
    ``6.3`` or ``6.3.0``) and ``api`` (the GPU benchmark's API: Metal, OpenCL, Vulkan or CUDA;
    only with ``gpu``). At least one score is required.

    Returns
    -------
    dict
        The results file's ``geekbench`` block: ``version``, ``single_core``, ``multi_core``,
        ``gpu``, ``gpu_api`` (``None`` where not given).

    Raises
    ------
    UserError
        One line naming the bad part and showing a valid example.
    """
    out: dict[str, Any] = {
        "version": None,
        "single_core": None,
        "multi_core": None,
        "gpu": None,
        "gpu_api": None,
    }
    given: set[str] = set()
    for part in arg.split(","):
        key, sep, value = (s.strip() for s in part.partition("="))
        if not part.strip():
            _refuse_geekbench("empty item" if arg.strip() else "nothing given")
        field = _GEEKBENCH_KEYS.get(key.lower())
        if not sep or field is None:
            _refuse_geekbench(
                f"{part.strip()[:40]!r} is not one of single=, multi=, gpu=, version=, api="
            )
        if field in given:
            _refuse_geekbench(f"{key} given twice")
        given.add(field)
        if field in ("single_core", "multi_core", "gpu"):
            if not re.fullmatch(r"[0-9]{1,9}", value):
                _refuse_geekbench(f"{key}={value[:40]!r} is not a whole-number score")
            out[field] = int(value)
            problem = results.field_problem(f"geekbench.{field}", out[field])
            if problem is not None:
                _refuse_geekbench(f"{key}={value} {problem}")
        elif field == "version":
            if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,4}){0,3}", value):
                _refuse_geekbench(f"version={value[:40]!r} is not a Geekbench version such as 6.3")
            out[field] = value
        else:
            api = _GEEKBENCH_APIS.get(value.lower())
            if api is None:
                _refuse_geekbench(f"api={value[:40]!r} is not one of Metal, OpenCL, Vulkan, CUDA")
            out[field] = api
    if out["version"] is None:
        _refuse_geekbench("version= is missing (Geekbench 5 and 6 scores are not comparable)")
    if out["single_core"] is None and out["multi_core"] is None and out["gpu"] is None:
        _refuse_geekbench("no score given")
    if out["gpu_api"] is not None and out["gpu"] is None:
        _refuse_geekbench("api= given without gpu=")
    return out


# ---------------------------------------------------------------------------------------------
# Worker entry point.


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.probes",
        description="Measure one probes section in this process and write it as JSON.",
    )
    parser.add_argument("--section", choices=SECTIONS, required=True)
    parser.add_argument("--backend", choices=model.BACKENDS, default="tensorflow")
    parser.add_argument("--output", type=Path, required=True, help="JSON file to write")
    defaults = Settings()
    parser.add_argument("--scale", type=float, default=defaults.scale)
    parser.add_argument("--min-time-s", type=float, default=defaults.min_time_s)
    parser.add_argument("--min-repeats", type=int, default=defaults.min_repeats)
    parser.add_argument("--max-repeats", type=int, default=defaults.max_repeats)
    parser.add_argument("--target-spread", type=float, default=defaults.target_spread)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Worker: measure ``--section``; write ``{"section": ..., "gpus": [...]}`` to ``--output``."""
    processes.hold_lifeline()
    args = _parser().parse_args(argv)
    try:
        settings = Settings(
            scale=args.scale,
            min_time_s=args.min_time_s,
            min_repeats=args.min_repeats,
            max_repeats=args.max_repeats,
            target_spread=args.target_spread,
        )
    except ValueError as exc:
        print(f"python -m bench.probes: {exc}", file=sys.stderr)
        return 2
    result = run_section(args.section, settings, backend=args.backend)
    files.write_atomic(args.output, json.dumps(result, indent=1, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
