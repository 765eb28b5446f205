"""Tests for bench/analysis.py: tidy tables, summaries and comparisons, on frozen fixtures."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench import analysis, pipelines, results
from bench.errors import UserError
from bench.results import ResultsError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "results"
LAPTOP_A = FIXTURES / "fixture-laptop-a" / "20260101T100000Z.json"


@pytest.fixture(scope="module")
def loaded() -> analysis.Results:
    """Every fixture results file, loaded once."""
    return analysis.load_results(FIXTURES)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A writable copy of the fixture results folder."""
    return Path(shutil.copytree(FIXTURES, tmp_path / "results"))


def read(path: Path) -> dict[str, Any]:
    """A fixture document as a dict."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def write(path: Path, data: dict[str, Any]) -> Path:
    """Write a document as the harness would (no validation)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_importing_analysis_does_not_import_tensorflow() -> None:
    """The report's modules load without TensorFlow (the docs environment lacks it)."""
    code = (
        "import sys; import bench.analysis, bench.charts, bench.report; "
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


def test_overview_counts_machines_files_and_runs(loaded: analysis.Results) -> None:
    """The overview counts machines, files, workload runs, failures and the newest date."""
    facts = analysis.overview(loaded)
    assert facts == analysis.Overview(
        machines=3, files=5, workload_runs=18, failed_runs=1, interrupted_files=1,
        newest_date="2026-01-05",
    )  # fmt: skip


def test_epochs_table_is_tidy(loaded: analysis.Results) -> None:
    """One row per machine, file, workload run and epoch, with the comparability key beside."""
    epochs = loaded.epochs
    expected = sum(len(run["epochs"]) for doc in loaded.documents for run in doc["workloads"])
    assert len(epochs) == expected
    assert not epochs.duplicated(["path", "workload", "repeat", "epoch"]).any()
    assert set(analysis.COMPARABILITY_KEY) <= set(epochs.columns)
    assert epochs["warmup"].sum() == 17  # one warm-up per finished run


def test_measured_epochs_leave_out_warmup_and_failed_runs(loaded: analysis.Results) -> None:
    """Warm-up epochs and epochs of failed runs never count."""
    measured = analysis.measured_epochs(loaded.epochs)
    assert not measured["warmup"].any()
    assert (measured["run_status"] == "ok").all()


def test_comparisons_group_only_comparable_runs(loaded: analysis.Results) -> None:
    """Runs differing in a key field land in different groups; the largest group is charted."""
    main = analysis.main_comparisons(loaded)
    assert main["cnn"].machines == ["fixture-desktop-c", "fixture-laptop-a", "fixture-laptop-b"]
    assert main["cnn"].setting["profile"] == "full"
    assert main["vgg16"].machines == ["fixture-laptop-a", "fixture-laptop-b"]
    cnn_groups = [c for c in analysis.comparisons(loaded.epochs) if c.workload == "cnn"]
    assert len(cnn_groups) == 2


def test_set_aside_says_why_runs_are_not_compared(loaded: analysis.Results) -> None:
    """Runs outside the charted group are listed with the settings that differ."""
    aside = analysis.set_aside(loaded).set_index("workload")
    assert aside.at["vgg16", "machine"] == "fixture-desktop-c"
    assert aside.at["vgg16", "differs from the chart"] == "VGG-16 weights random vs imagenet"
    assert "profile smoke vs full" in aside.at["cnn", "differs from the chart"]
    assert "image size 64 px vs 224 px" in aside.at["cnn", "differs from the chart"]


def test_summarise_takes_medians_over_repeats_and_files(loaded: analysis.Results) -> None:
    """Median seconds per epoch pools every measured epoch, across repeats and files."""
    summary = analysis.summarise(analysis.main_comparisons(loaded)["cnn"]).set_index("machine")
    assert summary["median_epoch_s"].to_dict() == {
        "fixture-laptop-b": 20.0, "fixture-laptop-a": 30.0, "fixture-desktop-c": 60.0,
    }  # fmt: skip
    assert summary.at["fixture-laptop-a", "files"] == 2
    assert summary.at["fixture-laptop-a", "repeats"] == 2
    assert summary.at["fixture-laptop-b", "repeats"] == 2
    assert summary.at["fixture-laptop-b", "measured_epochs"] == 8
    assert summary.at["fixture-laptop-a", "min_epoch_s"] == 29.0
    assert summary.at["fixture-laptop-a", "low_epoch_s"] <= 30.0
    assert summary.at["fixture-laptop-b", "median_images_per_s"] == pytest.approx(1250.0)


def test_summarise_takes_the_spread_estimator_as_an_argument(loaded: analysis.Results) -> None:
    """Another interval function (a future bootstrap) plugs in without other changes."""

    def widest(values: Any) -> tuple[float, float]:
        return float(np.min(values)) - 1, float(np.max(values)) + 1

    summary = analysis.summarise(analysis.main_comparisons(loaded)["cnn"], interval=widest)
    row = summary.set_index("machine").loc["fixture-desktop-c"]
    assert (row["low_epoch_s"], row["high_epoch_s"]) == (58.0, 62.0)


def test_speedups_are_ratios_of_medians_with_intervals(loaded: analysis.Results) -> None:
    """The ratio "1.5x faster" is the baseline's median time over the machine's, with the
    bootstrap interval around it; the baseline is the reference, not a ratio."""
    ratios = analysis.speedups(analysis.main_comparisons(loaded)["cnn"], "fixture-laptop-a")
    assert ratios["fixture-laptop-a"] is None
    faster, slower = ratios["fixture-laptop-b"], ratios["fixture-desktop-c"]
    assert faster.value == pytest.approx(1.5)
    assert faster.low <= 1.5 <= faster.high
    assert slower.value == pytest.approx(0.5)
    assert analysis.speedup_verdict(faster).startswith("1.50x faster, 95 % CI ")
    assert analysis.speedup_verdict(slower).startswith("2.00x slower, 95 % CI ")
    assert analysis.speedup_verdict(None) == "baseline"


def test_speedup_table_falls_back_where_the_baseline_did_not_run(
    loaded: analysis.Results,
) -> None:
    """A workload the baseline did not run comparably uses that group's first machine."""
    table, used = analysis.speedup_table(loaded, "fixture-desktop-c")
    assert used == {
        "cnn": "fixture-desktop-c", "cnn-aug": "fixture-desktop-c",
        "vgg16": "fixture-laptop-a", "vgg16-aug": "fixture-laptop-a",
    }  # fmt: skip
    assert table.at["fixture-laptop-b", "cnn"].value == pytest.approx(3.0)
    assert table.at["fixture-laptop-b", "vgg16-aug"].value == pytest.approx(2.72)
    assert table.at["fixture-desktop-c", "cnn"] is None
    assert math.isnan(table.at["fixture-desktop-c", "vgg16"])


def test_baseline_defaults_to_the_first_slug(
    loaded: analysis.Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without BENCHBOOK_BASELINE the baseline is the first machine alphabetically."""
    monkeypatch.delenv(analysis.BASELINE_ENV, raising=False)
    assert analysis.check_baseline(loaded) == "fixture-desktop-c"


def test_baseline_follows_the_environment(
    loaded: analysis.Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BENCHBOOK_BASELINE picks the baseline machine."""
    monkeypatch.setenv(analysis.BASELINE_ENV, "fixture-laptop-b")
    assert analysis.check_baseline(loaded) == "fixture-laptop-b"
    assert analysis.default_baseline(["fixture-laptop-a", "fixture-laptop-b"]) == "fixture-laptop-b"


def test_unknown_baseline_is_a_user_error(
    loaded: analysis.Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A baseline with no results is refused with the machines that exist."""
    monkeypatch.setenv(analysis.BASELINE_ENV, "no-such-machine")
    with pytest.raises(UserError, match="no-such-machine is not a machine with results"):
        analysis.check_baseline(loaded)


def test_format_ratio_matches_the_article() -> None:
    """Ratios read like the article's, with two decimals and an x."""
    assert analysis.format_ratio(1.5) == "1.50x"
    assert analysis.format_ratio(math.nan) == "\u2014"


def test_headlines_compare_fastest_with_slowest(loaded: analysis.Results) -> None:
    """One plain-text finding per workload with two or more machines."""
    lines = analysis.headlines(loaded)
    assert len(lines) == 4
    assert lines[0] == (
        "Custom CNN: fixture-laptop-b vs fixture-desktop-c: 3.00x faster, 95 % CI 2.95 to 3.05; "
        "median 20.0 s vs 60.0 s per epoch"
    )


def test_hardware_puts_machines_side_by_side(loaded: analysis.Results) -> None:
    """One column per machine, from its newest file, with chip, cores, GPU and versions."""
    table = analysis.hardware(loaded)
    assert list(table.columns) == loaded.machines
    pro = table["fixture-laptop-b"]
    assert pro["Chip or CPU"] == "Apple M1 Pro"
    assert pro["CPU cores"] == "10 (8 performance + 2 efficiency)"
    assert pro["GPU"] == "Apple M1 Pro, 16 cores"
    assert pro["Memory"] == "16 GiB"
    assert pro["tensorflow-metal"] == "1.2.0"
    assert pro["Device used"] == "GPU:0"
    assert table.at["Results files", "fixture-laptop-a"] == "2"
    assert table.at["CPU cores", "fixture-desktop-c"] == "4 (8 threads)"
    newest = loaded.newest("fixture-laptop-b")["dataset"]
    assert table.at["Dataset (newest file)", "fixture-laptop-b"] == (analysis.dataset_label(newest))


def test_dataset_label_names_the_data_and_its_fingerprint() -> None:
    """Real data by its manifest name, the stand-in as such, both with the fingerprint's start."""
    real = {"kind": "real", "name": "Kaggle Dogs vs Cats (petimages)", "fingerprint": "ab" * 32}
    assert analysis.dataset_label(real) == "Kaggle Dogs vs Cats (petimages), abababab"
    assert analysis.dataset_label(
        {"kind": "synthetic", "name": "synthetic", "fingerprint": "0" * 64}
    ) == ("synthetic stand-in, 00000000")
    assert analysis.dataset_label({"kind": "real", "name": None, "fingerprint": "c" * 64}) == (
        "unnamed dataset, cccccccc"
    )


def test_probe_scores_never_turn_unavailable_into_zero(loaded: analysis.Results) -> None:
    """A GPU section that could not run keeps its status and reason, and no score."""
    scores = analysis.probe_scores(loaded).set_index(["machine", "section"])
    gpu = scores.loc[("fixture-desktop-c", "gpu")]
    assert gpu["status"] == "unavailable"
    assert math.isnan(gpu["score"])
    assert gpu["reason"] == "no GPU visible to TensorFlow"
    assert scores.loc[("fixture-laptop-b", "multi_core"), "score"] == pytest.approx(6400.0)


def test_probe_scores_use_files_where_the_section_is_ok(loaded: analysis.Results) -> None:
    """A later file whose probes failed, were partial or skipped does not hide a good score."""
    sections = loaded.probe_sections
    later = sections[sections["path"].str.endswith("20260102T100000Z.json")]
    assert later.set_index("section")["status"].to_dict() == {
        "single_core": "failed", "multi_core": "partial", "gpu": "skipped",
    }  # fmt: skip
    scores = analysis.probe_scores(loaded).set_index(["machine", "section"])
    assert scores.loc[("fixture-laptop-a", "multi_core"), "status"] == "ok"
    assert scores.loc[("fixture-laptop-a", "multi_core"), "files"] == 1


def test_probe_scores_are_computed_against_the_current_baselines(folder: Path) -> None:
    """Stored scores are recomputed from the throughputs, so old baseline versions compare."""
    path = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(path)
    data["probes"]["baseline_version"] = "0"
    data["probes"]["sections"]["multi_core"]["score"] = 1.0
    for probe in data["probes"]["sections"]["multi_core"]["probes"]:
        probe["score"] = 1.0
    write(path, data)
    loaded = analysis.load_results(folder)
    scores = analysis.probe_scores(loaded).set_index(["machine", "section"])
    assert scores.loc[("fixture-laptop-b", "multi_core"), "score"] == pytest.approx(6400.0)
    assert set(loaded.probe_sections["baseline_version"]) == {analysis.PROBE_BASELINE}


def test_probes_the_baselines_do_not_know_are_not_compared(folder: Path) -> None:
    """A probe without a current baseline makes the file's scores "not comparable", not wrong."""
    path = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(path)
    data["probes"]["sections"]["single_core"]["probes"][0]["name"] = "future_probe"
    write(path, data)
    scores = analysis.probe_scores(analysis.load_results(folder)).set_index(["machine", "section"])
    row = scores.loc[("fixture-laptop-b", "multi_core")]
    assert row["status"] == "not comparable"
    assert math.isnan(row["score"])
    assert "future_probe" in row["reason"]


def test_probe_scores_say_when_no_file_has_probes(folder: Path) -> None:
    """A machine whose files have no probes block is "not run", not zero."""
    for path in (folder / "fixture-laptop-a").glob("*.json"):
        data = read(path)
        data["probes"] = None
        write(path, data)
    scores = analysis.probe_scores(analysis.load_results(folder)).set_index(["machine", "section"])
    assert scores.loc[("fixture-laptop-a", "single_core"), "status"] == "not run"


def test_malformed_probes_are_refused_by_the_schema(folder: Path) -> None:
    """A probes block of an unexpected shape stops the load with the file and the place named."""
    path = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(path)
    data["probes"] = {"sections": {"gpu": "fast", "multi_core": {"probes": [1, {"x": 2}]}}}
    write(path, data)
    with pytest.raises(ResultsError, match=r"20260103T120000Z\.json: invalid at probes"):
        analysis.load_results(folder)


def test_probe_details_has_one_row_per_probe(loaded: analysis.Results) -> None:
    """Every measured probe appears once per machine and section, with how many files had it."""
    details = analysis.probe_details(loaded)
    assert len(details) == 28
    assert list(details.columns) == [
        "machine", "section", "probe", "unit", "value", "spread", "score", "files",
    ]  # fmt: skip
    row = details.set_index(["machine", "section", "probe"]).loc[
        ("fixture-laptop-a", "multi_core", "matmul")
    ]
    assert row["files"] == 2
    assert row["score"] == pytest.approx(4000.0)


def test_geekbench_scores_are_read_beside_the_probes(loaded: analysis.Results) -> None:
    """User-reported Geekbench scores are kept per machine."""
    gb = analysis.geekbench_scores(loaded).set_index("machine")
    assert gb.at["fixture-laptop-b", "multi_core"] == 12320
    assert gb.at["fixture-laptop-a", "gpu_api"] == "Metal"
    assert "fixture-desktop-c" not in gb.index


def test_article_comparison_measures_every_claim_when_both_chips_exist(
    loaded: analysis.Results,
) -> None:
    """With comparable M1 and M1 Pro results, every article ratio gets one from here."""
    table = analysis.article_comparison(loaded).set_index("measure")
    assert list(table.index) == [c.measure for c in analysis.ARTICLE_CLAIMS]
    for claim in analysis.ARTICLE_CLAIMS:
        assert table.at[claim.measure, "here_ratio"] == pytest.approx(claim.ratio, abs=0.01)
    assert table.at["cnn", "here"].startswith("1.50x faster, 95 % CI ")
    assert table.at["cnn", "here_low"] < 1.5 < table.at["cnn", "here_high"]
    assert table.at["gpu", "here"] == "1.95x"  # scores: single figures, no interval
    assert "-13 points" in table.at["single_core", "source"]
    assert "Geekbench 5.4.3" in table.at["multi_core", "source"]


def test_article_comparison_says_not_measured_without_an_m1_pro(folder: Path) -> None:
    """Without the second chip every row reads "not measured here yet" and says why."""
    shutil.rmtree(folder / "fixture-laptop-b")
    table = analysis.article_comparison(analysis.load_results(folder))
    assert (table["here"] == analysis.NOT_MEASURED).all()
    assert (table["source"] == "no Apple M1 Pro results").all()


def test_article_comparison_explains_incomparable_runs(folder: Path) -> None:
    """When both chips ran but differently, the row names the settings that differ."""
    path = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(path)
    data["config"]["batch_size"] = 32
    write(path, data)
    table = analysis.article_comparison(analysis.load_results(folder)).set_index("measure")
    assert table.at["cnn", "here"] == analysis.NOT_MEASURED
    assert table.at["cnn", "source"] == (
        "the M1 and M1 Pro runs are not comparable (batch size 64 vs 32)"
    )


def test_article_falls_back_to_probe_scores(folder: Path) -> None:
    """Without reported Geekbench scores, score ratios come from the probes."""
    for path in folder.glob("*/*.json"):
        data = read(path)
        data["geekbench"] = None
        write(path, data)
    table = analysis.article_comparison(analysis.load_results(folder)).set_index("measure")
    assert table.at["multi_core", "here_ratio"] == pytest.approx(1.6)
    assert table.at["multi_core", "source"].endswith("benchbook's probe scores")


def test_empty_folder_gives_empty_tables(tmp_path: Path) -> None:
    """With no results every table is empty and nothing fails."""
    empty = analysis.load_results(tmp_path)
    assert empty.empty
    assert analysis.overview(empty).newest_date is None
    assert analysis.comparisons(empty.epochs) == []
    assert analysis.headlines(empty) == []
    assert analysis.probe_scores(empty).empty
    assert analysis.probe_details(empty).empty
    assert analysis.hardware(empty).shape == (len(analysis.HARDWARE_ROWS), 0)
    assert analysis.set_aside(empty).empty
    assert analysis.check_baseline(empty) is None
    assert (analysis.article_comparison(empty)["here"] == analysis.NOT_MEASURED).all()


def test_missing_default_folder_means_no_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh clone without results/ loads as empty."""
    monkeypatch.delenv(analysis.RESULTS_ENV, raising=False)
    monkeypatch.setattr(analysis, "ROOT", tmp_path)
    assert analysis.load_results().empty


def test_missing_named_folder_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder named in BENCHBOOK_RESULTS must exist (a typo would otherwise hide results)."""
    monkeypatch.setenv(analysis.RESULTS_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(UserError, match="nowhere does not exist"):
        analysis.load_results()


def test_relative_results_folder_is_taken_from_the_repository_root(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BENCHBOOK_RESULTS=tests/data/results means the same wherever the build runs."""
    monkeypatch.setenv(analysis.RESULTS_ENV, "tests/data/results")
    assert analysis.results_dir() == FIXTURES


def test_invalid_file_fails_with_path_and_reason(folder: Path) -> None:
    """A file that does not validate stops loading with its path and the reason, in one line."""
    path = folder / "fixture-laptop-a" / "20260101T100000Z.json"
    data = read(path)
    data["workloads"][0]["epochs"][1]["epoch_s"] = -1
    write(path, data)
    with pytest.raises(ResultsError) as info:
        analysis.load_results(folder)
    message = str(info.value)
    assert message.startswith(f"{path}: invalid at workloads/0/epochs/1/epoch_s")
    assert "\n" not in message


def test_file_in_the_wrong_machine_folder_is_refused(folder: Path) -> None:
    """A file whose machine slug does not match its folder says where it belongs."""
    shutil.move(folder / "fixture-laptop-b", folder / "renamed")
    with pytest.raises(ResultsError, match=r"machine\.slug is 'fixture-laptop-b' but the file"):
        analysis.load_results(folder)


def test_copied_file_is_refused(folder: Path) -> None:
    """The same run twice (a copied file) would be counted twice: it is refused."""
    shutil.copy(LAPTOP_A, folder / "fixture-laptop-a" / "20260109T000000Z.json")
    with pytest.raises(ResultsError, match="byte-identical to"):
        analysis.load_results(folder)


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
        analysis.load_results(folder)
    assert "\n" not in str(info.value)


def test_not_a_number_is_refused(folder: Path) -> None:
    """NaN is not JSON; the fast path hands it to the strict loader, which refuses it."""
    path = folder / "fixture-laptop-a" / "20260101T100000Z.json"
    path.write_text(path.read_text().replace('"epoch_s": 30.0', '"epoch_s": NaN', 1))
    with pytest.raises(ResultsError, match="not valid JSON"):
        analysis.load_results(folder)


def test_check_command_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m bench.analysis FOLDER` says in one line that every file is valid."""
    assert analysis.main([str(FIXTURES)]) == 0
    assert capsys.readouterr().out == "5 results files from 3 machines, all valid\n"


def test_check_command_names_the_bad_file(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad file gives exit status 2 and one line with its path and the reason."""
    path = folder / "fixture-desktop-c" / "20260105T000000Z.json"
    data = read(path)
    data["machine"]["slug"] = "Not A Slug"
    write(path, data)
    assert analysis.main([str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: {path}: invalid at machine/slug")


# --- Bottlenecks ------------------------------------------------------------------------------

BOTTLENECK_FIXTURES = ROOT / "tests" / "data" / "bottlenecks"


@pytest.fixture(scope="module")
def with_variants(tmp_path_factory: pytest.TempPathFactory) -> analysis.Results:
    """The fixtures plus fixture-laptop-a runs with the tf.data pipeline and with 4 threads."""
    folder = Path(shutil.copytree(FIXTURES, tmp_path_factory.mktemp("b") / "results"))
    shutil.copytree(BOTTLENECK_FIXTURES, folder, dirs_exist_ok=True)
    return analysis.load_results(folder)


def test_bottleneck_table_derives_wait_and_verdict(loaded: analysis.Results) -> None:
    """Each configuration gets medians of the three throughputs, its input wait and verdict."""
    table = analysis.bottleneck_table(loaded).set_index(["workload", "machine", "profile"])
    row = table.loc[("cnn-aug", "fixture-laptop-a", "full")]
    assert row["attribution"] == "measured"
    assert row["input_images_per_s"] == pytest.approx(540, rel=1e-4)
    assert row["compute_images_per_s"] == pytest.approx(1000, rel=1e-4)
    assert row["end_to_end_images_per_s"] == pytest.approx(500)
    assert row["input_wait_share"] == pytest.approx(0.5, abs=1e-4)
    assert row["verdict"] == "input-bound"
    assert row["threads"] == "default (8 cores)"
    assert 0 < row["overhead_share"] < 0.05
    # Two repeats: medians over both.
    b = table.loc[("cnn-aug", "fixture-laptop-b", "full")]
    assert (b["runs"], b["measured_runs"]) == (2, 2)
    assert b["input_images_per_s"] == pytest.approx(525, rel=1e-4)
    assert table.loc[("cnn", "fixture-laptop-b", "full"), "verdict"] == "compute-bound"


def test_runs_without_the_block_are_not_measured(loaded: analysis.Results) -> None:
    """Files from before the measurement still load and say "not measured", never zero."""
    table = analysis.bottleneck_table(loaded)
    vgg = table[table["workload"] == "vgg16"]
    assert set(vgg["attribution"]) == {"not measured"}
    assert set(vgg["verdict"]) == {"not measured"}
    assert vgg["input_images_per_s"].isna().all()
    assert vgg["end_to_end_images_per_s"].notna().all()
    # A failed training run has nothing to attribute: desktop-c's vgg16-aug has no row.
    desktop = table[table["machine"] == "fixture-desktop-c"]
    assert "vgg16-aug" not in set(desktop["workload"])


def test_a_failed_measurement_is_reported_as_failed(folder: Path) -> None:
    """An attribution block with an error shows as failed, with no throughputs."""
    path = folder / "fixture-laptop-a" / "20260102T100000Z.json"
    data = read(path)
    data["workloads"][0]["attribution"] = {"error": "ResourceExhaustedError: OOM"}
    write(path, data)
    loaded = analysis.load_results(folder)
    rows = loaded.attribution[loaded.attribution["path"] == str(path)]
    assert rows["attribution"].tolist() == ["failed"]
    assert rows["error"].tolist() == ["ResourceExhaustedError: OOM"]
    table = analysis.bottleneck_table(loaded)
    # The machine's other file measured the same configuration: the group stays measured.
    row = table[(table["workload"] == "cnn") & (table["machine"] == "fixture-laptop-a")
                & (table["profile"] == "full")].iloc[0]  # fmt: skip
    assert (row["attribution"], row["runs"], row["measured_runs"]) == ("measured", 2, 1)


def test_bottleneck_groups_keep_one_setting_per_workload(
    with_variants: analysis.Results,
) -> None:
    """A chart holds every machine, pipeline and thread count of one profile and dataset."""
    groups = analysis.bottleneck_groups(with_variants)
    assert list(groups) == ["cnn", "cnn-aug", "vgg16", "vgg16-aug"]
    aug = groups["cnn-aug"]
    assert set(aug["profile"]) == {"full"}
    labels = [analysis.configuration_label(r) for r in aug.to_dict("records")]
    assert labels == [
        "fixture-desktop-c, legacy, default (8 cores)",
        "fixture-laptop-a, legacy, default (8 cores)",
        "fixture-laptop-a, legacy, 4 threads",
        "fixture-laptop-a, tf.data affine, default (8 cores)",
        "fixture-laptop-a, tf.data affine, 4 threads",
        "fixture-laptop-b, legacy, default (10 cores)",
    ]
    assert aug.loc[3, "verdict"] == "compute-bound"
    # The smoke-profile cnn run of fixture-desktop-c is a different setting: not in the chart.
    assert set(groups["cnn"]["profile"]) == {"full"}


def test_thread_scaling_keeps_machines_with_two_thread_counts(
    loaded: analysis.Results, with_variants: analysis.Results
) -> None:
    """Series need two or more thread counts; the default is placed at the machine's cores."""
    assert analysis.thread_scaling(loaded).empty
    table = analysis.thread_scaling(with_variants)
    assert set(table["machine"]) == {"fixture-laptop-a"}
    legacy = table[(table["workload"] == "cnn-aug") & (table["pipeline"] == "legacy")]
    assert legacy["cores"].tolist() == [4, 8]
    assert legacy["threads"].tolist() == ["4 threads", "default (8 cores)"]
    assert legacy["images_per_s"].tolist() == pytest.approx([280, 500], rel=1e-3)


def test_augmentation_story_prefers_a_machine_with_both_pipelines(
    loaded: analysis.Results, with_variants: analysis.Results
) -> None:
    """The explanation uses default threads and a machine that measured tf.data too."""
    story = analysis.augmentation_story(with_variants)
    assert story is not None
    assert (story.machine, story.threads) == ("fixture-laptop-a", "default (8 cores)")
    assert story.legacy["verdict"] == "input-bound"
    assert story.tfdata is not None
    assert story.tfdata_speedup == pytest.approx(950 / 500, rel=1e-3)
    assert story.augmentation_cost == pytest.approx(2400 / 540, rel=1e-3)
    # Without tf.data results, the first machine with the legacy measurement, no speed-up.
    plain = analysis.augmentation_story(loaded)
    assert plain is not None
    assert plain.tfdata is None
    assert math.isnan(plain.tfdata_speedup)


def test_no_story_without_measurements(folder: Path) -> None:
    """Results without any attribution give no story and an all-"not measured" table."""
    for path in folder.rglob("*.json"):
        data = read(path)
        for run in data["workloads"]:
            run.pop("attribution", None)
        write(path, data)
    loaded = analysis.load_results(folder)
    assert analysis.augmentation_story(loaded) is None
    assert set(analysis.bottleneck_table(loaded)["attribution"]) == {"not measured"}


def test_threads_are_part_of_the_comparability_key(folder: Path) -> None:
    """Runs at another --threads value never share a training chart with the default ones."""
    path = folder / "fixture-laptop-a" / "20260102T100000Z.json"
    data = read(path)
    data["config"]["intra_op_threads"] = 2
    write(path, data)
    loaded = analysis.load_results(folder)
    cnn = [c for c in analysis.comparisons(loaded.epochs) if c.workload == "cnn"]
    assert {c.setting["intra_op_threads"] for c in cnn} == {0, 2}
    aside = analysis.set_aside(loaded)
    assert "intra-op threads 2 vs default" in " ".join(aside["differs from the chart"])


def test_default_and_an_explicit_count_of_every_core_are_one_point(folder: Path) -> None:
    """Runs at the default and at --threads equal to the logical cores make no scaling series."""
    shutil.copytree(BOTTLENECK_FIXTURES, folder, dirs_exist_ok=True)
    path = folder / "fixture-laptop-a" / "20260107T100000Z.json"  # legacy, 4 threads
    data = read(path)
    data["config"]["intra_op_threads"] = 8  # fixture-laptop-a has 8 logical cores
    write(path, data)
    table = analysis.thread_scaling(analysis.load_results(folder))
    assert set(table["pipeline"]) == {"tfdata-affine"}
    assert table[table["workload"] == "cnn"]["cores"].tolist() == [4, 8]


def test_summary_counts_runs_whose_epochs_vary_by_more_than_five_percent(folder: Path) -> None:
    """noisy_runs counts, per machine, the runs whose measured epochs have a CV above 5 %."""
    import statistics

    path = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(path)
    run = next(r for r in data["workloads"] if r["workload"] == "cnn")
    measured = [e for e in run["epochs"] if not e["warmup"]]
    measured[-1]["epoch_s"] *= 1.5  # one slow epoch: this run is now noisy
    write(path, data)
    loaded = analysis.load_results(folder)
    seen = 0
    for comparison in analysis.comparisons(loaded.epochs):
        summary = analysis.summarise(comparison).set_index("machine")
        for machine, frame in comparison.epochs.groupby("machine"):
            expected = 0
            for _, one in frame.groupby(["path", "repeat"]):
                values = list(one["epoch_s"])
                if len(values) > 1 and statistics.stdev(values) / statistics.mean(values) > 0.05:
                    expected += 1
            assert summary.at[machine, "noisy_runs"] == expected
            seen += expected
    assert seen == 1


def test_older_layer_runs_are_charted_as_tfdata_layers(folder: Path) -> None:
    """A file that stored the Keras layers' run as tfdata is its own configuration, labelled so."""
    shutil.copytree(BOTTLENECK_FIXTURES, folder, dirs_exist_ok=True)
    path = folder / "fixture-laptop-a" / "20260106T100000Z.json"  # tf.data, default threads
    data = read(path)
    run = next(r for r in data["workloads"] if r["workload"] == "cnn-aug")
    run["augmentation"] = pipelines.layers_augmentation(True)
    write(path, data)
    loaded = analysis.load_results(folder)
    aug = analysis.bottleneck_groups(loaded)["cnn-aug"]
    labels = {analysis.configuration_label(r) for r in aug.to_dict("records")}
    assert "fixture-laptop-a, tf.data layers, default (8 cores)" in labels
    assert "fixture-laptop-a, tf.data affine, default (8 cores)" not in labels
    story = analysis.augmentation_story(loaded)
    assert story is not None
    assert story.tfdata is None
    assert story.layers is not None
    assert story.layers_speedup == pytest.approx(950 / 500, rel=1e-3)
    # The file asked for the layers, so its plain CNN run is read as tfdata-layers too; the
    # other file's affine runs stay tfdata-affine.
    cnn = analysis.bottleneck_groups(loaded)["cnn"]
    assert {"tfdata-affine", "tfdata-layers"} <= set(cnn["pipeline"])


def test_larger_profiles_are_charted_first(folder: Path) -> None:
    """More machines first; then a medium-profile group is charted before a quick one."""
    path = folder / "fixture-laptop-a" / "20260101T100000Z.json"
    data = read(path)
    data["config"]["profile"] = "medium"
    data["dataset"]["fingerprint"] = "f" * 64
    write(path, data)
    for other in folder.rglob("*.json"):
        if other != path:
            d = read(other)
            d["config"]["profile"] = "quick"
            write(other, d)
    loaded = analysis.load_results(folder)
    assert set(analysis.bottleneck_groups(loaded)["cnn-aug"]["profile"]) == {"quick"}  # 2 machines
    for other in folder.rglob("*.json"):
        if other.parent.name != "fixture-laptop-a":
            other.unlink()
    loaded = analysis.load_results(folder)
    assert set(analysis.bottleneck_groups(loaded)["cnn-aug"]["profile"]) == {"medium"}
    first = analysis.comparisons(loaded.epochs)
    assert next(c for c in first if c.workload == "cnn").setting["profile"] == "medium"


def test_folders_of_the_same_hardware_are_paired(tmp_path: Path) -> None:
    """A folder without a CPU identity and one with it, same CPU name, cores and flags, are
    named as the same hardware; a different CPU is not."""
    folder = Path(shutil.copytree(ROOT / "tests" / "data" / "results", tmp_path / "results"))
    source = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(source)
    data["machine"]["slug"] = "fixture-laptop-b-zen4"
    data["machine"]["cpu"]["identity"] = {"vendor": "AuthenticAMD", "family": 25, "model": 17}
    data["run_id"] = "9" * 32
    target = folder / "fixture-laptop-b-zen4" / source.name
    target.parent.mkdir()
    write(target, data)
    pairs = analysis.same_hardware(analysis.load_results(folder))
    assert pairs == [("fixture-laptop-b", "fixture-laptop-b-zen4")]
