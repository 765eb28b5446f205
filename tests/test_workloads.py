"""Tests for bench/worker/workloads.py: fidelity to the article's four workloads."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench.protocol import config
from bench.results import model
from bench.worker import workloads

# The slow tier: every test here builds or trains the Keras models.
pytestmark = pytest.mark.slow


def test_names_and_augmentation_flags() -> None:
    """The four names map to the two models, with and without augmentation."""
    assert model.WORKLOADS == ("cnn", "cnn-aug", "vgg16", "vgg16-aug")
    assert workloads.get("cnn") == workloads.Workload("cnn", "cnn", augment=False)
    assert workloads.get("vgg16-aug") == workloads.Workload("vgg16-aug", "vgg16", augment=True)
    with pytest.raises(ValueError, match="unknown workload"):
        workloads.get("resnet")


def test_generator_settings_are_the_articles() -> None:
    """Training augmentation and rescaling use exactly the article's ImageDataGenerator arguments."""
    assert workloads.generator_arguments(False) == {"rescale": 1 / 255}
    assert workloads.generator_arguments(True) == {
        "rescale": 1 / 255,
        "rotation_range": 20,
        "width_shift_range": 0.2,
        "height_shift_range": 0.2,
        "shear_range": 0.2,
        "zoom_range": 0.2,
        "horizontal_flip": True,
        "fill_mode": "nearest",
    }
    assert (config.SEED, config.BATCH_SIZE, config.IMAGE_SIZE) == (42, 64, 224)


def test_cnn_matches_the_article() -> None:
    """The custom CNN has the article's layers and 12,400,930 parameters at 224x224."""
    model = workloads.build(workloads.get("cnn"))
    assert model.count_params() == 12_400_930
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    assert [layer.padding for layer in model.layers if "Pool" in type(layer).__name__] == [
        "same",
        "same",
    ]
    assert model.layers[-1].units == 2


def test_vgg16_matches_the_article() -> None:
    """VGG-16 transfer learning: 17,926,338 parameters, 3,211,650 trainable, base frozen."""
    model = workloads.build(workloads.get("vgg16"))
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    assert model.count_params() == 17_926_338
    assert trainable == 3_211_650
    assert [layer.name for layer in model.layers if layer.trainable and layer.weights] == [
        model.layers[-2].name,
        model.layers[-1].name,
    ]


def test_compile_uses_adam_categorical_crossentropy_and_binary_accuracy() -> None:
    """The compile settings are Adam defaults, categorical cross-entropy, BinaryAccuracy('accuracy')."""
    import tensorflow as tf

    model = workloads.build(workloads.get("cnn"), image_size=32)
    workloads.compile_model(model)
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.001)
    assert model.loss is tf.keras.losses.categorical_crossentropy
    model.evaluate(tf.zeros((2, 32, 32, 3)), tf.one_hot([0, 1], 2), verbose=0)
    metrics = model.metrics[-1].metrics if hasattr(model.metrics[-1], "metrics") else model.metrics
    assert any(type(m).__name__ == "BinaryAccuracy" and m.name == "accuracy" for m in metrics)


def test_legacy_generators_read_the_folder_layout(tmp_path: Path) -> None:
    """flow_from_directory finds both classes, one-hot labels and the requested size and batch."""
    from bench import data

    root = data.synthetic(data.SyntheticSpec(train_per_class=3, validation_per_class=2), tmp_path)
    train, valid = workloads.legacy_generators(root, augment=True, image_size=48, batch_size=4)
    assert (train.samples, valid.samples) == (6, 4)
    assert train.class_indices == {"cat": 0, "dog": 1}
    x, y = train[0]
    assert x.shape == (4, 48, 48, 3)
    assert y.shape == (4, 2)
    assert float(x.min()) >= 0.0
    assert float(x.max()) <= 1.0
    assert train.image_data_generator.rotation_range == 20
    assert valid.image_data_generator.rotation_range == 0


def test_cnn_learns_the_synthetic_classes(tmp_path: Path) -> None:
    """On the stand-in, the CNN climbs well above chance in a few epochs: training really happens."""
    import tensorflow as tf

    from bench import data

    root = data.synthetic(data.SyntheticSpec(train_per_class=32, validation_per_class=16), tmp_path)
    tf.random.set_seed(config.SEED)
    train, valid = workloads.legacy_generators(root, augment=False, image_size=64, batch_size=16)
    model = workloads.build(workloads.get("cnn"), image_size=64)
    workloads.compile_model(model)
    history = model.fit(train, validation_data=valid, epochs=4, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] >= 0.75
