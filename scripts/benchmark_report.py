"""Print the report's two performance figures: analysis of 1,000 results files, and the docs build.

Targets (issue 3): the analysis loads and summarises 1,000 results files in under 5 s; the docs
build on the committed results takes under 60 s once its environment exists. These are printed,
not asserted: timings on shared machines vary too much to gate a test on.

    python scripts/benchmark_report.py                 # both figures
    python scripts/benchmark_report.py --skip-docs     # the analysis only
    python scripts/benchmark_report.py --fleet 10 100 1000   # the report at community size

The 1,000 files are copies of the test fixtures (tests/data/results) spread over 50 fictional
machines, written to a temporary folder. The docs build runs the same sphinx-build command as
`nox -s docs`, with this interpreter, into a temporary folder.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import results
from bench.report import article, hardware, scores, tables, training
from bench.results.checks import parse_timestamp

FIXTURES = ROOT / "tests" / "data" / "results"
TEMPLATES = [
    ROOT / "tests" / "data" / "validate" / "valid" / "amd-epyc-2c" / "20261128T200525Z.json",
    *sorted((FIXTURES / "fixture-laptop-a").glob("*.json")),
    ROOT / "tests" / "data" / "energy" / "nvidia-h200-torch.json",
]
"""The files the scale fleet's machines are made from (`bench.results.fleet`): the last, a real
PyTorch run on an NVIDIA H200, gives a quarter of them NVML energy figures."""


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


def _peak_rss_kb(usage: resource.struct_rusage) -> int:
    return int(usage.ru_maxrss)


def scale(machines: int, workdir: Path) -> dict[str, Any]:
    """Build the report over a generated fleet of ``machines`` machines x 2 files and measure
    it: build seconds and peak RSS of the build, the largest HTML page, what the Compare page
    fetches for one pair (index, both machines' heads and one configuration each), site size."""
    from bench.report import compare_data
    from bench.results import fleet

    folder = workdir / f"fleet-{machines}"
    fleet.write_fleet(folder, machines, TEMPLATES)
    out = workdir / f"site-{machines}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = build_docs(folder, out)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    html = out / "html"
    pages = list(html.rglob("*.html"))
    data = html / compare_data.FOLDER
    a, b = "fleet-0000", f"fleet-{machines - 1:04d}"
    config = min(json.loads((data / "m" / f"{a}.json").read_text())["configs"])
    pair = [data / compare_data.INDEX, data / "m" / f"{a}.json", data / "m" / f"{b}.json",
            data / "c" / a / f"{config}.json", data / "c" / b / f"{config}.json"]  # fmt: skip
    return {
        "machines": machines,
        "build_s": seconds,
        # ru_maxrss of children is the largest single child (sphinx-build or a page's kernel).
        "peak_rss_gb": max(_peak_rss_kb(after), _peak_rss_kb(before)) / 1e6,
        "largest_page_mb": max(p.stat().st_size for p in pages) / 1e6,
        "largest_page": max(pages, key=lambda p: p.stat().st_size).name,
        "pair_kb": sum(p.stat().st_size for p in pair if p.exists()) / 1e3,
        "site_mb": sum(p.stat().st_size for p in html.rglob("*") if p.is_file()) / 1e6,
    }


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="results files to analyse")
    parser.add_argument("--repeats", type=int, default=3, help="timed analyses (median shown)")
    parser.add_argument(
        "--results", type=Path, default=ROOT / "results", help="folder the docs build reads"
    )
    parser.add_argument("--skip-docs", action="store_true", help="measure the analysis only")
    parser.add_argument(
        "--fleet",
        type=int,
        nargs="*",
        metavar="MACHINES",
        help="instead: build the report over generated fleets of these sizes (2 files each) and "
        "print build time, peak RSS, largest page, one comparison's transfer and site size",
    )
    args = parser.parse_args()
    if args.fleet:
        with tempfile.TemporaryDirectory(prefix="benchbook-scale-") as tmp:
            print("machines  build s  peak RSS GB  largest page MB  one pair KB  site MB")
            for count in args.fleet:
                f = scale(count, Path(tmp))
                print(
                    f"{count:>8}  {f['build_s']:>7.0f}  {f['peak_rss_gb']:>11.2f}  "
                    f"{f['largest_page_mb']:>9.2f} ({f['largest_page']})  {f['pair_kb']:>11.0f}  "
                    f"{f['site_mb']:>7.0f}",
                    flush=True,
                )
        print("targets at 1,000: build <= 600 s, RSS <= 4 GB, pages <= 2 MB, one pair < 300 KB")
        return
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
