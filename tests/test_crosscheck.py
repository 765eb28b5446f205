"""Tests for bench/worker/crosscheck.py and bench/readers/verdicts.py: the accelerator used,
learning, and the CPU cross-check."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.harness import summary
from bench.harness.machine import darwin, nvidia
from bench.protocol import config
from bench.readers import verdicts
from bench.worker import backends, crosscheck, workloads

# The slow tier: the cross-check trains real models.
pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data" / "environment"
NVIDIA = {"gpus": nvidia.parse_nvidia_smi((DATA / "nvidia-smi-1gpu.csv").read_text())}
APPLE = {
    "gpus": darwin.parse_system_profiler_displays(
        (DATA / "m1pro-system-profiler-displays.json").read_text()
    )
}
NO_GPU: dict[str, Any] = {"gpus": []}
GPU_DEVICE = "/job:localhost/replica:0/task:0/device:GPU:0"
CPU_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


def software(
    *devices: str,
    metal: str | None = None,
    packages: dict[str, str] | None = None,
    backend: str = "tensorflow",
    version: str = "2.18.1",
) -> dict[str, Any]:
    """A software block with the backend's device list, the plugin and packages."""
    listed = ["CPU:/physical_device:CPU:0", *devices]
    return {
        "backend": backend,
        "backend_version": version,
        "backend_devices": listed,
        "tf_devices": listed if backend == "tensorflow" else [],
        "tensorflow_metal": metal,
        "packages": packages or {},
        "env": {},
    }


@pytest.mark.parametrize(
    ("machine", "soft", "device", "status", "reason"),
    [
        (NO_GPU, software(), CPU_DEVICE, "none", None),
        (NVIDIA, software("GPU:/physical_device:GPU:0"), GPU_DEVICE, "used", None),
        (APPLE, software("GPU:/physical_device:GPU:0", metal="1.2.0"), GPU_DEVICE, "used", None),
        (APPLE, software(), CPU_DEVICE, "not-visible", "tensorflow-metal is not installed"),
        (APPLE, software(metal="1.2.0"), CPU_DEVICE, "not-visible", "did not load"),
        (NVIDIA, software(packages={"tensorflow-cpu": "2.18.1"}), CPU_DEVICE, "not-visible",
         "CPU build is installed; run `nox -s bench-cuda`"),
        (NVIDIA, software(packages={"tensorflow": "2.18.1"}), CPU_DEVICE, "not-visible",
         "CUDA build found no usable GPU"),
        (NVIDIA, software("GPU:/physical_device:GPU:0"), CPU_DEVICE, "not-used",
         "the training ran on CPU"),
        # The same verdicts on the other backends, from their own device names.
        (NVIDIA, software("GPU:cuda:0", backend="torch", version="2.13.0"), "cuda:0", "used",
         None),
        (APPLE, software("GPU:mps:0", backend="torch", version="2.13.0"), "mps:0", "used", None),
        (NVIDIA, software("GPU:cuda:0", backend="torch", version="2.13.0"), "cpu", "not-used",
         "PyTorch lists GPU:cuda:0 but the training ran on CPU"),
        (NVIDIA, software(backend="torch", version="2.13.0+cpu"), "cpu", "not-visible",
         "not visible to PyTorch: PyTorch's CPU build (2.13.0+cpu) is installed"),
        (APPLE, software(backend="torch", version="2.13.0"), "cpu", "not-visible",
         "PyTorch lists no MPS device"),
        (APPLE, software(backend="jax", version="0.10.2"), "cpu:0", "not-visible",
         "JAX has no Apple GPU support"),
        (NVIDIA, software(backend="jax", version="0.10.2"), "cpu:0", "not-visible",
         "JAX's CPU build is installed"),
        (NVIDIA, software("GPU:cuda:0", backend="jax", version="0.10.2"), "cuda:0", "used", None),
        (NO_GPU, software(backend="jax", version="0.10.2"), "cpu:0", "none", None),
        (APPLE, software("GPU:gpu:0", backend="mlx", version="0.32.4"), "gpu:0", "used", None),
        (APPLE, software(backend="mlx", version="0.32.4"), "cpu:0", "not-visible",
         "MLX lists no GPU (its Metal build, mlx-metal, needs macOS 14"),
        (NVIDIA, software(backend="mlx", version="0.32.4"), "cpu:0", "not-visible",
         "not visible to MLX: the MLX that benchbook installs on Linux is its CPU build"),
        (APPLE, software("GPU:gpu:0", backend="mlx", version="0.32.4"), "cpu:0", "not-used",
         "MLX lists GPU:gpu:0 but the training ran on CPU"),
    ],
)  # fmt: skip
def test_a_gpu_present_but_unused_is_named_with_its_cause(
    machine: dict[str, Any],
    soft: dict[str, Any],
    device: str,
    status: str,
    reason: str | None,
) -> None:
    """Recorded nvidia-smi and system_profiler GPUs against TensorFlow's device list and the
    device the training ran on: the status and the likely cause."""
    verdict = verdicts.accelerator(machine, soft, device)
    assert verdict["status"] == status
    if reason is None:
        assert verdict["reason"] is None
    else:
        assert reason in verdict["reason"]


