"""The article's four workloads: models, compile settings and input generators, exactly as published.

The article ("MacBook M1 vs M1 Pro for Data Science") trains on Kaggle Dogs vs Cats:

- ``cnn``: a small custom CNN, 12,400,930 parameters at 224x224;
- ``vgg16``: VGG-16 transfer learning, base frozen, 17,926,338 parameters, 3,211,650 trainable;
- each with (``-aug``) and without data augmentation by ``ImageDataGenerator``.

Both compile with ``Adam()`` defaults, categorical cross-entropy and
``BinaryAccuracy(name="accuracy")``, batch 64, seed 42. Everything goes through `bench.worker.backends.keras`:
Keras 3 on the backend the run chose (TensorFlow, PyTorch or JAX: the same model on each), or
Keras 2 (tf-keras) when ``TF_USE_LEGACY_KERAS=1``. This module imports Keras lazily: its constants
are usable without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.protocol.config import BATCH_SIZE, IMAGE_SIZE, SEED
from bench.results.model import WORKLOADS
from bench.worker import backends

# The article's ImageDataGenerator arguments. Validation data is only rescaled.
RESCALE = 1.0 / 255
AUGMENTATION: dict[str, Any] = {
    "rotation_range": 20,
    "width_shift_range": 0.2,
    "height_shift_range": 0.2,
    "shear_range": 0.2,
    "zoom_range": 0.2,
    "horizontal_flip": True,
    "fill_mode": "nearest",
}


@dataclass(frozen=True)
class Workload:
    """One of the article's four cases."""

    name: str
    model: str  # "cnn" or "vgg16"
    augment: bool


def get(name: str) -> Workload:
    """The workload called ``name`` (one of `WORKLOADS`)."""
    if name not in WORKLOADS:
        msg = f"unknown workload {name!r}"
        raise ValueError(msg)
    model, _, aug = name.partition("-")
    return Workload(name=name, model=model, augment=aug == "aug")


def generator_arguments(augment: bool) -> dict[str, Any]:
    """Keyword arguments of the training ImageDataGenerator."""
    return {"rescale": RESCALE, **(AUGMENTATION if augment else {})}


def build_cnn(image_size: int = IMAGE_SIZE) -> Any:
    """The article's custom CNN (uncompiled)."""
    keras = backends.keras()
    layers = keras.layers
    return keras.Sequential(
        [
            layers.Input(shape=(image_size, image_size, 3)),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPool2D((2, 2), padding="same"),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPool2D((2, 2), padding="same"),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(2, activation="softmax"),
        ]
    )


def build_vgg16(image_size: int = IMAGE_SIZE, weights: Path | None = None) -> Any:
    """VGG-16 without its top, every base layer frozen, with the article's head (uncompiled).

    ``weights`` is the path of the no-top ImageNet weights file, or None for random
    initialisation (same timing, different accuracy).
    """
    keras = backends.keras()
    base = keras.applications.VGG16(
        include_top=False,
        input_shape=(image_size, image_size, 3),
        weights=str(weights) if weights is not None else None,
    )
    for layer in base.layers:
        layer.trainable = False
    x = keras.layers.Flatten()(base.output)
    x = keras.layers.Dense(128, activation="relu")(x)
    out = keras.layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs=base.input, outputs=out)


def build(workload: Workload, image_size: int = IMAGE_SIZE, weights: Path | None = None) -> Any:
    """The model of ``workload`` (uncompiled)."""
    if workload.model == "cnn":
        return build_cnn(image_size)
    return build_vgg16(image_size, weights)


def compile_model(model: Any) -> None:
    """Compile with the article's optimizer, loss and metric."""
    keras = backends.keras()
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.categorical_crossentropy,
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
    )


def legacy_generators(
    data_root: Path,
    augment: bool,
    image_size: int = IMAGE_SIZE,
    batch_size: int = BATCH_SIZE,
    seed: int = SEED,
) -> tuple[Any, Any]:
    """The article's training and validation iterators (``flow_from_directory``), shuffled with
    ``seed`` (the run's ``config.seed``)."""
    generator = backends.image_data_generator()
    flow = {
        "target_size": (image_size, image_size),
        "class_mode": "categorical",
        "batch_size": batch_size,
        "seed": seed,
    }
    train = generator(**generator_arguments(augment)).flow_from_directory(
        str(data_root / "train"), **flow
    )
    valid = generator(**generator_arguments(False)).flow_from_directory(
        str(data_root / "validation"), **flow
    )
    return train, valid
