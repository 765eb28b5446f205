"""Tests for bench/readers/comparison.py and bench/commands/compare.py: two machines side by side."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from documents import with_energy, write

from bench import results
from bench.commands import compare
from bench.readers import comparison
from bench.worker import pipelines

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "compare"
A = DATA / "machine-a"  # quick profile, 3 repeats of cnn and vgg16
B = (
    DATA / "machine-b"
)  # same settings, cnn 1.5x faster, vgg16 the same, plus cnn-aug; hostile label
C = DATA / "machine-c"  # full profile on real data, ImageNet weights: comparable with neither
B_FILE = B / "20260202T100000Z.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """Run the command's entry point; return its status, stdout and stderr."""
    status = compare.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def block(out: str, workload: str) -> list[str]:
    """The lines of one workload's comparison (up to the blank line after it)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split(": ")[0].endswith(workload))
    end = lines.index("", start)
    return lines[start:end]


def plant(root: Path, change: Callable[[dict[str, Any]], None], source: Path = B_FILE) -> Path:
    """A copy of a fixture with ``change`` applied, in its machine's folder under ``root``."""
    data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    change(data)
    folder = root / str(data["machine"]["slug"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / source.name
    path.write_text(results.dumps(data), encoding="utf-8")
    return path


def test_energy_is_compared_with_its_interval_where_both_sides_measured_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Joules per epoch of each side with its interval and B against A, where both have
    counters (B at the same power and 1.5x faster on the CNN uses 1.5x less energy); one line
    naming the side without counters otherwise."""
    folders = []
    for side, watts in ((A, 100.0), (B, 100.0)):
        for path in sorted(side.glob("*.json")):
            written = write(tmp_path / side.name / path.name, with_energy(path, watts))
        folders.append(written.parent)
    status, out, err = run(capsys, *folders)
    assert (status, err) == (0, "")
    cnn = block(out, "cnn")
    assert any(re.fullmatch(r"  energy per epoch: A [\d.]+ J \(95 % CI .+\); B .+", x) for x in cnn)
    (verdict,) = [x for x in cnn if x.startswith("  B vs A energy: ")]
    assert verdict.startswith("  B vs A energy: 1.5")
    assert "x less energy, 95 % CI" in verdict
    status, out, err = run(capsys, A, folders[1])
    assert "  energy per epoch: not compared (A has no energy counter)" in block(out, "cnn")
    status, out, err = run(capsys, A, B)
    assert "energy" not in "\n".join(block(out, "cnn"))


def test_compares_each_shared_workload_with_a_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    """Two comparable machine folders give both medians, the ratio with its interval and a verdict."""
    status, out, err = run(capsys, A, B)
    assert (status, err) == (0, "")
    cnn = "\n".join(block(out, "cnn"))
    assert "12.1" in cnn
    assert "8.00" in cnn
    assert "B vs A: 1.51x faster, 95 % CI 1.46 to 1.57" in cnn
    vgg = "\n".join(block(out, "vgg16"))
    assert "B vs A: no clear difference (1.00x, 95 % CI 0.97 to 1.03)" in vgg
    assert "FORCED" not in out


def test_noisy_runs_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    """A run whose epochs vary by more than 5 % is flagged with its file and repeat."""
    _, out, _ = run(capsys, A, B)
    row_b = next(line for line in block(out, "cnn") if line.startswith("  B"))
    assert "8.6 %" in row_b
    assert "1 of 3 runs (20260202T100000Z #3)" in row_b
    row_a = next(line for line in block(out, "cnn") if line.startswith("  A"))
    noisy, input_only, compute_only = re.split(r"\s{2,}", row_a.strip())[-3:]
    assert (noisy, input_only, compute_only) == ("-", "-", "-")  # no attribution in the fixture


def test_input_and_compute_throughputs_are_shown_where_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Medians over runs of the attribution block's input-only and compute-only images/s."""

    def measure(document: dict[str, Any]) -> None:
        for i, run in enumerate(r for r in document["workloads"] if r["workload"] == "cnn"):
            run["attribution"] = {
                "input_only": {"warmup_steps": 0, "warmup_s": 0.0, "step_s": [1.0],
                               "images": 64, "images_per_s": 600.0 + 100 * i},
                "compute_only": {"warmup_steps": 1, "warmup_s": 1.0, "step_s": [0.5],
                                 "images": 64, "images_per_s": 120.0},
                "elapsed_s": 2.0,
            }  # fmt: skip

    other = plant(tmp_path / "b", measure)
    status, out, err = run(capsys, A, other)
    assert (status, err) == (0, "")
    lines = block(out, "cnn")
    assert "input only" in lines[1]
    assert "compute only" in lines[1]
    row_b = next(line for line in lines if line.startswith("  B"))
    assert re.split(r"\s{2,}", row_b.strip())[-2:] == ["700 img/s", "120 img/s"]  # 600, 700, 800


def test_workload_on_one_side_only_is_noted(capsys: pytest.CaptureFixture[str]) -> None:
    """A workload only one side ran is named in a note, not compared."""
    _, out, _ = run(capsys, A, B)
    assert "Note: cnn-aug: only in B, not compared" in out


def test_a_file_and_its_folder_compare_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    """A results file and the folder holding only it are the same side."""
    _, from_folder, _ = run(capsys, A, B)
    _, from_file, _ = run(capsys, A, B_FILE)
    assert from_folder.splitlines()[2:] == from_file.splitlines()[2:]


def test_output_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    """Two runs of the same comparison print the same intervals (seeded bootstrap)."""
    assert run(capsys, A, B) == run(capsys, A, B)


def test_non_comparable_runs_are_refused_naming_the_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Runs with another profile, dataset and weights are refused in one line that names them."""
    status, out, err = run(capsys, A, C)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("compare: error: not comparable: cnn differs in profile quick vs full")
    assert "vgg16 differs in" in err
    assert "VGG-16 weights random vs imagenet" in err
    assert "--force" in err


def _older_layers_file(document: dict[str, Any]) -> None:
    """A file from before tfdata-layers had its name: told apart by its augmentation."""
    document["config"]["pipeline"] = "tfdata"
    for run in document["workloads"]:
        run["augmentation"] = pipelines.layers_augmentation(True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["config"].update(image_size=128), "image size 224 px vs 128 px"),
        (lambda d: d["config"].update(batch_size=32), "batch size 64 vs 32"),
        (
            lambda d: d["config"].update(pipeline="tfdata"),
            "input pipeline legacy vs tf.data affine",
        ),
        (_older_layers_file, "input pipeline legacy vs tf.data layers"),
        (lambda d: d["config"].update(intra_op_threads=1), "intra-op threads default vs 1"),
        (lambda d: d["config"].update(profile="custom"), "profile quick vs custom"),
        (lambda d: d["dataset"].update(kind="real"), "dataset kind synthetic vs real"),
        (
            lambda d: d["dataset"].update(fingerprint="e" * 64),
            "dataset 3f2a9c1e vs eeeeeeee",
        ),
    ],
)
def test_each_key_field_makes_runs_non_comparable(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], None],
    field: str,
) -> None:
    """Each field of the comparability key, alone, stops a comparison and is named."""
    other = plant(tmp_path / "b", change)
    status, _, err = run(capsys, A, other)
    assert status == 2
    assert f"cnn differs in {field};" in err


def test_per_run_weights_alone_refuse_only_that_workload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """VGG-16 runs with other weights are refused; the message names only vgg16 and the weights."""

    def imagenet(data: dict[str, Any]) -> None:
        for r in data["workloads"]:
            if r["workload"] == "vgg16":
                r["weights"] = "imagenet"

    status, _, err = run(capsys, A, plant(tmp_path / "b", imagenet))
    assert status == 2
    assert "vgg16 differs in VGG-16 weights random vs imagenet;" in err
    assert "cnn differs" not in err


def test_force_compares_and_marks_every_line(capsys: pytest.CaptureFixture[str]) -> None:
    """With --force the closest settings are compared and every line of each such block says FORCED."""
    status, out, err = run(capsys, A, C, "--force")
    assert (status, err) == (0, "")
    for workload in ("cnn", "vgg16"):
        lines = block(out, workload)
        assert len(lines) >= 6
        assert all(line.startswith("FORCED ") for line in lines)
    assert "profile quick vs full" in out
    assert "B vs A: 20.68x slower" in out


def test_matching_settings_are_compared_and_the_rest_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder holding two settings compares the one the other side shares and notes the other."""

    def another_day_in_full(data: dict[str, Any]) -> None:
        data.update(
            run_id="f" * 32,
            started_at="2026-02-05T10:00:00.000Z",
            finished_at="2026-02-05T10:23:23.600Z",
        )
        data["config"]["profile"] = "full"

    full = plant(tmp_path, another_day_in_full, A / "20260201T100000Z.json")
    mixed = full.parent
    full.rename(mixed / "20260205T100000Z.json")
    plant(tmp_path, lambda _: None, A / "20260201T100000Z.json")
    status, out, _ = run(capsys, mixed, B)
    assert status == 0
    assert "FORCED" not in out
    assert "B vs A: 1.51x faster" in out
    assert "Note: cnn: A also has runs with full profile" in out
    assert "2 files" in out.splitlines()[0]


def test_failed_runs_are_left_out_with_their_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A failed run is not in the medians; a note names it with its error, made printable."""
    status, out, _ = run(capsys, B, B)
    assert status == 0
    assert "Note: cnn-aug: 1 failed run(s) in A left out (20260202T100000Z #2: " in out
    assert "ResourceExhaustedError: OOM when allocating tensor" in out
    aug = block(out, "cnn-aug")
    assert any(line.startswith("  A  2     6") for line in aug)


def test_terminal_output_holds_no_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    """An error message full of ANSI escapes reaches the terminal as plain text; HTML stays text."""
    _, out, _ = run(capsys, B, B)
    assert "\x1b" not in out
    assert "\x07" not in out
    assert all(c.isprintable() for line in out.splitlines() for c in line)
    assert 'machine machine-b "Desk B <script>alert(1)</script>' in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["missing-folder", str(A)], "missing-folder: no such file or folder"),
        ([str(A), str(DATA.parent)], "no results files (*.json) in this folder"),
        ([str(ROOT / "pyproject.toml"), str(A)], "pyproject.toml: not a results file in results/"),
    ],
)
def test_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    """A missing path, an empty folder or a file that is not a results file: one line, status 2."""
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert expected in err


def test_invalid_results_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that breaks the schema is refused with its path and the field."""
    bad = tmp_path / "bad.json"
    data = json.loads(B_FILE.read_text(encoding="utf-8"))
    data["config"]["batch_size"] = "64"
    bad.write_text(json.dumps(data), encoding="utf-8")
    status, _, err = run(capsys, A, bad)
    assert status == 2
    assert err.count("\n") == 1
    assert f"{bad}: invalid at config/batch_size" in err


def test_no_shared_workload_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Sides without a workload in common have nothing to compare: one line, status 2."""

    def only_aug(data: dict[str, Any]) -> None:
        data["workloads"] = [r for r in data["workloads"] if r["workload"] == "cnn-aug"]
        data["config"]["workloads"] = ["cnn-aug"]

    status, _, err = run(capsys, A, plant(tmp_path / "b", only_aug))
    assert status == 2
    assert "have no workload in common" in err


def test_usage_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing argument gets one line and status 2, not the usage block."""
    with pytest.raises(SystemExit) as exc:
        compare.main([str(A)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the following arguments are required: B" in err


def test_module_runs_as_a_command() -> None:
    """``benchbook compare`` prints the table, and a bad path gives no traceback."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    good = subprocess.run(
        [sys.executable, "-m", "bench", "compare", str(A), str(B)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert good.returncode == 0
    assert "1.51x faster" in good.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "bench", "compare", str(A), "nowhere"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_nothing_to_compare_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """B with only failed runs: one line saying nothing could be compared, exit status 2."""

    def fail_everything(data: dict[str, Any]) -> None:
        for run in data["workloads"]:
            run.update(status="failed", error="OOM", epochs=[])

    failed = plant(tmp_path / "machine-b", fail_everything)
    status, out, err = run(capsys, A, failed)
    assert status == 2
    assert out == ""
    assert err.startswith("compare: error: nothing could be compared (")
    assert "no finished run with measured epochs in B" in err
    assert err.count("\n") == 1


FIXTURE_TREES = [DATA, ROOT / "tests" / "data" / "results", ROOT / "tests" / "data" / "attribution"]


def _pairs() -> list[tuple[Path, str, str, str]]:
    """(tree, workload, machine A, machine B) for every ordered pair of machines that share a
    comparable group in a fixture tree."""
    from bench.report import tables, training

    found = []
    for tree in FIXTURE_TREES:
        loaded = tables.load_results(tree)
        for together in training.comparisons(loaded.epochs):
            for a in together.machines:
                for b in together.machines:
                    if a != b:
                        found.append((tree, together.workload, a, b))
    return found


@pytest.mark.parametrize(
    ("tree", "workload", "a", "b"), _pairs(), ids=lambda v: v.name if isinstance(v, Path) else v
)
def test_the_report_and_compare_agree(
    tree: Path, workload: str, a: str, b: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """For every pair of machines the report compares, `compare` on their folders gives the same
    verdict, interval included, word for word."""
    from bench import stats
    from bench.report import tables, training

    loaded = tables.load_results(tree)
    for together in training.comparisons(loaded.epochs):
        if together.workload != workload or not {a, b} <= set(together.machines):
            continue
        in_report = stats.verdict(together.ratio(a, b))
        status, out, _ = run(capsys, tree / a, tree / b, "--force")
        assert status == 0
        title = f"{workload}: {comparison.describe(together.setting)}"
        lines = out.splitlines()
        start = lines.index(title)
        verdict = next(line for line in lines[start:] if line.startswith("  B vs A: "))
        assert verdict == f"  B vs A: {in_report}"
