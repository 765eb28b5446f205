"""What the framework reports of itself in the worker: TensorFlow's version and devices, the Keras
behind ``tf.keras``, and why an installed tensorflow-metal gave no GPU."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bench.protocol.config import LEGACY_KERAS_VALUES
from bench.results.model import TEXT_MAX, clip, keras_major
from bench.text import error_line


def _keras_version_in_use(tf: Any, environ: Mapping[str, str]) -> str | None:
    """The version of the Keras that ``tf.keras`` resolves to."""
    try:
        found = tf.keras.__version__
    except (AttributeError, ImportError):
        found = None
    if isinstance(found, str) and found:
        return clip(found)
    # tf.keras without a version attribute: ask the package it is routed to.
    name = "tf_keras" if environ.get("TF_USE_LEGACY_KERAS") in LEGACY_KERAS_VALUES else "keras"
    try:
        module = __import__(name)
    except ImportError:
        return None
    found = getattr(module, "__version__", None)
    return clip(found) if isinstance(found, str) else None


def keras_info() -> dict[str, Any]:
    """The Keras in use on a backend other than TensorFlow: ``keras`` and ``keras_major``
    (call it in the worker, after `bench.worker.backends.select`)."""
    import keras

    found = getattr(keras, "__version__", None)
    version = clip(found) if isinstance(found, str) else None
    return {"keras": version, "keras_major": keras_major(version)}


def tensorflow_info() -> dict[str, Any]:
    """What TensorFlow itself reports; imports TensorFlow (call it in the training worker only).

    Returns
    -------
    dict
        ``tensorflow`` (``tf.__version__``), ``keras`` (the version behind ``tf.keras``: tf-keras,
        Keras 2, when ``TF_USE_LEGACY_KERAS=1``), ``keras_major`` and ``tf_devices`` (every
        physical device as ``TYPE:name``, e.g. ``CPU:/physical_device:CPU:0``).
    """
    import tensorflow as tf

    keras = _keras_version_in_use(tf, os.environ)
    devices = tf.config.list_physical_devices()
    return {
        "tensorflow": str(tf.__version__),
        "keras": keras,
        "keras_major": keras_major(keras),
        "tf_devices": [f"{d.device_type}:{d.name}" for d in devices],
        "plugin_error": plugin_error(tf, [d.device_type for d in devices]),
    }


def plugin_error(tf: Any, device_types: Iterable[str], system: str | None = None) -> str | None:
    """Why an installed tensorflow-metal gave TensorFlow no GPU: its loading error, one line.

    TensorFlow loads the plugins in ``site-packages/tensorflow-plugins`` at import and only logs
    a failure ("Symbol not found" in libmetal_plugin, tensorflow#81987 and #84167). Where a plugin
    file is there and no GPU is listed, loading it again gives the message to record. None when
    there is nothing to explain (a GPU is listed, no plugin is installed, not macOS).
    """
    if (system or platform.system()) != "Darwin" or "GPU" in set(device_types):
        return None
    folder = Path(tf.__file__).resolve().parent.parent / "tensorflow-plugins"
    plugins = sorted(folder.glob("*.dylib")) if folder.is_dir() else []
    if not plugins:
        return None
    try:
        for plugin in plugins:
            tf.load_pluggable_device_library(str(plugin))
    except Exception as exc:  # noqa: BLE001 (any failure is the message wanted)
        return clip(f"{plugins[0].name}: {error_line(exc)}", TEXT_MAX)
    return "the plugin loads, yet TensorFlow lists no GPU"
