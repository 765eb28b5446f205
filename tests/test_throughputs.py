"""Tests for bench/worker/throughputs.py and bench/readers/bottleneck.py: the measurements, the
input-wait share and the verdict rule."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from bench.protocol import config
from bench.readers import bottleneck
from bench.worker import throughputs


def test_input_wait_share_is_the_step_time_compute_does_not_explain() -> None:
    """End to end at half the compute-only rate means half of each step waits for input."""
    assert bottleneck.input_wait_share(50.0, 100.0) == pytest.approx(0.5)
    assert bottleneck.input_wait_share(100.0, 100.0) == 0.0
    # Noise can make end to end faster than compute only: never a negative wait.
    assert bottleneck.input_wait_share(120.0, 100.0) == 0.0
    assert math.isnan(bottleneck.input_wait_share(math.nan, 100.0))
    assert math.isnan(bottleneck.input_wait_share(50.0, 0.0))


def test_verdict_compares_the_pipeline_alone_with_the_model_alone() -> None:
    """Input-bound exactly when input-only throughput is below compute-only throughput."""
    assert bottleneck.verdict(60.0, 150.0) == bottleneck.INPUT_BOUND
    assert bottleneck.verdict(300.0, 150.0) == bottleneck.COMPUTE_BOUND
    assert bottleneck.verdict(math.nan, 150.0) == bottleneck.NOT_MEASURED


@pytest.mark.parametrize(("source", "compute"), [(60.0, 150.0), (300.0, 150.0), (90.0, 91.0)])
def test_in_a_sequential_loop_the_verdict_agrees_with_a_wait_of_one_half(
    source: float, compute: float
) -> None:
    """When input and compute take turns, input-bound means at least half of each step waits."""
    end_to_end = 1 / (1 / source + 1 / compute)
    figures = bottleneck.derive(source, compute, end_to_end)
    assert (figures["verdict"] == bottleneck.INPUT_BOUND) == (figures["input_wait_share"] >= 0.5)


def test_derive_splits_the_time_per_image_into_compute_and_wait() -> None:
    """Compute and input wait (input and other) add up to the end-to-end milliseconds per
    image."""
    figures = bottleneck.derive(60.0, 200.0, 50.0)
    assert figures["end_to_end_ms"] == pytest.approx(20.0)
    assert figures["compute_ms"] == pytest.approx(5.0)
    assert figures["input_wait_ms"] == pytest.approx(15.0)
    assert figures["verdict"] == bottleneck.INPUT_BOUND
    capped = bottleneck.derive(500.0, 90.0, 100.0)
    assert capped["compute_ms"] == pytest.approx(10.0)
    assert capped["input_wait_ms"] == 0.0


def test_the_three_parts_add_up_and_the_largest_names_the_verdict() -> None:
    """The case a fresh run printed here: input only 794 img/s, compute only 174, end to end 57.
    Two thirds of the step is neither the pipeline alone nor the model alone: overhead-bound,
    not the compute-bound the old rule said beside a 67 % input wait."""
    figures = bottleneck.derive(794.0, 174.0, 57.0)
    total = figures["compute_ms"] + figures["input_ms"] + figures["other_ms"]
    assert total == pytest.approx(figures["end_to_end_ms"])
    assert figures["other_share"] == pytest.approx(0.60, abs=0.01)
    assert figures["verdict"] == bottleneck.OVERHEAD_BOUND
    assert bottleneck.split_text(figures) == "compute 33%, input 7%, other 60%"
    # Input and compute taking turns with nothing else: no other time, input the larger.
    serial = bottleneck.derive(60.0, 150.0, 1 / (1 / 60 + 1 / 150))
    assert serial["other_ms"] == pytest.approx(0.0, abs=1e-9)
    assert serial["verdict"] == bottleneck.INPUT_BOUND
    # A GPU run: compute 0.2 ms, the pipeline 1.4 ms, 0.5 ms else: input-bound.
    assert bottleneck.derive(691.0, 5260.0, 478.0)["verdict"] == bottleneck.INPUT_BOUND
    # Without the end-to-end rate the old comparison stands.
    assert bottleneck.verdict(300.0, 150.0) == bottleneck.COMPUTE_BOUND
    assert bottleneck.split_text(bottleneck.derive(300.0, 150.0, math.nan)) == "-"


def test_timed_steps_stay_a_sixth_of_the_run_within_bounds() -> None:
    """Quick profile: 3 of 18 batches; full: capped at 20; tiny runs: 2, never past an epoch."""
    assert throughputs.timed_steps(steps_per_epoch=6, epochs=3) == 3
    assert throughputs.timed_steps(steps_per_epoch=360, epochs=5) == config.THROUGHPUT_MAX_STEPS
    assert throughputs.timed_steps(steps_per_epoch=2, epochs=2) == 2
    assert throughputs.timed_steps(steps_per_epoch=1, epochs=2) == 1


def test_speedup_bound_is_amdahls_law() -> None:
    """Doubling compute speed with half of each step waiting for input gains at most 1.33x."""
    assert bottleneck.speedup_bound(0.5, 2.0) == pytest.approx(4 / 3)
    assert bottleneck.speedup_bound(0.0, 2.0) == pytest.approx(2.0)
    assert bottleneck.speedup_bound(0.25, math.inf) == pytest.approx(4.0)
    assert bottleneck.speedup_bound(1.0, 2.0) == pytest.approx(1.0)
    assert math.isnan(bottleneck.speedup_bound(math.nan, 2.0))


def test_speedup_bound_without_input_wait_and_instant_compute_has_no_limit() -> None:
    """No input wait and an instant computation give an unbounded speed-up, not a crash."""
    assert bottleneck.speedup_bound(0.0, math.inf) == math.inf


def _batches(sizes: list[int]) -> Iterator[tuple[Any, Any]]:
    for n in sizes:
        yield np.zeros((n, 4, 4, 3), dtype=np.float32), np.zeros((n, 2), dtype=np.float32)


def test_measure_input_times_the_steps_after_the_warm_up() -> None:
    """Warm-up batches are timed apart; the images counted are those of the timed batches."""
    sample = throughputs.measure_input(_batches([8, 8, 8, 5, 8]), steps=3, warmup=1)
    assert sample["warmup_steps"] == 1
    assert len(sample["step_s"]) == 3
    assert sample["images"] == 8 + 8 + 5
    # The harness's default: no warm-up, the pipeline's start-up is timed.
    cold = throughputs.measure_input(_batches([8, 8, 8, 5, 8]), steps=3)
    assert (cold["warmup_steps"], cold["warmup_s"], cold["images"]) == (0, 0, 24)
    assert sample["images_per_s"] == pytest.approx(21 / sum(sample["step_s"]))


@pytest.mark.slow
def test_measure_trains_a_real_model_on_an_in_memory_batch() -> None:
    """The full measurement returns both throughputs for a tiny model, and the model trains."""
    import tensorflow as tf

    from bench.worker import workloads

    model = workloads.build(workloads.get("cnn"), image_size=32)
    workloads.compile_model(model)
    before = [w.numpy().copy() for w in model.trainable_weights]
    rng = np.random.default_rng(0)
    x = rng.random((4, 32, 32, 3), dtype=np.float32)
    y = tf.one_hot([0, 1, 0, 1], 2).numpy()
    block = throughputs.measure(model, iter([(x, y)] * 10), steps_per_epoch=3, epochs=6)
    assert block["input_only"]["warmup_steps"] == 0
    assert block["compute_only"]["warmup_steps"] == 1
    assert set(block) == {"input_only", "compute_only", "elapsed_s"}
    assert len(block["input_only"]["step_s"]) == 3
    assert len(block["compute_only"]["step_s"]) == 3
    assert block["compute_only"]["images"] == 12
    assert block["compute_only"]["images_per_s"] > 0
    timed = sum(block["input_only"]["step_s"]) + sum(block["compute_only"]["step_s"])
    assert block["elapsed_s"] >= timed
    after = [w.numpy() for w in model.trainable_weights]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
