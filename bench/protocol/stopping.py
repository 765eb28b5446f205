"""When a workload run stops measuring: after a fixed number of epochs, or adaptively, once its
estimate is precise enough or its time budget is spent.

The estimate is the one every report prints: the median of the run's measured epochs (warm-up
left out) with its 95 % percentile-bootstrap interval (`bench.stats.median_interval`). The epoch
is the resampling unit. Its steps are timed too (``step_s``), and they are what shows why: on a
2-vCPU VM the quick CNN's steps 2 to 6 stayed within about 2 % of 0.52 s, while the first step of
each epoch (the input pipeline starting again) took 0.6 s or 1.9 s, by turns. Steps of one epoch
are correlated (a slow first step is followed by normal ones; lag-1 correlation -0.16 to -0.35
over 20 epochs); whole epochs were nearly independent (lag-1 correlation -0.19 and 0.08), so
resampling epochs keeps the within-epoch correlation inside each resampled unit, as a block
bootstrap does, and the interval stays honest where resampling single steps would not. A run
with fewer measured epochs than a bootstrap can hold (`MIN_FOR_TARGET`) but with timed steps is
drawn as its median times a Student-t factor sized by its steps' spread (`bench.stats.Run`):
the steps size one epoch's error; they are never resampled one by one.

The adaptive rule (`StoppingRule.decide`, after each epoch):

1. the profile's epochs (``--epochs``) always run: the minimum, as with the fixed rule;
2. the run stops with reason ``target`` once the interval every report prints for it (the
   allowance for other processes included, `bench.stats.PROCESS_SPREAD`) is within the target
   (+-3 % by default, the precision that resolves a 5 % difference between two machines), and
   the run holds a 95 % interval: `MIN_FOR_TARGET` measured epochs, or fewer whose steps were
   timed (`bench.stats.Run`: a quick VGG-16 epoch of a minute on a CPU is six steps whose spread
   gives its error, so one measured epoch can be enough);
3. otherwise it stops with reason ``budget`` when one more epoch would take the measured epochs
   past the budget at the pace of their median wall time (so one stalled epoch, 9 s among 4.4 s
   ones in a quick CNN run here, does not cut the run short of the epochs its interval needs),
   and with reason ``limit`` at `MAX_EPOCHS`.

Cheap workloads get many epochs, expensive ones the minimum. The rule and target are part of what
makes runs comparable (`bench.results.model.KEY`): later epochs of a long run can differ from
early ones (a laptop warms up), so files of another rule are never pooled. The budget only says
how long to try; it is recorded, not compared. Since the allowance for other processes alone is
+-2.4 %, a target below about 2.5 % is never reached: such a run always spends its budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench import stats

MIN_FOR_TARGET = stats.MIN_EPOCHS
"""Measured epochs before the target may stop a run whose steps were not timed (six: fewer
cannot hold a 95 % interval of their median, `bench.stats.MIN_EPOCHS`)."""

MAX_EPOCHS = 100
"""Epochs of one run at most, warm-up included (bounds a results file)."""


@dataclass(frozen=True)
class Decision:
    """Why a run stopped where it did (the ``stopping`` block of a workload run)."""

    reason: str
    """``fixed`` (the fixed rule's epochs ran), ``target`` (the interval reached the target),
    ``budget`` (the budget was spent first) or ``limit`` (`MAX_EPOCHS` ran)."""
    measured_epochs: int
    half_width: float | None
    """The median's interval half-width over the median when it stopped (`precision`); None
    where the run had no interval."""

    def block(self) -> dict[str, Any]:
        """As the results file keeps it."""
        return {
            "reason": self.reason,
            "measured_epochs": self.measured_epochs,
            "half_width": self.half_width,
        }


@dataclass(frozen=True)
class StoppingRule:
    """How long a workload run measures."""

    epochs: int
    """Epochs always run, the warm-up included (the profile's, or ``--epochs``)."""
    budget_s: float = 0.0
    """Seconds of measured epochs the adaptive rule may spend; 0 is the fixed rule."""
    target: float = stats.PRECISION_TARGET
    """Half-width of the median's 95 % interval, as a share of the median, that stops a run."""

    @property
    def adaptive(self) -> bool:
        return self.budget_s > 0

    @property
    def most_epochs(self) -> int:
        """Epochs a run may take: the training loop's count, which `decide` ends early."""
        return max(self.epochs, MAX_EPOCHS) if self.adaptive else self.epochs

    def stored(self) -> dict[str, Any]:
        """The ``config.stopping`` block of a results file."""
        if not self.adaptive:
            return {"rule": "fixed"}
        return {
            "rule": "adaptive",
            "target": self.target,
            "confidence": stats.CONFIDENCE,
            "budget_s": self.budget_s,
            "min_for_target": MIN_FOR_TARGET,
            "max_epochs": self.most_epochs,
            "process_spread": stats.PROCESS_SPREAD,
            "short_runs": "steps",
        }

    def decide(
        self, measured: stats.Run | Sequence[float], spent: Sequence[float]
    ) -> Decision | None:
        """After an epoch: a `Decision` to stop, or None to run another.

        ``measured`` is the steady seconds of the measured epochs so far (the warm-up left out),
        whose median the interval is of, as a `bench.stats.Run` where the steps' error is known;
        ``spent`` their wall seconds, whose median paces the budget.
        """
        run = _as_run(measured)
        n = len(run)
        if n + 1 < self.epochs:
            return None
        width = precision(run)
        if not self.adaptive:
            return Decision("fixed", n, width)
        if holds_interval(run) and width is not None and width <= self.target:
            return Decision("target", n, width)
        if n and stats.pooled_median([spent]) * (n + 1) > self.budget_s:
            return Decision("budget", n, width)
        if n + 1 >= self.most_epochs:
            return Decision("limit", n, width)
        return None


def _as_run(measured: stats.Run | Sequence[float]) -> stats.Run:
    return measured if isinstance(measured, stats.Run) else stats.Run(tuple(measured))


def holds_interval(run: stats.Run) -> bool:
    """Whether the run's interval is a 95 % one: `MIN_FOR_TARGET` measured epochs, or fewer
    resampled through their steps (`bench.stats.Run.by_steps`)."""
    return run.by_steps or len(run) >= MIN_FOR_TARGET


def precision(measured: stats.Run | Sequence[float]) -> float | None:
    """The half-width of the median's 95 % interval over the median, as every report prints it
    for this run alone (`bench.stats.median_interval`, the allowance for other processes
    included); None where there is none: no measured epoch, or one whose steps were not timed."""
    run = _as_run(measured)
    if not run.by_steps and len(run) < 2:
        return None
    width = stats.half_width(stats.median_interval([run]))
    return width if math.isfinite(width) else None
