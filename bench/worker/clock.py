"""Where the epoch is timed: `EpochClock` splits each epoch into training and validation, read by
a Keras callback (`make_epoch_timer`) or by MLX's training loop.

Wall time with `time.perf_counter`. In ``fit``, validation runs at the end of each epoch between
``on_test_begin`` and ``on_test_end``, so the training phase is the epoch start to the validation
start. Before each clock reading the queued work is waited for (`bench.worker.backends.wait_for_model`,
and reading the metrics): JAX and GPUs run steps asynchronously, so without it the training
steps of an epoch would be counted as validation. The first epoch is kept but marked as warm-up: it includes graph tracing (about 2x slower
on a 2-core CPU) and is left out of the headline average.

Each training step is read too (``step_s``: the time from the previous reading, the epoch's start
for the first step, to the end of the step, its queued work waited for), so the steps of an epoch
add up to its training phase: what varies is seen where it happens, a stall in one step apart
from an epoch that is slow throughout.
"""

from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Callable
from typing import Any, Self

from bench import stats
from bench.protocol.stopping import MIN_FOR_TARGET, Decision, StoppingRule
from bench.results.model import steady_seconds, step_error
from bench.worker import backends
from bench.worker.energy import EnergyMeter


def _metric(logs: dict[str, Any], name: str) -> float | None:
    value = logs.get(name)
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def _metrics(logs: dict[str, Any]) -> dict[str, float | None]:
    """The epoch's metrics as numbers: converting them waits for the device to compute them."""
    return {name: _metric(logs, name) for name in METRICS}


class EpochClock:
    """The epoch's readings, whatever trains: one dict per epoch in ``.epochs``.

    The caller waits for the queued work before each reading: Keras's callback
    (`make_epoch_timer`) through `bench.worker.backends.wait_for_model`, MLX's loop
    (`bench.worker.mlx_training`) by evaluating each step. ``report`` is called with each
    finished epoch (the CLI prints a progress line).
    """

    def __init__(
        self,
        train_images: int,
        report: Callable[[dict[str, Any]], None] | None = None,
        now: Callable[[], float] = time.perf_counter,
        meter: EnergyMeter | None = None,
        rule: StoppingRule | None = None,
    ) -> None:
        self.train_images = train_images
        self.rule = rule
        """When to stop (None: never early; the caller's loop count decides)."""
        self.decision: Decision | None = None
        """Why the epochs stopped, once `rule` says so."""
        self.report = report
        self.now = now
        """The clock read (tests give their own)."""
        self.meter = meter if meter is not None and meter.available else None
        """Energy counters read beside the clock, where the machine has any."""
        self._energy: list[dict[str, float | None]] = []
        self.epochs: list[dict[str, Any]] = []
        self._epoch_start = 0.0
        self._test_start: float | None = None
        self._test_end: float | None = None
        self._steps: list[float] = []
        self._last = 0.0

    def begin_epoch(self) -> None:
        self._test_start = self._test_end = None
        self._steps = []
        self._epoch_start = self._last = self.now()
        self._energy = [self.meter.read()] if self.meter else []

    def end_step(self) -> None:
        """A training step is done (and waited for)."""
        now = self.now()
        self._steps.append(now - self._last)
        self._last = now

    def begin_validation(self) -> None:
        """The training steps are done (and waited for): validation starts."""
        self._test_start = self.now()
        if self.meter:
            self._energy.append(self.meter.read())

    def end_validation(self) -> None:
        """The validation steps are done (and waited for)."""
        self._test_end = self.now()

    def end_epoch(self, index: int, metrics: dict[str, float | None]) -> dict[str, Any]:
        """Close epoch ``index`` (from 0; the first is the warm-up) with its metrics (`METRICS`,
        as numbers: reading them has waited for the device)."""
        end = self.now()
        energy = self._energy_of_epoch(self.meter.read()) if self.meter else None
        train_end = self._test_start if self._test_start is not None else end
        validation_s = (
            self._test_end - self._test_start
            if self._test_start is not None and self._test_end is not None
            else 0.0
        )
        train_s = train_end - self._epoch_start
        record: dict[str, Any] = {
            "epoch": index + 1,
            "warmup": index == 0,
            "epoch_s": end - self._epoch_start,
            "train_s": train_s,
            "validation_s": validation_s,
            "images_per_s": self.train_images / train_s,
            **{name: metrics.get(name) for name in METRICS},
        }
        if self._steps:
            record["step_s"] = list(self._steps)
        if energy is not None:
            record["energy_j"] = energy
        self.epochs.append(record)
        if self.report is not None:
            self.report(record)
        if self.rule is not None and self.decision is None:
            measured = [e for e in self.epochs if not e["warmup"]]
            sample = stats.Run(tuple(steady_seconds(e) for e in measured), *step_error(measured))
            self.decision = self.rule.decide(sample, [e["epoch_s"] for e in measured])
        return record

    @property
    def stop(self) -> bool:
        """Whether the rule says no further epoch is needed."""
        return self.decision is not None

    def _energy_of_epoch(self, end: dict[str, float | None]) -> dict[str, Any]:
        """Joules per domain of the training phase and of the whole epoch."""
        assert self.meter is not None
        start = self._energy[0]
        train_end = self._energy[1] if len(self._energy) > 1 else end
        return {
            "train": self.meter.between(start, train_end),
            "epoch": self.meter.between(start, end),
        }


