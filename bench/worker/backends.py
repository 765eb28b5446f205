"""What a run can train on: Keras 3 on TensorFlow (the default, the article's), PyTorch or JAX,
or MLX, Apple's own framework.

The four workloads are one Keras model definition; the backend decides which framework runs it.
MLX has no released Keras backend: its models are written in MLX (`bench.worker.mlx_models`) and
trained by `bench.worker.mlx_training`, and Keras only reads the images for it (the article's
ImageDataGenerator, or tf.data), on the first of TensorFlow, PyTorch and JAX that is installed
(`bench.protocol.config.reader_backend`). Keras reads ``KERAS_BACKEND`` once, when it is first imported, so `select`
must run before any ``import keras`` in the process (the training and probe workers call it first
thing).

What differs per backend lives here and nowhere else: which Keras module to use (Keras 2 through
``tf.keras`` when ``TF_USE_LEGACY_KERAS=1``), the framework's version and the devices it sees,
thread settings, the name of the device a variable lives on, a scope that places work on one
device, and how to wait for a device to finish. Nothing is imported at module level: the parent
process and the report use the constants without any framework installed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Callable, Iterator
from typing import Any

from bench.errors import UserError
from bench.protocol import config
from bench.protocol.config import check
from bench.results import model

MODULES = {"mlx": "mlx.core"}
"""The module each framework is imported as, where it is not the backend's own name."""


def select(backend: str) -> None:
    """Make Keras use ``backend`` (for MLX, `bench.protocol.config.reader_backend`): call before
    the first ``import keras`` of the process."""
    check(backend)
    if backend == "mlx":
        reader = config.reader_backend()
        if reader is None:
            raise UserError(config.refusal(backend) or "no Keras backend to read the images")
        backend = reader
    os.environ["KERAS_BACKEND"] = backend


def legacy_keras() -> bool:
    """Whether ``tf.keras`` is routed to Keras 2 (tf-keras) in this process."""
    return os.environ.get("TF_USE_LEGACY_KERAS") in {"1", "true", "True"}


def keras() -> Any:
    """The Keras module the workloads use: Keras 3 on the selected backend, or Keras 2 (tf-keras,
    through ``tf.keras``) when ``TF_USE_LEGACY_KERAS=1`` on TensorFlow."""
    if legacy_keras():
        import tensorflow as tf

        return tf.keras
    import keras as keras3

    return keras3


def image_data_generator() -> Any:
    """The article's ``ImageDataGenerator`` class.

    Keras 3.15 removed ``keras.preprocessing.image.ImageDataGenerator`` (it raises ImportError on
    every backend), while ``tf.keras.preprocessing.image.ImageDataGenerator`` is Keras's own
    legacy class, ``keras.src.legacy.preprocessing.image.ImageDataGenerator``, which needs no
    TensorFlow. That module path is private: it is pinned with keras==3.15.1 and
    tests/test_backends.py checks it is the very class TensorFlow gives.
    """
    if legacy_keras():
        import tensorflow as tf

        return tf.keras.preprocessing.image.ImageDataGenerator
    from keras.src.legacy.preprocessing.image import ImageDataGenerator

    return ImageDataGenerator


def framework(backend: str) -> Any:
    """Import and return ``backend``'s framework module (``mlx.core`` for MLX)."""
    return importlib.import_module(MODULES.get(check(backend), backend))


def version(backend: str) -> str | None:
    """The version of ``backend``'s framework (imports it)."""
    found = getattr(framework(backend), "__version__", None)
    return str(found) if found else None


