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
bootstrap does, and the interval stays honest where resampling single steps would not.

The adaptive rule (`StoppingRule.decide`, after each epoch):

1. the profile's epochs (``--epochs``) always run: the minimum, as with the fixed rule;
2. the run stops with reason ``target`` once it has at least `MIN_FOR_TARGET` measured epochs
   and the interval's half-width is within the target (+-3 % by default, the precision that
   resolves a 5 % difference between two machines);
3. otherwise it stops with reason ``budget`` when one more epoch would take the measured epochs
   past the budget at the pace of their median wall time (so one stalled epoch, 9 s among 4.4 s
   ones in a quick CNN run here, does not cut the run short of the epochs its interval needs),
   and with reason ``limit`` at `MAX_EPOCHS`.

Cheap workloads get many epochs, expensive ones the minimum. The rule and target are part of what
makes runs comparable (`bench.results.model.KEY`): later epochs of a long run can differ from
early ones (a laptop warms up), so files of another rule are never pooled. The budget only says
how long to try; it is recorded, not compared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench import stats

MIN_FOR_TARGET = 6
"""Measured epochs before the target may stop a run. The percentile bootstrap of a median
undercovers on very few values: the true median lies outside the range of n values with
probability 2 x 0.5^n, 6.25 % for 5 values, 3.1 % for 6, so fewer than 6 cannot hold a 95 %
interval whatever the resamples say."""

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
    """The median's interval half-width over the median when it stopped; None below 2 epochs."""

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
        }

    def decide(self, measured: Sequence[float], spent: Sequence[float]) -> Decision | None:
        """After an epoch: a `Decision` to stop, or None to run another.

        ``measured`` is the steady seconds of the measured epochs so far (the warm-up left out),
        whose median the interval is of; ``spent`` their wall seconds, whose median paces the
        budget.
        """
        n = len(measured)
        if n + 1 < self.epochs:
            return None
        width = precision(measured)
        if not self.adaptive:
            return Decision("fixed", n, width)
        if n >= MIN_FOR_TARGET and width is not None and width <= self.target:
            return Decision("target", n, width)
        if n and stats.pooled_median([spent]) * (n + 1) > self.budget_s:
            return Decision("budget", n, width)
        if n + 1 >= self.most_epochs:
            return Decision("limit", n, width)
        return None


def precision(measured: Sequence[float]) -> float | None:
    """The half-width of the median's 95 % interval over the median, from this run's epochs alone
    (what more epochs can narrow: no allowance for other processes); None below 2 epochs."""
    if len(measured) < 2:
        return None
    width = stats.half_width(stats.median_interval([list(measured)], spread=0.0))
    return width if math.isfinite(width) else None
