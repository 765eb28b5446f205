"""Tests for bench/worker/mlx_models.py: the article's models in MLX compute the Keras models'
function (same parameter counts, same pooling, same losses over seeded training steps)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import HAS_MLX, NO_MLX

from bench.worker import workloads

# The slow tier: these build the Keras models on TensorFlow beside their MLX twins.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not HAS_MLX, reason=NO_MLX)]


TOLERANCE = 1e-2
"""The cross-check's tolerance (`bench.protocol.config.CROSSCHECK_TOLERANCE`): the relative
difference allowed between two devices' (here two frameworks') losses on the same steps."""


def _batch(size: int, image_size: int, seed: int) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    images = rng.random((size, image_size, image_size, 3), dtype=np.float32)
    labels = np.eye(2, dtype=np.float32)[rng.integers(0, 2, size)]
    return images, labels


@pytest.mark.parametrize(
    ("name", "counts"), [("cnn", (12_400_930, 12_400_930)), ("vgg16", (17_926_338, 3_211_650))]
)
def test_parameter_counts_are_the_keras_models(name: str, counts: tuple[int, int]) -> None:
    """At the article's 224 px: all and trainable parameters as Keras counts them (the VGG-16
    base frozen)."""
    from bench.worker import mlx_models

    assert mlx_models.count(mlx_models.build(name, 224)) == counts


@pytest.mark.parametrize("side", [8, 9, 109])
def test_max_pool_same_is_keras_max_pool_same(side: int) -> None:
    """Odd sides pad at their end, as TensorFlow's same padding does: equal outputs, equal shape."""
    import mlx.core as mx

    from bench.worker import backends, mlx_models

    keras = backends.keras()
    x = np.random.default_rng(side).standard_normal((2, side, side + 2, 3)).astype(np.float32)
    expected = np.asarray(keras.layers.MaxPool2D((2, 2), padding="same")(x))
    found = np.asarray(mlx_models.max_pool_same(mx.array(x)))
    assert found.shape == expected.shape
    assert np.array_equal(found, expected)


@pytest.mark.parametrize("name", ["cnn", "vgg16"])
def test_the_mlx_model_trains_as_the_keras_model_does(name: str) -> None:
    """With the Keras model's initial weights loaded, the two agree on the outputs before
    training and on the loss of each of three seeded Adam steps on the same batch, within the
    cross-check's tolerance; the article's metric agrees too."""
    from bench.worker import backends, mlx_models

    image_size = 64
    backends.seed(42)
    keras_model = workloads.build(workloads.get(name), image_size)
    workloads.compile_model(keras_model)
    mlx_model = mlx_models.build(name, image_size)
    mlx_models.load_keras_weights(mlx_model, keras_model.get_weights())
    images, labels = _batch(8, image_size, seed=7)

    import mlx.core as mx

    before = np.asarray(mlx_model(mx.array(images)))
    assert np.allclose(before, np.asarray(keras_model(images)), atol=1e-5)
    step = mlx_models.TrainStep(mlx_model)
    differences = []
    for _ in range(3):
        expected = keras_model.train_on_batch(images, labels, return_dict=True)
        loss, accuracy = step(images, labels)
        differences.append(abs(loss - float(expected["loss"])) / abs(float(expected["loss"])))
        assert accuracy == pytest.approx(float(expected["accuracy"]), abs=1e-6)
    print(f"{name}: relative loss differences over 3 steps: {differences}")
    assert max(differences) <= TOLERANCE, differences


def test_keras_weights_of_the_wrong_model_are_refused() -> None:
    """Weights that do not fit (another model, another image size) are refused, not broadcast."""
    from bench.worker import mlx_models

    keras_model = workloads.build_cnn(64)
    with pytest.raises(ValueError, match="do not fit"):
        mlx_models.load_keras_weights(mlx_models.build("cnn", 96), keras_model.get_weights())
    with pytest.raises(ValueError, match="Keras weight arrays for 15 layers"):
        mlx_models.load_keras_weights(mlx_models.build("vgg16", 64), keras_model.get_weights())
