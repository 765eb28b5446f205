"""A/A test of the benchmark's own precision: the same run several times on one machine, every
pair of runs compared as two machines would be.

    python scripts/benchmark_aa.py --runs 4 -- --profile quick -w cnn --skip-probes
    python scripts/benchmark_aa.py --files results/<slug>/*.json    # runs already made

Each run is ``python -m bench ARGS --output <temporary folder>/run-<i>`` in a fresh process, back
to back, on this checkout. Per workload (and setting) it prints:

- **half-width**: each run's median seconds per epoch with its 95 % bootstrap interval
  (`bench.stats.median_interval`), the interval's half-width as a share of the median: the
  precision one run buys (median and widest over runs);
- **A/A ratios**: every pair's ratio with its interval (`bench.stats.ratio_interval`, as
  ``nox -s compare`` computes it), the lowest and highest bound over pairs, and how many pairs
  were called different (an interval that excludes 1). The runs are the same setup, so with
  honest intervals that happens in about 5 % of pairs at most; more means the intervals are too
  narrow;
- **process spread**: how much the runs' levels differ beyond what their epochs' own spread
  explains (`bench.stats.process_variance`), and, pooled over workloads, beside the allowance
  every interval makes for it (`bench.stats.PROCESS_SPREAD`): a machine whose pooled spread is
  well above it gets intervals that are too narrow for single runs;
- why each run stopped (the adaptive rule's ``target``, ``budget`` or ``limit``, ``fixed``, or
  ``whole-epochs`` for files of format 4 and older) and after how many measured epochs;
- each run's wall time.

Timings vary between hosts, even of one name: compare two commits by running this on each in one
session, interleaved (run A, run B, run A, run B), never across sessions.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import results, stats
from bench.results import model
from bench.results.checks import parse_timestamp


@dataclass(frozen=True)
class Precision:
    """What the A/A runs of one workload and setting say."""

    workload: str
    setting: model.Setting
    runs: int
    half_widths: list[float]
    """Each run's median interval half-width over its median."""
    ratios: list[stats.Interval]
    """Every pair's ratio (first run's median over the second's), with its interval."""
    spread: tuple[float, int]
    """The between-process variance of the runs' levels and its degrees of freedom
    (`bench.stats.process_variance`)."""
    stopped: list[str]
    """Why each run stopped (`bench.protocol.stopping.Decision.reason`; ``whole-epochs`` for
    files of format 4 and older), with its measured epochs: ``target after 6``."""

    @property
    def called_different(self) -> int:
        """Pairs whose interval excludes 1."""
        return sum(not r.contains(1.0) for r in self.ratios)


def run_groups(document: results.Result) -> dict[tuple[str, model.Setting], list[stats.Run]]:
    """Per (workload, setting), the measured epochs of each finished repeat of one file, as
    every estimate resamples them (`bench.results.model.run_sample`)."""
    found: dict[tuple[str, model.Setting], list[stats.Run]] = {}
    for run in document["workloads"]:
        sample = model.run_sample(run)
        if run["status"] == "ok" and sample.seconds:
            key = (run["workload"], model.setting_of(document, run))
            found.setdefault(key, []).append(sample)
    return found


def stop_reasons(document: results.Result) -> dict[tuple[str, model.Setting], list[str]]:
    """Per (workload, setting), why each finished repeat of one file stopped."""
    found: dict[tuple[str, model.Setting], list[str]] = {}
    for run in document["workloads"]:
        if run["status"] == "ok" and model.epoch_seconds(run):
            block = run.get("stopping") or {}
            reason = block.get("reason", "whole-epochs")
            said = f"{reason} after {len(model.epoch_seconds(run))}"
            found.setdefault((run["workload"], model.setting_of(document, run)), []).append(said)
    return found


