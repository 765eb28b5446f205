"""Tests for bench/worker/probes.py, probe_timing.py and bench/harness/probing.py: the timing rule,
the worker processes, the block and Geekbench input."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bench.errors import UserError
from bench.harness import geekbench, probing
from bench.protocol import jobs
from bench.protocol.jobs import ProbeJob, ProbeSettings
from bench.readers import reference
from bench.results import schema
from bench.worker import probe_timing, probes

ROOT = Path(__file__).resolve().parent.parent


class FakeWork:
    """A clock and a workload: each ``run(n)`` advances the clock by ``n`` iterations' time.

    ``factors`` multiplies successive calls (warm-up, calibration, repeats), to model noise.
    """

    def __init__(self, per_iteration_s: float, factors: Sequence[float] = ()) -> None:
        self.now = 0.0
        self.per_iteration_s = per_iteration_s
        self.factors: Iterator[float] = iter(factors)
        self.calls: list[int] = []

    def clock(self) -> float:
        return self.now

    def run(self, iterations: int) -> None:
        self.calls.append(iterations)
        self.now += iterations * self.per_iteration_s * next(self.factors, 1.0)


def _validator(ref: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"$ref": ref, "$defs": schema()["$defs"]})


def _probes_errors(block: Any) -> list[str]:
    return [e.message for e in _validator("#/$defs/probes").iter_errors(block)]


def _measured_section(threads: int, factor: float, names: Sequence[str]) -> dict[str, Any]:
    records = []
    for name in names:
        work = probe_timing.Probe(
            name=name,
            unit=probes.UNITS[name],
            work=f"fake {name}",
            work_per_iteration=1.0,
            parallelism="fake",
            run=lambda _: None,
        )
        baseline = reference.CURRENT.probes[name].throughput
        seconds = 100 / (baseline * factor)
        measurement = probe_timing.Measurement(
            warmup_s=0.5, iterations=100, repeats_s=(seconds,) * 3
        )
        records.append(probe_timing.probe_record(work, measurement, threads))
    return {
        "status": "ok",
        "reason": None,
        "score": None,
        "threads": threads,
        "device": "CPU",
        "probes": records,
    }


# --- the timing rule -------------------------------------------------------------------------


def test_relative_spread_is_the_coefficient_of_variation() -> None:
    """The spread is sample standard deviation over mean, and 0 for a single repeat."""
    assert probe_timing.relative_spread([1.0]) == 0.0
    assert probe_timing.relative_spread([1.0, 1.0, 1.0]) == 0.0
    assert probe_timing.relative_spread([0.9, 1.1]) == pytest.approx(math.sqrt(0.02) / 1.0)


def test_measure_warms_up_calibrates_and_stops_when_steady() -> None:
    """A steady probe: warm-up kept apart, repeats sized to min_time_s, the minimum of repeats."""
    # Powers of two keep the fake seconds exact.
    work = FakeWork(per_iteration_s=1 / 64, factors=[4.0])  # the warm-up is 4x slower
    m = probe_timing.measure(work.run, ProbeSettings(min_time_s=1.0), work.clock)
    assert m.warmup_s == pytest.approx(1 / 16)
    # Calibration doubles from 1 to 16 iterations (0.25 s >= a quarter of a repeat).
    assert work.calls[:6] == [1, 1, 2, 4, 8, 16]
    assert m.iterations == 64
    assert m.repeats_s == pytest.approx((1.0, 1.0, 1.0))
    assert m.median_s == pytest.approx(1.0)
    assert m.spread == pytest.approx(0.0)


def test_measure_stops_at_the_cap_when_the_spread_never_settles() -> None:
    """Repeats that keep disagreeing stop at max_repeats, all of them kept."""
    # Warm-up, calibration, then repeats that never agree.
    noise = [1.0, 1.0, 1.0, 1.3, 0.8, 1.2, 0.9, 1.25, 0.85]
    work = FakeWork(per_iteration_s=0.5, factors=noise)
    m = probe_timing.measure(work.run, ProbeSettings(min_time_s=1.0, max_repeats=5), work.clock)
    assert len(m.repeats_s) == 5
    assert m.spread > 0.025


def test_measure_settles_after_an_early_outlier() -> None:
    """One slow repeat does not force the cap: repeats stop once the last three agree."""
    # warm-up, calibration (1 iteration of 0.5 s is enough), then repeats of 2 iterations.
    factors = [1.0, 1.0, 1.0, 1.4, 1.0, 1.0, 1.01, 1.0]
    work = FakeWork(per_iteration_s=0.5, factors=factors)
    m = probe_timing.measure(work.run, ProbeSettings(min_time_s=1.0, max_repeats=10), work.clock)
    assert m.iterations == 2
    assert m.repeats_s == pytest.approx((1.0, 1.4, 1.0, 1.0, 1.01))
    assert m.median_s == pytest.approx(1.0)


def test_measure_runs_slow_work_once_per_repeat() -> None:
    """Work longer than a repeat is calibrated in one call and timed one iteration a repeat."""
    work = FakeWork(per_iteration_s=3.0)
    m = probe_timing.measure(work.run, ProbeSettings(min_time_s=1.0), work.clock)
    assert work.calls == [1, 1, 1, 1, 1]
    assert m.iterations == 1
    assert m.repeats_s == pytest.approx((3.0, 3.0, 3.0))


@pytest.mark.parametrize(
    "kwargs",
    [{"scale": 0.0}, {"min_time_s": 0.0}, {"min_repeats": 0}, {"min_repeats": 4, "max_repeats": 3}],
)
def test_settings_refuse_impossible_values(kwargs: dict[str, Any]) -> None:
    """Settings that could not produce a measurement are refused when made."""
    with pytest.raises(ValueError, match="out of range"):
        ProbeSettings(**kwargs)


def test_probe_record_uses_the_median_repeat() -> None:
    """Throughput is work per iteration x iterations / the median repeat, in the probe's unit."""
    work = probe_timing.Probe("matmul", "GFLOP/s", "fake", 17.179869184, "1 thread", lambda _: None)
    measurement = probe_timing.Measurement(warmup_s=0.2, iterations=7, repeats_s=(1.2, 1.0, 1.1))
    record = probe_timing.probe_record(work, measurement, threads=1)
    assert record["value"] == pytest.approx(17.179869184 * 7 / 1.1)
    assert record["median_s"] == pytest.approx(1.1)
    assert record["repeats_s"] == [1.2, 1.0, 1.1]
    assert record["score"] is None


