"""The run configuration: every setting's name and default, the profiles, and what this machine
can honour. The command line, the parent harness and the worker all read it from here.

Profiles say how big a run is:

- ``smoke``: all four workloads in well under a minute on a 2-core CPU; tiny images. The tests
  use it. Its timings say nothing about a machine.
- ``quick`` (default): the article's 224x224 images and batch 64, at least 2 epochs (the first
  is warm-up, so 1 is measured), then more within a 45 s budget of measured epochs until the
  estimate is within +-3 % (`bench.protocol.stopping`), on a 512-image synthetic stand-in:
  about 9 minutes on a 2-core CPU, minutes on a laptop.
- ``medium``: as ``quick``, on a 2,048-image stand-in (32 batches per epoch instead of 6), so that
  an epoch is long enough for an input pipeline to reach its steady rate: the profile for
  comparing pipelines (``--pipeline``) without the real images. About 2 minutes per CNN workload
  and 16 per VGG-16 workload on a 2-core CPU.
- ``full``: the article's setting, 5 epochs on the prepared Kaggle Dogs vs Cats images.

Which backends can run here is asked of the installed packages without importing a framework
(`installed`, `refusal`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import UserError
from bench.protocol.stopping import StoppingRule
from bench.results.model import BACKENDS
from bench.stats import PRECISION_TARGET

SEED = 42


BATCH_SIZE = 64


IMAGE_SIZE = 224


TFDATA_PIPELINES = frozenset({"tfdata-affine", "tfdata-layers"})


DEFAULT_PIPELINE = "legacy"


WEIGHT_MODES = ("auto", "imagenet", "random")


THROUGHPUT_MAX_STEPS = 20
"""Timed batches per measurement at most (full profile: 360 batches per epoch)."""


@dataclass(frozen=True)
class Profile:
    """Sizes of a run."""

    name: str
    image_size: int
    batch_size: int
    epochs: int
    # Synthetic stand-in images per class; None: the profile needs the prepared real dataset.
    train_per_class: int | None
    validation_per_class: int | None
    budget_s: float = 0.0
    """Seconds of measured epochs a workload run may spend to reach the precision target
    (`bench.protocol.stopping`); 0: exactly ``epochs``."""


PROFILES = {
    "smoke": Profile(
        "smoke", image_size=64, batch_size=16, epochs=2, train_per_class=16, validation_per_class=8
    ),
    "quick": Profile(
        "quick",
        image_size=IMAGE_SIZE,
        batch_size=BATCH_SIZE,
        epochs=2,
        train_per_class=192,
        validation_per_class=64,
        budget_s=45.0,
    ),
    "medium": Profile(
        "medium",
        image_size=IMAGE_SIZE,
        batch_size=BATCH_SIZE,
        epochs=3,
        train_per_class=1024,
        validation_per_class=64,
        budget_s=120.0,
    ),
    "full": Profile(
        "full",
        image_size=IMAGE_SIZE,
        batch_size=BATCH_SIZE,
        epochs=5,
        train_per_class=None,
        validation_per_class=None,
        budget_s=300.0,
    ),
}
DEFAULT_PROFILE = "quick"


DEFAULT_BACKEND = "tensorflow"


BACKEND_SESSIONS: Mapping[str, str] = {
    "tensorflow": "bench",
    "torch": "bench-torch",
    "jax": "bench-jax",
    "mlx": "bench-mlx",
}
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


KERAS_BACKENDS = ("tensorflow", "torch", "jax")
"""The backends Keras 3 itself runs on; MLX's images are read by the first one installed."""


def installed(backend: str) -> bool:
    """Whether ``backend``'s framework can be imported here (without importing it)."""
    return _findable(check(backend))  # each backend's module is named as it is


def tensorflow_installed() -> bool:
    """Whether TensorFlow can be imported here: the tf.data pipelines and the JPEG probe need it
    whatever the backend."""
    return _findable("tensorflow")


def reader_backend() -> str | None:
    """The Keras backend that reads the images of an MLX run: the first of `KERAS_BACKENDS`
    installed (TensorFlow in every bench session, which the tf.data pipelines need anyway)."""
    return next((b for b in KERAS_BACKENDS if installed(b)), None)


