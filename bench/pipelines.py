"""Input pipelines: the article's ImageDataGenerator (``legacy``) and a modern ``tfdata`` one.

``legacy`` is the article's code: ``ImageDataGenerator(...).flow_from_directory(...)``, which
decodes, resizes and augments every image in Python (NumPy and SciPy) on the CPU, one batch at a
time in the training loop's thread.

``tfdata`` reads the same folders with ``keras.utils.image_dataset_from_directory`` and runs the
augmentation as Keras preprocessing layers inside a ``tf.data`` map with parallel calls
(``AUTOTUNE``), followed by ``prefetch``, so decoding and augmenting overlap with training and use
every core. Its settings follow the article's as closely as the layers allow:

======================  ==========================================  ===============================
article (legacy)        tfdata layer                                difference
======================  ==========================================  ===============================
rescale=1/255           Rescaling(1/255), after augmentation        none (legacy also rescales last)
rotation_range=20       RandomRotation(20/360)                      a fraction of a turn, not degrees
width_shift_range=0.2   RandomTranslation(width_factor=0.2)         none
height_shift_range=0.2  RandomTranslation(height_factor=0.2)        none
shear_range=0.2         RandomShear(x_factor=tan(0.2 degrees))      legacy's shear is in degrees:
                                                                    under one pixel at 224 px
zoom_range=0.2          RandomZoom(0.2, 0.2)                        height and width independent
horizontal_flip=True    RandomFlip("horizontal")                    none
fill_mode="nearest"     fill_mode="nearest" on every layer          none
======================  ==========================================  ===============================

The legacy generator applies rotation, shifts, shear and zoom as one affine transform; the layers
apply one after another (four resamplings, all bilinear like legacy's order-1 spline). Images are
resized to the target size with nearest-neighbour interpolation in both pipelines (the
``load_img`` default; ``image_dataset_from_directory`` would use bilinear). Labels are one-hot
(``categorical``) in both, classes in alphabetical order, matching the models' ``Dense(2)``
softmax and categorical cross-entropy. Shuffling uses the same seed; the orders differ.

TensorFlow is imported lazily.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import workloads

PIPELINES = ("legacy", "tfdata")
DEFAULT_PIPELINE = "legacy"
# image_dataset_from_directory reads these (keras.src.utils.image_dataset_utils.ALLOWLIST_FORMATS).
TFDATA_SUFFIXES = frozenset({".bmp", ".gif", ".jpeg", ".jpg", ".png"})
# ImageDataGenerator's shear_range is an angle in degrees; RandomShear's factor is the share of
# the image a pixel moves across: tan(0.2 degrees) = 0.0035, under one pixel at 224 px.
SHEAR_FACTOR = math.tan(math.radians(float(workloads.AUGMENTATION["shear_range"])))


@dataclass
class Pipeline:
    """One pipeline's training and validation inputs, ready for ``fit``."""

    name: str
    train: Any
    valid: Any
    train_images: int
    validation_images: int
    steps_per_epoch: int
    augmentation: dict[str, Any]
    """What the training input applies: ImageDataGenerator arguments, or the layers' settings."""


def tfdata_augmentation(augment: bool) -> dict[str, Any]:
    """The preprocessing layers of the ``tfdata`` training input, as stored in the results."""
    if not augment:
        return {"rescaling": workloads.RESCALE}
    aug = workloads.AUGMENTATION
    return {
        "RandomRotation": {"factor": aug["rotation_range"] / 360, "fill_mode": aug["fill_mode"]},
        "RandomTranslation": {
            "height_factor": aug["height_shift_range"],
            "width_factor": aug["width_shift_range"],
            "fill_mode": aug["fill_mode"],
        },
        "RandomShear": {"x_factor": SHEAR_FACTOR, "fill_mode": aug["fill_mode"]},
        "RandomZoom": {
            "height_factor": aug["zoom_range"],
            "width_factor": aug["zoom_range"],
            "fill_mode": aug["fill_mode"],
        },
        "RandomFlip": {"mode": "horizontal"},
        "rescaling": workloads.RESCALE,
    }


def augmentation_layers(seed: int = workloads.SEED) -> list[Any]:
    """The article's augmentation as Keras preprocessing layers (see the module docstring)."""
    import tensorflow as tf

    layers = tf.keras.layers
    settings = tfdata_augmentation(True)
    # One seed per layer, so the layers do not draw the same random numbers.
    return [
        layers.RandomRotation(**settings["RandomRotation"], seed=seed),
        layers.RandomTranslation(**settings["RandomTranslation"], seed=seed + 1),
        layers.RandomShear(**settings["RandomShear"], seed=seed + 2),
        layers.RandomZoom(**settings["RandomZoom"], seed=seed + 3),
        layers.RandomFlip(**settings["RandomFlip"], seed=seed + 4),
    ]