def make_epoch_timer(
    train_images: int,
    report: Callable[[dict[str, Any]], None] | None = None,
    meter: EnergyMeter | None = None,
    rule: StoppingRule | None = None,
) -> Any:
    """A Keras ``Callback`` (of `bench.worker.backends.keras`) that reads an `EpochClock`;
    its ``.epochs`` are the clock's, and it ends ``fit`` where ``rule`` says."""

    class EpochTimer(backends.keras().callbacks.Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.clock = EpochClock(train_images, report, meter=meter, rule=rule)
            self.epochs = self.clock.epochs

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.clock.begin_epoch()

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            backends.wait_for_model(self.model)
            self.clock.end_step()

        # Each clock reading waits for the queued steps first (`backends.wait_for_model`): on
        # JAX the training steps would otherwise be counted as validation time.
        def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
            backends.wait_for_model(self.model)
            self.clock.begin_validation()

        def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
            # Reading the validation metrics waits for the evaluation steps.
            _metrics(logs or {})
            self.clock.end_validation()

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            backends.wait_for_model(self.model)
            self.clock.end_epoch(epoch, _metrics(logs or {}))
            if self.clock.stop:
                self.model.stop_training = True

    return EpochTimer()


def stopping_block(timer: EpochClock) -> dict[str, Any]:
    """The ``stopping`` block of a run whose epochs all ran: its rule's decision, which every
    rule makes by its last epoch (`bench.protocol.stopping.StoppingRule.most_epochs`)."""
    if timer.decision is None:
        msg = "the epochs ended before the stopping rule decided"
        raise RuntimeError(msg)
    return timer.decision.block()


def stopping_line(tag: str, block: dict[str, Any]) -> str:
    """``cnn #1: stopped after 7 measured epochs: the median's interval reached +-2.4%``; a run
    that reached the target with fewer than `MIN_FOR_TARGET` epochs says its steps sized it."""
    width = block["half_width"]
    said = f"+-{width * 100:.1f}%" if width is not None else "no interval"
    n = block["measured_epochs"]
    sized = ", sized by its steps," if n < MIN_FOR_TARGET else ""
    why = {
        "target": f"the median's 95 % interval{sized} reached {said}",
        "budget": f"the time budget was spent first ({said})",
        "limit": f"the most epochs a run may take ({said})",
        "fixed": f"the epochs asked for ({said})",
    }[block["reason"]]
    return f"  {tag}: stopped after {n} measured epoch{'' if n == 1 else 's'}: {why}"


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


class Stopwatch:
    """``with Stopwatch() as sw: ...`` then ``sw.seconds``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Self:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start