def refusal(backend: str) -> str | None:
    """Why a run on ``backend`` cannot start here (its framework is missing, or for MLX the
    Keras backend that reads its images), in one line."""
    if installed(backend):
        if backend == "mlx" and reader_backend() is None:
            return (
                "the mlx backend reads its images through Keras, which needs TensorFlow, "
                "PyTorch or JAX beside MLX; run `nox -s bench-mlx`, which installs TensorFlow"
            )
        return None
    return (
        f"the {backend} backend needs {backend}, which is not installed here; "
        f"run `nox -s {BACKEND_SESSIONS[backend]}`, which installs it"
    )


def thread_refusal(backend: str, intra: int, inter: int) -> str | None:
    """Why these thread settings cannot be honoured on ``backend``, in one line."""
    if backend == "jax" and (intra or inter):
        return (
            "the jax backend has no thread settings (XLA fixes its CPU threads at start-up); "
            "leave --threads and --inter-op-threads at 0"
        )
    if backend == "mlx" and (intra or inter):
        return (
            "the mlx backend has no thread settings (MLX sizes its CPU pool itself); "
            "leave --threads and --inter-op-threads at 0"
        )
    return None


# TensorFlow reads TF_USE_LEGACY_KERAS with exactly these values (tensorflow/python/util/lazy_loader).
LEGACY_KERAS_VALUES = frozenset({"1", "true", "True"})


CROSSCHECK_TOLERANCE = 1e-2
"""Largest relative difference of the per-step losses that still counts as agreement (1 %). The
same computation on two devices differs by rounding only: float32 sums in another order, and
TF32 matrix products on NVIDIA GPUs since Ampere (10-bit mantissa, about 1e-3 relative per
product). CPU against CPU here the losses were identical (difference 0.0) for all four workloads;
inputs scaled by 1.05 on one side (the injected fault of the tests) differ by more than this."""


@dataclass
class Config:
    """Everything a run needs, after command-line parsing: the one listing of the run's settings
    and their defaults (the command line's parser takes its defaults from here)."""

    profile: str
    workloads: list[str]
    epochs: int
    image_size: int
    batch_size: int
    data: str | None = None  # a folder, "synthetic", or None for automatic
    output: Path = Path("results")
    cache: Path = Path(".cache")
    repeats: int = 1
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    weights: str = WEIGHT_MODES[0]
    weights_file: Path | None = None
    slug: str | None = None
    label: str | None = None
    probes: bool = True
    geekbench: dict[str, Any] | None = None
    keras2: bool = False
    backend: str = DEFAULT_BACKEND
    generator_workers: int = 1
    pipeline: str = DEFAULT_PIPELINE
    attribution: bool = True
    cooldown_s: float | None = None  # None: `bench.harness.runner.default_cooldown`
    budget_s: float = 0.0
    """Seconds of measured epochs a workload run may spend reaching ``target``; 0: the fixed rule."""
    target: float = PRECISION_TARGET
    seed: int = SEED
    command: list[str] = field(default_factory=list)

    def stored(self, cooldown_s: float) -> dict[str, Any]:
        """The ``config`` block of the results file (``$defs/config``): the profile (``custom``
        when sizes were changed), the settings in `STORED`, and the cooldown actually used."""
        return {
            "profile": self.profile_name(),
            **{name: getattr(self, name) for name in STORED},
            "cooldown_s": cooldown_s,
            "stopping": self.stopping.stored(),
        }

    @property
    def stopping(self) -> StoppingRule:
        """When each workload run stops measuring."""
        return StoppingRule(self.epochs, self.budget_s, self.target)

    def profile_name(self) -> str:
        """The profile, or ``custom`` when sizes were changed from it."""
        p = PROFILES[self.profile]
        same = (p.image_size, p.batch_size) == (self.image_size, self.batch_size)
        return self.profile if same and self.epochs >= p.epochs else "custom"


STORED = (
    "workloads",
    "epochs",
    "image_size",
    "batch_size",
    "pipeline",
    "seed",
    "repeats",
    "intra_op_threads",
    "inter_op_threads",
    "weights",
    "keras2",
    "generator_workers",
    "attribution",
)
"""The settings a results file keeps as given (`Config.stored`)."""


OPTIONS = {
    "epochs": "--epochs",
    "image_size": "--image-size",
    "batch_size": "--batch-size",
    "repeats": "--repeats",
    "intra_op_threads": "--threads",
    "inter_op_threads": "--inter-op-threads",
    "generator_workers": "--generator-workers",
    "cooldown_s": "--cooldown",
}
"""The command-line option of each setting `check_config` bounds, for its messages."""
