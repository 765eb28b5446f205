"""Tests for bench/readers/reference.py: score arithmetic, rescoring and reference versions."""

from __future__ import annotations

import math
import re
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.readers import reference
from bench.readers.reference import ReferenceRate, ReferenceSet, ScoringError
from bench.results import schema
from bench.worker import probes

scores = st.floats(min_value=1e-3, max_value=1e9, allow_nan=False, allow_infinity=False)


def _probe(name: str, value: float | None, unit: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "status": "ok" if value is not None else "failed",
        "reason": None if value is not None else "boom",
        "unit": unit or probes.UNITS[name],
        "value": value,
        "score": None,
        "repeats_s": [1.0] if value is not None else [],
    }


def _block(version: str = "1") -> dict[str, Any]:
    cpu = {name: reference.CURRENT.probes[name].throughput for name in probes.PROBES}
    return {
        "baseline_version": version,
        "sections": {
            "single_core": {
                "status": "ok",
                "score": None,
                "probes": [_probe(name, value) for name, value in cpu.items()],
            },
            "multi_core": {
                "status": "ok",
                "score": None,
                "probes": [_probe(name, 2 * value) for name, value in cpu.items()],
            },
            "gpu": {"status": "unavailable", "reason": "no GPU", "score": None, "probes": []},
        },
        "elapsed_s": 40.0,
    }


def test_score_is_1000_at_the_baseline_and_scales_linearly() -> None:
    """A throughput equal to its baseline scores 1000, and twice the throughput twice that."""
    assert reference.probe_score(110.0, 110.0) == pytest.approx(1000.0)
    assert reference.probe_score(220.0, 110.0) == pytest.approx(2000.0)
    assert reference.probe_score(55.0, 110.0) == pytest.approx(500.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_score_refuses_a_missing_or_impossible_throughput(bad: float) -> None:
    """Zero, negative and non-finite throughputs have no score (never a zero score)."""
    with pytest.raises(ValueError, match="finite and positive"):
        reference.probe_score(bad, 110.0)
    with pytest.raises(ValueError, match="finite and positive"):
        reference.probe_score(110.0, bad)


def test_geometric_mean_of_known_values() -> None:
    """The geometric mean of 1000 and 4000 is 2000, and of one value that value."""
    assert reference.geometric_mean([1000.0, 4000.0]) == pytest.approx(2000.0)
    assert reference.geometric_mean([812.3]) == pytest.approx(812.3)


@pytest.mark.parametrize("bad", [[], [1000.0, 0.0], [1000.0, -5.0], [math.nan]])
def test_geometric_mean_refuses_empty_or_non_positive(bad: list[float]) -> None:
    """No scores, or a non-positive one, give an error rather than a number."""
    with pytest.raises(ValueError, match=r"geometric mean|finite and positive"):
        reference.geometric_mean(bad)


@given(st.lists(scores, min_size=1, max_size=8), st.floats(min_value=1e-3, max_value=1e3))
def test_geometric_mean_scales_and_stays_within_range(values: list[float], factor: float) -> None:
    """Scaling every score scales the mean by the same factor; the mean lies within the scores."""
    mean = reference.geometric_mean(values)
    assert min(values) * (1 - 1e-9) <= mean <= max(values) * (1 + 1e-9)
    assert reference.geometric_mean([v * factor for v in values]) == pytest.approx(mean * factor)


def test_current_baselines_cover_every_probe_in_its_unit() -> None:
    """Every probe has a positive baseline in the unit the probe reports."""
    assert set(reference.CURRENT.probes) == set(probes.PROBES)
    for name, baseline in reference.CURRENT.probes.items():
        assert baseline.unit == probes.UNITS[name]
        assert baseline.throughput > 0


def test_baseline_version_fits_the_schema() -> None:
    """The current baseline version is a string the results schema accepts."""
    pattern = schema()["$defs"]["probes"]["properties"]["baseline_version"]["pattern"]
    assert re.fullmatch(pattern, reference.CURRENT.version)
    assert reference.CURRENT.version == reference.REFERENCE_VERSION


def test_rescore_scores_probes_and_sections() -> None:
    """Probes at the baseline score 1000, at twice it 2000; sections take the geometric mean."""
    scored = reference.rescore(_block())
    single, multi, gpu = (scored["sections"][s] for s in ("single_core", "multi_core", "gpu"))
    assert [p["score"] for p in single["probes"]] == pytest.approx([1000.0] * 4)
    assert single["score"] == pytest.approx(1000.0)
    assert multi["score"] == pytest.approx(2000.0)
    assert multi["probes"][0]["baseline"] == reference.CURRENT.probes["matmul"].throughput
    assert gpu["score"] is None
    assert scored["baseline_version"] == reference.CURRENT.version


def test_rescore_leaves_the_input_untouched() -> None:
    """Rescoring returns a copy; the measurements it was given are not modified."""
    block = _block()
    reference.rescore(block)
    assert block["sections"]["single_core"]["score"] is None
    assert block["sections"]["single_core"]["probes"][0]["score"] is None


def test_rescore_gives_a_partial_section_no_score() -> None:
    """A section with a failed probe keeps its measured probes' scores but gets no section score."""
    block = _block()
    block["sections"]["single_core"]["status"] = "partial"
    block["sections"]["single_core"]["probes"][3] = _probe("augment", None)
    section = reference.rescore(block)["sections"]["single_core"]
    assert section["score"] is None
    assert section["probes"][0]["score"] == pytest.approx(1000.0)
    assert section["probes"][3]["score"] is None


def test_rescore_under_new_baselines_changes_scores_and_version() -> None:
    """Old throughputs scored under another baseline set take that set's version and scores."""
    doubled = ReferenceSet(
        version="2",
        probes=MappingProxyType(
            {
                name: ReferenceRate(b.throughput * 2, b.unit)
                for name, b in reference.CURRENT.probes.items()
            }
        ),
        source="test",
    )
    scored = reference.rescore(_block(), doubled)
    assert scored["baseline_version"] == "2"
    assert scored["sections"]["single_core"]["score"] == pytest.approx(500.0)


def test_rescore_refuses_a_probe_without_a_reference() -> None:
    """A probe unknown to the baselines (from a newer benchbook) is refused with a clear line."""
    block = _block()
    block["sections"]["single_core"]["probes"].append(_probe("matmul", 1.0) | {"name": "fft"})
    with pytest.raises(ScoringError, match=r"probe 'fft' has no reference in version 1"):
        reference.rescore(block)


def test_rescore_refuses_a_unit_mismatch() -> None:
    """A throughput in another unit than its baseline cannot be scored against it."""
    block = _block()
    block["sections"]["single_core"]["probes"][0]["unit"] = "TFLOP/s"
    with pytest.raises(ScoringError, match="cannot be scored together"):
        reference.rescore(block)
