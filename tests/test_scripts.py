"""Tests for the benchmark scripts: they run on small generated data and print their figures."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import data

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated dataset: 6 training and 4 validation images, two classes."""
    spec = data.SyntheticSpec(train_per_class=3, validation_per_class=2, min_side_px=40,
                              max_side_px=90)  # fmt: skip
    return data.synthetic(spec, tmp_path_factory.mktemp("tiny"))


def run_script(name: str, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/<name>`` with this interpreter; its completed process, output captured."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_benchmark_augmentation_prints_every_pipeline(tiny: Path) -> None:
    """One round per pipeline, then medians relative to the first pipeline named."""
    proc = run_script(
        "benchmark_augmentation.py", "--data", str(tiny), "--rounds", "1", "--batches", "2",
        "--warmup", "0", "--threads", "1", timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    for name in ("legacy", "tfdata-affine", "tfdata-layers"):
        assert any(line.startswith(f"round 1 {name:>13}: ") for line in lines), name
    assert any(line.strip().startswith("legacy:") and "(1.00x legacy)" in line for line in lines)
    assert "threads 1" in proc.stdout


def test_benchmark_augmentation_refuses_bad_counts(tiny: Path) -> None:
    """A zero round count is a one-line usage error, before TensorFlow is loaded."""
    proc = run_script("benchmark_augmentation.py", "--rounds", "0", timeout=60)
    assert proc.returncode == 2
    assert "--rounds and --batches must be at least 1" in proc.stderr


def test_benchmark_attribution_prints_overheads_and_ratios(tmp_path: Path) -> None:
    """On the fixtures: every measured run's overhead, the verdict table, tf.data over legacy."""
    folder = tmp_path / "results"
    shutil.copytree(ROOT / "tests" / "data" / "results", folder)
    shutil.copytree(ROOT / "tests" / "data" / "attribution", folder, dirs_exist_ok=True)
    proc = run_script("benchmark_attribution.py", str(folder))
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "median overhead +" in out
    assert "input-bound" in out
    ratios = out[out.index("tf.data over legacy") :].splitlines()
    assert "tfdata-affine / legacy" in ratios[1]
    row = next(line for line in ratios if "cnn-aug" in line and "fixture-laptop-a" in line)
    assert "1.90x" in row  # 950 / 500 images/s, as the fixtures hold


def test_benchmark_attribution_without_measurements_says_so(tmp_path: Path) -> None:
    """A folder with no attribution block: one line, status 1."""
    folder = tmp_path / "results"
    folder.mkdir()
    proc = run_script("benchmark_attribution.py", str(folder))
    assert proc.returncode == 1
    assert proc.stdout.startswith("no workload run with the attribution measurement")


def test_benchmark_aa_counts_pairs_called_different(tmp_path: Path) -> None:
    """Three identical runs and one 1.5x slower: the identical pairs agree, each pair with the
    slow run is called different (3 of 6), and the half-widths and the spread between the runs'
    processes are printed."""
    import json

    from documents import LAPTOP_A

    from bench import results

    document = json.loads(LAPTOP_A.read_text(encoding="utf-8"))
    paths = []
    for i, factor in enumerate((1.0, 1.0, 1.0, 1.5)):
        copy = json.loads(json.dumps(document))
        for run in copy["workloads"]:
            for epoch in run["epochs"]:
                for key in ("epoch_s", "train_s", "validation_s"):
                    epoch[key] *= factor
                epoch["images_per_s"] /= factor
        path = tmp_path / f"{i}.json"
        path.write_text(json.dumps(copy), encoding="utf-8")
        results.load(path)  # still a valid file
        paths.append(str(path))
    proc = run_script("benchmark_aa.py", "--files", *paths)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith("  cnn ")]
    assert len(rows) == 1
    assert rows[0][1] == "4"  # runs
    pairs, rest = " ".join(rows[0]).split(" pairs ")
    assert pairs.endswith("3 of 6")
    spread, stopped = rest.split(" ", 1)
    # The slow run's level is 40 % off on the log scale, its epochs within a few %: a spread
    # between processes far above the allowance every interval makes.
    assert float(spread.rstrip("%")) > 15
    assert "every interval allows for 1.2%: bench.stats.PROCESS_SPREAD" in proc.stdout
    # Format 1 files: their epochs count whole, a fixed number of them.
    measured = len(results.load(LAPTOP_A)["workloads"][0]["epochs"]) - 1
    assert stopped.split(", ") == [f"whole-epochs after {measured}"] * 4
    assert "wall time per run: median" in proc.stdout


def test_benchmark_aa_refuses_a_single_run() -> None:
    proc = run_script("benchmark_aa.py", "--runs", "1")
    assert proc.returncode == 2
    assert "--runs must be at least 2" in proc.stderr
