"""The article's two models in MLX, Apple's own framework, computing the Keras models' function.

`CustomCNN` and `VGG16Transfer` have the layers, shapes and parameter counts of
`bench.worker.workloads.build_cnn` and `build_vgg16` (12,400,930 and 17,926,338 parameters at
224 px), in Keras's channels-last layout, so that:

- Keras's ``MaxPool2D(padding="same")`` is reproduced exactly: an odd side is padded at its end
  (bottom and right) with minus infinity before the 2x2 pooling, as TensorFlow does;
- ``Flatten`` flattens height, width, channels in that order, as Keras's does;
- `load_keras_weights` copies a Keras model's weights in (kernels transposed to MLX's
  output-first layout): a run starts from the Keras model's own initial weights, VGG-16's
  ImageNet base read by Keras from the same cached weights file, never downloaded.

Training follows Keras's ``compile`` of `bench.worker.workloads.compile_model`: categorical
cross-entropy on the softmax outputs (`categorical_crossentropy`, with Keras's normalisation and
clipping), Adam with Keras's defaults and update rule (`KerasAdam`), and binary accuracy as the
article's metric. VGG-16's base is frozen; only its head trains. MLX is lazy: `TrainStep`
evaluates the step (``mx.eval``) before it returns, so a clock read after it measures the work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mlx.core as mx
import numpy as np
from mlx import nn
from mlx.utils import tree_flatten, tree_unflatten

from bench.protocol.config import IMAGE_SIZE

EPSILON = 1e-7
"""Keras's ``backend.epsilon()``: the clipping of probabilities and Adam's epsilon."""

VGG16_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
"""Filters of each 3x3 convolution of VGG-16's five blocks, each block ending in a 2x2 pool."""


def max_pool_same(x: mx.array) -> mx.array:
    """A 2x2, stride 2 max pool of NHWC ``x`` with Keras's ``padding="same"``: an odd height or
    width gets one row or column of minus infinity at its end first."""
    height, width = x.shape[1], x.shape[2]
    pad_h, pad_w = height % 2, width % 2
    if pad_h or pad_w:
        x = mx.pad(x, [(0, 0), (0, pad_h), (0, pad_w), (0, 0)], constant_values=-mx.inf)
    pooled: mx.array = nn.MaxPool2d(kernel_size=2, stride=2)(x)
    return pooled


