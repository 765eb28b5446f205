"""Tests for bench/worker/mlx_training.py: `--backend mlx` trains on the same pipelines, under the
same epoch clock, with Keras's initialisation and VGG-16's Keras weights file, and writes a file
that validate, compare and the report read like any other backend's."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import HAS_MLX, NO_MLX, run_bench, run_compare

from bench import results
from bench.results import model
from bench.worker import clock, workloads

# The slow tier: these train on MLX, and build Keras models beside their MLX twins.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not HAS_MLX, reason=NO_MLX)]


@pytest.fixture(scope="module")
def mlx_smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real smoke-profile run of the custom CNN on MLX, probes skipped (about 20 s here;
    VGG-16 takes minutes on MLX's CPU convolution, and is checked piece by piece below)."""
    work = tmp_path_factory.mktemp("mlx-smoke")
    proc = run_bench(
        "--backend", "mlx", "--profile", "smoke", "--skip-probes", "--workload", "cnn",
        "--output", str(work / "results"), "--cache", str(work / "cache"),
        cwd=work,
    )  # fmt: skip
    return {"proc": proc, "files": sorted((work / "results").glob("*/*.json"))}


def test_the_smoke_profile_runs_on_mlx(mlx_smoke: dict[str, Any]) -> None:
    """`--backend mlx` trains the CNN with the Keras model's parameter count, a passing
    cross-check, timed epochs with the article's metric, and where the time goes; the file
    validates and names MLX and its version, and what makes runs comparable says MLX."""
    proc = mlx_smoke["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "cnn #1 epoch 2:" in proc.stderr
    (path,) = mlx_smoke["files"]
    document = results.load(path)
    software = document["software"]
    import mlx.core as mx

    assert (software["backend"], software["backend_version"]) == ("mlx", mx.__version__)
    assert "CPU:cpu:0" in software["backend_devices"]
    (run,) = document["workloads"]
    assert run["status"] == "ok", run.get("error")
    assert (run["parameters"], run["trainable_parameters"]) == (932_130, 932_130)
    assert run["optimizer"] == "bench.worker.mlx_models.KerasAdam"
    assert model.device_kind(run["device"]) == ("GPU" if mx.is_available(mx.gpu) else "CPU")
    check = run["crosscheck"]
    assert check["max_relative_difference"] is not None
    assert check["max_relative_difference"] <= check["tolerance"]
    assert len(check["device_losses"]) == check["steps"] >= 2  # 16 smoke images: 2 of 8
    assert [e["warmup"] for e in run["epochs"]] == [True, False]
    for epoch in run["epochs"]:
        assert epoch["train_s"] > 0
        assert epoch["validation_s"] > 0
        assert epoch["epoch_s"] >= epoch["train_s"] + epoch["validation_s"]
        assert 0 <= epoch["val_accuracy"] <= 1
        assert epoch["loss"] > 0
    attribution = run["attribution"]
    assert attribution["compute_only"]["images_per_s"] > 0
    assert attribution["input_only"]["images_per_s"] > 0
    setting = model.setting_of(document, run)
    assert model.as_dict(setting)["backend"] == "mlx"
    assert "MLX" in model.describe(setting)


def test_compare_refuses_mlx_against_tensorflow_unless_forced(
    mlx_smoke: dict[str, Any], smoke_run: dict[str, Any]
) -> None:
    """An MLX and a TensorFlow file of one machine share no setting: compare says so by
    backend, and --force compares them."""
    files = (str(smoke_run["files"][0]), str(mlx_smoke["files"][0]))
    refused = run_compare(*files)
    assert refused.returncode != 0
    assert "backend TensorFlow vs MLX" in refused.stdout + refused.stderr
    forced = run_compare(*files, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "cnn" in forced.stdout


def test_fit_averages_over_images_and_reads_the_clock_after_each_phase() -> None:
    """The loop's epoch metrics are means over images (a short last batch weighs less, as in
    Keras), and the clock's training and validation phases follow the steps."""
    from bench.worker import mlx_models, mlx_training

    readings = iter(float(t) for t in range(100))
    timer = clock.EpochClock(10, now=lambda: next(readings))
    sizes = [4, 4, 2]
    rng = np.random.default_rng(0)
    batches = [
        (
            rng.random((n, 32, 32, 3), dtype=np.float32),
            np.eye(2, dtype=np.float32)[[0, 1] * (n // 2)],
        )
        for n in sizes
    ]
    losses: list[tuple[float, int]] = []

    class Step(mlx_models.TrainStep):
        def __call__(self, batch: Any, targets: Any) -> tuple[float, float]:
            loss, accuracy = super().__call__(batch, targets)
            losses.append((loss, int(batch.shape[0])))
            return loss, accuracy

    step = Step(mlx_models.build("cnn", 32))
    mlx_training.fit(step, lambda: batches, lambda: batches[:1], 2, timer)
    first, second = timer.epochs
    assert (first["warmup"], second["warmup"]) == (True, False)
    # One reading opens the epoch, one ends each of the 3 steps, one opens validation, one
    # closes it, one ends the epoch.
    assert first["step_s"] == [1.0, 1.0, 1.0]
    assert (first["train_s"], first["validation_s"], first["epoch_s"]) == (4.0, 1.0, 6.0)
    assert first["images_per_s"] == 2.5
    weighted = sum(loss * n for loss, n in losses[:3]) / sum(sizes)
    assert first["loss"] == pytest.approx(weighted, rel=1e-6)
    assert first["loss"] != pytest.approx(sum(loss for loss, _ in losses[:3]) / 3, rel=1e-9)
    assert second["val_loss"] is not None


def test_a_run_starts_from_the_keras_models_initial_weights(tmp_path: Path) -> None:
    """The MLX model starts from the weights the Keras model of the same seed starts from (on
    TensorFlow: the TensorFlow run's start), VGG-16's base read by Keras from the weights file."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    from bench.worker import backends, mlx_training

    backends.seed(3)
    base = backends.keras().applications.VGG16(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    path = tmp_path / "vgg16_notop.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, base)
    for name, weights in (("cnn", None), ("vgg16", path)):
        workload = workloads.get(name)
        found = mlx_training.build(workload, 32, weights, seed=42)
        backends.seed(42)
        expected = workloads.build(workload, 32, weights).get_weights()
        layers = found.keras_layers()
        assert len(layers) * 2 == len(expected)
        for layer, kernel, bias in zip(layers, expected[0::2], expected[1::2], strict=True):
            mlx_kernel = np.asarray(layer.weight)
            mlx_kernel = mlx_kernel.transpose(1, 2, 3, 0) if mlx_kernel.ndim == 4 else mlx_kernel.T
            assert np.array_equal(mlx_kernel, kernel)
            assert np.array_equal(np.asarray(layer.bias), bias)
    assert np.array_equal(
        np.asarray(found.convs[0].weight).transpose(1, 2, 3, 0), base.get_weights()[0]
    )


def test_the_probes_name_mlx_and_its_devices(tmp_path: Path) -> None:
    """The GPU section says MLX sees no GPU where it has none, as for the other backends."""
    import mlx.core as mx

    from bench.protocol import jobs
    from bench.protocol.jobs import ProbeJob, ProbeSettings

    job = ProbeJob("gpu", "mlx", ProbeSettings(scale=0.05, min_time_s=0.02, max_repeats=3))
    (tmp_path / "gpu.job.json").write_text(jobs.dumps(job))
    output = tmp_path / "gpu.json"
    subprocess.run(
        jobs.command(tmp_path / "gpu.job.json", output),
        env=jobs.environment(job) | {"KERAS_HOME": str(tmp_path / "keras")},
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    section = json.loads(output.read_text(encoding="utf-8"))["section"]
    if mx.is_available(mx.gpu):
        assert section["status"] == "ok"
        assert [p["name"] for p in section["probes"]] == ["matmul", "conv2d"]
    else:
        assert (section["status"], section["reason"]) == ("unavailable", "no GPU visible to MLX")