def test_hidden_devices_are_named() -> None:
    """CUDA_VISIBLE_DEVICES="" hides the GPU; the reason says so before anything else."""
    soft = software(packages={"tensorflow": "2.18.1"})
    soft["env"] = {"CUDA_VISIBLE_DEVICES": ""}
    verdict = verdicts.accelerator(NVIDIA, soft, CPU_DEVICE)
    assert "CUDA_VISIBLE_DEVICES='' hides every GPU" in verdict["reason"]


def run(accuracies: list[float | None], losses: list[float | None] | None = None, images: int = 128,
        weights: str = "none") -> dict[str, Any]:  # fmt: skip
    """A finished workload run with these validation accuracies and losses."""
    losses = losses or [0.6] * len(accuracies)
    return {
        "status": "ok",
        "weights": weights,
        "validation_images": images,
        "epochs": [
            {"epoch": i + 1, "loss": loss, "val_accuracy": acc}
            for i, (acc, loss) in enumerate(zip(accuracies, losses, strict=True))
        ],
    }


STAND_IN = {"kind": "synthetic", "classes": ["cat", "dog"]}


def test_learning_flags_a_run_at_chance_and_passes_one_that_learned() -> None:
    """On 128 stand-in images the line is 0.5 + 2 standard errors (0.588): 0.5 did not learn,
    0.727 (the lowest committed quick CNN run) did."""
    flat = verdicts.learning(run([0.5, 0.5, 0.5], weights="random"), STAND_IN)
    assert flat["status"] == "did-not-learn"
    assert flat["threshold"] == pytest.approx(0.5 + 2 * math.sqrt(0.25 / 128))
    assert "random weights" in flat["reason"]
    assert verdicts.learning(run([0.55, 0.727, 0.7]), STAND_IN)["status"] == "ok"


def test_learning_flags_a_diverged_loss_on_every_dataset() -> None:
    """A NaN or infinite loss (stored as null) is flagged, on real data as on the stand-in."""
    diverged = run([0.9, 0.9], losses=[0.5, None])
    assert verdicts.learning(diverged, STAND_IN)["status"] == "diverged"
    assert verdicts.learning(diverged, {"kind": "real", "classes": ["cat", "dog"]})["status"] == (
        "diverged"
    )


def test_learning_is_not_judged_where_chance_cannot_be_told_apart() -> None:
    """The smoke profile's 16 validation images, real images and failed runs are not judged."""
    assert verdicts.learning(run([0.5, 0.5], images=16), STAND_IN)["status"] == "not-checked"
    real = verdicts.learning(run([0.5, 0.5]), {"kind": "real", "classes": ["cat", "dog"]})
    assert real["status"] == "ok"
    assert (
        verdicts.learning({"status": "failed", "epochs": []}, STAND_IN)["status"] == "not-checked"
    )


def _batches() -> list[tuple[Any, Any]]:
    rng = np.random.default_rng(0)
    x = rng.random((24, 64, 64, 3), dtype=np.float32)
    y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 24)]
    return [(x[i : i + 8], y[i : i + 8]) for i in (0, 8, 16)]


def _build() -> Any:
    model = workloads.build(workloads.get("cnn"), 64, None)
    workloads.compile_model(model)
    return model


def test_crosscheck_passes_cpu_against_cpu_and_catches_a_faulty_device() -> None:
    """The article's CNN from one seed on the same batches: CPU against CPU agrees exactly; a
    device that computes on inputs 5 % off (an injected fault) is caught."""
    same = crosscheck.measure_crosscheck(_build, _batches(), "/CPU:0")
    assert same["max_relative_difference"] == 0.0
    assert verdicts.crosscheck_verdict(same)["status"] == "agrees"
    faulty = crosscheck.measure_crosscheck(_build, _batches(), "/CPU:0", perturb=lambda x: x * 1.05)
    assert faulty["max_relative_difference"] > config.CROSSCHECK_TOLERANCE
    verdict = verdicts.crosscheck_verdict(faulty)
    assert verdict["status"] == "diverges"
    assert "not trustworthy" in verdict["reason"]