def test_photo_like_jpegs_are_distinct_and_realistically_sized() -> None:
    """The decode probe's JPEGs differ from each other and weigh tens of kilobytes, like photos."""
    jpegs = probes.photo_like_jpegs(count=3)
    assert len(set(jpegs)) == 3
    assert all(j[:2] == b"\xff\xd8" and 20_000 < len(j) < 120_000 for j in jpegs)


# --- the probes block and the schema ---------------------------------------------------------


def _scored_block(gpu: dict[str, Any] | None = None) -> dict[str, Any]:
    block = {
        "baseline_version": reference.CURRENT.version,
        "settings": {
            "scale": 1.0,
            "min_time_s": 1.0,
            "min_repeats": 3,
            "max_repeats": 5,
            "target_spread": 0.025,
        },
        "sections": {
            "single_core": _measured_section(1, 1.0, probes.PROBES),
            "multi_core": _measured_section(2, 1.9, probes.PROBES),
            "gpu": gpu or jobs.not_measured("unavailable", "no GPU visible to TensorFlow"),
        },
        "elapsed_s": 41.2,
    }
    return reference.rescore(block)


def test_a_scored_block_validates_against_the_schema() -> None:
    """A complete probes block, as run_probes returns it, follows the results schema."""
    block = _scored_block()
    assert _probes_errors(block) == []
    assert block["sections"]["single_core"]["score"] == pytest.approx(1000.0)
    assert block["sections"]["multi_core"]["score"] == pytest.approx(1900.0)


def test_skipped_probes_validate_as_null() -> None:
    """A results file whose probes were skipped stores null."""
    assert _probes_errors(None) == []


def test_unavailable_gpu_has_no_score_never_zero() -> None:
    """An unavailable GPU has a null score; a zero score, or ok without a score, is invalid."""
    block = _scored_block()
    gpu = block["sections"]["gpu"]
    assert gpu["status"] == "unavailable"
    assert gpu["score"] is None
    assert gpu["probes"] == []
    gpu["score"] = 0
    assert _probes_errors(block)
    gpu.update(status="ok", score=None, reason=None)
    assert _probes_errors(block)


def test_a_failed_probe_has_a_reason_and_no_value() -> None:
    """The schema refuses a failed probe with a value, or without a reason."""
    block = _scored_block()
    probe = block["sections"]["single_core"]["probes"][0]
    probe.update(status="failed", reason=None, value=None, score=None)
    assert _probes_errors(block)
    probe.update(reason="ValueError: boom", value=12.0)
    assert _probes_errors(block)


# --- the parent: workers in fresh processes (fake workers here, one real one below) -----------

