"""Tests for bench/worker/pipelines.py: the tf.data pipeline matches the legacy one where it must."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench import data
from bench.errors import UserError
from bench.results import model
from bench.results.format import upgrade
from bench.worker import pipelines, workloads

# The slow tier: every test here feeds the models through Keras and tf.data.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated dataset: 6 training and 4 validation images, two classes."""
    cache = tmp_path_factory.mktemp("tiny")
    spec = data.SyntheticSpec(train_per_class=3, validation_per_class=2, min_side_px=40,
                              max_side_px=90)  # fmt: skip
    return data.synthetic(spec, cache)


def test_layers_augmentation_follows_the_article() -> None:
    """Rotation 20 degrees as a fraction of a turn, shifts and zoom 0.2, flips, nearest fill."""
    settings = pipelines.layers_augmentation(True)
    assert settings["RandomRotation"] == {"factor": 20 / 360, "fill_mode": "nearest"}
    assert settings["RandomTranslation"] == {
        "height_factor": 0.2, "width_factor": 0.2, "fill_mode": "nearest"
    }  # fmt: skip
    assert settings["RandomZoom"] == {
        "height_factor": 0.2, "width_factor": 0.2, "fill_mode": "nearest"
    }  # fmt: skip
    assert settings["RandomFlip"] == {"mode": "horizontal"}
    # The article's shear_range=0.2 is in degrees: tan(0.2 degrees) of the image.
    assert settings["RandomShear"]["x_factor"] == pytest.approx(0.00349, abs=1e-5)
    assert settings["rescaling"] == 1 / 255
    assert pipelines.layers_augmentation(False) == {"rescaling": 1 / 255}


def test_affine_augmentation_records_the_article_arguments() -> None:
    """The tfdata pipeline stores ImageDataGenerator's own ranges, resampled once, bilinear."""
    settings = pipelines.affine_augmentation(True)
    for key, value in workloads.AUGMENTATION.items():
        assert settings[key] == value, key
    assert settings["interpolation"] == "bilinear"
    assert settings["rescaling"] == 1 / 255
    assert "one affine" in settings["transform"]
    assert pipelines.affine_augmentation(False) == {"rescaling": 1 / 255}


def _legacy_transform(
    image: np.ndarray[Any, Any], params: dict[str, float]
) -> np.ndarray[Any, Any]:
    from keras.src.legacy.preprocessing.image import ImageDataGenerator

    generator = ImageDataGenerator(**workloads.AUGMENTATION)
    return np.asarray(generator.apply_transform(image, params))


@pytest.mark.parametrize(("height", "width"), [(48, 40), (33, 33)])
def test_affine_transform_is_image_data_generators(height: int, width: int) -> None:
    """Given the same parameters, one resampling reproduces ImageDataGenerator's transform.

    Rotation, shifts, shear, zoom and flip, on a non-square image too (where a mix-up of rows
    and columns would show): the same pixels to float rounding, edges (nearest fill) included.
    """
    import tensorflow as tf

    rng = np.random.default_rng(7)
    image = rng.uniform(0, 255, (height, width, 3)).astype(np.float32)
    n = 12
    draws = rng.random((n, 7))
    draws[0] = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.9]  # the identity: no change, no flip
    draws[1] = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.1]  # a flip alone
    uniform = tf.constant(draws, tf.float32)
    params = pipelines.random_parameters(uniform, float(height), float(width))
    transforms = pipelines.projective_transforms(params, float(height), float(width))
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.constant(np.repeat(image[None], n, axis=0)),
        transforms=transforms,
        output_shape=[height, width],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="NEAREST",
    ).numpy()
    np.testing.assert_allclose(out[0], image, atol=1e-3)
    np.testing.assert_allclose(out[1], image[:, ::-1], atol=1e-3)
    for i in range(n):
        legacy = {key: float(value[i]) for key, value in params.items()}
        legacy["flip_horizontal"] = bool(legacy["flip_horizontal"])
        np.testing.assert_allclose(out[i], _legacy_transform(image, legacy), atol=0.05)


def test_random_parameters_span_the_article_ranges() -> None:
    """Draws of 0 and 1 reach the ends of every range; shifts are in pixels of each side."""
    import tensorflow as tf

    low = pipelines.random_parameters(tf.zeros((1, 7)), 100.0, 50.0)
    high = pipelines.random_parameters(tf.fill((1, 7), 0.999999), 100.0, 50.0)
    assert {k: round(float(v[0]), 3) for k, v in low.items()} == {
        "theta": -20.0, "tx": -20.0, "ty": -10.0, "shear": -0.2, "zx": 0.8, "zy": 0.8,
        "flip_horizontal": 1.0,
    }  # fmt: skip
    assert {k: round(float(v[0]), 3) for k, v in high.items()} == {
        "theta": 20.0, "tx": 20.0, "ty": 10.0, "shear": 0.2, "zx": 1.2, "zy": 1.2,
        "flip_horizontal": 0.0,
    }  # fmt: skip


def test_affine_augmentation_is_seeded_and_rescales() -> None:
    """The same seed gives the same batch; another seed another; values land in [0, 1]."""
    import tensorflow as tf

    images = tf.constant(np.random.default_rng(3).integers(0, 256, (4, 32, 32, 3)), tf.uint8)
    a = pipelines.AffineAugmentation(seed=5)(images).numpy()
    b = pipelines.AffineAugmentation(seed=5)(images).numpy()
    c = pipelines.AffineAugmentation(seed=6)(images).numpy()
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.min() >= 0.0
    assert a.max() <= 1.0


