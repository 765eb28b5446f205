"""Input pipelines: the article's ImageDataGenerator (``legacy``) and two modern ``tf.data`` ones.

``legacy`` is the article's code: ``ImageDataGenerator(...).flow_from_directory(...)``, which
decodes, resizes and augments every image in Python (NumPy and SciPy) on the CPU, one batch at a
time in the training loop's thread.

``tfdata-affine`` reads the same folders with ``keras.utils.image_dataset_from_directory`` and augments
inside a ``tf.data`` map with parallel calls (``AUTOTUNE``), followed by ``prefetch``, so decoding
and augmenting overlap with training and use every core. Its augmentation is the article's own
random transform, done as TensorFlow operations: for each image it draws rotation (degrees),
height and width shifts, shear (degrees), independent x and y zoom and a horizontal flip from the
same ranges ImageDataGenerator draws them from, composes them into the one affine matrix
ImageDataGenerator builds (`projective_transforms`), and resamples the image once
(``ImageProjectiveTransformV3``, bilinear like legacy's order-1 spline, nearest fill). Only the
random numbers differ (TensorFlow's generator, not NumPy's).

``tfdata-layers`` is the same pipeline with the augmentation done by Keras preprocessing layers,
set as close to the article's parameters as the layers allow:

======================  ==========================================  ===============================
article (legacy)        Keras layer                                 difference
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

The layers apply one after another: four resamplings of every image where legacy and ``tfdata-affine``
do one, which makes their augmentation about three times as costly (see
``scripts/benchmark_augmentation.py``). In all pipelines images are resized to the target size with
nearest-neighbour interpolation (the ``load_img`` default; ``image_dataset_from_directory`` would
use bilinear). Labels are one-hot (``categorical``), classes in alphabetical order, matching the
models' ``Dense(2)`` softmax and categorical cross-entropy. Shuffling uses the same seed; the
orders differ.

TensorFlow is imported lazily.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.data import check_formats
from bench.protocol import config
from bench.protocol.config import TFDATA_PIPELINES
from bench.results.model import PIPELINES
from bench.worker import workloads

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


def affine_augmentation(augment: bool) -> dict[str, Any]:
    """What the ``tfdata-affine`` training input applies, as stored in the results."""
    if not augment:
        return {"rescaling": workloads.RESCALE}
    return {
        "transform": "one affine resampling per image, drawn as ImageDataGenerator draws it",
        **workloads.AUGMENTATION,
        "interpolation": "bilinear",
        "rescaling": workloads.RESCALE,
    }


def layers_augmentation(augment: bool) -> dict[str, Any]:
    """The preprocessing layers of the ``tfdata-layers`` training input, as stored in the results."""
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


def augmentation_layers(seed: int = config.SEED) -> list[Any]:
    """The article's augmentation as Keras preprocessing layers (see the module docstring)."""
    import tensorflow as tf

    layers = tf.keras.layers
    settings = layers_augmentation(True)
    # One seed per layer, so the layers do not draw the same random numbers.
    return [
        layers.RandomRotation(**settings["RandomRotation"], seed=seed),
        layers.RandomTranslation(**settings["RandomTranslation"], seed=seed + 1),
        layers.RandomShear(**settings["RandomShear"], seed=seed + 2),
        layers.RandomZoom(**settings["RandomZoom"], seed=seed + 3),
        layers.RandomFlip(**settings["RandomFlip"], seed=seed + 4),
    ]


def random_parameters(uniform: Any, height: Any, width: Any) -> dict[str, Any]:
    """ImageDataGenerator's random transform parameters from ``uniform`` draws in [0, 1).

    ``uniform`` has one row of 7 draws per image; the result has one value per image for each of
    ImageDataGenerator.get_random_transform's keys: ``theta`` and ``shear`` in degrees, ``tx``
    (height shift, in pixels of the height), ``ty`` (width shift, in pixels of the width),
    ``zx`` and ``zy``, and ``flip_horizontal`` (1.0 or 0.0). TensorFlow operations.
    """
    import tensorflow as tf

    aug = workloads.AUGMENTATION
    zoom = aug["zoom_range"]

    def spread(u: Any, limit: float) -> Any:
        return (u * 2 - 1) * limit

    return {
        "theta": spread(uniform[:, 0], aug["rotation_range"]),
        "tx": spread(uniform[:, 1], aug["height_shift_range"]) * height,
        "ty": spread(uniform[:, 2], aug["width_shift_range"]) * width,
        "shear": spread(uniform[:, 3], aug["shear_range"]),
        "zx": 1 - zoom + uniform[:, 4] * 2 * zoom,
        "zy": 1 - zoom + uniform[:, 5] * 2 * zoom,
        "flip_horizontal": tf.cast(uniform[:, 6] < 0.5, uniform.dtype),
    }