FAKE_WORKER = """
import json, os, sys, time
with open(sys.argv[1]) as job:
    section = json.load(job)["section"]
output = sys.argv[2]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(section + "\\n")
plan = json.loads(os.environ["FAKE_PLAN"]).get(section, {})
time.sleep(plan.get("sleep", 0))
if plan.get("exit"):
    sys.stderr.write(plan.get("stderr", ""))
    sys.exit(plan["exit"])
with open(output, "w") as f:
    json.dump({"section": plan["section"], "gpus": plan.get("gpus", [])}, f)
"""


@pytest.fixture
def fake_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Replace the worker command by a tiny script following FAKE_PLAN; return its log file."""
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER, encoding="utf-8")
    log = tmp_path / "workers.log"
    log.touch()
    monkeypatch.setenv("FAKE_LOG", str(log))

    monkeypatch.setattr(probing, "WORKER", (sys.executable, str(script)))
    return log


def _plan(monkeypatch: pytest.MonkeyPatch, plan: dict[str, Any]) -> None:
    monkeypatch.setenv("FAKE_PLAN", json.dumps(plan))


def test_run_probes_merges_scores_and_skips_an_absent_gpu(
    fake_workers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two CPU workers are merged and scored; with no GPU seen, no GPU worker is started."""
    _plan(
        monkeypatch,
        {
            "single_core": {"section": _measured_section(1, 1.0, probes.PROBES)},
            "multi_core": {"section": _measured_section(2, 2.0, probes.PROBES), "gpus": []},
        },
    )
    lines: list[str] = []
    block = probing.run_probes(log=lines.append)
    assert fake_workers.read_text().split() == ["single_core", "multi_core"]
    assert _probes_errors(block) == []
    sections = block["sections"]
    assert sections["single_core"]["score"] == pytest.approx(1000.0)
    assert sections["multi_core"]["score"] == pytest.approx(2000.0)
    assert sections["gpu"] == jobs.not_measured("unavailable", "no GPU visible to TensorFlow")
    assert block["baseline_version"] == reference.CURRENT.version
    assert any("gpu: unavailable" in line for line in lines)


