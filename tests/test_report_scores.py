"""Tests for bench/report/scores.py: probe scores, probes and reported Geekbench scores, on frozen fixtures."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from documents import read, write

from bench.report import scores, tables, utilisation
from bench.results import ResultsError


def test_probe_scores_never_turn_unavailable_into_zero(loaded: tables.Results) -> None:
    """A GPU section that could not run keeps its status and reason, and no score."""
    table_of_scores = scores.probe_scores(loaded).set_index(["machine", "section"])
    gpu = table_of_scores.loc[("fixture-desktop-c", "gpu")]
    assert gpu["status"] == "unavailable"
    assert math.isnan(gpu["score"])
    assert gpu["reason"] == "no GPU visible to TensorFlow"
    assert table_of_scores.loc[("fixture-laptop-b", "multi_core"), "score"] == pytest.approx(6400.0)


def test_probe_scores_use_files_where_the_section_is_ok(loaded: tables.Results) -> None:
    """A later file whose probes failed, were partial or skipped does not hide a good score."""
    sections = loaded.probe_sections
    later = sections[sections["path"].str.endswith("20260102T100000Z.json")]
    assert later.set_index("section")["status"].to_dict() == {
        "single_core": "failed", "multi_core": "partial", "gpu": "skipped",
    }  # fmt: skip
    table_of_scores = scores.probe_scores(loaded).set_index(["machine", "section"])
    assert table_of_scores.loc[("fixture-laptop-a", "multi_core"), "status"] == "ok"
    assert table_of_scores.loc[("fixture-laptop-a", "multi_core"), "files"] == 1


def test_probe_scores_are_computed_against_the_current_baselines(folder: Path) -> None:
    """Stored scores are recomputed from the throughputs, so old baseline versions compare."""
    path = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(path)
    data["probes"]["baseline_version"] = "0"
    data["probes"]["sections"]["multi_core"]["score"] = 1.0
    for probe in data["probes"]["sections"]["multi_core"]["probes"]:
        probe["score"] = 1.0
    write(path, data)
    loaded = tables.load_results(folder)
    table_of_scores = scores.probe_scores(loaded).set_index(["machine", "section"])
    assert table_of_scores.loc[("fixture-laptop-b", "multi_core"), "score"] == pytest.approx(6400.0)
    assert set(loaded.probe_sections["baseline_version"]) == {tables.PROBE_REFERENCE_VERSION}


def test_probes_the_baselines_do_not_know_are_not_compared(folder: Path) -> None:
    """A probe without a current baseline makes the file's scores "not comparable", not wrong."""
    path = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(path)
    data["probes"]["sections"]["single_core"]["probes"][0]["name"] = "future_probe"
    write(path, data)
    table_of_scores = scores.probe_scores(tables.load_results(folder)).set_index(
        ["machine", "section"]
    )
    row = table_of_scores.loc[("fixture-laptop-b", "multi_core")]
    assert row["status"] == "not comparable"
    assert math.isnan(row["score"])
    assert "future_probe" in row["reason"]


def test_probe_scores_say_when_no_file_has_probes(folder: Path) -> None:
    """A machine whose files have no probes block is "not run", not zero."""
    for path in (folder / "fixture-laptop-a").glob("*.json"):
        data = read(path)
        data["probes"] = None
        write(path, data)
    table_of_scores = scores.probe_scores(tables.load_results(folder)).set_index(
        ["machine", "section"]
    )
    assert table_of_scores.loc[("fixture-laptop-a", "single_core"), "status"] == "not run"


def test_malformed_probes_are_refused_by_the_schema(folder: Path) -> None:
    """A probes block of an unexpected shape stops the load with the file and the place named."""
    path = folder / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(path)
    data["probes"] = {"sections": {"gpu": "fast", "multi_core": {"probes": [1, {"x": 2}]}}}
    write(path, data)
    with pytest.raises(ResultsError, match=r"20260103T120000Z\.json: invalid at probes"):
        tables.load_results(folder)


def test_probe_details_has_one_row_per_probe(loaded: tables.Results) -> None:
    """Every measured probe appears once per machine and section, with how many files had it."""
    details = scores.probe_details(loaded)
    assert len(details) == 28
    assert list(details.columns) == [
        "machine", "section", "probe", "unit", "value", "spread", "score", "files",
    ]  # fmt: skip
    row = details.set_index(["machine", "section", "probe"]).loc[
        ("fixture-laptop-a", "multi_core", "matmul")
    ]
    assert row["files"] == 2
    assert row["score"] == pytest.approx(4000.0)


def test_geekbench_scores_are_read_beside_the_probes(loaded: tables.Results) -> None:
    """User-reported Geekbench scores are kept per machine."""
    gb = scores.geekbench_scores(loaded).set_index("machine")
    assert gb.at["fixture-laptop-b", "multi_core"] == 12320
    assert gb.at["fixture-laptop-a", "gpu_api"] == "Metal"
    assert "fixture-desktop-c" not in gb.index


def test_scores_table_shows_status_not_zero(loaded: tables.Results) -> None:
    """A section that did not run shows why, and missing Geekbench scores say so."""
    table = scores.scores_table(scores.probe_scores(loaded), scores.geekbench_scores(loaded))
    row = table.set_index("Machine").loc["fixture-desktop-c"]
    assert row["GPU (probes)"] == "unavailable: no GPU visible to TensorFlow"
    assert row["Multi-core (Geekbench)"] == "not reported"
    assert table.set_index("Machine").at["fixture-laptop-b", "Multi-core (Geekbench)"] == "12,320"


def test_utilisation_display_names_each_configuration(loaded: tables.Results) -> None:
    """Every utilisation row says which configuration it is and never shows a zero share."""
    from bench.report import scores

    use = utilisation.utilisation(loaded)
    shown = scores.utilisation_display(use)
    assert len(shown) == len(use)
    assert shown["Setting"].str.contains(" pipeline, ").all()
    assert not (shown["Share of peak"] == "0%").any()