def _conv_out(size: int) -> int:
    """The side after a 3x3 valid convolution and a same-padded 2x2 pool."""
    return -(-(size - 2) // 2)


class CustomCNN(nn.Module):  # type: ignore[misc]  # MLX is read as untyped
    """The article's custom CNN: two 3x3 convolutions of 32 filters (valid padding, ReLU), each
    followed by a same-padded 2x2 max pool, then Dense 128 (ReLU) and Dense 2 (softmax)."""

    def __init__(self, image_size: int = IMAGE_SIZE) -> None:
        super().__init__()
        side = _conv_out(_conv_out(image_size))
        self.conv1 = nn.Conv2d(3, 32, 3)
        self.conv2 = nn.Conv2d(32, 32, 3)
        self.dense1 = nn.Linear(side * side * 32, 128)
        self.dense2 = nn.Linear(128, 2)

    def __call__(self, x: mx.array) -> mx.array:
        x = max_pool_same(nn.relu(self.conv1(x)))
        x = max_pool_same(nn.relu(self.conv2(x)))
        x = nn.relu(self.dense1(x.reshape(x.shape[0], -1)))
        return mx.softmax(self.dense2(x), axis=-1)

    def keras_layers(self) -> list[nn.Module]:
        """The layers with weights, in the Keras model's order."""
        return [self.conv1, self.conv2, self.dense1, self.dense2]


class VGG16Transfer(nn.Module):  # type: ignore[misc]
    """VGG-16 without its top (13 same-padded 3x3 convolutions with ReLU, five 2x2 max pools),
    frozen, with the article's head: Flatten, Dense 128 (ReLU), Dense 2 (softmax)."""

    def __init__(self, image_size: int = IMAGE_SIZE) -> None:
        super().__init__()
        convs = []
        channels = 3
        for block in VGG16_BLOCKS:
            for filters in block:
                convs.append(nn.Conv2d(channels, filters, 3, padding=1))
                channels = filters
        self.convs = convs
        side = image_size // 2 ** len(VGG16_BLOCKS)
        self.dense1 = nn.Linear(side * side * channels, 128)
        self.dense2 = nn.Linear(128, 2)
        for conv in self.convs:
            conv.freeze()

    def __call__(self, x: mx.array) -> mx.array:
        layer = 0
        for block in VGG16_BLOCKS:
            for _ in block:
                x = nn.relu(self.convs[layer](x))
                layer += 1
            x = nn.MaxPool2d(kernel_size=2, stride=2)(x)
        x = nn.relu(self.dense1(x.reshape(x.shape[0], -1)))
        return mx.softmax(self.dense2(x), axis=-1)

    def keras_layers(self) -> list[nn.Module]:
        """The layers with weights, in the Keras model's order."""
        return [*self.convs, self.dense1, self.dense2]


def build(model: str, image_size: int = IMAGE_SIZE) -> CustomCNN | VGG16Transfer:
    """The MLX model of ``model`` (``cnn`` or ``vgg16``), randomly initialised."""
    if model == "cnn":
        return CustomCNN(image_size)
    if model == "vgg16":
        return VGG16Transfer(image_size)
    msg = f"unknown model {model!r}; choose cnn or vgg16"
    raise ValueError(msg)


def count(model: nn.Module) -> tuple[int, int]:
    """Parameters in all and trainable, as Keras's ``count_params`` counts them."""
    every = sum(v.size for _, v in tree_flatten(model.parameters()))
    trainable = sum(v.size for _, v in tree_flatten(model.trainable_parameters()))
    return every, trainable


def load_keras_weights(model: CustomCNN | VGG16Transfer, weights: list[Any]) -> None:
    """Copy a Keras model's ``get_weights()`` (kernel, bias of each layer in order) into
    ``model``: convolution kernels from HWIO to MLX's OHWI, dense kernels transposed."""
    layers = model.keras_layers()
    if len(weights) != 2 * len(layers):
        msg = f"{len(weights)} Keras weight arrays for {len(layers)} layers with weights"
        raise ValueError(msg)
    for layer, kernel, bias in zip(layers, weights[0::2], weights[1::2], strict=True):
        found = mx.array(kernel)
        found = found.transpose(3, 0, 1, 2) if found.ndim == 4 else found.T
        if found.shape != layer.weight.shape or bias.shape != layer.bias.shape:
            msg = f"Keras weights {kernel.shape} do not fit the layer's {layer.weight.shape}"
            raise ValueError(msg)
        layer.weight = found
        layer.bias = mx.array(bias)


def categorical_crossentropy(probabilities: mx.array, targets: mx.array) -> mx.array:
    """Keras's categorical cross-entropy on probabilities (``from_logits=False``): normalised to
    sum to one, clipped to [epsilon, 1 - epsilon], averaged over the batch."""
    p = probabilities / mx.sum(probabilities, axis=-1, keepdims=True)
    p = mx.clip(p, EPSILON, 1 - EPSILON)
    return mx.mean(-mx.sum(targets * mx.log(p), axis=-1))


def binary_accuracy(probabilities: mx.array, targets: mx.array) -> mx.array:
    """Keras's ``BinaryAccuracy`` (threshold 0.5) on one-hot targets: the article's metric."""
    return mx.mean((probabilities > 0.5) == (targets > 0.5))


class KerasAdam:
    """Adam as Keras 3 updates (``learning_rate=0.001``, ``beta_1=0.9``, ``beta_2=0.999``,
    ``epsilon=1e-7``): the step size carries the bias correction and epsilon is added to the
    uncorrected root, ``w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)``."""

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = EPSILON,
    ) -> None:
        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = (
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
        )
        self.step = 0
        self.moments: dict[str, tuple[mx.array, mx.array]] = {}

    def update(self, model: nn.Module, gradients: Mapping[str, Any]) -> None:
        """Apply one step of ``gradients`` (the shape of the trainable parameters) to ``model``."""
        self.step += 1
        b1, b2 = self.beta_1, self.beta_2
        scale = self.learning_rate * (1 - b2**self.step) ** 0.5 / (1 - b1**self.step)
        updated = []
        params = dict(tree_flatten(model.trainable_parameters()))
        for name, grad in tree_flatten(gradients):
            m, v = self.moments.get(name, (mx.zeros_like(grad), mx.zeros_like(grad)))
            m = b1 * m + (1 - b1) * grad
            v = b2 * v + (1 - b2) * grad * grad
            self.moments[name] = (m, v)
            updated.append((name, params[name] - scale * m / (mx.sqrt(v) + self.epsilon)))
        model.update(tree_unflatten(updated))


class TrainStep:
    """One training step of ``model`` on a batch, evaluated before it returns: the loss and the
    binary accuracy, as Keras's ``train_on_batch`` reports them."""

    def __init__(self, model: nn.Module, optimizer: KerasAdam | None = None) -> None:
        self.model = model
        self.optimizer = optimizer or KerasAdam()

        def loss(batch: mx.array, targets: mx.array) -> tuple[mx.array, mx.array]:
            out = model(batch)
            return categorical_crossentropy(out, targets), out

        self._value_and_grad = nn.value_and_grad(model, loss)

    def __call__(self, batch: Any, targets: Any) -> tuple[float, float]:
        x, y = mx.array(batch), mx.array(targets)
        (loss, out), gradients = self._value_and_grad(x, y)
        self.optimizer.update(self.model, gradients)
        accuracy = binary_accuracy(out, y)
        mx.eval(self.model.parameters(), list(self.optimizer.moments.values()), loss, accuracy)
        return float(loss), float(accuracy)

    def train_on_batch(self, batch: Any, targets: Any) -> tuple[float, float]:
        """The step under Keras's name, for what times a model's steps
        (`bench.worker.throughputs.measure_compute`)."""
        return self(batch, targets)


def evaluate(model: nn.Module, batch: Any, targets: Any) -> tuple[float, float]:
    """The loss and binary accuracy of ``model`` on one batch, evaluated, without training."""
    x, y = mx.array(batch), mx.array(targets)
    out = model(x)
    loss, accuracy = categorical_crossentropy(out, y), binary_accuracy(out, y)
    mx.eval(loss, accuracy)
    return float(loss), float(accuracy)


def arrays(batch: tuple[Any, Any]) -> tuple[mx.array, mx.array]:
    """A batch from any pipeline (NumPy arrays, TensorFlow tensors) as MLX arrays."""
    x, y = batch
    return mx.array(np.asarray(x)), mx.array(np.asarray(y))