def projective_transforms(params: dict[str, Any], height: Any, width: Any) -> Any:
    """The ``[n, 8]`` ImageProjectiveTransformV3 transforms of ImageDataGenerator's ``params``.

    ImageDataGenerator (keras.src.legacy.preprocessing.image.apply_affine_transform) builds
    ``M = rotation @ shift @ shear @ zoom`` around the centre ``(height/2 - 0.5, width/2 - 0.5)``
    and, for channels-last images, applies it with its first coordinate along the columns
    (x) and its second along the rows (y), then flips the result horizontally. This composes the
    same matrix, flip included, as the map from output pixel ``(x, y)`` to the input point it
    samples, in ImageProjectiveTransformV3's ``[a0, a1, a2, b0, b1, b2, 0, 0]`` form. TensorFlow
    operations; ``params`` are tensors (see `random_parameters`).
    """
    import tensorflow as tf

    theta = params["theta"] * (math.pi / 180)
    shear = params["shear"] * (math.pi / 180)
    tx, ty, zx, zy = params["tx"], params["ty"], params["zx"], params["zy"]
    flip = params["flip_horizontal"]
    cos, sin = tf.cos(theta), tf.sin(theta)
    shear_xy, shear_yy = -tf.sin(shear), tf.cos(shear)
    # rotation @ shift: [[cos, -sin, cos*tx - sin*ty], [sin, cos, sin*tx + cos*ty]]
    # @ shear ([[1, -sin(shear)], [0, cos(shear)]]), then @ zoom (columns scaled by zx, zy).
    a00 = cos * zx
    a01 = (cos * shear_xy - sin * shear_yy) * zy
    a10 = sin * zx
    a11 = (sin * shear_xy + cos * shear_yy) * zy
    b0 = cos * tx - sin * ty
    b1 = sin * tx + cos * ty
    # Around the centre: offset @ M @ reset moves the translation to b + o - A o.
    ox, oy = height / 2 - 0.5, width / 2 - 0.5
    b0 = b0 + ox - (a00 * ox + a01 * oy)
    b1 = b1 + oy - (a10 * ox + a11 * oy)
    # The flip comes last, so it acts first on output coordinates: x -> (width - 1) - x.
    sign = 1 - 2 * flip
    b0 = b0 + a00 * flip * (width - 1)
    b1 = b1 + a10 * flip * (width - 1)
    a00, a10 = a00 * sign, a10 * sign
    zero = tf.zeros_like(a00)
    return tf.stack([a00, a01, b0, a10, a11, b1, zero, zero], axis=1)


class AffineAugmentation:
    """The article's augmentation and rescaling as one resampling per image (``tfdata-affine``).

    Calling it on a batch of images (any numeric dtype, ``[n, height, width, channels]``) returns
    the augmented, rescaled float32 batch. Random draws come from a seeded
    ``tf.random.Generator``, safe to use from a parallel ``tf.data`` map.
    """

    def __init__(self, seed: int = config.SEED) -> None:
        import tensorflow as tf

        self.generator = tf.random.Generator.from_seed(seed)

    def __call__(self, images: Any) -> Any:
        import tensorflow as tf

        images = tf.cast(images, tf.float32)
        shape = tf.shape(images)
        height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
        uniform = self.generator.uniform((shape[0], 7), dtype=tf.float32)
        transforms = projective_transforms(random_parameters(uniform, height, width), height, width)
        out = tf.raw_ops.ImageProjectiveTransformV3(
            images=images,
            transforms=transforms,
            output_shape=shape[1:3],
            fill_value=0.0,
            interpolation="BILINEAR",
            fill_mode=workloads.AUGMENTATION["fill_mode"].upper(),
        )
        return out * workloads.RESCALE


