"""Tests for bench/protocol/jobs.py and bench/worker/entry.py: the one protocol between the parent
and a worker (a job as JSON, one record back, the same failure record from either side)."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bench.protocol import config, jobs
from bench.protocol.jobs import JobError, ProbeJob, ProbeSettings, TrainingJob
from bench.protocol.stopping import StoppingRule
from bench.results import schema
from bench.worker import entry, probes

TRAINING = TrainingJob(
    workload="vgg16",
    repeat=2,
    data_root="/data",
    image_size=64,
    batch_size=16,
    epochs=2,
    weights_kind="imagenet",
    weights_note="cached",
    expected_images={"train": 32, "validation": 16},
)


def _valid(definition: str, value: Any) -> None:
    root = {"$ref": f"#/$defs/{definition}", "$defs": schema()["$defs"]}
    jsonschema.Draft202012Validator(root).validate(value)


def test_jobs_round_trip_through_json() -> None:
    """What the parent writes is what the worker reads, field for field, for both kinds."""
    probe = ProbeJob("single_core", "jax", ProbeSettings(scale=0.5, min_time_s=0.1))
    for job in (TRAINING, probe, ProbeJob("gpu")):
        assert jobs.loads(jobs.dumps(job)) == job
    assert json.loads(jobs.dumps(probe))["kind"] == "probes"


def test_a_training_jobs_defaults_are_the_run_configurations() -> None:
    """Each default a worker would otherwise re-declare comes from `bench.protocol.config`."""
    job = TrainingJob("cnn", 1, "/data", 224, 64, 3)
    assert (job.seed, job.backend, job.pipeline) == (
        config.SEED,
        config.DEFAULT_BACKEND,
        config.DEFAULT_PIPELINE,
    )
    assert (job.attribution, job.crosscheck, job.weights_kind) == (True, True, "random")
    assert job.tag == "cnn #1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a job"),
        ('{"section": "gpu"}', "not a job"),
        ('{"kind": "mystery"}', "not a job"),
        ('{"kind": "probes", "section": "gpu", "extra": 1}', "unknown job fields ['extra']"),
        ('{"kind": "probes", "section": "quad_core"}', "unknown probes section 'quad_core'"),
        ('{"kind": "probes", "section": "gpu", "backend": "mxnet"}', "unknown backend 'mxnet'"),
        ('{"kind": "probes", "section": "gpu", "settings": {"scale": 9}}', "out of range"),
        ('{"kind": "training", "workload": "cnn"}', "not a job"),
        (
            (
                '{"kind": "training", "workload": "resnet", "repeat": 1, "data_root": "d", '
                '"image_size": 64, "batch_size": 16, "epochs": 2}'
            ),
            "unknown workload 'resnet'",
        ),
    ],
)
def test_a_file_that_is_not_a_job_is_refused_in_one_line(text: str, message: str) -> None:
    """Anything but a job of this protocol is a `JobError` that says what is wrong."""
    with pytest.raises(JobError) as info:
        jobs.loads(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_failure_has_the_shape_of_the_record_it_replaces() -> None:
    """The parent's record for a dead worker is the worker's own record shape: a valid failed
    workload run (VGG-16 keeps its weights), or a failed probe section with no GPUs."""
    record = jobs.failure(TRAINING, "worker killed by signal 9 (SIGKILL; out of memory?)")
    assert (record["status"], record["weights"], record["weights_note"]) == (
        "failed",
        "imagenet",
        "cached",
    )
    _valid("workload_run", record)
    cnn = jobs.failure(dataclasses.replace(TRAINING, workload="cnn"), None)
    assert (cnn["weights"], cnn["error"], cnn["epochs"]) == ("none", None, [])
    probe = jobs.failure(ProbeJob("multi_core"), "x" * 5000)
    assert probe["gpus"] is None
    assert probe["section"]["status"] == "failed"
    assert len(probe["section"]["reason"]) == jobs.REASON_CHARS


def test_the_worker_environment_runs_this_code_and_holds_single_core_to_one_thread() -> None:
    """The source root comes first on PYTHONPATH; a user's TF_CPP_MIN_LOG_LEVEL is kept; only the
    single-core probes pin the numeric libraries to one thread."""
    base = {"PYTHONPATH": "/elsewhere", "TF_CPP_MIN_LOG_LEVEL": "3", "HOME": "/home/me"}
    single = jobs.environment(ProbeJob("single_core"), base)
    assert single["PYTHONPATH"].split(os.pathsep) == [str(jobs.SOURCE_ROOT), "/elsewhere"]
    assert (single["TF_CPP_MIN_LOG_LEVEL"], single["HOME"]) == ("3", "/home/me")
    assert all(single[name] == "1" for name in jobs.SINGLE_THREAD_VARIABLES)
    training = jobs.environment(TRAINING, {})
    assert training["TF_CPP_MIN_LOG_LEVEL"] == "1"
    assert not set(jobs.SINGLE_THREAD_VARIABLES) & set(training)
    assert (jobs.SOURCE_ROOT / "bench" / "worker" / "__main__.py").is_file()


def test_the_worker_command_ends_with_the_job_and_the_output() -> None:
    """One command line for every job: the worker, then the job file and the output file."""
    command = jobs.command(Path("a.json"), Path("b.json"))
    assert command[-2:] == ["a.json", "b.json"]
    assert command[1:3] == ["-m", "bench.worker"]
    assert jobs.command(Path("a"), Path("b"), ("py", "w.py")) == ["py", "w.py", "a", "b"]


def test_the_worker_refuses_a_bad_job_file_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing or malformed job file, or the wrong arguments, exit 2 with one line and no record."""
    out = tmp_path / "out.json"
    assert entry.main([str(tmp_path / "missing.json"), str(out)]) == 2
    (tmp_path / "bad.json").write_text('{"kind": "probes"}')
    assert entry.main([str(tmp_path / "bad.json"), str(out)]) == 2
    assert entry.main([]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    assert "missing.json" in lines[0]
    assert "bad.json: JobError: not a job" in lines[1]
    assert lines[2] == "usage: python -m bench.worker JOB_FILE OUT_FILE"
    assert not out.exists()


def test_a_section_that_raises_is_a_failed_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker records a whole section that raised as failed, in the parent's shape, and still
    writes its record and exits 0."""

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        msg = "no device\nsecond line"
        raise RuntimeError(msg)

    monkeypatch.setattr(probes, "run_section", broken)
    job_file, out = tmp_path / "job.json", tmp_path / "out.json"
    job_file.write_text(jobs.dumps(ProbeJob("gpu")))
    assert entry.main([str(job_file), str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["gpus"] is None
    assert record["section"]["status"] == "failed"
    assert record["section"]["reason"] == "RuntimeError: no device"


def test_a_training_job_takes_every_shared_setting_from_the_run_configuration() -> None:
    """`TrainingJob.of` copies each setting the run configuration and the job share, by name, so a
    new setting reaches the worker by being declared in both, not by another line of copying."""
    run = config.Config(
        profile="smoke",
        workloads=["cnn"],
        epochs=4,
        image_size=96,
        batch_size=8,
        intra_op_threads=2,
        backend="jax",
        pipeline="tfdata-affine",
        attribution=False,
        budget_s=12.5,
        target=0.02,
        seed=7,
    )
    job = TrainingJob.of(run, workload="cnn", repeat=3, data_root="/d")
    assert job.stopping == run.stopping == StoppingRule(4, 12.5, 0.02)
    assert (job.epochs, job.image_size, job.batch_size, job.intra_op_threads) == (4, 96, 8, 2)
    assert (job.backend, job.pipeline, job.attribution, job.seed) == (
        "jax",
        "tfdata-affine",
        False,
        7,
    )
    assert (job.workload, job.repeat, job.crosscheck) == ("cnn", 3, True)
    shared = {f.name for f in dataclasses.fields(TrainingJob)} & {
        f.name for f in dataclasses.fields(config.Config)
    }
    assert shared == {
        "epochs", "image_size", "batch_size", "seed", "intra_op_threads", "inter_op_threads",
        "keras2", "backend", "generator_workers", "pipeline", "attribution", "budget_s", "target",
    }  # fmt: skip


def test_the_stored_configuration_is_the_schemas_config_block() -> None:
    """`Config.stored` writes exactly the properties of ``$defs/config``, and they validate."""
    run = config.Config(profile="quick", workloads=["cnn"], epochs=3, image_size=224, batch_size=64)
    block = run.stored(cooldown_s=0.0)
    assert set(block) == set(schema()["$defs"]["config"]["properties"])
    _valid("config", block)
    assert block["profile"] == "quick"
    assert config.Config(**{**vars(run), "image_size": 96}).stored(0.0)["profile"] == "custom"
    assert block["stopping"] == {"rule": "fixed"}
    adaptive = config.Config(**{**vars(run), "budget_s": 30.0}).stored(0.0)
    _valid("config", adaptive)
    assert adaptive["stopping"]["rule"] == "adaptive"
    assert adaptive["stopping"]["budget_s"] == 30.0


def test_running_a_job_writes_it_and_hands_the_worker_both_files(tmp_path: Path) -> None:
    """`jobs.run` writes the job where the worker reads it and returns the file the worker
    writes its record to, with the worker's exit status and captured standard error."""
    worker = (
        "import json, sys\n"
        "job = json.load(open(sys.argv[1]))\n"
        "open(sys.argv[2], 'w').write(json.dumps({'section': job['section']}))\n"
        "sys.stderr.write('done')\n"
    )
    code, stderr, out = jobs.run(
        ProbeJob("gpu"), tmp_path, "gpu", worker=(sys.executable, "-c", worker), capture=True
    )
    assert (code, stderr) == (0, "done")
    assert json.loads(out.read_text()) == {"section": "gpu"}
    assert jobs.loads((tmp_path / "gpu.job.json").read_text()) == ProbeJob("gpu")
