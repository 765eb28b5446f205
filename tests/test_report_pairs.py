"""Tests for bench/report/pairs.py: every comparable pair, in `compare`'s own figures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from documents import FIXTURES

from bench import stats
from bench.report import pairs, tables, training

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def found(loaded: tables.Results) -> pairs.Pairs:
    return pairs.all_pairs(loaded)


def test_every_ordered_pair_of_a_comparable_group_is_there(
    loaded: tables.Results, found: pairs.Pairs
) -> None:
    for comparison in training.comparisons(loaded.epochs):
        config = pairs.configuration_id(comparison.setting)
        assert found.configs[config] == comparison.describe()
        for a in comparison.machines:
            for b in comparison.machines:
                if a != b:
                    names = [r.name for r in found.rows[(a, b, config)]]
                    assert tables.WORKLOAD_TITLES[comparison.workload] in names
    assert not any(a == b for a, b, _ in found.rows)


def test_a_pair_shows_the_verdict_compare_prints_for_the_same_folders(
    found: pairs.Pairs, loaded: tables.Results
) -> None:
    """The page's row and `nox -s compare -- A B` agree to the digit."""
    main = training.main_comparisons(loaded)["cnn"]
    config = pairs.configuration_id(main.setting)
    row = next(
        r
        for r in found.rows[("fixture-laptop-b", "fixture-laptop-a", config)]
        if r.name == "Custom CNN"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bench.compare", str(FIXTURES / "fixture-laptop-b"),
         str(FIXTURES / "fixture-laptop-a")],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    block = proc.stdout.split("\ncnn: full profile", 1)[1]
    assert f"B vs A: {row.verdict}" in block.split("\n\n", 1)[0]
    assert row.verdict == stats.verdict(main.ratio("fixture-laptop-b", "fixture-laptop-a"))


def test_scores_are_compared_and_a_single_file_gets_no_interval(found: pairs.Pairs) -> None:
    rows = {
        r.name: r
        for (a, b, _), rs in found.rows.items()
        if (a, b) == ("fixture-desktop-c", "fixture-laptop-a")
        for r in rs
    }
    single = rows["Single-core score"]
    assert single.a.endswith("(1 file: no interval)")
    assert "no interval" in single.verdict
    assert single.verdict.startswith("1.11x faster")


def test_the_reverse_pair_is_the_inverse(found: pairs.Pairs) -> None:
    for (a, b, config), rows in found.rows.items():
        back = {r.name: r for r in found.rows[(b, a, config)]}
        for row in rows:
            assert back[row.name].a == row.b
            assert back[row.name].b == row.a


def test_json_in_the_page_cannot_close_its_script_element(found: pairs.Pairs) -> None:
    hostile = pairs.Pairs({"x-a": "</script><script>alert(1)</script>", "x-b": "&amp; <!--"})
    hostile.configs["c1"] = "</SCRIPT>"
    hostile.rows[("x-a", "x-b", "c1")] = [pairs.Row("</script>", "1", "2", "<b>")]
    page = pairs.picker_html(hostile)
    inside = page.split("id='benchbook-pairs'>", 1)[1].rsplit("</script>", 1)[0]
    assert not re.search(r"[<>&]", inside)
    data = json.loads(inside)
    assert data["labels"]["x-a"] == "</script><script>alert(1)</script>"
    assert data["pairs"]["x-a"]["x-b"]["c1"] == [["</script>", "1", "2", "<b>"]]


def test_the_full_table_lists_each_pair_once(found: pairs.Pairs) -> None:
    table = pairs.full_table(found)
    assert (table["Machine A"] < table["Machine B"]).all()
    assert len(table) == sum(len(r) for (a, b, _), r in found.rows.items() if a < b)


def test_no_pairs_without_two_machines(tmp_path: Path) -> None:
    one = tmp_path / "results"
    (one / "fixture-laptop-b").mkdir(parents=True)
    for f in (FIXTURES / "fixture-laptop-b").glob("*.json"):
        (one / "fixture-laptop-b" / f.name).write_bytes(f.read_bytes())
    found = pairs.all_pairs(tables.load_results(one))
    assert found.rows == {}
    pairs.write_fragments(found, tmp_path)
    assert "No two machines have comparable runs" in (tmp_path / pairs.ALL).read_text()
