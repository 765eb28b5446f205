"""Tests for bench/report/article.py: the article's ratios beside the ones measured here, on frozen fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from documents import read, write

from bench.report import article, tables


def test_article_comparison_measures_every_claim_when_both_chips_exist(
    loaded: tables.Results,
) -> None:
    """With comparable M1 and M1 Pro results, every article ratio gets one from here."""
    table = article.article_comparison(loaded).set_index("measure")
    assert list(table.index) == [c.measure for c in article.ARTICLE_CLAIMS]
    for claim in article.ARTICLE_CLAIMS:
        assert table.at[claim.measure, "here_ratio"] == pytest.approx(claim.ratio, abs=0.01)
    assert table.at["cnn", "here"].startswith("1.50x faster, 95 % CI ")
    assert table.at["cnn", "here_low"] < 1.5 < table.at["cnn", "here_high"]
    assert table.at["gpu", "here"] == "1.95x"  # scores: single figures, no interval
    assert "-13 points" in table.at["single_core", "source"]
    assert "Geekbench 5.4.3" in table.at["multi_core", "source"]


def test_article_comparison_says_not_measured_without_an_m1_pro(folder: Path) -> None:
    """Without the second chip every row reads "not measured here yet" and says why."""
    shutil.rmtree(folder / "fixture-laptop-b")
    table = article.article_comparison(tables.load_results(folder))
    assert (table["here"] == article.NOT_MEASURED).all()
    assert (table["source"] == "no Apple M1 Pro results").all()


def test_article_comparison_explains_incomparable_runs(folder: Path) -> None:
    """When both chips ran but differently, the row names the settings that differ."""
    path = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(path)
    data["config"]["batch_size"] = 32
    write(path, data)
    table = article.article_comparison(tables.load_results(folder)).set_index("measure")
    assert table.at["cnn", "here"] == article.NOT_MEASURED
    assert table.at["cnn", "source"] == (
        "the M1 and M1 Pro runs are not comparable (batch size 64 vs 32)"
    )


def test_article_falls_back_to_probe_scores(folder: Path) -> None:
    """Without reported Geekbench scores, score ratios come from the probes."""
    for path in folder.glob("*/*.json"):
        data = read(path)
        data["geekbench"] = None
        write(path, data)
    table = article.article_comparison(tables.load_results(folder)).set_index("measure")
    assert table.at["multi_core", "here_ratio"] == pytest.approx(1.6)
    assert table.at["multi_core", "source"].endswith("benchbook's probe scores")
