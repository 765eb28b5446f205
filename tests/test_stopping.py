"""Tests for bench/protocol/stopping.py and the steady epoch time: when a workload run stops
measuring, and how the rule travels through the results file, compare and the report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from documents import write

from bench import results, stats
from bench.commands import compare
from bench.protocol.stopping import MAX_EPOCHS, MIN_FOR_TARGET, StoppingRule
from bench.report import tables
from bench.results import model
from bench.worker.clock import EpochClock, stopping_block, stopping_line

ROOT = Path(__file__).resolve().parents[1]
A = ROOT / "tests" / "data" / "compare" / "machine-a"  # format 1: whole epochs
B_FILE = ROOT / "tests" / "data" / "compare" / "machine-b" / "20260202T100000Z.json"
STEPS = 6


class Timer:
    """A synthetic clock: each step takes the next of ``steps`` seconds, validation 0.1 s."""

    def __init__(self, steps: Iterator[float]) -> None:
        self.steps = steps
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def train(self, clock: EpochClock, epochs: int) -> None:
        """Drive ``clock`` as a training loop of at most ``epochs`` epochs would."""
        for index in range(epochs):
            clock.begin_epoch()
            for _ in range(STEPS):
                self.t += next(self.steps)
                clock.end_step()
            clock.begin_validation()
            self.t += 0.1
            clock.end_validation()
            clock.end_epoch(index, {})
            if clock.stop:
                return


def _run(rule: StoppingRule, steps: Iterator[float]) -> EpochClock:
    timer = Timer(steps)
    clock = EpochClock(64 * STEPS, now=timer.now, rule=rule)
    timer.train(clock, rule.most_epochs)
    return clock


def _quiet() -> Iterator[float]:
    """Steps of 0.5 s within 0.2 %, the first of each epoch 1.5 s or 0.6 s by turns (the input
    pipeline starting again, as measured on a 2-vCPU VM)."""
    rng = np.random.default_rng(1)
    n = 0
    while True:
        first = n % STEPS == 0
        base = (1.5 if rng.random() < 0.5 else 0.6) if first else 0.5
        yield base * (1 + rng.normal(0, 0.002))
        n += 1


def _noisy() -> Iterator[float]:
    """Steps whose times vary by a factor of about 1.6 either way."""
    rng = np.random.default_rng(2)
    while True:
        yield 0.5 * float(rng.lognormal(0, 0.5))


def test_a_quiet_timer_stops_early_at_the_target() -> None:
    """Quiet steps stop the run at its minimum epochs, well inside the budget: their spread
    sizes an epoch's error (`stats.Run`), so the interval is within the target before the six
    epochs a bootstrap of epochs needs; the first step's coin toss does not hold it back,
    because the steady epoch counts it at the other steps' mean."""
    rule = StoppingRule(epochs=3, budget_s=60.0)
    clock = _run(rule, _quiet())
    assert clock.decision is not None
    assert clock.decision.reason == "target"
    assert clock.decision.measured_epochs == rule.epochs - 1 < MIN_FOR_TARGET
    assert clock.decision.half_width is not None
    assert clock.decision.half_width <= rule.target
    spent = sum(e["epoch_s"] for e in clock.epochs if not e["warmup"])
    assert spent < rule.budget_s / 2
    assert stopping_block(clock) == clock.decision.block()
    assert stopping_line("cnn #1", clock.decision.block()) == (
        "  cnn #1: stopped after 2 measured epochs: the median's 95 % interval, sized by its "
        f"steps, reached +-{clock.decision.half_width * 100:.1f}%"
    )
    one = _run(StoppingRule(epochs=2, budget_s=60.0), _quiet()).decision
    assert one is not None
    assert (one.reason, one.measured_epochs) == ("target", 1)
    assert "stopped after 1 measured epoch: " in stopping_line("vgg16 #1", one.block())


def test_quiet_epochs_with_noisy_steps_stop_at_six() -> None:
    """Steps that vary by 5 % make one epoch's error too wide for the target, so the run goes
    on to the six epochs whose own spread (a tenth of that: the steps' noise averages out over
    an epoch) then sizes the interval."""
    rng = np.random.default_rng(3)

    def steps() -> Iterator[float]:
        while True:
            yield 0.5 * (1 + rng.normal(0, 0.05))

    clock = _run(StoppingRule(epochs=2, budget_s=60.0), steps())
    assert clock.decision is not None
    assert (clock.decision.reason, clock.decision.measured_epochs) == ("target", MIN_FOR_TARGET)


