"""Tests for bench/report/frameworks.py: one machine's workloads on each backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from documents import FIXTURES, on_jax, read, write

from bench import results, stats
from bench.report import compare_data, frameworks, scores, tables, training
from bench.results import model

ROOT = Path(__file__).resolve().parents[1]
MACHINE = "fixture-laptop-a"


@pytest.fixture(scope="module")
def two_backends(tmp_path_factory: pytest.TempPathFactory) -> tables.Results:
    """The fixtures, plus laptop A's two files again on JAX, twice as slow."""
    folder = tmp_path_factory.mktemp("results")
    for path in sorted(FIXTURES.glob("*/*.json")):
        write(folder / path.parent.name / path.name, read(path))
        if path.parent.name == MACHINE:
            # The same day, twelve hours on: a JAX file beside each TensorFlow one.
            stamp = path.stem.replace("T10", "T22")
            write(folder / MACHINE / f"{stamp}.json", on_jax(results.load(path), 2.0))
    return tables.load_results(folder)


def test_a_machine_with_two_backends_gets_each_workload_on_each(
    two_backends: tables.Results,
) -> None:
    """Laptop A on TensorFlow and JAX: each workload twice, TensorFlow the reference, JAX's
    verdict the bootstrap ratio of the same runs, worded by the one verdict function."""
    (found,) = frameworks.by_machine(two_backends)
    assert found.machine == MACHINE
    assert found.backends[0].startswith("TensorFlow")
    assert "JAX 0.10.2" in found.backends
    table = found.training
    assert set(table["Backend"]) == {"TensorFlow 2.18.1", "JAX 0.10.2"}
    comparisons = training.comparisons(two_backends.epochs)
    cnn = [c for c in comparisons if c.workload == "cnn" and MACHINE in c.machines]
    tf = next(c for c in cnn if c.setting["backend"] == "tensorflow")
    jax = next(
        c for c in cnn if c.setting["backend"] == "jax" and frameworks._rest(c.setting)
        == frameworks._rest(tf.setting)
    )  # fmt: skip
    ratio = stats.ratio_interval(tf.groups(MACHINE), jax.groups(MACHINE))
    row = table[(table["Workload"] == "Custom CNN") & (table["Backend"] == "JAX 0.10.2")]
    verdict = row["Speed"].iloc[0]
    assert verdict == f"{stats.verdict(ratio)}, against TensorFlow 2.18.1"
    assert verdict.startswith("2.00x slower")
    reference = table[(table["Workload"] == "Custom CNN") & (table["Backend"] != "JAX 0.10.2")]
    assert reference["Speed"].iloc[0] == "reference"


def test_an_mlx_row_says_keras_only_reads_its_images(tmp_path: Path) -> None:
    """MLX trains models of its own: its Keras column names Keras as the image reader, not as
    the framework that trained."""
    path = min((FIXTURES / MACHINE).glob("*.json"))
    write(tmp_path / MACHINE / path.name, read(path))
    mlx = on_jax(results.load(path), 3.0)
    mlx["software"].update(backend="mlx", backend_version="0.29.3")
    write(tmp_path / MACHINE / path.name.replace("T10", "T22"), mlx)
    (found,) = frameworks.by_machine(tables.load_results(tmp_path))
    table = found.training
    keras = dict(zip(table["Backend"], table["Keras"], strict=True))
    assert keras["MLX 0.29.3"] == "none (images read by Keras 3.15.1)"
    assert keras["TensorFlow 2.18.1"] == "Keras 3.15.1"


def test_backends_are_never_pooled_across_machines(two_backends: tables.Results) -> None:
    """The JAX runs form their own comparable groups; no group holds two backends."""
    for comparison in training.comparisons(two_backends.epochs):
        assert comparison.epochs["backend"].nunique() == 1
    configs, _ = compare_data.machine_summaries(two_backends)
    assert any("JAX 0.10.2 backend" in text for text in configs.values())
    assert any("TensorFlow 2.18.1 backend" in text for text in configs.values())


def test_scores_stay_on_tensorflow_and_each_backend_shows_here(
    two_backends: tables.Results, loaded: tables.Results
) -> None:
    """The Scores page's figures are TensorFlow's alone (the same with the JAX files added);
    the framework page lists the JAX scores beside TensorFlow's."""
    with_jax = scores.probe_scores(two_backends)
    without = scores.probe_scores(loaded)
    assert with_jax["score"].equals(without["score"])
    (found,) = frameworks.by_machine(two_backends)
    assert not found.scores.empty
    assert set(found.scores["Backend"]) == {"TensorFlow 2.18.1", "JAX 0.10.2"}
    jax = found.scores[found.scores["Backend"] == "JAX 0.10.2"]
    assert all(v.startswith("2.00x slower") for v in jax["Speed"])
    assert all(v.endswith(", against TensorFlow 2.18.1") for v in jax["Speed"])


def test_one_backend_per_machine_means_no_section(loaded: tables.Results) -> None:
    assert frameworks.by_machine(loaded) == []


def test_the_hardware_page_lists_each_backend(two_backends: tables.Results) -> None:
    from bench.report import hardware

    table = hardware.hardware(two_backends)
    assert table.loc["Keras backends", MACHINE] == "JAX 0.10.2, TensorFlow 2.18.1"
    assert table.loc["Keras backends", "fixture-laptop-b"] == "TensorFlow 2.18.1"


def test_compare_refuses_two_backends_and_force_marks_them(
    two_backends: tables.Results, tmp_path: Path
) -> None:
    """`compare` names the backend as the difference; the page's figure is what --force gives."""
    files = sorted(p for p in two_backends.files["path"] if MACHINE in p)
    tf_file = next(p for p in files if "T10" in Path(p).name)
    jax_file = next(p for p in files if "T22" in Path(p).name)
    args = [sys.executable, "-m", "bench", "compare", tf_file, jax_file]
    refused = subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT)
    assert refused.returncode != 0
    assert "backend TensorFlow vs JAX" in refused.stdout + refused.stderr
    assert model.backend_title("jax") == "JAX"