def tfdata(
    data_root: Path,
    augment: bool,
    image_size: int = config.IMAGE_SIZE,
    batch_size: int = config.BATCH_SIZE,
    seed: int = config.SEED,
    layers: bool = False,
) -> Pipeline:
    """A tf.data pipeline: image_dataset_from_directory, augmentation, parallel map, prefetch.

    The augmentation is `AffineAugmentation` (``tfdata-affine``), or with ``layers`` the Keras
    preprocessing layers of `augmentation_layers` (``tfdata-layers``).
    """
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
    if augment and layers:
        augmentation = tf.keras.Sequential(augmentation_layers(seed))

        def train_map(x: Any, y: Any) -> tuple[Any, Any]:
            return rescale(augmentation(x, training=True)), y
    elif augment:
        affine = AffineAugmentation(seed)

        def train_map(x: Any, y: Any) -> tuple[Any, Any]:
            return affine(x), y
    else:

        def train_map(x: Any, y: Any) -> tuple[Any, Any]:
            return rescale(x), y

    def valid_map(x: Any, y: Any) -> tuple[Any, Any]:
        return rescale(x), y

    train = train.map(train_map, num_parallel_calls=autotune).prefetch(autotune)
    valid = valid.map(valid_map, num_parallel_calls=autotune).prefetch(autotune)
    return Pipeline(
        name="tfdata-layers" if layers else "tfdata-affine",
        train=train,
        valid=valid,
        train_images=train_images,
        validation_images=validation_images,
        steps_per_epoch=math.ceil(train_images / batch_size),
        augmentation=layers_augmentation(augment) if layers else affine_augmentation(augment),
    )


def legacy(
    data_root: Path,
    augment: bool,
    image_size: int = config.IMAGE_SIZE,
    batch_size: int = config.BATCH_SIZE,
    seed: int = config.SEED,
) -> Pipeline:
    """The article's pipeline: ImageDataGenerator and flow_from_directory, shuffled with ``seed``."""
    train, valid = workloads.legacy_generators(data_root, augment, image_size, batch_size, seed)
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
    image_size: int = config.IMAGE_SIZE,
    batch_size: int = config.BATCH_SIZE,
    seed: int = config.SEED,
) -> Pipeline:
    """The pipeline called ``name`` (one of `PIPELINES`)."""
    if name == "legacy":
        return legacy(data_root, augment, image_size, batch_size, seed)
    if name in TFDATA_PIPELINES:
        return tfdata(
            data_root, augment, image_size, batch_size, seed, layers=name == "tfdata-layers"
        )
    msg = f"unknown pipeline {name!r}; use one of {', '.join(PIPELINES)}"
    raise ValueError(msg)


def batches(pipeline: Pipeline) -> Any:
    """An endless iterator over the training batches ``(images, labels)``, as ``fit`` sees them.

    The legacy iterator is indexed batch by batch (one thread, as ``fit`` reads it with the
    article's single worker); the tf.data one is iterated, repeating past the epoch's end.
    """
    if pipeline.name in TFDATA_PIPELINES:
        yield from pipeline.train.repeat()
        return
    n = len(pipeline.train)
    i = 0
    while True:
        yield pipeline.train[i % n]
        i += 1


def training_epoch(pipeline: Pipeline) -> Iterator[tuple[Any, Any]]:
    """One epoch of training batches ``(images, labels)``, in the order ``fit`` draws them.

    The legacy iterator is indexed batch by batch and reshuffled at the epoch's end, as Keras
    does between epochs; the tf.data one reshuffles itself on each pass.
    """
    if pipeline.name in TFDATA_PIPELINES:
        yield from pipeline.train
        return
    for i in range(len(pipeline.train)):
        yield pipeline.train[i]
    pipeline.train.on_epoch_end()


def validation_batches(pipeline: Pipeline) -> Iterator[tuple[Any, Any]]:
    """Every validation batch once, never shuffled, never augmented."""
    if pipeline.name in TFDATA_PIPELINES:
        yield from pipeline.valid
        return
    for i in range(len(pipeline.valid)):
        yield pipeline.valid[i]


def validation_arrays(pipeline: Pipeline, steps: int, size: int) -> list[tuple[Any, Any]]:
    """Up to ``steps`` batches of ``size`` validation images (never shuffled, never augmented),
    as NumPy arrays so that every device is given the very same numbers: the cross-check's."""
    import numpy as np

    wanted = steps * size
    xs: list[Any] = []
    ys: list[Any] = []
    for x, y in validation_batches(pipeline):
        xs.append(np.asarray(x))
        ys.append(np.asarray(y))
        if sum(len(a) for a in xs) >= wanted:
            break
    images, labels = np.concatenate(xs)[:wanted], np.concatenate(ys)[:wanted]
    return [
        (images[i : i + size], labels[i : i + size]) for i in range(0, len(images) - size + 1, size)
    ]