def test_a_noisy_timer_runs_to_the_budget_and_says_so() -> None:
    """Noisy steps never reach the target: the run stops when one more epoch at the median
    epoch's pace would pass the budget, and records its wider interval."""
    rule = StoppingRule(epochs=3, budget_s=40.0)
    clock = _run(rule, _noisy())
    decision = clock.decision
    assert decision is not None
    assert decision.reason == "budget"
    assert decision.half_width is not None
    assert decision.half_width > rule.target
    measured = [e["epoch_s"] for e in clock.epochs if not e["warmup"]]
    pace = float(np.median(measured))
    assert pace * len(measured) <= rule.budget_s < pace * (len(measured) + 1)
    assert decision.measured_epochs == len(measured) > MIN_FOR_TARGET


def test_one_stalled_epoch_does_not_cut_a_run_short() -> None:
    """Epochs of 3.2 s, one stalled to 6.2 s: the budget (21 s) is paced by the median epoch,
    so the run still gets the 6 measured epochs an interval needs (a sum would have stopped it
    at 5) and stops when a 7th at that pace would pass the budget."""
    stalled = 3 * STEPS + 2  # a middle step of the third measured epoch

    def steps() -> Iterator[float]:
        n = 0
        while True:
            yield (0.6 if n % STEPS == 0 else 0.5) + (3.0 if n == stalled else 0.0)
            n += 1

    clock = _run(StoppingRule(epochs=3, budget_s=21.0, target=1e-9), steps())
    measured = [e["epoch_s"] for e in clock.epochs if not e["warmup"]]
    assert max(measured) == pytest.approx(6.2)
    assert sum(measured[:5]) + 3.2 > 21.0  # by the wall time spent, no 6th would have run
    assert clock.decision is not None
    assert (clock.decision.reason, clock.decision.measured_epochs) == ("budget", MIN_FOR_TARGET)


def test_the_fixed_rule_runs_the_epochs_asked_for() -> None:
    """A budget of 0 is the fixed rule: exactly the epochs asked for, however quiet."""
    clock = _run(StoppingRule(epochs=3), _quiet())
    assert len(clock.epochs) == 3
    assert clock.decision is not None
    assert clock.decision.reason == "fixed"
    assert clock.decision.measured_epochs == 2


def test_the_minimum_always_runs_and_the_limit_ends_a_run() -> None:
    """The epochs asked for run even past the budget; a huge budget ends at `MAX_EPOCHS`."""
    expensive = _run(StoppingRule(epochs=4, budget_s=0.5), _noisy())
    assert len(expensive.epochs) == 4
    assert expensive.decision is not None
    assert expensive.decision.reason == "budget"
    endless = _run(StoppingRule(epochs=3, budget_s=1e6, target=1e-9), _noisy())
    assert len(endless.epochs) == MAX_EPOCHS
    assert endless.decision is not None
    assert endless.decision.reason == "limit"


