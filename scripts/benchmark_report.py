"""Print the report's two performance figures: analysis of 1,000 results files, and the docs build.

Targets (issue 3): the analysis loads and summarises 1,000 results files in under 5 s; the docs
build on the committed results takes under 60 s once its environment exists. These are printed,
not asserted: timings on shared machines vary too much to gate a test on.

    python scripts/benchmark_report.py                 # both figures
    python scripts/benchmark_report.py --skip-docs     # the analysis only

The 1,000 files are copies of the test fixtures (tests/data/results) spread over 50 fictional
machines, written to a temporary folder. The docs build runs the same sphinx-build command as
`nox -s docs`, with this interpreter, into a temporary folder.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import results
from bench.report import article, hardware, scores, tables, training
from bench.results.checks import parse_timestamp

FIXTURES = ROOT / "tests" / "data" / "results"


def make_files(folder: Path, count: int, machines: int = 50) -> None:
    """Write ``count`` valid results files (fixture copies) over ``machines`` machines."""
    # The fixtures as they are on disk (format version 1, like the committed results): loading
    # them times the upgrade too.
    templates = [json.loads(path.read_text()) for path in results.result_paths(FIXTURES)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(count):
        data = copy.deepcopy(templates[i % len(templates)])
        slug = f"bench-machine-{i % machines:02d}"
        moment = start + timedelta(minutes=i)
        data["machine"]["slug"] = slug
        data["run_id"] = f"{i:032x}"
        # Keep the template's own duration: validate refuses epochs longer than the run.
        span = parse_timestamp(data["finished_at"]) - parse_timestamp(data["started_at"])
        data["started_at"] = results.utc_iso(moment)
        data["finished_at"] = results.utc_iso(moment + span)
        path = folder / slug / f"{results.utc_stamp(moment)}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(results.dumps(data), encoding="utf-8")


def analyse(folder: Path) -> float:
    """Seconds to load, validate and summarise every file under ``folder`` (all pages' work,
    bootstrap intervals of the headlines and speed-up table included)."""
    started = time.perf_counter()
    loaded = tables.load_results(folder)
    baseline = training.check_baseline(loaded)
    tables.overview(loaded)
    training.headlines(loaded)
    for comparison in training.main_comparisons(loaded).values():
        training.summarise(comparison)
    if baseline is not None:
        training.speedup_table(loaded, baseline)
    training.set_aside(loaded)
    hardware.hardware(loaded)
    scores.probe_scores(loaded)
    scores.probe_details(loaded)
    scores.geekbench_scores(loaded)
    article.article_comparison(loaded)
    return time.perf_counter() - started


def build_docs(results_dir: Path, out: Path) -> float:
    """Seconds for the `nox -s docs` build command over ``results_dir``."""
    env = dict(os.environ, **{tables.RESULTS_ENV: str(results_dir)})
    command = [
        sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
        str(ROOT / "docs"), str(out / "html"),
    ]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"docs build failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="results files to analyse")
    parser.add_argument("--repeats", type=int, default=3, help="timed analyses (median shown)")
    parser.add_argument(
        "--results", type=Path, default=ROOT / "results", help="folder the docs build reads"
    )
    parser.add_argument("--skip-docs", action="store_true", help="measure the analysis only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="benchbook-report-") as tmp:
        folder = Path(tmp) / "results"
        make_files(folder, args.files)
        size = sum(p.stat().st_size for p in folder.rglob("*.json"))
        times = [analyse(folder) for _ in range(args.repeats)]
        print(
            f"analysis: {args.files} results files ({size / 1e6:.1f} MB), load + validate + "
            f"summarise: first {times[0]:.2f} s, median {statistics.median(times):.2f} s "
            f"of {len(times)} (target < 5 s)"
        )
        if not args.skip_docs:
            count = len(results.result_paths(args.results))
            seconds = build_docs(args.results.resolve(), Path(tmp) / "site")
            print(
                f"docs build: {seconds:.1f} s over {count} results files in {args.results} "
                "(target < 60 s)"
            )


if __name__ == "__main__":
    main()