def test_a_failing_worker_becomes_a_failed_section(
    fake_workers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that crashes gives a failed section with its last error line; the rest goes on."""
    _plan(
        monkeypatch,
        {
            "single_core": {"exit": 1, "stderr": "Traceback...\nRuntimeError: boom\n"},
            "multi_core": {"section": _measured_section(2, 2.0, probes.PROBES), "gpus": []},
        },
    )
    block = probing.run_probes()
    single = block["sections"]["single_core"]
    assert single["status"] == "failed"
    assert single["reason"] == "worker exited with status 1: RuntimeError: boom"
    assert single["score"] is None
    assert block["sections"]["multi_core"]["status"] == "ok"
    assert _probes_errors(block) == []


def test_a_worker_writing_nonsense_becomes_a_failed_section(
    fake_workers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Output that breaks the schema is refused; the GPU worker then decides about the GPU."""
    unavailable = jobs.not_measured("unavailable", "no GPU visible to TensorFlow")
    _plan(
        monkeypatch,
        {
            "single_core": {"section": _measured_section(1, 1.0, probes.PROBES)},
            "multi_core": {"section": {"status": "great", "probes": []}},
            "gpu": {"section": unavailable},
        },
    )
    block = probing.run_probes()
    multi = block["sections"]["multi_core"]
    assert multi["status"] == "failed"
    assert multi["reason"].startswith("worker wrote no valid section")
    assert fake_workers.read_text().split() == ["single_core", "multi_core", "gpu"]
    assert block["sections"]["gpu"]["status"] == "unavailable"
    assert _probes_errors(block) == []


def test_a_visible_gpu_is_measured_and_can_be_turned_off(
    fake_workers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GPU seen by the multi-core worker gets its own worker, unless GPU probes are off."""
    gpu = _measured_section(1, 50.0, ("matmul", "conv2d")) | {"threads": None, "device": "GPU:0"}
    _plan(
        monkeypatch,
        {
            "single_core": {"section": _measured_section(1, 1.0, probes.PROBES)},
            "multi_core": {
                "section": _measured_section(2, 2.0, probes.PROBES),
                "gpus": ["/physical_device:GPU:0"],
            },
            "gpu": {"section": gpu},
        },
    )
    block = probing.run_probes()
    assert block["sections"]["gpu"]["score"] == pytest.approx(50_000.0)
    assert _probes_errors(block) == []
    skipped = probing.run_probes(gpu=False)["sections"]["gpu"]
    assert skipped["status"] == "skipped"
    assert skipped["score"] is None
    assert fake_workers.read_text().split().count("gpu") == 1


def test_a_hanging_worker_is_stopped_at_the_time_limit(
    fake_workers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker past the time limit is stopped; it and the sections after it are failed."""
    _plan(monkeypatch, {"single_core": {"sleep": 30}})
    started = time.perf_counter()
    block = probing.run_probes(timeout_s=1.5)
    assert time.perf_counter() - started < 10
    sections = block["sections"]
    assert re.fullmatch(r"worker timed out after 1\.\d s", sections["single_core"]["reason"])
    assert sections["multi_core"]["status"] == "failed"
    assert "time limit" in sections["multi_core"]["reason"]
    assert _probes_errors(block) == []


def test_an_unknown_section_is_refused_before_importing_tensorflow() -> None:
    """Asking a worker for a section that does not exist is a UserError."""
    with pytest.raises(UserError, match="unknown probes section 'tpu'"):
        probes.run_section("tpu", ProbeSettings())


@pytest.mark.slow
def test_the_single_core_worker_measures_every_probe(tmp_path: Path) -> None:
    """A real single-core worker at a tiny size writes four measured probes on one thread."""
    output = tmp_path / "single.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), KERAS_HOME=str(tmp_path / "keras"))
    job = ProbeJob(
        "single_core", settings=ProbeSettings(scale=0.05, min_time_s=0.02, max_repeats=3)
    )
    (tmp_path / "single.job.json").write_text(jobs.dumps(job))
    command = jobs.command(tmp_path / "single.job.json", output)
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)
    data = json.loads(output.read_text(encoding="utf-8"))
    section = data["section"]
    assert isinstance(data["gpus"], list)
    assert section["threads"] == 1
    assert section["intra_op_threads"] == 1
    assert section["inter_op_threads"] == 1
    assert [p["name"] for p in section["probes"]] == list(probes.PROBES)
    assert all(p["status"] == "ok" and p["value"] > 0 for p in section["probes"]), section
    assert all(3 <= len(p["repeats_s"]) <= 3 for p in section["probes"])
    scored = reference.rescore({"sections": {"single_core": section}})["sections"]["single_core"]
    assert scored["score"] > 0
    assert list(_validator("#/$defs/probe_section").iter_errors(scored)) == []


# --- the scores a user got from the real Geekbench -------------------------------------------


def test_parse_geekbench_reads_every_field() -> None:
    """The documented example gives the schema's geekbench block, the API spelled canonically."""
    parsed = geekbench.parse_geekbench("single=2374,multi=12360,gpu=41012,version=6.3,api=metal")
    assert parsed == {
        "version": "6.3",
        "single_core": 2374,
        "multi_core": 12360,
        "gpu": 41012,
        "gpu_api": "Metal",
    }
    validator = jsonschema.Draft202012Validator(
        schema()["properties"]["geekbench"] | {"$defs": schema()["$defs"]}
    )
    assert list(validator.iter_errors(parsed)) == []


def test_parse_geekbench_accepts_a_partial_set_and_schema_names() -> None:
    """Spaces, the schema's own field names and a single score are accepted."""
    parsed = geekbench.parse_geekbench(" single_core = 2374 , Version=6.3.0 ")
    assert parsed == {
        "version": "6.3.0",
        "single_core": 2374,
        "multi_core": None,
        "gpu": None,
        "gpu_api": None,
    }


@pytest.mark.parametrize(
    ("arg", "problem"),
    [
        ("", "nothing given"),
        ("single=2374,,version=6.3", "empty item"),
        ("single=2374", "version= is missing"),
        ("version=6.3", "no score given"),
        ("single=abc,version=6.3", "'abc' is not a whole-number score"),
        ("single=-5,version=6.3", "'-5' is not a whole-number score"),
        ("single=1,single=2,version=6.3", "single given twice"),
        ("metal=1,version=6.3", "'metal=1' is not one of"),
        ("single,version=6.3", "'single' is not one of"),
        ("single=1,version=six", "'six' is not a Geekbench version"),
        ("gpu=1,api=DirectX,version=6.3", "'DirectX' is not one of Metal"),
        ("single=1,api=Metal,version=6.3", "api= given without gpu="),
    ],
)
def test_parse_geekbench_refuses_bad_input_in_one_line(arg: str, problem: str) -> None:
    """Bad input is a UserError of one line naming the problem and showing an example."""
    with pytest.raises(UserError) as info:
        geekbench.parse_geekbench(arg)
    message = str(info.value)
    assert message.startswith("--geekbench: ")
    assert problem in message
    assert "expected e.g. --geekbench" in message
    assert "\n" not in message


def test_parse_geekbench_escapes_control_characters() -> None:
    """Terminal escapes in the input are shown escaped, never sent to the terminal."""
    with pytest.raises(UserError) as info:
        geekbench.parse_geekbench("single=\x1b[31m1,version=6.3")
    assert "\x1b" not in str(info.value)
    assert "\\x1b" in str(info.value)