def test_an_epochs_steps_add_up_to_its_training_phase() -> None:
    """The clock times every step from the previous reading, so the steps are the training
    phase; the steady epoch counts the first at the mean of the others."""
    timer = Timer(iter([2.0, 0.5, 0.5, 0.5, 0.5, 0.5]))
    clock = EpochClock(64 * STEPS, now=timer.now)
    timer.train(clock, 1)
    epoch = clock.epochs[0]
    assert epoch["step_s"] == [2.0, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert epoch["train_s"] == pytest.approx(sum(epoch["step_s"]))
    assert model.steady_train_seconds(epoch) == pytest.approx(3.0)
    assert model.steady_seconds(epoch) == pytest.approx(3.1)
    assert model.steady_images_per_s(epoch) == pytest.approx(64 * STEPS / 3.0)
    whole = {k: v for k, v in epoch.items() if k != "step_s"}
    assert model.steady_seconds(whole) == pytest.approx(epoch["epoch_s"])


def test_the_steady_epoch_leaves_out_both_boundary_costs() -> None:
    """The first step's excess and the time after validation are left out of a timed epoch:
    its steps at their steady rate and its validation remain. An epoch without timed steps
    (format 4 and older) counts whole, as it always did."""
    epoch = {
        "epoch": 2, "warmup": False, "epoch_s": 4.0, "train_s": 3.0, "validation_s": 0.5,
        "images_per_s": 128.0, "step_s": [1.0, 0.4, 0.4, 0.4, 0.4, 0.4],
    }  # fmt: skip
    assert model.steady_train_seconds(epoch) == pytest.approx(2.4)
    assert model.steady_seconds(epoch) == pytest.approx(2.9)  # the 0.5 s after validation: out
    assert model.steady_images_per_s(epoch) == pytest.approx(128.0 * 3.0 / 2.4)
    whole = {k: v for k, v in epoch.items() if k != "step_s"}
    assert model.steady_seconds(whole) == 4.0
    run = {"status": "ok", "epochs": [{**epoch, "epoch": 1, "warmup": True}, epoch, whole]}
    assert model.epoch_seconds(run) == [pytest.approx(2.9), 4.0]


def _adaptive(data: dict[str, Any], first: float = 0.5, slug: str | None = None) -> None:
    """``data`` (upgraded) as an adaptive run would write it: each epoch's steps timed, the
    first ``first`` of the training phase and five equal others, and why each run stopped."""
    data["schema_version"] = results.SCHEMA_VERSION
    data["config"]["stopping"] = StoppingRule(3, 30.0).stored()
    if slug is not None:
        data["machine"]["slug"] = slug
    for run in data["workloads"]:
        for epoch in run["epochs"]:
            t = epoch["train_s"]
            epoch["step_s"] = [t * first] + [t * (1 - first) / 5] * 5
        if run["status"] == "ok":
            seconds = model.epoch_seconds(run)
            run["stopping"] = {
                "reason": "budget",
                "measured_epochs": len(seconds),
                "half_width": stats.half_width(stats.median_interval([seconds])),
            }


def _plant(root: Path, first: float, slug: str) -> Path:
    data = results.loads(B_FILE.read_text(encoding="utf-8"), str(B_FILE))
    _adaptive(data, first, slug)
    return write(root / slug / B_FILE.name, json.loads(results.dumps(data)))


def test_an_epochs_error_comes_from_its_steps() -> None:
    """The steps after the first give c^2 (pooled by degrees of freedom); an epoch of k steps of
    mean m and validation v has variance c^2 (m^2 k^2 / (k - 1) + m v). Epochs with fewer than
    three steps say nothing; where the epochs vary more than their steps, their spread wins."""
    steps = [1.5, 1.0, 1.02, 0.98, 1.0, 1.0]
    epoch = {"step_s": steps, "train_s": sum(steps), "validation_s": 0.5, "epoch_s": 7.0}
    cv2 = float(np.var(steps[1:], ddof=1))  # mean 1.0
    share, df = model.step_error([epoch])
    assert df == 4
    assert share == pytest.approx(np.sqrt(cv2 * (36 / 5 + 0.5)) / 6.5)
    none, zero = model.step_error([{**epoch, "step_s": [1.0, 1.0]}])
    assert np.isnan(none)
    assert zero == 0
    slow = {**epoch, "step_s": [x * 1.2 for x in steps], "train_s": 1.2 * sum(steps)}
    spread, df = model.step_error([epoch, slow])
    assert df == 8
    assert spread == pytest.approx(np.std([6.5, 7.7], ddof=1) / 7.1)
    run = {"status": "ok", "epochs": [{**epoch, "warmup": True}, {**epoch, "warmup": False}]}
    assert model.run_sample(run) == stats.Run((6.5,), share, 4)


def test_the_recorded_rule_round_trips_through_validate_compare_and_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An adaptive file validates and reads back with its rule; compare refuses to pool it with
    a file of whole epochs (naming the rule) and compares two adaptive files on their steady
    epochs; the report's tables carry the rule in the setting and count the steady epochs."""
    one = _plant(tmp_path / "one", 0.5, "adaptive-one")
    two = _plant(tmp_path / "two", 0.1, "adaptive-two")
    loaded = results.load(one)
    assert loaded["config"]["stopping"]["rule"] == "adaptive"
    run = next(r for r in loaded["workloads"] if r["status"] == "ok")
    assert model.describe(model.setting_of(loaded, run)).endswith("adaptive to +-3%")
    assert run["stopping"]["reason"] == "budget"

    status = compare.main([str(A), str(one)])
    _, err = capsys.readouterr()
    assert status == 2
    assert "stopping rule whole epochs vs adaptive to +-3%" in err

    # Same epochs, but one file's first steps took half the training phase, the other's a
    # tenth: steady, the first is 0.6 of the training phase, the second 1.0.
    status = compare.main([str(one), str(two)])
    out, _ = capsys.readouterr()
    assert status == 0
    assert "faster" in out or "slower" in out

    frames = tables.load_results(tmp_path / "one")
    assert set(frames.epochs["stopping"]) == {"adaptive to +-3%"}
    measured = frames.epochs[~frames.epochs["warmup"] & (frames.epochs["run_status"] == "ok")]
    expected = [s for r in loaded["workloads"] for s in model.epoch_seconds(r)]
    assert sorted(measured["epoch_s"]) == pytest.approx(sorted(expected))


def test_old_files_read_as_whole_epochs_and_keep_their_numbers() -> None:
    """A file of format 4 or older reads with the rule ``whole-epochs``, and its epochs count
    as they were measured."""
    loaded = results.load(B_FILE)
    assert loaded["config"]["stopping"] == {"rule": "whole-epochs"}
    for run in loaded["workloads"]:
        if run["status"] == "ok":
            assert model.epoch_seconds(run) == [
                e["epoch_s"] for e in run["epochs"] if not e["warmup"]
            ]