def check_formats(root: Path) -> None:
    """Refuse a dataset with files image_dataset_from_directory would silently skip."""
    from bench import data
    from bench.errors import UserError

    for split, classes in data.list_images(root).items():
        for images in classes.values():
            for path in images:
                if path.suffix.lower() not in TFDATA_SUFFIXES:
                    msg = (
                        f"{path}: the tfdata pipeline reads {', '.join(sorted(TFDATA_SUFFIXES))} "
                        f"files only; convert the {split} images or use --pipeline legacy"
                    )
                    raise UserError(msg)


def tfdata(
    data_root: Path,
    augment: bool,
    image_size: int = workloads.IMAGE_SIZE,
    batch_size: int = workloads.BATCH_SIZE,
    seed: int = workloads.SEED,
) -> Pipeline:
    """The ``tfdata`` pipeline: image_dataset_from_directory, augmentation layers, prefetch."""
    import tensorflow as tf

    check_formats(data_root)
    autotune = tf.data.AUTOTUNE
    read = {
        "labels": "inferred",
        "label_mode": "categorical",
        "image_size": (image_size, image_size),
        "batch_size": batch_size,
        "interpolation": "nearest",  # as flow_from_directory (load_img) resizes
        "seed": seed,
        "verbose": False,
    }
    train = tf.keras.utils.image_dataset_from_directory(
        str(data_root / "train"), shuffle=True, **read
    )
    valid = tf.keras.utils.image_dataset_from_directory(
        str(data_root / "validation"), shuffle=False, **read
    )
    train_images, validation_images = len(train.file_paths), len(valid.file_paths)
    rescale = tf.keras.layers.Rescaling(workloads.RESCALE)
    if augment:
        augmentation = tf.keras.Sequential(augmentation_layers(seed))

        def train_map(x: Any, y: Any) -> tuple[Any, Any]:
            return rescale(augmentation(x, training=True)), y
    else:

        def train_map(x: Any, y: Any) -> tuple[Any, Any]:
            return rescale(x), y

    def valid_map(x: Any, y: Any) -> tuple[Any, Any]:
        return rescale(x), y

    train = train.map(train_map, num_parallel_calls=autotune).prefetch(autotune)
    valid = valid.map(valid_map, num_parallel_calls=autotune).prefetch(autotune)
    return Pipeline(
        name="tfdata",
        train=train,
        valid=valid,
        train_images=train_images,
        validation_images=validation_images,
        steps_per_epoch=math.ceil(train_images / batch_size),
        augmentation=tfdata_augmentation(augment),
    )


def legacy(
    data_root: Path,
    augment: bool,
    image_size: int = workloads.IMAGE_SIZE,
    batch_size: int = workloads.BATCH_SIZE,
) -> Pipeline:
    """The article's pipeline: ImageDataGenerator and flow_from_directory."""
    train, valid = workloads.legacy_generators(data_root, augment, image_size, batch_size)
    return Pipeline(
        name="legacy",
        train=train,
        valid=valid,
        train_images=int(train.samples),
        validation_images=int(valid.samples),
        steps_per_epoch=len(train),
        augmentation=workloads.generator_arguments(augment),
    )


def make(
    name: str,
    data_root: Path,
    augment: bool,
    image_size: int = workloads.IMAGE_SIZE,
    batch_size: int = workloads.BATCH_SIZE,
    seed: int = workloads.SEED,
) -> Pipeline:
    """The pipeline called ``name`` (one of `PIPELINES`)."""
    if name == "legacy":
        return legacy(data_root, augment, image_size, batch_size)
    if name == "tfdata":
        return tfdata(data_root, augment, image_size, batch_size, seed)
    msg = f"unknown pipeline {name!r}; use one of {', '.join(PIPELINES)}"
    raise ValueError(msg)


def batches(pipeline: Pipeline) -> Any:
    """An endless iterator over the training batches ``(images, labels)``, as ``fit`` sees them.

    The legacy iterator is indexed batch by batch (one thread, as ``fit`` reads it with the
    article's single worker); the tf.data one is iterated, repeating past the epoch's end.
    """
    if pipeline.name == "tfdata":
        yield from pipeline.train.repeat()
        return
    n = len(pipeline.train)
    i = 0
    while True:
        yield pipeline.train[i % n]
        i += 1
