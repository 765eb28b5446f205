"""Where a machine stands: its rank among every machine with comparable runs, per workload.

For each setting (every field of the comparability key, `bench.results.model.KEY`) each machine
has one figure: the median of all its measured epochs of that setting (warm-up left out, every
file and repeat pooled, `bench.stats.pooled_median`, the figure ``compare`` shows). Machines
are ranked by it, fastest first; equal medians share a rank. A machine's percentile is the share
of the *other* machines it is faster than (100 % for the fastest of several; none for a machine
alone). Sorting makes this O(n log n) in the machines; no pair is ever formed.

Reads documents through the model's accessors only (no pandas, no TensorFlow), so the harness
prints the same lines after ``nox -s bench`` that ``share`` and the machine pages show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bench import stats
from bench.results import model

WORKLOAD_ORDER = ("cnn", "cnn-aug", "vgg16", "vgg16-aug")


@dataclass(frozen=True)
class Neighbour:
    """A machine next in the ranking."""

    machine: str
    median_s: float


@dataclass(frozen=True)
class Standing:
    """One machine's place among the machines with runs of one setting."""

    setting: model.Setting
    machine: str
    median_s: float
    rank: int
    """1 for the fastest; machines with equal medians share a rank."""
    machines: int
    """How many machines have runs of this setting (this one included)."""
    faster: Neighbour | None
    """The next faster machine, when there is one."""
    slower: Neighbour | None
    """The next slower machine, when there is one."""

    @property
    def workload(self) -> str:
        return str(self.setting[0])

    @property
    def percentile(self) -> float | None:
        """Percent of the other machines this one is faster than; None when it is alone."""
        others = self.machines - 1
        if others == 0:
            return None
        slower = self.machines - self.rank - self._ties
        return 100.0 * slower / others

    _ties: int = 0
    """Other machines with exactly this median."""

    def line(self) -> str:
        """``cnn: 3rd of 120 (faster than 97 % of the others), 4.21 s/epoch; next faster: x
        (4.02 s), next slower: y (4.50 s)``."""
        if self.percentile is None:
            return (
                f"{self.workload}: {self.median_s:.3g} s/epoch, the only machine with runs of "
                "this setting so far"
            )
        parts = [
            (
                f"{self.workload}: {ordinal(self.rank)} of {self.machines} "
                f"(faster than {self.percentile:.0f} % of the others), {self.median_s:.3g} s/epoch"
            )
        ]
        if self.faster is not None:
            parts.append(f"next faster: {self.faster.machine} ({self.faster.median_s:.3g} s)")
        if self.slower is not None:
            parts.append(f"next slower: {self.slower.machine} ({self.slower.median_s:.3g} s)")
        return "; ".join(parts)


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``21st``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def medians(
    documents: Iterable[tuple[str, Mapping[str, Any]]],
) -> dict[model.Setting, dict[str, float]]:
    """Per setting, each machine's pooled median seconds per measured epoch.

    ``documents`` holds ``(path, document)``; runs are grouped by (file, repeat) in that order,
    as `model.epoch_groups` orders them.
    """
    runs: dict[model.Setting, dict[str, list[tuple[str, int, list[float]]]]] = {}
    for path, document in documents:
        slug = str(document["machine"]["slug"])
        for run in document["workloads"]:
            seconds = model.epoch_seconds(run)
            if not seconds:
                continue
            setting = model.setting_of(document, run)
            runs.setdefault(setting, {}).setdefault(slug, []).append(
                (str(path), int(run["repeat"]), seconds)
            )
    return {
        setting: {
            slug: stats.pooled_median(model.epoch_groups(found)) for slug, found in machines.items()
        }
        for setting, machines in runs.items()
    }


def rank(setting: model.Setting, figures: Mapping[str, float]) -> dict[str, Standing]:
    """Every machine's `Standing` among ``figures`` (machine to median seconds)."""
    ordered = sorted(figures.items(), key=lambda item: (item[1], item[0]))
    found: dict[str, Standing] = {}
    count = len(ordered)
    first = 0
    while first < count:
        last = first
        while last + 1 < count and ordered[last + 1][1] == ordered[first][1]:
            last += 1
        faster = Neighbour(*ordered[first - 1]) if first > 0 else None
        slower = Neighbour(*ordered[last + 1]) if last + 1 < count else None
        for machine, median_s in ordered[first : last + 1]:
            found[machine] = Standing(
                setting, machine, median_s, first + 1, count, faster, slower, last - first
            )
        first = last + 1
    return found


def standings(
    documents: Iterable[tuple[str, Mapping[str, Any]]],
) -> dict[model.Setting, dict[str, Standing]]:
    """Every machine's standing in every setting."""
    return {setting: rank(setting, figures) for setting, figures in medians(documents).items()}


def of_machine(
    table: Mapping[model.Setting, Mapping[str, Standing]],
    machine: str,
    settings: Iterable[model.Setting] | None = None,
) -> list[Standing]:
    """``machine``'s standings (only ``settings`` when given), in workload order, the most
    telling setting first (`model.preference`)."""
    wanted = None if settings is None else set(settings)
    found = [
        by_machine[machine]
        for setting, by_machine in table.items()
        if machine in by_machine and (wanted is None or setting in wanted)
    ]
    order = {w: i for i, w in enumerate(WORKLOAD_ORDER)}
    return sorted(
        found,
        key=lambda s: (order.get(s.workload, 99), model.preference(s.setting), str(s.setting)),
    )


def lines(standings_: Iterable[Standing]) -> list[str]:
    """One line per standing, with its setting in words when a workload has several."""
    found = list(standings_)
    counts: dict[str, int] = {}
    for s in found:
        counts[s.workload] = counts.get(s.workload, 0) + 1
    return [
        s.line() + (f" [{model.describe(s.setting)}]" if counts[s.workload] > 1 else "")
        for s in found
    ]


def where_it_stands(
    documents: Mapping[Any, Mapping[str, Any]], new: Mapping[str, Any], folder: str = "results"
) -> list[str]:
    """The lines that say where the machine of document ``new`` stands, per workload it ran,
    among the machines of ``documents`` (path to document, ``new`` among them or not).

    Only the settings ``new`` ran are ranked; its machine's other files of those settings count
    too (a machine is ranked on all its runs).
    """
    slug = str(new["machine"]["slug"])
    mine = {model.setting_of(new, run) for run in new["workloads"] if model.epoch_seconds(run)}
    if not mine:
        return []
    pool = {str(path): document for path, document in documents.items()}
    if not any(document is new for document in pool.values()):
        pool["<new>"] = new
    table = standings(sorted(pool.items()))
    found = of_machine(table, slug, mine)
    count = len({str(d["machine"]["slug"]) for d in pool.values()})
    head = (
        f"Where {slug} stands among the {count} machine{'s' if count != 1 else ''} in {folder}/ "
        "(machines with runs of the same setting; median s/epoch, all of a machine's runs):"
    )
    return [head, *[f"  {line}" for line in lines(found)]]
