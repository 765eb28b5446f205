"""Compare two machines (or two setups): ``benchbook compare A B [--force]``.

A and B are each a results file or a machine folder (``results/<slug>/``: every file in it).
For each workload the two sides share, it prints both medians of the measured epoch times (warm-up
left out, pooled over runs), their 95 % bootstrap intervals, how many times faster B is than A
with its interval, a plain verdict, which runs were noisy (`bench.stats`) and, where the runs
measured them, the input-only and compute-only throughputs (`bench.worker.throughputs`).

Only comparable runs are compared: the same workload, profile, image size, batch size, dataset
(kind and fingerprint), VGG-16 weights actually used, input pipeline, intra-op threads and Keras
version (`bench.results.model.KEY`, which the report uses too). When a workload has no comparable pair the command refuses, names the field that
differs and exits with status 2; ``--force`` compares the closest settings anyway and marks
every line of that comparison FORCED.

Everything shown from a results file passes through `bench.text.printable`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench import results, stats
from bench.errors import UserError
from bench.readers import energy, verdicts
from bench.results import model
from bench.results.model import WORKLOADS, Setting, setting_of
from bench.text import printable


def describe(setting: Setting) -> str:
    """A setting in words: ``quick profile, 224 px, batch 64, synthetic data 3f2a9c1e, ...``."""
    return printable(model.describe(setting))


def differences(a: Setting, b: Setting) -> list[str]:
    """Where two settings differ: ``profile quick vs full`` (A's value first), one per field."""
    return [printable(d) for d in model.differences(a, b)]


@dataclass(frozen=True)
class Run:
    """One workload run (one repeat in one file) of a side."""

    file: Path
    repeat: int
    setting: Setting
    status: str
    error: str | None
    measured: npt.NDArray[np.float64]
    """Seconds of each measured epoch (`bench.results.model.measured_epochs`)."""
    step_error: float = math.nan
    """One epoch's error from the run's steps, and its degrees of freedom
    (`bench.results.model.step_error`)."""
    step_df: int = 0
    input_rate: float = math.nan
    """Input-only images/s of the run's attribution block; NaN when not measured."""
    compute_rate: float = math.nan
    """Compute-only images/s of the run's attribution block; NaN when not measured."""
    warnings: tuple[str, ...] = ()
    """The training checks the run fails (`bench.readers.verdicts.run_warnings`)."""
    joules: tuple[float, ...] = ()
    """Joules of each measured epoch, all counter domains (`bench.readers.energy.epoch_joules`);
    empty where the machine has no energy counter."""

    @property
    def name(self) -> str:
        """``<file stem> #<repeat>``, to point at a run in the output."""
        return printable(f"{self.file.stem} #{self.repeat}", 60)

    @property
    def sample(self) -> stats.Run:
        """The measured epochs as estimates resample them (`bench.results.model.run_sample`)."""
        return stats.Run(tuple(self.measured.tolist()), self.step_error, self.step_df)

    @property
    def usable(self) -> bool:
        """Finished, with at least one measured epoch."""
        return self.status == "ok" and self.measured.size > 0

    @property
    def cv(self) -> float:
        """Coefficient of variation of the measured epochs (NaN below 2)."""
        return stats.coefficient_of_variation(self.measured)


def _median_rate(values: Sequence[float]) -> str:
    """The median of the finite ``values`` as ``172 img/s``; ``-`` when there are none."""
    finite = [v for v in values if math.isfinite(v)]
    return f"{float(np.median(finite)):,.0f} img/s" if finite else "-"


@dataclass
class Side:
    """What one command-line argument names: one results file, or every file of a folder."""

    letter: str
    given: Path
    documents: list[tuple[Path, results.Result]]
    runs: list[Run] = field(default_factory=list)

    def __post_init__(self) -> None:
        for path, document in self.documents:
            for run in document["workloads"]:
                found = model.attribution_of(run)
                sample = model.run_sample(run)
                self.runs.append(
                    Run(
                        file=path,
                        repeat=run["repeat"],
                        setting=setting_of(document, run),
                        status=run["status"],
                        error=run["error"],
                        measured=np.asarray(sample.seconds, dtype=float),
                        step_error=sample.step_error,
                        step_df=sample.step_df,
                        input_rate=found.input_images_per_s,
                        compute_rate=found.compute_images_per_s,
                        warnings=tuple(verdicts.run_warnings(document, run)),
                        joules=tuple(energy.epoch_joules(run)),
                    )
                )

    def settings(self, workload: str) -> list[Setting]:
        """Distinct settings of the usable runs of ``workload``, in file order."""
        seen: dict[Setting, None] = {}
        for run in self.runs:
            if run.usable and run.setting[0] == workload:
                seen.setdefault(run.setting)
        return list(seen)

    def usable(self, setting: Setting) -> list[Run]:
        """The usable runs with exactly ``setting``, by file and repeat (`model.epoch_groups`'s
        order, so the report's bootstrap and this one draw the same numbers)."""
        found = [r for r in self.runs if r.usable and r.setting == setting]
        return sorted(found, key=lambda r: (str(r.file), r.repeat))

    def workloads(self) -> list[str]:
        """Workloads with any run (usable or not), in the harness's order."""
        present = {r.setting[0] for r in self.runs}
        return [w for w in WORKLOADS if w in present]

    def header(self) -> str:
        """``A: results/x (machine x "label"; 2 files; TensorFlow 2.18.1, Keras 3.15.1)``."""
        docs = [d for _, d in self.documents]

        def values(get: Callable[[results.Result], Any]) -> str:
            found = sorted({str(get(d)) for d in docs if get(d) is not None})
            return "/".join(printable(v, 40) for v in found) or "?"

        machine = values(lambda d: d["machine"]["slug"])
        label = values(lambda d: d["machine"].get("label"))
        software = f"{values(model.framework)}, Keras {values(lambda d: d['software']['keras'])}"
        metal = values(lambda d: d["software"]["tensorflow_metal"])
        if metal != "?":
            software += f", tensorflow-metal {metal}"
        files = f"{len(docs)} file" + ("s" if len(docs) != 1 else "")
        labelled = f' "{label}"' if label != "?" else ""
        return (
            f"{self.letter}: {printable(self.given)} "
            f"(machine {machine}{labelled}; {files}; {software})"
        )


@dataclass(frozen=True)
class Pairing:
    """Runs of A and of B to compare for one workload."""

    workload: str
    setting_a: Setting
    setting_b: Setting
    runs_a: list[Run]
    runs_b: list[Run]

    @property
    def differs(self) -> list[str]:
        """Fields of `KEY` that differ (empty unless forced)."""
        return differences(self.setting_a, self.setting_b)


def groups(runs: Sequence[Run]) -> list[stats.Run]:
    """The measured epochs of ``runs``, one group per run with its steps' error, in the order
    every bootstrap of the project draws them (`bench.results.model.epoch_groups`, which the
    report uses too)."""
    return model.epoch_groups((str(r.file), r.repeat, r.sample) for r in runs)


def joule_groups(runs: Sequence[Run]) -> list[stats.Run]:
    """The joules of ``runs``' measured epochs, one group per run with any, in `groups`' order."""
    return model.epoch_groups((str(r.file), r.repeat, list(r.joules)) for r in runs)


def _joules(interval: stats.Interval) -> str:
    d = _digits(interval.value)
    return (
        f"{_seconds(interval.value, d)} J (95 % CI {_seconds(interval.low, d)} to "
        f"{_seconds(interval.high, d)})"
    )


def energy_lines(runs_a: Sequence[Run], runs_b: Sequence[Run]) -> list[str]:
    """Joules per epoch of each side with its interval, and B against A, where both sides have
    energy counters; a line saying which side has none otherwise (nothing when neither has)."""
    found = {"A": joule_groups(runs_a), "B": joule_groups(runs_b)}
    missing = [letter for letter, g in found.items() if not g]
    if len(missing) == 2:
        return []
    if missing:
        return [f"  energy per epoch: not compared ({missing[0]} has no energy counter)"]
    a, b = (stats.median_interval(found[x]) for x in "AB")
    ratio = stats.ratio_interval(found["A"], found["B"])
    return [
        f"  energy per epoch: A {_joules(a)}; B {_joules(b)}",
        f"  B vs A energy: {stats.energy_verdict(ratio)}",
    ]


def _closest(a: list[Setting], b: list[Setting]) -> tuple[Setting, Setting]:
    """The pair of settings that differ in the fewest fields (the first such pair)."""
    return min(
        ((x, y) for x in a for y in b),
        key=lambda pair: sum(u != v for u, v in zip(*pair, strict=True)),
    )


def pair(a: Side, b: Side, *, force: bool = False) -> tuple[list[Pairing], list[str]]:
    """What to compare, and notes on what is left out.

    Settings present on both sides are compared. A workload both sides ran but with no setting
    in common is refused, unless ``force``: then its closest settings are compared.

    Raises
    ------
    UserError
        When the sides share no workload, or (without ``force``) a shared workload has no
        comparable runs; the message names the fields that differ.
    """
    pairings: list[Pairing] = []
    notes: list[str] = []
    refused: list[str] = []
    shared = [w for w in a.workloads() if w in b.workloads()]
    for side, other in ((a, b), (b, a)):
        for w in side.workloads():
            if w not in other.workloads():
                notes.append(f"{w}: only in {side.letter}, not compared")
    if not shared:
        msg = (
            f"A ({printable(a.given)}) and B ({printable(b.given)}) have no workload in common; "
            "give results of the same workloads"
        )
        raise UserError(msg)
    for w in shared:
        settings_a, settings_b = a.settings(w), b.settings(w)
        if not settings_a or not settings_b:
            empty = ", ".join(
                s.letter for s, found in ((a, settings_a), (b, settings_b)) if not found
            )
            notes.append(f"{w}: no finished run with measured epochs in {empty}, not compared")
            continue
        matched = [s for s in settings_a if s in settings_b]
        if matched:
            pairings.extend(Pairing(w, s, s, a.usable(s), b.usable(s)) for s in matched)
            for side, own in ((a, settings_a), (b, settings_b)):
                for s in own:
                    if s not in matched:
                        notes.append(
                            f"{w}: {side.letter} also has runs with {describe(s)}; "
                            "none comparable on the other side, left out"
                        )
            continue
        x, y = _closest(settings_a, settings_b)
        if force:
            pairings.append(Pairing(w, x, y, a.usable(x), b.usable(y)))
        else:
            refused.append(f"{w} differs in {', '.join(differences(x, y))}")
    if refused:
        msg = (
            f"not comparable: {'; '.join(refused)}; "
            "compare runs made with the same settings, or pass --force to compare anyway"
        )
        raise UserError(msg)
    if not pairings:
        msg = (
            f"nothing could be compared ({'; '.join(notes)}); give results with finished runs "
            "of the same workloads on both sides"
        )
        raise UserError(msg)
    return pairings, notes


def _digits(x: float) -> int:
    """Decimals that show 3 significant digits of ``x`` without an exponent."""
    if not math.isfinite(x) or x <= 0:
        return 2
    return max(0, 2 - math.floor(math.log10(x)))


def _seconds(x: float, digits: int | None = None) -> str:
    return f"{x:.{_digits(x) if digits is None else digits}f}"


def _noisy(runs: Sequence[Run]) -> str:
    flagged = [r for r in runs if stats.is_noisy(r.measured)]
    if not flagged:
        return "-"
    names = ", ".join(r.name for r in flagged[:3]) + (", ..." if len(flagged) > 3 else "")
    return f"{len(flagged)} of {len(runs)} runs ({names})"


def _worst_cv(runs: Sequence[Run]) -> str:
    cvs = [r.cv for r in runs if math.isfinite(r.cv)]
    return f"{max(cvs) * 100:.1f} %" if cvs else "n/a"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def render_pairing(p: Pairing) -> list[str]:
    """The lines of one workload's comparison (every line starts FORCED when it was forced)."""
    groups_a, groups_b = groups(p.runs_a), groups(p.runs_b)
    median_a, median_b = stats.median_interval(groups_a), stats.median_interval(groups_b)
    ratio = stats.ratio_interval(groups_a, groups_b)
    differs = p.differs
    if differs:
        title = [
            f"{p.workload}: not comparable, compared because of --force: {', '.join(differs)}",
            f"  A: {describe(p.setting_a)}",
            f"  B: {describe(p.setting_b)}",
        ]
    else:
        title = [f"{p.workload}: {describe(p.setting_a)}"]
    rows = [["", "runs", "epochs", "median s/epoch", "95 % CI", "worst CV", "noisy",
             "input only", "compute only"]]  # fmt: skip
    for letter, runs, m in (("A", p.runs_a, median_a), ("B", p.runs_b, median_b)):
        d = _digits(m.value)
        rows.append(
            [
                f"  {letter}",
                str(len(runs)),
                str(sum(r.measured.size for r in runs)),
                _seconds(m.value, d),
                f"{_seconds(m.low, d)} to {_seconds(m.high, d)}",
                _worst_cv(runs),
                _noisy(runs),
                _median_rate([r.input_rate for r in runs]),
                _median_rate([r.compute_rate for r in runs]),
            ]
        )
    lines = [*title, *_table(rows), f"  B vs A: {stats.verdict(ratio)}"]
    lines += energy_lines(p.runs_a, p.runs_b)
    if differs:
        lines = [f"FORCED {line}" for line in lines]
    return lines


def _failures(side: Side, workloads: Sequence[str]) -> list[str]:
    notes = []
    for w in workloads:
        failed = [r for r in side.runs if r.setting[0] == w and r.status != "ok"]
        if failed:
            first = failed[0]
            error = printable(first.error or "no error recorded", 120)
            more = f" and {len(failed) - 1} more" if len(failed) > 1 else ""
            notes.append(
                f"{w}: {len(failed)} failed run(s) in {side.letter} left out "
                f"({first.name}: {error}{more})"
            )
    return notes


def _warnings(side: Side, workloads: Sequence[str]) -> list[str]:
    """A note per run whose training checks failed: its timings are shown, and flagged."""
    return [
        f"{run.setting[0]}: {side.letter} {run.name} is flagged: {printable(warning, 300)}"
        for run in side.runs
        if run.setting[0] in workloads
        for warning in run.warnings
    ]


def report(a: Side, b: Side, *, force: bool = False) -> str:
    """The whole terminal output of a comparison.

    Raises
    ------
    UserError
        As `pair` does.
    """
    pairings, notes = pair(a, b, force=force)
    lines = [a.header(), b.header(), ""]
    for p in pairings:
        lines += [*render_pairing(p), ""]
    shared = [w for w in a.workloads() if w in b.workloads()]
    notes += _failures(a, shared) + _failures(b, shared)
    notes += _warnings(a, shared) + _warnings(b, shared)
    if any(len(p.runs_a) == 1 or len(p.runs_b) == 1 for p in pairings):
        notes.append(
            "a side with a single run: its epochs show one process only; its interval adds "
            f"the {stats.PROCESS_SPREAD:.1%} by which processes on one machine were measured "
            "to differ, and `nox -s bench -- --repeats 3` measures that on this machine"
        )
    lines += [f"Note: {n}" for n in notes]
    lines.append(
        f"Medians of measured epochs (warm-up left out), pooled over runs; "
        f"95 % CI: two-level bootstrap (runs, then epochs), {stats.PROCESS_SPREAD:.1%} "
        f"allowed for the difference between processes, {stats.RESAMPLES:,} resamples, "
        f"seeded. Noisy: a run whose epochs vary by more than {stats.NOISY_CV * 100:g} % (CV). "
        "Input only and compute only: medians over runs of the pipeline alone and the model "
        "alone (- where not measured). Energy per epoch: all counter domains, where both "
        "machines have counters, with the same bootstrap."
    )
    return "\n".join(lines)


def load_side(letter: str, given: str | Path) -> Side:
    """Read a side: one results file, or every ``*.json`` file of a machine folder.

    Files pass `bench.results.checked` as they lie (``<results>/<slug>/<stamp>.json``), so
    `compare` refuses exactly what `nox -s validate` and the report refuse.

    Raises
    ------
    UserError
        When the path does not exist or the folder holds no results file.
    ResultsError
        When a file is not a valid results file.
    """
    path = Path(given)
    if path.is_dir():
        if not any(p.is_file() and not p.name.startswith(".") for p in path.glob("*.json")):
            msg = (
                f"{printable(path)}: no results files (*.json) in this folder; "
                "give a results file or a machine folder such as results/<slug>"
            )
            raise UserError(msg)
    elif not path.exists():
        msg = (
            f"{printable(path)}: no such file or folder; "
            "give a results file or a machine folder such as results/<slug>"
        )
        raise UserError(msg)
    documents = results.checked(path.parent if path.is_dir() else path.parent.parent, path)
    return Side(letter, path, sorted(documents.items()))
