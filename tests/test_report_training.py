"""Tests for bench/report/training.py: comparable groups, summaries, speed-ups with intervals, headlines, on frozen fixtures."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from documents import read, write

from bench.errors import UserError
from bench.report import attribution, tables, training


def test_comparisons_group_only_comparable_runs(loaded: tables.Results) -> None:
    """Runs differing in a key field land in different groups; the largest group is charted."""
    main = training.main_comparisons(loaded)
    assert main["cnn"].machines == ["fixture-desktop-c", "fixture-laptop-a", "fixture-laptop-b"]
    assert main["cnn"].setting["profile"] == "full"
    assert main["vgg16"].machines == ["fixture-laptop-a", "fixture-laptop-b"]
    cnn_groups = [c for c in training.comparisons(loaded.epochs) if c.workload == "cnn"]
    assert len(cnn_groups) == 2


def test_set_aside_says_why_runs_are_not_compared(loaded: tables.Results) -> None:
    """Runs outside the charted group are listed with the settings that differ."""
    aside = training.set_aside(loaded).set_index("workload")
    assert aside.at["vgg16", "machine"] == "fixture-desktop-c"
    assert aside.at["vgg16", "differs from the chart"] == "VGG-16 weights random vs imagenet"
    assert "profile smoke vs full" in aside.at["cnn", "differs from the chart"]
    assert "image size 64 px vs 224 px" in aside.at["cnn", "differs from the chart"]


def test_summarise_takes_medians_over_repeats_and_files(loaded: tables.Results) -> None:
    """Median seconds per epoch pools every measured epoch, across repeats and files."""
    summary = training.summarise(training.main_comparisons(loaded)["cnn"]).set_index("machine")
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


def test_summarise_takes_the_spread_estimator_as_an_argument(loaded: tables.Results) -> None:
    """Another interval function (a future bootstrap) plugs in without other changes."""

    def widest(values: Any) -> tuple[float, float]:
        return float(np.min(values)) - 1, float(np.max(values)) + 1

    summary = training.summarise(training.main_comparisons(loaded)["cnn"], interval=widest)
    row = summary.set_index("machine").loc["fixture-desktop-c"]
    assert (row["low_epoch_s"], row["high_epoch_s"]) == (58.0, 62.0)


def test_speedups_are_ratios_of_medians_with_intervals(loaded: tables.Results) -> None:
    """The ratio "1.5x faster" is the baseline's median time over the machine's, with the
    bootstrap interval around it; the baseline is the reference, not a ratio."""
    ratios = training.speedups(training.main_comparisons(loaded)["cnn"], "fixture-laptop-a")
    assert ratios["fixture-laptop-a"] is None
    faster, slower = ratios["fixture-laptop-b"], ratios["fixture-desktop-c"]
    assert faster.value == pytest.approx(1.5)
    assert faster.low <= 1.5 <= faster.high
    assert slower.value == pytest.approx(0.5)
    assert training.speedup_verdict(faster).startswith("1.50x faster, 95 % CI ")
    assert training.speedup_verdict(slower).startswith("2.00x slower, 95 % CI ")
    assert training.speedup_verdict(None) == "baseline"


def test_speedup_table_falls_back_where_the_baseline_did_not_run(
    loaded: tables.Results,
) -> None:
    """A workload the baseline did not run comparably uses that group's first machine."""
    table, used = training.speedup_table(loaded, "fixture-desktop-c")
    assert used == {
        "cnn": "fixture-desktop-c", "cnn-aug": "fixture-desktop-c",
        "vgg16": "fixture-laptop-a", "vgg16-aug": "fixture-laptop-a",
    }  # fmt: skip
    assert table.at["fixture-laptop-b", "cnn"].value == pytest.approx(3.0)
    assert table.at["fixture-laptop-b", "vgg16-aug"].value == pytest.approx(2.72)
    assert table.at["fixture-desktop-c", "cnn"] is None
    assert math.isnan(table.at["fixture-desktop-c", "vgg16"])


