"""The ``software`` block of a results file: Python, the framework and package versions, the
environment variables that change results, and the checkout's commit. What the framework reports
of itself comes from the worker (`bench.worker.introspect`) and replaces what package metadata
says."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.harness.machine.commands import Runner, run_command
from bench.harness.machine.git import git_info
from bench.protocol.config import LEGACY_KERAS_VALUES
from bench.results.model import TEXT_MAX, clip, keras_major

VersionLookup = Callable[[str], str | None]
"""Returns the installed version of a distribution, or None when it is not installed."""


# The first one installed names the TensorFlow build; all are recorded as `tensorflow`.
TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos")


# Other packages whose version can move a result.
OTHER_PACKAGES = (
    "numpy",
    "scipy",
    "Pillow",
    "jsonschema",
    "tf-keras",
)


# Recorded where installed, beside the backend's own version: JAX's compiled half (jaxlib) and
# its CUDA plugin.
BACKEND_PACKAGES = ("jaxlib", "jax-cuda12-plugin", "jax-cuda12-pjrt", "mlx-metal", "mlx-cpu")


# The CUDA and cuDNN that tensorflow[and-cuda] loads come as these wheels (the driver is in the
# machine block, from nvidia-smi); recorded where installed.
CUDA_PACKAGES = ("nvidia-cuda-runtime-cu12", "nvidia-cudnn-cu12")


# Device-selection variables that decide whether TensorFlow sees a GPU, recorded with TF_*.
DEVICE_VARIABLES = frozenset({"CUDA_VISIBLE_DEVICES", "CUDA_CACHE_PATH", "CUDA_CACHE_MAXSIZE"})


# Terraform's environment variables (developer.hashicorp.com/terraform/cli/config/environment-
# variables) also start with TF_, and some hold credentials: never record them.
TERRAFORM_PREFIXES = (
    "TF_VAR_",
    "TF_TOKEN_",
    "TF_CLI_",
    "TF_LOG",
    "TF_CLOUD_",
    "TF_HTTP_",
    "TF_REGISTRY_",
    "TF_PLUGIN_CACHE_",
    "TF_DATA_DIR",
    "TF_WORKSPACE",
    "TF_IN_AUTOMATION",
    "TF_INPUT",
    "TF_IGNORE",
    "TF_STATE_PERSIST_INTERVAL",
    "TF_APPEND_USER_AGENT",
    "TF_REATTACH_PROVIDERS",
    "TF_ACC",
)


def package_version(name: str) -> str | None:
    """Return the installed version of distribution ``name``, or None when it is not installed."""
    try:
        found = metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
    # A distribution with broken metadata can report no version at all.
    return clip(found) if isinstance(found, str) else None


def _environment_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """TensorFlow's TF_* and Keras' KERAS_* variables and `DEVICE_VARIABLES`, safe to publish.

    Terraform's variables share the TF_ prefix and carry credentials (TF_TOKEN_*, TF_VAR_*,
    TF_HTTP_PASSWORD): they are left out. A value whose name looks secret is replaced by
    ``(redacted)``, and the home folder is written ``~`` so no user name is published.
    """
    home = str(Path.home())
    found: dict[str, str] = {}
    for key in sorted(environ):
        wanted = key.startswith(("TF_", "KERAS_")) or key in DEVICE_VARIABLES
        if not wanted or key.startswith(TERRAFORM_PREFIXES):
            continue
        value = environ[key]
        if re.search(r"TOKEN|SECRET|PASSW|CREDENTIAL|API_?KEY|AUTH", key):
            value = "(redacted)"
        elif len(home) > 1:
            value = value.replace(home, "~")
        found[key] = value[:TEXT_MAX]
        if len(found) == 200:  # maxProperties of `env` in the schema
            break
    return found


def capture_software(
    reported: Mapping[str, Any] | None = None,
    *,
    backend: str = "tensorflow",
    version: VersionLookup = package_version,
    environ: Mapping[str, str] | None = None,
    run: Runner = run_command,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Describe the software: the ``software`` block of a results file. Does not import TensorFlow.

    Parameters
    ----------
    reported
        What the training worker reported of its framework (the ``framework`` of its record):
        `bench.worker.introspect.tensorflow_info` (``tensorflow``, ``keras``,
        ``keras_major``, ``tf_devices``) or, on another backend, `keras_info`, with
        `bench.worker.backends.info` (``backend_version``, ``backend_devices``). Its values replace
        those read from the installed packages' metadata.
    backend
        The Keras backend the run trained on.
    version, environ, run, root
        How package versions are found, the environment variables, how commands are run and
        the git checkout (tests pass their own).

    Returns
    -------
    dict
        Valid against ``$defs/software``.
    """
    environ = os.environ if environ is None else environ
    tf_versions = {name: version(name) for name in TENSORFLOW_DISTRIBUTIONS}
    tensorflow = next((v for v in tf_versions.values() if v is not None), None)
    keras = version("keras")
    keras2 = version("tf-keras")
    # TensorFlow routes tf.keras to tf-keras (Keras 2) when this variable says so.
    if environ.get("TF_USE_LEGACY_KERAS") in LEGACY_KERAS_VALUES and keras2 is not None:
        keras = keras2
    packages: dict[str, str | None] = {name: version(name) for name in OTHER_PACKAGES}
    packages.update({name: v for name in CUDA_PACKAGES if (v := version(name)) is not None})
    # Which TensorFlow build is installed (tensorflow, tensorflow-cpu, ...) matters too.
    packages.update({name: v for name, v in tf_versions.items() if v is not None})
    software: dict[str, Any] = {
        "python": platform.python_version(),
        "python_implementation": clip(platform.python_implementation()),
        "tensorflow": tensorflow,
        "keras": keras,
        "keras_major": keras_major(keras),
        "tensorflow_metal": version("tensorflow-metal"),
        "packages": packages,
        "tf_devices": [],
        "env": _environment_variables(environ),
        "git": git_info(root, run=run),
    }
    software["backend"] = backend
    software["backend_version"] = tensorflow if backend == "tensorflow" else version(backend)
    software["backend_devices"] = []
    # The compiled halves of JAX and the CUDA build of PyTorch say as much as their versions.
    packages.update({name: v for name in BACKEND_PACKAGES if (v := version(name)) is not None})
    if reported is not None:
        if isinstance(reported.get("backend_version"), str):
            software["backend_version"] = clip(reported["backend_version"])
        if "backend_devices" in reported:
            software["backend_devices"] = [
                clipped for d in list(reported["backend_devices"])[:64] if (clipped := clip(str(d)))
            ]
        for key in ("tensorflow", "keras"):
            if key in reported:
                software[key] = clip(reported[key]) if isinstance(reported[key], str) else None
        if "keras_major" in reported:
            major = reported["keras_major"]
            software["keras_major"] = (
                major
                if isinstance(major, int) and not isinstance(major, bool) and 2 <= major <= 99
                else None
            )
        if "tf_devices" in reported:
            software["tf_devices"] = [
                clipped for d in list(reported["tf_devices"])[:64] if (clipped := clip(str(d)))
            ]
        if reported.get("plugin_error"):
            software["plugin_error"] = clip(str(reported["plugin_error"]), TEXT_MAX)
    return software
