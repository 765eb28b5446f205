"""Tests for bench/report/tables.py: loading every results file (through the one validation) into tidy tables, on frozen fixtures."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from documents import FIXTURES, LAPTOP_A, ROOT, read, write

from bench import results
from bench.commands import report
from bench.errors import UserError
from bench.report import article, hardware, scores, tables, training
from bench.results import ResultsError, model


def test_importing_the_report_does_not_import_tensorflow() -> None:
    """The report's modules load without TensorFlow (the docs environment lacks it)."""
    code = (
        "import sys; import bench.report.article, bench.report.attribution, bench.report.charts, "
        "bench.report.hardware, bench.report.markup, bench.report.scores, bench.report.tables, "
        "bench.report.training, bench.report.utilisation; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"


def test_fixtures_validate_against_the_schema() -> None:
    """Every fixture is a valid results file, so the tests exercise real documents."""
    paths = results.result_paths(FIXTURES)
    assert len(paths) == 5
    for path in paths:
        results.load(path)


def test_overview_counts_machines_files_and_runs(loaded: tables.Results) -> None:
    """The overview counts machines, files, workload runs, failures and the newest date."""
    facts = tables.overview(loaded)
    assert facts == tables.Overview(
        machines=3, files=5, workload_runs=18, failed_runs=1, interrupted_files=1,
        newest_date="2026-01-05",
    )  # fmt: skip


def test_epochs_table_is_tidy(loaded: tables.Results) -> None:
    """One row per machine, file, workload run and epoch, with the comparability key beside."""
    epochs = loaded.epochs
    expected = sum(len(run["epochs"]) for doc in loaded.documents for run in doc["workloads"])
    assert len(epochs) == expected
    assert not epochs.duplicated(["path", "workload", "repeat", "epoch"]).any()
    assert set(model.FIELDS) <= set(epochs.columns)
    assert epochs["warmup"].sum() == 17  # one warm-up per finished run


def test_measured_epochs_leave_out_warmup_and_failed_runs(loaded: tables.Results) -> None:
    """Warm-up epochs and epochs of failed runs never count."""
    measured = tables.measured_epochs(loaded.epochs)
    assert not measured["warmup"].any()
    assert (measured["run_status"] == "ok").all()


def test_empty_folder_gives_empty_tables(tmp_path: Path) -> None:
    """With no results every table is empty and nothing fails."""
    empty = tables.load_results(tmp_path)
    assert empty.empty
    assert tables.overview(empty).newest_date is None
    assert training.comparisons(empty.epochs) == []
    assert training.headlines(empty) == []
    assert scores.probe_scores(empty).empty
    assert scores.probe_details(empty).empty
    assert hardware.hardware(empty).shape == (len(hardware.HARDWARE_ROWS), 0)
    assert training.set_aside(empty).empty
    assert training.check_baseline(empty) is None
    assert (article.article_comparison(empty)["here"] == article.NOT_MEASURED).all()


def test_missing_default_folder_means_no_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh clone without results/ loads as empty."""
    monkeypatch.delenv(tables.RESULTS_ENV, raising=False)
    monkeypatch.setattr(tables, "ROOT", tmp_path)
    assert tables.load_results().empty


def test_missing_named_folder_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder named in BENCHBOOK_RESULTS must exist (a typo would otherwise hide results)."""
    monkeypatch.setenv(tables.RESULTS_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(UserError, match="nowhere does not exist"):
        tables.load_results()


def test_relative_results_folder_is_taken_from_the_repository_root(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BENCHBOOK_RESULTS=tests/data/results means the same wherever the build runs."""
    monkeypatch.setenv(tables.RESULTS_ENV, "tests/data/results")
    assert tables.results_dir() == FIXTURES


def test_invalid_file_fails_with_path_and_reason(folder: Path) -> None:
    """A file that does not validate stops loading with its path and the reason, in one line."""
    path = folder / "fixture-laptop-a" / "20260101T100000Z.json"
    data = read(path)
    data["workloads"][0]["epochs"][1]["epoch_s"] = -1
    write(path, data)
    with pytest.raises(ResultsError) as info:
        tables.load_results(folder)
    message = str(info.value)
    assert message.startswith(f"{path}: invalid at workloads/0/epochs/1/epoch_s")
    assert "\n" not in message


def test_file_in_the_wrong_machine_folder_is_refused(folder: Path) -> None:
    """A file whose machine slug does not match its folder says where it belongs."""
    shutil.move(folder / "fixture-laptop-b", folder / "renamed")
    with pytest.raises(ResultsError, match=r"machine\.slug is 'fixture-laptop-b' but the file"):
        tables.load_results(folder)


def test_copied_file_is_refused(folder: Path) -> None:
    """The same run twice (a copied file) would be counted twice: it is refused."""
    shutil.copy(LAPTOP_A, folder / "fixture-laptop-a" / "20260109T000000Z.json")
    with pytest.raises(ResultsError, match="byte-identical to"):
        tables.load_results(folder)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("epoch", "longer than started_at to finished_at"),
        ("misnamed", "file name is not a UTC stamp"),
        ("stray", "not a results file in results/<machine slug>/<UTC stamp>.json"),
        ("infinity", "not valid JSON"),
        ("bom", "starts with a byte-order mark"),
    ],
)
def test_the_report_refuses_what_validate_refuses(folder: Path, change: str, message: str) -> None:
    """An implausible epoch, a misnamed or stray file, 1e999 or a byte-order mark stop the report
    as they stop `nox -s validate`, in one line that says how many problems there are."""
    path = folder / "fixture-laptop-a" / "20260101T100000Z.json"
    text = path.read_text()
    if change == "epoch":
        data = read(path)
        data["workloads"][0]["epochs"][1]["epoch_s"] = 9_000_000.0
        write(path, data)
    elif change == "misnamed":
        path.rename(path.with_name("my-run.json"))
    elif change == "stray":
        (folder / "notes.txt").write_text("a stray file")
    elif change == "infinity":
        path.write_text(text.replace('"epoch_s": 30.0', '"epoch_s": 1e999', 1))
    else:
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert results.check_tree(folder).problems, "the fixture change should fail validate"
    with pytest.raises(ResultsError, match=re.escape(message)) as info:
        tables.load_results(folder)
    assert "\n" not in str(info.value)


def test_not_a_number_is_refused(folder: Path) -> None:
    """NaN is not JSON; the fast path hands it to the strict loader, which refuses it."""
    path = folder / "fixture-laptop-a" / "20260101T100000Z.json"
    path.write_text(path.read_text().replace('"epoch_s": 30.0', '"epoch_s": NaN', 1))
    with pytest.raises(ResultsError, match="not valid JSON"):
        tables.load_results(folder)


def test_check_command_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """`benchbook report FOLDER` says in one line that every file is valid."""
    assert report.main([str(FIXTURES)]) == 0
    assert capsys.readouterr().out == "report: 5 results files from 3 machines, all valid\n"


def test_check_command_names_the_bad_file(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad file gives exit status 2 and one line with its path and the reason."""
    path = folder / "fixture-desktop-c" / "20260105T000000Z.json"
    data = read(path)
    data["machine"]["slug"] = "Not A Slug"
    write(path, data)
    assert report.main([str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"report: error: {path}: invalid at machine/slug")


def test_every_table_names_each_column_once(loaded: tables.Results) -> None:
    """No tidy table holds a column twice (the Keras version is a key field, not a repeat)."""
    for name in ("files", "runs", "epochs", "attribution", "probe_sections", "probe_values"):
        columns = list(getattr(loaded, name).columns)
        assert len(columns) == len(set(columns)), name


def test_labels_are_each_machines_newest_label(loaded: tables.Results) -> None:
    assert sorted(loaded.labels) == loaded.machines
    for slug, label in loaded.labels.items():
        assert label == loaded.newest(slug)["machine"].get("label")
    assert loaded.labels["fixture-laptop-a"] == "MacBook Air (M1, 2020), fixture"


def test_newest_machines_are_listed_newest_first(loaded: tables.Results) -> None:
    """The front page's newest contributions: one entry per machine, by its newest file."""
    found = tables.newest_machines(loaded, count=2)
    assert len(found) == 2
    assert found[0][1] >= found[1][1]
    assert len({slug for slug, _ in found}) == 2
    assert tables.newest_machines(loaded, count=100)[-1][0] in loaded.machines