@pytest.mark.parametrize(
    ("augmentation", "expected"),
    [
        (pipelines.layers_augmentation(True), "tfdata-layers"),
        (pipelines.affine_augmentation(True), "tfdata-affine"),
        (pipelines.affine_augmentation(False), "tfdata-affine"),
    ],
)
def test_version_1_tfdata_files_are_read_by_what_they_applied(
    augmentation: dict[str, object], expected: str
) -> None:
    """Version 1 `tfdata` meant the layers before `tfdata-layers` existed: the upgrade tells
    them apart by the augmentation block these functions write."""
    document = {
        "config": {"pipeline": "tfdata"},
        "software": {"tensorflow": "2.18.1", "tf_devices": []},
        "workloads": [{"augmentation": augmentation}],
    }
    assert upgrade(document, 1)["config"]["pipeline"] == expected


def test_unknown_pipeline_is_refused(tiny: Path) -> None:
    """Only legacy, tfdata-affine and tfdata-layers exist."""
    with pytest.raises(ValueError, match="unknown pipeline 'grain'"):
        pipelines.make("grain", tiny, augment=False)


@pytest.mark.parametrize("name", ["tfdata-affine", "tfdata-layers"])
def test_tfdata_batches_have_the_legacy_shapes_and_labels(tiny: Path, name: str) -> None:
    """Same batch shape, one-hot labels in the same class order, values rescaled to [0, 1]."""
    tfdata = pipelines.make(name, tiny, augment=True, image_size=64, batch_size=4)
    legacy = pipelines.make("legacy", tiny, augment=True, image_size=64, batch_size=4)
    assert (tfdata.train_images, tfdata.validation_images) == (6, 4)
    assert (tfdata.train_images, tfdata.validation_images) == (
        legacy.train_images, legacy.validation_images
    )  # fmt: skip
    assert tfdata.steps_per_epoch == legacy.steps_per_epoch == math.ceil(6 / 4)
    x, y = next(iter(tfdata.train))
    lx, ly = legacy.train[0]
    assert tuple(x.shape) == lx.shape == (4, 64, 64, 3)
    assert tuple(y.shape) == ly.shape == (4, 2)
    assert x.dtype == lx.dtype == np.float32
    assert float(np.min(x)) >= 0.0
    assert float(np.max(x)) <= 1.0
    labels = np.concatenate([label.numpy() for _, label in tfdata.valid])
    assert labels.sum(axis=0).tolist() == [2.0, 2.0]  # cat, dog: alphabetical, as legacy
    assert legacy.train.class_indices == {"cat": 0, "dog": 1}
    assert set(np.unique(labels)) == {0.0, 1.0}


@pytest.mark.parametrize("name", ["tfdata-affine", "tfdata-layers"])
def test_tfdata_augmentation_changes_images(tiny: Path, name: str) -> None:
    """With augmentation the training images differ from the plain ones; validation never does."""
    plain = pipelines.make(name, tiny, augment=False, image_size=64, batch_size=6)
    augmented = pipelines.make(name, tiny, augment=True, image_size=64, batch_size=6)
    assert (plain.name, augmented.name) == (name, name)
    x_plain, y_plain = next(iter(plain.train))
    x_aug, y_aug = next(iter(augmented.train))
    # Same seed, same shuffle: the same images in the same order.
    assert np.array_equal(y_plain.numpy(), y_aug.numpy())
    assert not np.allclose(x_plain.numpy(), x_aug.numpy())
    v_plain, _ = next(iter(plain.valid))
    v_aug, _ = next(iter(augmented.valid))
    assert np.array_equal(v_plain.numpy(), v_aug.numpy())


def test_batches_run_past_the_end_of_an_epoch(tiny: Path) -> None:
    """The attribution's batch source never runs dry, for either pipeline."""
    for name in model.PIPELINES:
        pipeline = pipelines.make(name, tiny, augment=False, image_size=32, batch_size=4)
        source = pipelines.batches(pipeline)
        sizes = [int(next(source)[0].shape[0]) for _ in range(5)]
        assert sizes == [4, 2, 4, 2, 4], name


def test_tfdata_refuses_files_it_would_skip(tmp_path: Path, tiny: Path) -> None:
    """A .tif that ImageDataGenerator reads but image_dataset_from_directory skips is refused."""
    import shutil

    root = Path(shutil.copytree(tiny, tmp_path / "data"))
    first = next((root / "train" / "cat").glob("*.jpg"))
    first.rename(first.with_suffix(".tif"))
    with pytest.raises(UserError, match=r"\.tif.*--pipeline legacy"):
        data.check_formats(root)
    data.check_formats(tiny)


def test_the_models_train_on_tfdata_batches(tiny: Path) -> None:
    """The article's CNN compiles and steps on a tf.data batch (one-hot labels, softmax)."""
    pipeline = pipelines.make("tfdata-affine", tiny, augment=True, image_size=32, batch_size=4)
    model = workloads.build(workloads.get("cnn"), image_size=32)
    workloads.compile_model(model)
    x, y = next(iter(pipeline.train))
    loss = model.train_on_batch(x, y)
    assert np.isfinite(np.asarray(loss)).all()


def test_the_legacy_pipeline_shuffles_with_the_configured_seed(tiny: Path) -> None:
    """config.seed reaches flow_from_directory: the file's seed is the seed the run used."""
    pipeline = pipelines.make("legacy", tiny, augment=False, image_size=32, batch_size=4, seed=7)
    assert pipeline.train.seed == 7
    assert pipeline.valid.seed == 7