def analyse(documents: Sequence[results.Result]) -> list[Precision]:
    """The precision of each workload and setting that two or more of ``documents`` ran."""
    per_file = [run_groups(d) for d in documents]
    reasons = [stop_reasons(d) for d in documents]
    keys = sorted({k for groups in per_file for k in groups}, key=lambda k: (k[0], str(k[1])))
    out = []
    for key in keys:
        sides = [groups[key] for groups in per_file if key in groups]
        if len(sides) < 2:
            continue
        widths = []
        for side in sides:
            interval = stats.median_interval(side)
            widths.append(stats.half_width(interval))
        ratios = [stats.ratio_interval(b, a) for a, b in itertools.combinations(sides, 2)]
        stopped = [said for r in reasons for said in r.get(key, [])]
        spread = stats.process_variance([run for side in sides for run in side])
        out.append(Precision(key[0], key[1], len(sides), widths, ratios, spread, stopped))
    return out


def report(found: Sequence[Precision], walls: Sequence[float]) -> str:
    """The printed table: per setting, one line per workload; then the wall times."""
    lines = []
    settings = sorted({p.setting[1:] for p in found}, key=str)
    for setting in settings:
        described = model.describe(next(p.setting for p in found if p.setting[1:] == setting))
        lines += [
            f"{described}:",
            (
                "  workload   runs  half-width (median, widest)  A/A ratio bounds  "
                "called different  process spread  stopped (measured epochs)"
            ),
        ]
        for p in (p for p in found if p.setting[1:] == setting):
            low = min(r.low for r in p.ratios)
            high = max(r.high for r in p.ratios)
            lines.append(
                f"  {p.workload:<10} {p.runs:>4}  "
                f"{statistics.median(p.half_widths):>10.1%}, {max(p.half_widths):>6.1%}        "
                f"{low:.3f} to {high:.3f}    {p.called_different} of {len(p.ratios)} pairs"
                f"      {math.sqrt(p.spread[0]):>6.1%}     {', '.join(p.stopped)}"
            )
    if not found:
        lines.append("(no workload was finished by two or more runs)")
    else:
        df = sum(p.spread[1] for p in found)
        pooled = math.sqrt(sum(p.spread[0] * p.spread[1] for p in found) / df)
        lines.append(
            f"process spread, pooled over {df} degrees of freedom: {pooled:.1%} "
            f"(every interval allows for {stats.PROCESS_SPREAD:.1%}: bench.stats.PROCESS_SPREAD)"
        )
    if walls:
        lines.append(
            f"wall time per run: median {statistics.median(walls):.0f} s "
            f"({', '.join(f'{w:.0f}' for w in walls)})"
        )
    return "\n".join(lines)


def _wall(document: results.Result) -> float:
    started = parse_timestamp(str(document["started_at"]))
    finished = parse_timestamp(str(document["finished_at"]))
    return (finished - started).total_seconds()


def run_all(count: int, arguments: Sequence[str], folder: Path) -> tuple[list[Any], list[float]]:
    """Run the benchmark ``count`` times back to back; each run's document and wall time."""
    documents, walls = [], []
    for i in range(count):
        output = folder / f"run-{i}"
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "bench", *arguments, "--output", str(output)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        walls.append(time.perf_counter() - started)
        made = sorted(output.glob("*/*.json"))
        if proc.returncode != 0 or len(made) != 1:
            sys.exit(f"run {i + 1} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        documents.append(results.load(made[0]))
        print(f"run {i + 1} of {count}: {walls[-1]:.0f} s", file=sys.stderr, flush=True)
    return documents, walls


def main(argv: Sequence[str] | None = None) -> int:
    """Run or read the A/A runs and print their precision."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4, help="runs to make (default 4)")
    parser.add_argument("--files", nargs="+", type=Path, help="analyse these results files instead")
    parser.add_argument("bench", nargs="*", help="after --: arguments of python -m bench")
    args = parser.parse_args(argv)
    if args.files:
        documents = [results.load(p) for p in args.files]
        walls = [_wall(d) for d in documents]
    else:
        if args.runs < 2:
            parser.error("--runs must be at least 2: an A/A test compares pairs of runs")
        with tempfile.TemporaryDirectory(prefix="benchbook-aa-") as tmp:
            documents, walls = run_all(args.runs, args.bench, Path(tmp))
    print(report(analyse(documents), walls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
