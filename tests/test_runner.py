"""Tests for bench/harness/runner.py and summary.py: a real smoke run, and what an interrupted or
failing run keeps."""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from bench import results, stats
from bench.errors import UserError
from bench.harness import runner, summary
from bench.protocol import config, jobs
from bench.protocol.jobs import TrainingJob
from bench.readers import verdicts
from bench.results import model
from bench.results.model import WORKLOADS
from bench.worker import pipelines

ROOT = Path(__file__).resolve().parents[1]


def test_smoke_run_writes_one_valid_file_with_every_epoch(smoke_run: dict[str, Any]) -> None:
    """`--profile smoke` exits 0 and writes one file that validates and holds four workloads."""
    proc = smoke_run["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(smoke_run["files"]) == 1
    path = smoke_run["files"][0]
    data = results.load(path)
    assert path.parent.name == data["machine"]["slug"]
    assert data["status"] == "complete"
    assert data["machine"]["label"] == "test run"
    assert [run["workload"] for run in data["workloads"]] == list(WORKLOADS)
    for run in data["workloads"]:
        assert run["status"] == "ok"
        assert [e["epoch"] for e in run["epochs"]] == [1, 2]
        assert [e["warmup"] for e in run["epochs"]] == [True, False]
        for epoch in run["epochs"]:
            assert epoch["train_s"] + epoch["validation_s"] <= epoch["epoch_s"] + 1e-6
            assert epoch["images_per_s"] == pytest.approx(run["train_images"] / epoch["train_s"])
            assert epoch["validation_s"] > 0
            # Every step timed, from the epoch's start: together they are the training phase.
            assert len(epoch["step_s"]) == run["steps_per_epoch"] == 2
            assert sum(epoch["step_s"]) <= epoch["train_s"] + 1e-6
            assert sum(epoch["step_s"]) > 0.9 * epoch["train_s"]
        # The smoke profile's budget is 0: the fixed rule, the epochs asked for.
        assert run["stopping"]["reason"] == "fixed"
        assert run["stopping"]["measured_epochs"] == 1
        assert run["train_images"] == 32
        assert run["peak_rss_bytes"] > 50_000_000
        assert "CPU" in run["device"] or "GPU" in run["device"]
        assert run["optimizer"].endswith("Adam")
    vgg = next(r for r in data["workloads"] if r["workload"] == "vgg16")
    assert vgg["weights"] == "random"
    assert vgg["trainable_parameters"] < vgg["parameters"]
    assert data["software"]["tensorflow"] == "2.18.1"
    assert data["software"]["keras_major"] == 3
    assert data["dataset"]["kind"] == "synthetic"


def test_smoke_run_records_energy_or_why_not(smoke_run: dict[str, Any]) -> None:
    """Every run has an energy block: with counters, joules on every epoch; without (this VM),
    'not available' with each source's reason, no figure anywhere, and the summary says so."""
    data = results.load(smoke_run["files"][0])
    for run in data["workloads"]:
        block = run["energy"]
        if block["status"] == "ok":
            assert block["domains"]
            assert all("energy_j" in epoch for epoch in run["epochs"])
        else:
            assert block["domains"] == {}
            assert block["idle_w"] is None
            assert set(block["unavailable"]) == {"zeus-apple-silicon", "nvml", "rapl"}
            assert not any("energy_j" in epoch for epoch in run["epochs"])
    if data["workloads"][0]["energy"]["status"] != "ok":
        assert "Energy: not available on this machine (" in smoke_run["proc"].stdout


def test_smoke_run_prints_the_summary_and_the_path(smoke_run: dict[str, Any]) -> None:
    """The summary table and the results path are printed at the end."""
    out = smoke_run["proc"].stdout
    assert "median s/epoch" in out
    assert "images/s" in out
    for name in WORKLOADS:
        assert name in out
    assert f"Results written to {smoke_run['files'][0]}" in out
    assert "random weights" in out


def test_smoke_run_names_each_epoch_as_it_finishes(smoke_run: dict[str, Any]) -> None:
    """Each epoch's progress line names its run, and the warm-up epoch says so."""
    err = smoke_run["proc"].stderr
    for name in WORKLOADS:
        assert re.search(
            rf"^  {name} #1 epoch 1: .* img/s, val_accuracy .* \(warm-up\)$", err, re.MULTILINE
        )
        assert re.search(
            rf"^  {name} #1 epoch 2: .* img/s, val_accuracy [0-9.]+$", err, re.MULTILINE
        )


def _config(tmp_path: Path, **changes: Any) -> config.Config:
    base = {
        "profile": "smoke",
        "workloads": ["cnn", "vgg16"],
        "epochs": 2,
        "image_size": 64,
        "batch_size": 16,
        "output": tmp_path / "results",
        "cache": tmp_path / "cache",
        "probes": False,
        "weights": "random",
    }
    return config.Config(**{**base, **changes})


def _job(job: TrainingJob | dict[str, Any]) -> TrainingJob:
    """``job``, or a training job with these fields and the smoke sizes."""
    if isinstance(job, TrainingJob):
        return job
    return TrainingJob(
        **{"data_root": "data", "image_size": 64, "batch_size": 16, "epochs": 2, **job}
    )


def _fake_record(job: TrainingJob | dict[str, Any], workdir: Path) -> dict[str, Any]:
    record = jobs.failure(_job(job), None)
    record.update(
        status="ok",
        device="/device:CPU:0",
        train_images=32,
        epochs=[
            {
                "epoch": n,
                "warmup": n == 1,
                "epoch_s": 1.0,
                "train_s": 0.8,
                "validation_s": 0.2,
                "images_per_s": 40.0,
                "loss": 0.6,
                "accuracy": 0.7,
                "val_loss": 0.6,
                "val_accuracy": 0.7,
            }
            for n in (1, 2)
        ],
    )
    return record


def test_interrupt_keeps_finished_workloads_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the second workload writes the first one, marked interrupted, and exits 130."""
    calls: list[str] = []

    def worker(job: TrainingJob, workdir: Path) -> dict[str, Any]:
        calls.append(job.workload)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return _fake_record(job, workdir)

    monkeypatch.setattr(runner, "run_worker", worker)
    path, status = runner.run(_config(tmp_path), say=lambda _: None)
    assert status == 130
    assert path is not None
    data = results.load(path)
    assert data["status"] == "interrupted"
    assert [r["workload"] for r in data["workloads"]] == ["cnn"]


def test_interrupt_before_anything_finished_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the first workload leaves no results file at all."""

    def worker(job: TrainingJob, workdir: Path) -> dict[str, Any]:
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_worker", worker)
    path, status = runner.run(_config(tmp_path), say=lambda _: None)
    assert (path, status) == (None, 130)
    assert not list((tmp_path / "results").rglob("*.json*"))


def test_a_crashing_worker_is_recorded_and_the_rest_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed by a signal becomes a failed run with the reason; the exit status is 1."""

    worker = (
        "import os, shutil, signal, sys\n"
        "if os.path.basename(sys.argv[1]).startswith('cnn-'):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        f"shutil.copy({str(tmp_path / 'ok.json')!r}, sys.argv[2])\n"
    )

    (tmp_path / "ok.json").write_text(
        json.dumps(
            _fake_record(
                {
                    "workload": "vgg16",
                    "repeat": 1,
                    "weights_kind": "random",
                    "weights_note": "random",
                },
                tmp_path,
            )
        )
    )
    monkeypatch.setattr(runner, "WORKER", (sys.executable, "-c", worker))
    path, status = runner.run(_config(tmp_path), say=lambda _: None)
    assert status == 1
    assert path is not None
    runs = results.load(path)["workloads"]
    assert [(r["workload"], r["status"]) for r in runs] == [("cnn", "failed"), ("vgg16", "ok")]
    assert "SIGKILL" in runs[0]["error"]


def test_repeats_interleave_workloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--repeats 2 runs A B A B, each a separate worker, and stores every repeat."""
    order: list[tuple[str, int]] = []

    def worker(job: TrainingJob, workdir: Path) -> dict[str, Any]:
        order.append((job.workload, job.repeat))
        return _fake_record(job, workdir)

    monkeypatch.setattr(runner, "run_worker", worker)
    path, status = runner.run(_config(tmp_path, repeats=2), say=lambda _: None)
    assert status == 0
    assert order == [("cnn", 1), ("vgg16", 1), ("cnn", 2), ("vgg16", 2)]
    assert path is not None
    assert len(results.load(path)["workloads"]) == 4


def test_summary_table_uses_measured_epochs_only() -> None:
    """The headline leaves out the warm-up epoch."""
    run = _fake_record({"workload": "cnn", "repeat": 1}, Path())
    run["epochs"][0]["epoch_s"] = 100.0
    headline = summary.summarise(run)
    assert headline["epochs_measured"] == 1
    assert headline["median_epoch_s"] == 1.0
    assert headline["device"] == "CPU:0"


def test_probe_scores_line_names_each_section() -> None:
    """Scored sections show their score; the others their status and why, never a zero."""
    block = {
        "baseline_version": "1",
        "sections": {
            "single_core": {"status": "ok", "score": 1012.4, "reason": None},
            "multi_core": {"status": "partial", "score": None, "reason": "augment timed out"},
            "gpu": {"status": "unavailable", "score": None, "reason": "no GPU visible"},
        },
    }
    line = summary.format_probe_scores(block)
    assert line == (
        "Probe scores (1000 = one core of the reference machine, version 1): Single-core 1012, "
        "Multi-core partial (augment timed out), GPU unavailable (no GPU visible)"
    )


def test_smoke_run_measures_input_and_compute_for_every_workload(
    smoke_run: dict[str, Any],
) -> None:
    """Each legacy run stores input-only and compute-only throughputs and the worker's wall time."""
    data = smoke_run["data"]
    assert data["config"]["pipeline"] == "legacy"
    assert data["config"]["attribution"] is True
    for run in data["workloads"]:
        block = run["attribution"]
        # smoke: 32 images in batches of 16, so two timed batches (compute: after a warm-up)
        assert block["input_only"]["warmup_steps"] == 0
        assert block["compute_only"]["warmup_steps"] == 1
        for part in ("input_only", "compute_only"):
            assert len(block[part]["step_s"]) == run["steps_per_epoch"] == 2
            assert block[part]["images"] == 32
        assert 0 < block["elapsed_s"] < run["wall_s"]
    assert "input only" in smoke_run["proc"].stdout
    assert "verdict" in smoke_run["proc"].stdout


@pytest.mark.slow
def test_an_adaptive_run_ends_fit_where_the_rule_says(tmp_path: Path) -> None:
    """With a budget, Keras's fit trains past --epochs and stops where the rule says: a target
    of +-50 % is met as soon as a 95 % interval can be had (6 measured epochs), and the file
    records the rule and why."""
    from conftest import run_bench

    from bench.protocol.stopping import MIN_FOR_TARGET

    proc = run_bench(
        "--profile", "smoke", "--skip-probes", "--skip-attribution", "-w", "cnn",
        "--budget", "120", "--target", "50",
        "--output", str(tmp_path / "results"), "--cache", str(tmp_path / "c"),
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "cnn #1: stopped after 6 measured epochs: the median's 95 % interval reached" in (
        proc.stderr
    )
    (path,) = (tmp_path / "results").glob("*/*.json")
    data = results.load(path)
    stopping = data["config"]["stopping"]
    assert (stopping["rule"], stopping["target"], stopping["budget_s"]) == ("adaptive", 0.5, 120)
    (run,) = data["workloads"]
    assert len(run["epochs"]) == MIN_FOR_TARGET + 1
    assert run["stopping"]["reason"] == "target"
    assert run["stopping"]["measured_epochs"] == MIN_FOR_TARGET
    assert 0 < run["stopping"]["half_width"] <= 0.5


@pytest.mark.slow
def test_tfdata_run_with_threads_records_both(tmp_path: Path) -> None:
    """--pipeline tfdata-affine --threads 1 trains; the file, in the current format version,
    labels the pipeline and thread count."""
    from conftest import run_bench

    proc = run_bench(
        "--profile", "smoke", "--skip-probes", "--pipeline", "tfdata-affine", "--threads", "1",
        "-w", "cnn-aug", "--output", str(tmp_path / "results"), "--cache", str(tmp_path / "c"),
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (path,) = (tmp_path / "results").glob("*/*.json")
    data = results.load(path)
    assert data["schema_version"] == results.SCHEMA_VERSION == 5
    assert data["config"]["pipeline"] == "tfdata-affine"
    assert data["config"]["intra_op_threads"] == 1
    (run,) = data["workloads"]
    assert run["status"] == "ok"
    assert run["train_images"] == 32
    assert run["augmentation"] == pipelines.affine_augmentation(True)
    assert run["attribution"]["input_only"]["images"] == 32
    assert [e["warmup"] for e in run["epochs"]] == [True, False]


def test_skip_attribution_stores_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--skip-attribution reaches every worker job and the file's config."""
    given: list[TrainingJob] = []

    def worker(job: TrainingJob, workdir: Path) -> dict[str, Any]:
        given.append(job)
        return _fake_record(job, workdir)

    monkeypatch.setattr(runner, "run_worker", worker)
    path, status = runner.run(
        _config(tmp_path, attribution=False, pipeline="tfdata-affine", intra_op_threads=3),
        say=lambda _: None,
    )
    assert status == 0
    assert path is not None
    assert [(j.attribution, j.pipeline, j.intra_op_threads) for j in given] == [
        (False, "tfdata-affine", 3), (False, "tfdata-affine", 3)
    ]  # fmt: skip
    config = results.load(path)["config"]
    assert (config["attribution"], config["pipeline"], config["intra_op_threads"]) == (
        False, "tfdata-affine", 3
    )  # fmt: skip


def test_attribution_table_gives_the_verdict_per_run() -> None:
    """The printed table shows the three throughputs, the step's split and the verdict."""
    run = _fake_record({"workload": "cnn-aug", "repeat": 1}, Path())
    sample = {"warmup_steps": 1, "warmup_s": 0.1, "step_s": [0.5], "images": 16}
    run["attribution"] = {
        "input_only": {**sample, "images_per_s": 60.0},
        "compute_only": {**sample, "images_per_s": 160.0},
        "elapsed_s": 2.0,
    }
    failed = _fake_record({"workload": "cnn", "repeat": 1}, Path())
    failed["attribution"] = {"error": "ResourceExhaustedError: OOM"}
    plain = _fake_record({"workload": "vgg16", "repeat": 1}, Path())
    lines = summary.format_attribution([run, failed, plain]).splitlines()
    assert lines[0].split() == [
        "workload", "rep", "input", "only", "compute", "only", "end", "to", "end", "step",
        "time", "verdict",
    ]  # fmt: skip
    # 25 ms per image: 6.25 compute, the pipeline's 16.7 ms input, 2.1 ms neither explains.
    assert lines[2].split() == [
        "cnn-aug", "1", "60.0", "img/s", "160.0", "img/s", "40.0", "img/s", "compute", "25%,",
        "input", "67%,", "other", "8%", "input-bound",
    ]  # fmt: skip
    assert "failed: ResourceExhaustedError: OOM" in lines[3]
    assert "not measured" in lines[4]


def test_summary_flags_runs_whose_epochs_vary_by_more_than_five_percent() -> None:
    """The epoch CV is printed per run, with "noisy" above 5 %."""
    steady = _fake_record({"workload": "cnn", "repeat": 1}, Path())
    noisy = _fake_record({"workload": "cnn", "repeat": 2}, Path())
    for record, seconds in ((steady, (1.0, 1.0, 1.02)), (noisy, (1.0, 1.0, 1.5))):
        record["epochs"] = [
            {**record["epochs"][1], "epoch": n, "warmup": n == 1, "epoch_s": s}
            for n, s in enumerate((9.0, *seconds), start=1)
        ]
    table = summary.format_summary([steady, noisy]).splitlines()
    assert "epoch CV" in table[0]
    assert "1%" in table[2].split()
    assert "25% noisy" in table[3]  # 1.0, 1.0, 1.5 s: CV 24.7 %


def test_summary_gives_each_medians_interval_and_says_when_it_is_too_wide() -> None:
    """The 95 % interval compare gives the run alone, with its half-width; a run wider than
    +-3 %, or with fewer epochs than a 95 % interval needs and no timed steps, gets a line saying
    a 5 % difference is beyond it and what to do, and that the budget ran out where it did. One
    measured epoch whose steps were timed holds an interval: its steps size its error."""
    steady = _fake_record({"workload": "cnn", "repeat": 1}, Path())
    noisy = _fake_record({"workload": "cnn-aug", "repeat": 1}, Path())
    single = _fake_record({"workload": "vgg16", "repeat": 1}, Path())
    few = _fake_record({"workload": "vgg16-aug", "repeat": 1}, Path())
    timed = _fake_record({"workload": "vgg16", "repeat": 2}, Path())
    for record, seconds in (
        (steady, (1.0, 1.0, 1.01, 1.0, 1.0, 1.0)),
        (noisy, (1.0, 1.3, 0.8, 1.2)),
        (single, (2.0,)),
        (few, (2.0, 2.01)),
    ):
        record["epochs"] = [
            {**record["epochs"][1], "epoch": n, "warmup": n == 1, "epoch_s": s}
            for n, s in enumerate((9.0, *seconds), start=1)
        ]
    steps = [1.2, 1.0, 1.002, 0.998, 1.001, 0.999]
    timed["epochs"] = [
        {**timed["epochs"][1], "epoch": n, "warmup": n == 1, "epoch_s": sum(steps) + 0.5,
         "train_s": sum(steps), "validation_s": 0.5, "step_s": steps}
        for n in (1, 2)
    ]  # fmt: skip
    noisy["stopping"] = {"reason": "budget", "measured_epochs": 4, "half_width": 0.2}
    runs = [steady, noisy, single, few, timed]
    table = summary.format_summary(runs).splitlines()
    assert "95 % CI" in table[0]
    interval = stats.median_interval([[1.0, 1.0, 1.01, 1.0, 1.0, 1.0]])
    assert f"{interval.low:.2f} to {interval.high:.2f} (+-" in table[2]
    by_steps = stats.median_interval([model.run_sample(timed)])
    assert f"{by_steps.low:.2f} to {by_steps.high:.2f} (+-" in table[6]
    assert stats.half_width(interval) <= 0.03
    lines = summary.imprecise_lines(runs)
    assert len(lines) == 3
    assert lines[0].startswith("imprecise: cnn-aug #1: its 95 % interval of the median is +-")
    assert "5 % difference" in lines[0]
    assert "--repeats 3" in lines[0]
    assert "the time budget ran out first" in lines[0]
    assert "no interval from one measured epoch without three timed steps" in lines[1]
    assert "budget ran out" not in lines[1]
    assert "2 measured epochs without three timed steps are fewer than the 6" in lines[2]
    # The target is the caller's, and reads the printed interval, the allowance for other
    # processes included (+-2.4 % at least).
    assert summary.imprecise_lines([steady], target=0.03) == []
    assert "+-2.4%, wider than +-1%" in summary.imprecise_lines([steady], target=0.01)[0]


def test_power_and_thermal_are_recorded_around_each_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a Mac, pmset's readings before and after each worker go into the run; the file validates."""
    from bench.harness.machine import power

    readings = iter(
        {"power_source": source, "battery_percent": pct, "battery_state": "discharging",
         "thermal_warning_level": None, "performance_warning_level": None,
         "cpu_scheduler_limit": 100, "cpu_available_cpus": 10, "cpu_speed_limit": limit}
        for source, pct, limit in (
            ("Battery Power", 80, 100), ("Battery Power", 78, 92),
            ("Battery Power", 78, 92), ("Battery Power", 75, 85),
        )
    )  # fmt: skip
    monkeypatch.setattr(power, "power_and_thermal", lambda: next(readings))
    monkeypatch.setattr(runner, "run_worker", _fake_record)
    path, status = runner.run(_config(tmp_path, cooldown_s=0.0), say=lambda _: None)
    assert status == 0
    assert path is not None
    cnn, vgg = results.load(path)["workloads"]
    assert cnn["conditions"]["before"]["battery_percent"] == 80
    assert cnn["conditions"]["after"]["cpu_speed_limit"] == 92
    assert vgg["conditions"]["after"]["cpu_speed_limit"] == 85


def test_no_conditions_where_pmset_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off macOS nothing is read, and runs carry no conditions block."""
    from bench.harness.machine import power

    monkeypatch.setattr(power, "power_and_thermal", dict)
    monkeypatch.setattr(runner, "run_worker", _fake_record)
    path, _ = runner.run(_config(tmp_path), say=lambda _: None)
    assert path is not None
    assert all("conditions" not in run for run in results.load(path)["workloads"])


def test_a_folder_of_other_hardware_gets_a_slug_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second host that names its CPU as the first does (a cloud VM of another generation)
    writes to ``slug-2``, saying why, instead of a folder validate would refuse; with the slug
    given by hand it is refused before any work."""
    from bench.harness.machine import capture

    monkeypatch.setattr(runner, "run_worker", _fake_record)
    first, _ = runner.run(_config(tmp_path), say=lambda _: None)
    assert first is not None
    real = capture.capture_machine

    def other_host(**kwargs: Any) -> dict[str, Any]:
        machine = real(**kwargs)
        machine["cpu"]["physical_cores"] = (machine["cpu"].get("physical_cores") or 1) + 64
        return machine

    monkeypatch.setattr(capture, "capture_machine", other_host)
    said: list[str] = []
    second, _ = runner.run(_config(tmp_path), say=said.append)
    assert second is not None
    assert second.parent.name == f"{first.parent.name}-2"
    assert any(f"holds another kind of machine ({first.name}: cores" in line for line in said)
    report = results.check_tree(tmp_path / "results")
    assert not [p for p in report.problems if "other hardware" in p.message]
    third, _ = runner.run(_config(tmp_path), say=lambda _: None)  # the same host again
    assert third is not None
    assert third.parent == second.parent
    with pytest.raises(UserError, match="choose another --machine-slug"):
        runner.run(_config(tmp_path, slug=first.parent.name), say=lambda _: None)


def _start_bench(work: Path, *args: str) -> subprocess.Popen[str]:
    """``python -m bench`` in its own process group, as a terminal (or nox) starts it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(work))
    return subprocess.Popen(
        [sys.executable, "-m", "bench", "--profile", "smoke", "--skip-probes",
         "--skip-attribution", "--weights", "random", "--output", str(work / "results"),
         "--cache", str(work / "cache"), *args],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip


def _wait_for(proc: subprocess.Popen[str], text: str, seen: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if text in line:
            return
    pytest.fail(f"{text!r} never printed:\n" + "".join(seen[-40:]))


def _worker_pids(proc: subprocess.Popen[str]) -> list[int]:
    return [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]


def _started_workers(proc: subprocess.Popen[str], within_s: float = 60.0) -> list[int]:
    """The harness's worker processes, once there is one (polled, as `_gone` is)."""
    deadline = time.monotonic() + within_s
    while not (found := _worker_pids(proc)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def _finish(proc: subprocess.Popen[str], seen: list[str]) -> str:
    assert proc.stdout is not None
    rest = proc.stdout.read()
    proc.wait(timeout=120)
    return "".join(seen) + rest


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _gone(pids: list[int], within_s: float = 60.0) -> bool:
    """Whether every process in ``pids`` ends within ``within_s`` (polled: a loaded machine
    takes longer, and a fixed sleep would fail on a slow day)."""
    deadline = time.monotonic() + within_s
    while any(_alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.slow
def test_ctrl_c_under_nox_keeps_the_finished_runs(tmp_path: Path) -> None:
    """SIGINT to the group, SIGTERM to the harness 0.3 s later (as nox does) during a VGG-16
    step of seconds: the finished cnn run is in an "interrupted" file, no worker or temporary
    folder is left."""
    with _start_bench(tmp_path, "-w", "cnn", "-w", "vgg16", "--image-size", "224") as proc:
        seen: list[str] = []
        _wait_for(proc, "Running vgg16", seen)
        # The worker says when its cross-check is done: what follows is the timed model's build
        # and training, where the interruption must land.
        _wait_for(proc, "vgg16 #1: cross-check", seen)
        workers = _worker_pids(proc)
        assert workers, "no worker process is running"
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.3)
        proc.terminate()
        out = _finish(proc, seen)
    assert proc.returncode == 130, out[-3000:]
    files = list((tmp_path / "results").glob("*/*.json"))
    assert len(files) == 1, out[-3000:]
    data = results.load(files[0])
    assert data["status"] == "interrupted"
    assert [(r["workload"], r["status"]) for r in data["workloads"]] == [("cnn", "ok")]
    assert _gone(workers)
    assert not list(tmp_path.glob("benchbook-*")), "the run's temporary folder was left behind"


@pytest.mark.slow
def test_sigterm_to_the_harness_alone_keeps_the_runs_and_stops_the_worker(tmp_path: Path) -> None:
    """`kill PID` (SIGTERM to the parent only) writes the finished runs and ends the worker; the
    exit status is 143."""
    with _start_bench(tmp_path, "-w", "cnn", "-w", "cnn-aug") as proc:
        seen: list[str] = []
        _wait_for(proc, "Running cnn-aug", seen)
        workers = _started_workers(proc)
        assert workers, "no worker process started"
        proc.terminate()
        out = _finish(proc, seen)
    assert proc.returncode == 143, out[-3000:]
    data = results.load(next((tmp_path / "results").glob("*/*.json")))
    assert data["status"] == "interrupted"
    assert [r["workload"] for r in data["workloads"]] == ["cnn"]
    assert _gone(workers), "the worker outlived its parent"


@pytest.mark.slow
def test_a_killed_harness_leaves_no_worker_training(tmp_path: Path) -> None:
    """SIGKILL to the parent alone: its worker ends within seconds instead of training on."""
    with _start_bench(tmp_path, "-w", "vgg16", "--image-size", "224") as proc:
        seen: list[str] = []
        _wait_for(proc, "Running vgg16", seen)
        workers = _started_workers(proc)
        assert workers, "no worker process started"
        proc.kill()
        _finish(proc, seen)
    assert _gone(workers), "the worker outlived its parent"


def test_a_file_where_the_machine_folder_goes_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`<output>/<slug>` being a file stops the run before the stand-in or any worker."""
    calls: list[str] = []
    monkeypatch.setattr(runner, "run_worker", lambda job, _: calls.append(job.workload))
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "my-box").write_text("in the way")
    with pytest.raises(UserError, match=r"my-box is a file, not a folder"):
        runner.run(_config(tmp_path, slug="my-box"), say=lambda _: None)
    assert calls == []
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("failure", ["full", "read-only"])
def test_results_that_cannot_be_written_at_the_end_are_kept_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """A full disk (ENOSPC) or a folder made read-only (EROFS) when the file is written: the
    measurements go to the first place that takes them, one line says where, exit status 1."""
    import errno

    code = errno.ENOSPC if failure == "full" else errno.EROFS

    def refuse(data: Any, folder: Any) -> Path:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(runner, "run_worker", _fake_record)
    monkeypatch.setattr(results, "write", refuse)
    monkeypatch.chdir(tmp_path)
    said: list[str] = []
    path, status = runner.run(_config(tmp_path), say=said.append)
    assert status == 1
    assert path is not None
    assert path.parent == tmp_path
    assert path.name.startswith("benchbook-rescued-")
    kept = results.load(path)
    assert [r["workload"] for r in kept["workloads"]] == ["cnn", "vgg16"]
    line = next(s for s in said if "could not be written" in s)
    assert os.strerror(code) in line
    assert str(path) in line
    assert "\n" not in line


def test_a_file_whose_every_run_failed_says_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When every workload run failed, the file says `failed`, not `complete`, and the exit is 1."""

    def failing(job: TrainingJob, workdir: Path) -> dict[str, Any]:
        record = jobs.failure(job, None)
        record["error"] = "ModuleNotFoundError: No module named 'tensorflow'"
        return record

    monkeypatch.setattr(runner, "run_worker", failing)
    said: list[str] = []
    path, status = runner.run(_config(tmp_path), say=said.append)
    assert status == 1
    assert path is not None
    assert results.load(path)["status"] == "failed"
    assert any("Every workload run failed" in s for s in said)
    assert results.check_document(results.load(path)) == []


def test_cooldown_idles_between_workload_runs_and_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--cooldown 5 sleeps before every workload run but the first, and the file records it."""
    slept: list[float] = []
    monkeypatch.setattr(runner, "run_worker", _fake_record)
    # runner.idle, the runner's own name: patching time.sleep through bench.harness.runner.time would
    # replace it for every thread (a sampler, a worker's watcher) and fail at random.
    monkeypatch.setattr(runner, "idle", slept.append)
    path, status = runner.run(_config(tmp_path, repeats=2, cooldown_s=5.0), say=lambda _: None)
    assert status == 0
    assert slept == [5.0, 5.0, 5.0]
    assert path is not None
    assert results.load(path)["config"]["cooldown_s"] == 5.0


def test_the_default_cooldown_is_for_machines_with_a_battery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A laptop (a battery in pmset) idles a minute between runs by default; a desktop not."""
    from bench.harness.machine import power

    monkeypatch.setattr(power, "power_and_thermal", lambda: {"battery_percent": 80})
    assert runner.default_cooldown() == runner.LAPTOP_COOLDOWN_S == 60.0
    monkeypatch.setattr(power, "power_and_thermal", lambda: {"battery_percent": None})
    assert runner.default_cooldown() == 0.0
    monkeypatch.setattr(power, "power_and_thermal", dict)
    assert runner.default_cooldown() == 0.0


def test_conditions_are_sampled_while_the_worker_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On macOS the power and thermal state is read every SAMPLE_S while a worker runs, and a
    CPU speed limit seen only mid-run flags the run as throttled."""
    from bench.harness.machine import power

    record = _fake_record({"workload": "cnn", "repeat": 1}, tmp_path)
    (tmp_path / "ok.json").write_text(json.dumps(record))

    code = f"import shutil, sys, time; time.sleep(1.0); shutil.copy({str(tmp_path / 'ok.json')!r}, sys.argv[2])"

    readings = iter([{"power_source": "AC Power", "cpu_speed_limit": 100}] + [{"power_source": "AC Power", "cpu_speed_limit": 60}] * 100)  # fmt: skip
    monkeypatch.setattr(runner, "WORKER", (sys.executable, "-c", code))
    monkeypatch.setattr(runner, "SAMPLE_S", 0.2)
    monkeypatch.setattr(runner, "SAMPLED_ON", frozenset({platform.system()}))
    monkeypatch.setattr(power, "power_and_thermal", lambda: next(readings))
    path, status = runner.run(
        _config(tmp_path, workloads=["cnn"], cooldown_s=0.0), say=lambda _: None
    )
    assert status == 0
    assert path is not None
    run = results.load(path)["workloads"][0]
    during = run["conditions"]["during"]
    assert len(during) >= 2
    assert all(s["cpu_speed_limit"] == 60 for s in during)
    assert run["conditions"]["before"]["cpu_speed_limit"] == 100
    assert verdicts.throttled(run["conditions"]) == "CPU speed limited to 60 %"


def test_summary_says_where_the_new_result_ranks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a run, the summary ranks the new result among the machines already in results/."""
    first: list[str] = []
    monkeypatch.setattr(runner, "run_worker", _fake_record)
    path, status = runner.run(_config(tmp_path), say=first.append)
    assert (status, path is not None) == (0, True)
    assert any("the only machine with runs of this setting so far" in line for line in first)
    # The same runs, twice as slow, from a second machine folder.
    assert path is not None
    other = results.load(path)
    other["machine"]["slug"] = "slower-box"
    other["run_id"] = "0" * 32
    other["started_at"], other["finished_at"] = (
        "2026-01-01T00:00:00.000Z",
        "2026-01-01T00:01:00.000Z",
    )
    for run in other["workloads"]:
        for epoch in run["epochs"]:
            epoch.update(epoch_s=2.0, train_s=1.6, images_per_s=20.0)
    results.write(other, tmp_path / "results")
    said: list[str] = []
    path, status = runner.run(_config(tmp_path), say=said.append)
    assert status == 0
    head = next(i for i, line in enumerate(said) if line.startswith("Where "))
    assert "among the 2 machines in" in said[head]
    assert (
        said[head + 1]
        .strip()
        .startswith(
            "cnn: 1st of 2 (faster than 100 % of the others), 1 s/epoch; next slower: slower-box (2 s)"
        )
    )