def test_baseline_defaults_to_the_first_slug(
    loaded: tables.Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without BENCHBOOK_BASELINE the baseline is the first machine alphabetically."""
    monkeypatch.delenv(training.BASELINE_ENV, raising=False)
    assert training.check_baseline(loaded) == "fixture-desktop-c"


def test_baseline_follows_the_environment(
    loaded: tables.Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BENCHBOOK_BASELINE picks the baseline machine."""
    monkeypatch.setenv(training.BASELINE_ENV, "fixture-laptop-b")
    assert training.check_baseline(loaded) == "fixture-laptop-b"
    assert training.default_baseline(["fixture-laptop-a", "fixture-laptop-b"]) == "fixture-laptop-b"


def test_unknown_baseline_is_a_user_error(
    loaded: tables.Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A baseline with no results is refused with the machines that exist."""
    monkeypatch.setenv(training.BASELINE_ENV, "no-such-machine")
    with pytest.raises(UserError, match="no-such-machine is not a machine with results"):
        training.check_baseline(loaded)


def test_format_ratio_matches_the_article() -> None:
    """Ratios read like the article's, with two decimals and an x."""
    assert training.format_ratio(1.5) == "1.50x"
    assert training.format_ratio(math.nan) == "\u2014"


def test_headlines_hold_at_any_size(loaded: tables.Results) -> None:
    """One finding per workload: how many machines, the median machine and the fastest machine
    of each hardware family, never the fastest against the slowest."""
    lines = training.headlines(loaded)
    assert len(lines) == 4
    assert lines[0].startswith("Custom CNN: 3 machines, median machine ")
    assert "fastest per family: " in lines[0]
    assert " vs " not in lines[0]


def test_hardware_families() -> None:
    """A machine's family: NVIDIA GPU first, then Apple M-series, then the CPU architecture."""
    from bench.results import model

    cpu = {"model": "AMD Ryzen 9", "architecture": "x86_64"}
    assert model.hardware_family({"cpu": cpu, "gpus": []}) == "x86 CPU"
    assert model.hardware_family({"cpu": cpu, "gpus": [{"name": "NVIDIA H200"}]}) == "NVIDIA GPU"
    mac = {"cpu": {"model": "Apple M1 Pro", "architecture": "arm64"}, "gpus": []}
    assert model.hardware_family(mac) == "Apple M-series"
    graviton = {"cpu": {"model": "Neoverse-V1", "architecture": "aarch64"}, "gpus": []}
    assert model.hardware_family(graviton) == "Arm CPU"
    assert model.hardware_family({}) == "other"


def test_threads_are_part_of_the_comparability_key(folder: Path) -> None:
    """Runs at another --threads value never share a training chart with the default ones."""
    path = folder / "fixture-laptop-a" / "20260102T100000Z.json"
    data = read(path)
    data["config"]["intra_op_threads"] = 2
    write(path, data)
    loaded = tables.load_results(folder)
    cnn = [c for c in training.comparisons(loaded.epochs) if c.workload == "cnn"]
    assert {c.setting["intra_op_threads"] for c in cnn} == {0, 2}
    aside = training.set_aside(loaded)
    assert "intra-op threads 2 vs default" in " ".join(aside["differs from the chart"])


def test_summary_counts_runs_whose_epochs_vary_by_more_than_five_percent(folder: Path) -> None:
    """noisy_runs counts, per machine, the runs whose measured epochs have a CV above 5 %."""
    import statistics

    path = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(path)
    run = next(r for r in data["workloads"] if r["workload"] == "cnn")
    measured = [e for e in run["epochs"] if not e["warmup"]]
    measured[-1]["epoch_s"] *= 1.5  # one slow epoch: this run is now noisy
    write(path, data)
    loaded = tables.load_results(folder)
    seen = 0
    for comparison in training.comparisons(loaded.epochs):
        summary = training.summarise(comparison).set_index("machine")
        for machine, frame in comparison.epochs.groupby("machine"):
            expected = 0
            for _, one in frame.groupby(["path", "repeat"]):
                values = list(one["epoch_s"])
                if len(values) > 1 and statistics.stdev(values) / statistics.mean(values) > 0.05:
                    expected += 1
            assert summary.at[machine, "noisy_runs"] == expected
            seen += expected
    assert seen == 1


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
    loaded = tables.load_results(folder)
    assert set(attribution.attribution_groups(loaded)["cnn-aug"]["profile"]) == {
        "quick"
    }  # 2 machines
    for other in folder.rglob("*.json"):
        if other.parent.name != "fixture-laptop-a":
            other.unlink()
    loaded = tables.load_results(folder)
    assert set(attribution.attribution_groups(loaded)["cnn-aug"]["profile"]) == {"medium"}
    first = training.comparisons(loaded.epochs)
    assert next(c for c in first if c.workload == "cnn").setting["profile"] == "medium"


def test_training_table_formats_like_the_article(loaded: tables.Results) -> None:
    """The numbers behind a training chart, with ratios against the baseline as `compare` words
    them."""
    table = training.training_table(training.main_comparisons(loaded)["cnn"], "fixture-laptop-a")
    row = table.set_index("Machine").loc["fixture-laptop-b"]
    assert row["Median s/epoch"] == "20.0 s"
    assert row["vs fixture-laptop-a"] == "1.50x faster, 95 % CI 1.45 to 1.55"
    assert table.set_index("Machine").at["fixture-laptop-a", "vs fixture-laptop-a"] == "baseline"
    assert row["Runs"] == 2


def test_speedup_display_names_fallback_baselines(loaded: tables.Results) -> None:
    """A column compared with another machine than the baseline says so in its header."""
    table, used = training.speedup_table(loaded, "fixture-desktop-c")
    shown = training.speedup_display(table, used, "fixture-desktop-c")
    assert "Custom CNN" in shown.columns
    assert "VGG-16 transfer learning (vs fixture-laptop-a)" in shown.columns
    by_machine = shown.set_index("Machine")
    assert by_machine.at["fixture-laptop-b", "Custom CNN"] == "3.00x faster, 95 % CI 2.90 to 3.11"
    assert by_machine.at["fixture-desktop-c", "Custom CNN"] == "baseline"
    assert by_machine.at["fixture-desktop-c", "VGG-16 transfer learning (vs fixture-laptop-a)"] == (
        "\u2014"
    )
