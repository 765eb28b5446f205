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
worker process, ``python -m bench.worker.probes --section NAME --output FILE.json``; `run_probes`
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

import contextlib
import io
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.errors import UserError
from bench.protocol import config
from bench.protocol.jobs import ProbeSettings
from bench.results import model
from bench.results.model import SECTIONS
from bench.text import error_line
from bench.worker import backends, workloads
from bench.worker.backends import (
    PINNED_BACKENDS,
    NativeOps,
    device_name,
    hold_to_one_core,
    thread_settings,
)
from bench.worker.probe_timing import Probe, failed_probe_record, measure, probe_record

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


def _native_matmul_probe(ops: NativeOps, size: int, parallelism: str) -> Probe:
    scale = 1 / math.sqrt(size)
    a, b = ops.normal((size, size), 1, scale), ops.normal((size, size), 3, scale)
    return _matmul(size, parallelism, ops.run(ops.matmul(), a, b))


def _native_conv2d_probe(ops: NativeOps, batch: int, spatial: int, parallelism: str) -> Probe:
    x, w = ops.conv_operands(batch, spatial, CONV_CHANNELS, CONV_KERNEL)
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
    settings: ProbeSettings,
    clock: Callable[[], float] = time.perf_counter,
    backend: str = "tensorflow",
) -> dict[str, Any]:
    """Measure one section in this process (the worker's job); import the framework first.

    Must run before this process has used the framework: the single-core thread counts only
    take effect then. On PyTorch, JAX and MLX, matmul and conv2d use the backend's own operations
    (`NativeOps`); jpeg_decode is TensorFlow's decoder wherever TensorFlow is installed, and
    recorded as failed where it is not; augment is the same ImageDataGenerator on every backend.

    Returns
    -------
    dict
        ``{"section": <section block, unscored>, "gpus": [visible GPU names]}``.
    """
    if section not in SECTIONS:
        msg = f"unknown probes section {section!r}; choose one of {', '.join(SECTIONS)}"
        raise UserError(msg)
    backends.select(config.check(backend))
    if section == "single_core" and backend in PINNED_BACKENDS:
        hold_to_one_core(backend)
    started = time.perf_counter()
    tf: Any = None
    if backend == "tensorflow" or (section != "gpu" and config.tensorflow_installed()):
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
    intra, inter = thread_settings(backend, tf)
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
            block.update(device=gpus[0], device_name=device_name(backend), threads=None)
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


# ---------------------------------------------------------------------------------------------
# Scores the user got from the real Geekbench.


# ---------------------------------------------------------------------------------------------
# Worker entry point.