def devices(backend: str) -> list[str]:
    """Every device ``backend`` sees, as ``TYPE:name`` (``CPU:cpu:0``, ``GPU:cuda:0``,
    ``GPU:mps:0``; TensorFlow's own ``CPU:/physical_device:CPU:0``). Imports the framework."""
    if backend == "tensorflow":
        import tensorflow as tf

        return [f"{d.device_type}:{d.name}" for d in tf.config.list_physical_devices()]
    if backend == "jax":
        import jax

        return [
            f"{'CPU' if d.platform == 'cpu' else 'GPU'}:{d.platform}:{d.id}"
            for d in jax.devices("cpu") + _jax_accelerators()
        ]
    if backend == "mlx":
        import mlx.core as mx

        return ["CPU:cpu:0", *(["GPU:gpu:0"] if mx.is_available(mx.gpu) else [])]
    import torch

    found = ["CPU:cpu"]
    found += [f"GPU:cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        found.append("GPU:mps:0")
    return found


def _jax_accelerators() -> list[Any]:
    import jax

    try:
        return [d for d in jax.devices() if d.platform != "cpu"]
    except RuntimeError:  # no accelerator plugin
        return []


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def gpus(backend: str) -> list[str]:
    """The accelerators of `devices`, in the same form."""
    return model.listed_gpus(devices(backend))


def accelerator(backend: str) -> str | None:
    """The device a `scope` names to reach the first accelerator (``/GPU:0`` on TensorFlow,
    ``cuda:0`` or ``mps`` on PyTorch, ``gpu:0`` on JAX and MLX), or None without one."""
    found = gpus(backend)
    if not found:
        return None
    if backend == "tensorflow":
        return "/GPU:0"
    if backend == "mlx":
        return "gpu:0"
    name = found[0].split(":", 1)[1]
    return "mps" if name.startswith("mps") else ("cuda:0" if backend == "torch" else "gpu:0")


def cpu_device(backend: str) -> str:
    """The name `scope` takes for the CPU.

    PyTorch's is ``cpu``, not ``cpu:0``: its CPU tensors report the device ``cpu``, so under
    ``keras.device("cpu:0")`` Keras copies every new weight to "another" device and trains a
    copy with no gradient ("No gradients provided for any variable")."""
    if backend == "tensorflow":
        return "/CPU:0"
    return "cpu" if backend == "torch" else "cpu:0"


@contextlib.contextmanager
def scope(backend: str, device: str) -> Iterator[None]:
    """Place what runs inside on ``device`` (a name from `accelerator` or `cpu_device`)."""
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.device(device):
            yield
        return
    if backend == "mlx":
        import mlx.core as mx

        with mx.stream(mx.gpu if device.startswith("gpu") else mx.cpu):
            yield
        return
    import keras as keras3

    with keras3.device(device):
        yield


def set_threads(backend: str, intra: int, inter: int) -> None:
    """Set the framework's thread pools before its first operation; 0 keeps its default.

    JAX fixes its CPU threads when it starts and MLX sizes its own: neither has a setting, so
    only 0 is accepted there (`thread_refusal` says so before a run starts).
    """
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    elif backend == "torch":
        import torch

        if intra:
            torch.set_num_threads(intra)
        if inter:
            torch.set_num_interop_threads(inter)


def variable_device(backend: str, variable: Any) -> str | None:
    """The device a model variable lives on, which runs its training step: TensorFlow's full
    name (``/job:localhost/replica:0/task:0/device:GPU:0``), PyTorch's (``cuda:0``, ``mps:0``,
    ``cpu``) or JAX's (``cpu:0``, ``gpu:0``)."""
    if backend == "tensorflow":
        device = getattr(variable, "device", None)  # tf.Variable (Keras 2)
        if device is None:
            device = variable.value.device  # Keras 3 wraps the tf.Variable
        return str(device) or None
    value = variable.value
    if backend == "jax":
        placed = sorted(value.devices(), key=lambda d: d.id)
        return f"{placed[0].platform}:{placed[0].id}" if placed else None
    return str(value.device) or None


def synchronise(backend: str, value: Any) -> None:
    """Wait until the device has computed ``value`` (a JAX array, an MLX array or a PyTorch
    tensor; on PyTorch everything queued before it too), so that a clock stopped afterwards
    measures the work, not its launch. TensorFlow's probes read an element back instead."""
    if backend == "jax":
        value.block_until_ready()
        return
    if backend == "mlx":
        import mlx.core as mx

        mx.eval(value)
        return
    import torch

    device = getattr(value, "device", None)
    kind = getattr(device, "type", "cpu")
    if kind == "cuda":
        torch.cuda.synchronize(device)
    elif kind == "mps":
        torch.mps.synchronize()


def current() -> str:
    """The backend Keras runs on in this process (TensorFlow under Keras 2)."""
    if legacy_keras():
        return "tensorflow"
    return str(keras().backend.backend())


def wait_for_model(model: Any) -> None:
    """Wait until every step queued on ``model`` has run: JAX dispatches steps asynchronously
    (Keras hands back the step's arrays before they are computed) and so do GPUs, so a clock
    read without this counts the launch of the work, not the work."""
    backend = current()
    variables = list(model.trainable_variables) or list(model.variables)
    if not variables:
        return
    if backend == "jax":
        import jax

        jax.block_until_ready([v.value for v in variables])
    elif backend == "torch":
        synchronise("torch", variables[0].value)
    else:
        variables[0].numpy()  # a read waits for the kernels that write the variable


def seed(value: int) -> None:
    """Seed Python, NumPy and the backend: the same start for every backend's model."""
    keras().utils.set_random_seed(value)


def count(variable: Any) -> int:
    """The number of scalars in a model variable."""
    size = 1
    for n in variable.shape:
        size *= int(n)
    return size


def info(backend: str) -> dict[str, Any]:
    """The backend's part of the ``software`` block, from inside a worker (imports it)."""
    return {
        "backend": backend,
        "backend_version": version(backend),
        "backend_devices": devices(backend),
    }


PINNED_BACKENDS = frozenset({"jax", "mlx"})
"""Backends without a thread setting: their single-core section pins the process instead."""


def hold_to_one_core(backend: str = "jax") -> None:
    """Keep this process, and so JAX's or MLX's threads, on one CPU core.

    XLA starts its CPU thread pool over every core and JAX 0.10 has no setting for it (the
    ``XLA_FLAGS`` ``intra_op_parallelism_threads=1`` and ``--xla_cpu_multi_thread_eigen=false``
    still used both cores of a 2-core machine: CPU time 1.94x wall time in a matmul loop; pinned,
    1.0x); MLX has no setting either. Where the system cannot pin a process (macOS) the section
    is refused rather than measured on every core under the name single-core.
    """
    if not hasattr(os, "sched_setaffinity"):
        name = model.backend_title(backend)
        msg = f"{name} cannot be held to one core on this system (no CPU affinity): not measured"
        raise UserError(msg)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def thread_settings(backend: str, tf: Any) -> tuple[int | None, int | None]:
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


def device_name(backend: str) -> str | None:
    """The accelerator's product name, as the backend reports it."""
    if backend == "mlx":
        import mlx.core as mx

        found = mx.device_info().get("device_name") if mx.is_available(mx.gpu) else None
        return str(found) if found else None
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return str(torch.cuda.get_device_name(0))
        return "Apple GPU (MPS)"
    import jax

    accelerators = [d for d in jax.devices() if d.platform != "cpu"]
    return str(getattr(accelerators[0], "device_kind", "")) or None if accelerators else None


class NativeOps:
    """matmul and conv2d in PyTorch's, JAX's or MLX's own operations, on one device,
    synchronised (`bench.worker.backends.synchronise`) before the clock stops."""

    def __init__(self, backend: str, on_accelerator: bool) -> None:
        self.backend = backend
        if backend == "mlx":
            import mlx.core as mx

            self.device = mx.gpu if on_accelerator else mx.cpu
        elif backend == "jax":
            import jax

            platform = [d for d in jax.devices() if d.platform != "cpu"] if on_accelerator else []
            self.device = platform[0] if platform else jax.devices("cpu")[0]
        else:
            import torch

            name = accelerator("torch") if on_accelerator else "cpu"
            self.device = torch.device(name or "cpu")

    def normal(self, shape: tuple[int, ...], seed: int, scale: float) -> Any:
        """Standard normal float32 numbers times ``scale``, on the device."""
        import numpy as np

        values = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32) * scale
        if self.backend == "mlx":
            import mlx.core as mx

            return mx.array(values)  # unified memory: the operation's stream picks the device
        if self.backend == "jax":
            import jax

            return jax.device_put(values, self.device)
        import torch

        return torch.from_numpy(values).to(self.device)

    def conv_operands(
        self, batch: int, spatial: int, channels: int, kernel: int
    ) -> tuple[Any, Any]:
        """Inputs and kernels of `conv2d` in this backend's layout: NHWC by HWIO (JAX), NCHW by
        OIHW (PyTorch), NHWC by OHWI (MLX)."""
        if self.backend == "mlx":
            x = self.normal((batch, spatial, spatial, channels), 5, 1.0)
            w = self.normal((channels, kernel, kernel, channels), 7, 1 / 48)
        elif self.backend == "jax":
            x = self.normal((batch, spatial, spatial, channels), 5, 1.0)
            w = self.normal((kernel, kernel, channels, channels), 7, 1 / 48)
        else:
            x = self.normal((batch, channels, spatial, spatial), 5, 1.0)
            w = self.normal((channels, channels, kernel, kernel), 7, 1 / 48)
        return x, w

    def matmul(self) -> Callable[[Any, Any], Any]:
        if self.backend == "mlx":
            import mlx.core as mx

            device = self.device
            return lambda a, b: mx.matmul(a, b, stream=device)
        if self.backend == "jax":
            import jax
            import jax.numpy as jnp

            return jax.jit(jnp.matmul)  # type: ignore[no-any-return]
        import torch

        return torch.matmul  # type: ignore[no-any-return]

    def conv2d(self) -> Callable[[Any, Any], Any]:
        """A same-padded stride-1 convolution of NHWC inputs by HWIO kernels (JAX), NCHW by
        OIHW (PyTorch's layout) or NHWC by OHWI (MLX's): the same arithmetic."""
        if self.backend == "mlx":
            import mlx.core as mx

            device = self.device

            def conv_mlx(x: Any, w: Any) -> Any:
                return mx.conv2d(x, w, stride=1, padding=w.shape[1] // 2, stream=device)

            return conv_mlx
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
        def run(iterations: int) -> None:
            if self.backend == "torch":
                import torch

                with torch.inference_mode():
                    for _ in range(iterations):
                        out = operation(a, b)
            elif self.backend == "mlx":
                import mlx.core as mx

                # MLX is lazy: an output nothing reads is never computed, so each is scheduled.
                for _ in range(iterations):
                    out = operation(a, b)
                    mx.async_eval(out)
            else:
                for _ in range(iterations):
                    out = operation(a, b)
            synchronise(self.backend, out)

        return run
