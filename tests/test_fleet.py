"""Tests for bench/results/fleet.py: the stand-in community the scale checks build from."""

from __future__ import annotations

from pathlib import Path

from bench import results
from bench.readers import standings
from bench.report import tables
from bench.results import fleet, model

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = [
    ROOT / "tests" / "data" / "validate" / "valid" / "amd-epyc-2c" / "20261128T200525Z.json",
    *sorted((ROOT / "tests" / "data" / "results" / "fixture-laptop-a").glob("*.json")),
]


def test_a_fleet_is_valid_distinct_spread_and_repeatable(tmp_path: Path) -> None:
    """Every file passes validation, each machine is its own folder and kind of hardware, the
    speeds spread over several times, and the same seed writes the same bytes."""
    written = fleet.write_fleet(tmp_path / "a", 20, TEMPLATES)
    assert len(written) == 40
    report = results.check_tree(tmp_path / "a")
    assert report.problems == []
    assert len(report.machines) == 20
    loaded = tables.load_results(tmp_path / "a")
    families = {model.hardware_family(loaded.newest(m)["machine"]) for m in loaded.machines}
    assert families == {"Apple M-series", "x86 CPU", "NVIDIA GPU"}
    table = standings.standings(zip(map(str, loaded.files["path"]), loaded.documents, strict=True))
    widest = max(table.values(), key=len)
    medians = sorted(s.median_s for s in widest.values())
    assert medians[-1] / medians[0] > 4
    again = fleet.write_fleet(tmp_path / "b", 20, TEMPLATES)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in written]
