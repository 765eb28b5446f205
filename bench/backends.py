"""The Keras 3 backends a run can train on: TensorFlow (the default, the article's), PyTorch, JAX.

The four workloads are one Keras model definition; the backend decides which framework runs it.
Keras reads ``KERAS_BACKEND`` once, when it is first imported, so `select` must run before any
``import keras`` in the process (the training and probe workers call it first thing).

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
from collections.abc import Iterator, Mapping
from typing import Any

from bench.errors import UserError
from bench.results.model import BACKENDS

DEFAULT_BACKEND = "tensorflow"
SESSIONS: Mapping[str, str] = {"tensorflow": "bench", "torch": "bench-torch", "jax": "bench-jax"}
"""The nox session that installs each backend's set."""


def check(backend: str) -> str:
    """``backend`` when it is one of `BACKENDS`; otherwise a `UserError` that lists them."""
    if backend not in BACKENDS:
        msg = f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}"
        raise UserError(msg)
    return backend


def _findable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a finder that refuses it, a broken half-install
        return False


def installed(backend: str) -> bool:
    """Whether ``backend``'s framework can be imported here (without importing it)."""
    return _findable(check(backend))  # each backend's module is named as it is


def tensorflow_installed() -> bool:
    """Whether TensorFlow can be imported here: the tf.data pipelines and the JPEG probe need it
    whatever the backend."""
    return _findable("tensorflow")


def refusal(backend: str) -> str | None:
    """Why a run on ``backend`` cannot start here (its framework is missing), in one line."""
    if installed(backend):
        return None
    return (
        f"the {backend} backend needs {backend}, which is not installed here; "
        f"run `nox -s {SESSIONS[backend]}`, which installs it"
    )


def select(backend: str) -> None:
    """Make Keras use ``backend``: call before the first ``import keras`` of the process."""
    os.environ["KERAS_BACKEND"] = check(backend)


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
    """Import and return ``backend``'s framework module."""
    return importlib.import_module(check(backend))


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
    return [d for d in devices(backend) if d.split(":", 1)[0] == "GPU"]


def accelerator(backend: str) -> str | None:
    """The device a Keras scope names to reach the first accelerator (``/GPU:0`` on TensorFlow,
    ``cuda:0`` or ``mps`` on PyTorch, ``gpu:0`` on JAX), or None without one."""
    found = gpus(backend)
    if not found:
        return None
    if backend == "tensorflow":
        return "/GPU:0"
    name = found[0].split(":", 1)[1]
    return "mps" if name.startswith("mps") else ("cuda:0" if backend == "torch" else "gpu:0")


def cpu_device(backend: str) -> str:
    """The name `scope` takes for the CPU."""
    return "/CPU:0" if backend == "tensorflow" else "cpu:0"


@contextlib.contextmanager
def scope(backend: str, device: str) -> Iterator[None]:
    """Place what runs inside on ``device`` (a name from `accelerator` or `cpu_device`)."""
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.device(device):
            yield
        return
    import keras as keras3

    with keras3.device(device):
        yield


def set_threads(backend: str, intra: int, inter: int) -> None:
    """Set the framework's thread pools before its first operation; 0 keeps its default.

    JAX fixes its CPU threads when it starts and has no setting for them: only 0 is accepted
    there (`thread_refusal` says so before a run starts).
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


def thread_refusal(backend: str, intra: int, inter: int) -> str | None:
    """Why these thread settings cannot be honoured on ``backend``, in one line."""
    if backend == "jax" and (intra or inter):
        return (
            "the jax backend has no thread settings (XLA fixes its CPU threads at start-up); "
            "leave --threads and --inter-op-threads at 0"
        )
    return None


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
    """Wait until the device has computed ``value`` (a JAX array or a PyTorch tensor; on PyTorch
    everything queued before it too), so that a clock stopped afterwards measures the work, not
    its launch. TensorFlow's probes read an element back instead."""
    if backend == "jax":
        value.block_until_ready()
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
