"""Tests for bench/pipelines.py: the tf.data pipeline matches the legacy one where it must."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from bench import data, pipelines, workloads
from bench.errors import UserError


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated dataset: 6 training and 4 validation images, two classes."""
    cache = tmp_path_factory.mktemp("tiny")
    spec = data.SyntheticSpec(train_per_class=3, validation_per_class=2, min_side_px=40,
                              max_side_px=90)  # fmt: skip
    return data.synthetic(spec, cache)


def test_tfdata_augmentation_follows_the_article() -> None:
    """Rotation 20 degrees as a fraction of a turn, shifts and zoom 0.2, flips, nearest fill."""
    settings = pipelines.tfdata_augmentation(True)
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
    assert pipelines.tfdata_augmentation(False) == {"rescaling": 1 / 255}


def test_unknown_pipeline_is_refused(tiny: Path) -> None:
    """Only legacy and tfdata exist."""
    with pytest.raises(ValueError, match="unknown pipeline 'grain'"):
        pipelines.make("grain", tiny, augment=False)


def test_tfdata_batches_have_the_legacy_shapes_and_labels(tiny: Path) -> None:
    """Same batch shape, one-hot labels in the same class order, values rescaled to [0, 1]."""
    tfdata = pipelines.make("tfdata", tiny, augment=True, image_size=64, batch_size=4)
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
    assert float(np.min(x)) >= 0.0
    assert float(np.max(x)) <= 1.0
    labels = np.concatenate([label.numpy() for _, label in tfdata.valid])
    assert labels.sum(axis=0).tolist() == [2.0, 2.0]  # cat, dog: alphabetical, as legacy
    assert legacy.train.class_indices == {"cat": 0, "dog": 1}
    assert set(np.unique(labels)) == {0.0, 1.0}


def test_tfdata_augmentation_changes_images(tiny: Path) -> None:
    """With augmentation the training images differ from the plain ones; validation never does."""
    plain = pipelines.make("tfdata", tiny, augment=False, image_size=64, batch_size=6)
    augmented = pipelines.make("tfdata", tiny, augment=True, image_size=64, batch_size=6)
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
    for name in pipelines.PIPELINES:
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
        pipelines.check_formats(root)
    pipelines.check_formats(tiny)


def test_the_models_train_on_tfdata_batches(tiny: Path) -> None:
    """The article's CNN compiles and steps on a tf.data batch (one-hot labels, softmax)."""
    pipeline = pipelines.make("tfdata", tiny, augment=True, image_size=32, batch_size=4)
    model = workloads.build(workloads.get("cnn"), image_size=32)
    workloads.compile_model(model)
    x, y = next(iter(pipeline.train))
    loss = model.train_on_batch(x, y)
    assert np.isfinite(np.asarray(loss)).all()