def test_the_device_model_starts_from_the_reference_models_weights() -> None:
    """One seed draws different weights on PyTorch's CPU and CUDA generators: the device's model
    takes the reference's initial weights, so a build that draws anew each call still agrees."""
    draws = iter(range(1, 3))

    def build_unseeded() -> Any:
        keras = backends.keras()
        keras.utils.set_random_seed(next(draws))
        return _build()

    block = crosscheck.measure_crosscheck(build_unseeded, _batches(), "/CPU:0")
    assert block["device_losses"] == block["reference_losses"]
    assert block["max_relative_difference"] == 0.0


def test_a_non_finite_loss_on_the_device_diverges() -> None:
    """A device whose loss is NaN never agrees, whatever the tolerance."""
    assert crosscheck.relative_differences([0.7], [math.nan]) == [math.inf]
    block = {"device": "/GPU:0", "reference": "/CPU:0", "max_relative_difference": None}
    assert verdicts.crosscheck_verdict(block)["status"] == "diverges"
    assert verdicts.crosscheck_verdict(None)["status"] == "not-run"
    assert verdicts.crosscheck_verdict({"error": "OOM"})["status"] == "failed"


def test_the_run_summary_flags_each_failed_check_in_a_line() -> None:
    """The lines after the summary table stand out with WARNING and name the run and the cause."""
    good = {**run([0.5, 0.9]), "workload": "cnn", "repeat": 1, "device": GPU_DEVICE}
    flat = {**run([0.5, 0.5]), "workload": "cnn-aug", "repeat": 1, "device": CPU_DEVICE}
    flat["crosscheck"] = {"device": "/GPU:0", "reference": "/CPU:0", "max_relative_difference": 0.3}
    document = {
        "machine": NVIDIA,
        "software": software("GPU:/physical_device:GPU:0"),
        "dataset": STAND_IN,
        "workloads": [good, flat],
    }
    lines = summary.check_lines(document)
    assert lines[0] == (
        "WARNING: cnn-aug #1: TensorFlow lists GPU:/physical_device:GPU:0 but the training ran on CPU"
    )
    assert lines[1].startswith("WARNING: cnn-aug #1: did not learn: best validation accuracy 0.500")
    assert lines[2].startswith("WARNING: cnn-aug #1: cross-check diverges: /GPU:0 and /CPU:0")
    assert len(lines) == 3


def test_a_throttled_run_is_flagged_from_any_snapshot() -> None:
    """Low Power Mode, battery power, a CPU speed limit or a thermal warning before, during or
    after a run flags it, each cause named once."""
    conditions = {
        "before": {"power_source": "AC Power", "cpu_speed_limit": 100},
        "during": [
            {"power_source": "AC Power", "cpu_speed_limit": 70, "t_s": 15.0},
            {
                "power_source": "AC Power",
                "cpu_speed_limit": 70,
                "low_power_mode": True,
                "t_s": 30.0,
            },
        ],
        "after": {"power_source": "Battery Power", "thermal_warning_level": 2},
        "sample_s": 15.0,
    }
    assert verdicts.throttled(conditions) == (
        "CPU speed limited to 70 %; Low Power Mode on; on battery; thermal warning level 2"
    )
    cool = {"before": {"power_source": "AC Power", "cpu_speed_limit": 100, "low_power_mode": False}}
    assert verdicts.throttled(cool) is None
    assert verdicts.throttled(None) is None
    document = {"machine": NO_GPU, "software": software(), "dataset": STAND_IN}
    flagged = {**run([0.5, 0.9]), "device": CPU_DEVICE, "conditions": conditions}
    assert verdicts.run_warnings(document, flagged)[-1].startswith("throttled: CPU speed limited")


def test_a_metal_plugin_that_failed_to_load_is_named_with_its_message() -> None:
    """The recorded loading error of tensorflow-metal is the reason given."""
    soft = software(metal="1.2.0")
    soft["plugin_error"] = "libmetal_plugin.dylib: Symbol not found: _TF_GetInputPropertiesList"
    verdict = verdicts.accelerator(APPLE, soft, CPU_DEVICE)
    assert verdict["status"] == "not-visible"
    assert verdict["reason"].endswith(
        "did not load: libmetal_plugin.dylib: Symbol not found: _TF_GetInputPropertiesList"
    )
