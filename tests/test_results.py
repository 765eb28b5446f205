"""Tests for bench/results/ (format, store, model): the results contract."""

from __future__ import annotations

import copy
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import results
from bench.errors import UserError
from bench.results import format, model

ROOT = Path(__file__).resolve().parents[1]
V1_FILE = ROOT / "tests" / "data" / "results" / "fixture-laptop-a" / "20260101T100000Z.json"


def minimal() -> dict[str, Any]:
    """A small valid results document."""
    epoch = {
        "epoch": 1,
        "warmup": True,
        "epoch_s": 2.0,
        "train_s": 1.5,
        "validation_s": 0.5,
        "images_per_s": 20.0,
        "loss": 0.7,
        "accuracy": 0.5,
        "val_loss": 0.69,
        "val_accuracy": 0.5,
    }
    return {
        "schema_version": 5,
        "benchbook_version": "0.3.0",
        "run_id": "0" * 32,
        "status": "complete",
        "started_at": "2026-11-28T17:00:00.000Z",
        "finished_at": "2026-11-28T17:01:00.000Z",
        "machine": {
            "slug": "test-machine",
            "label": None,
            "os": {"system": "Linux", "release": "6.1"},
            "cpu": {
                "model": "Test CPU",
                "architecture": "x86_64",
                "physical_cores": 2,
                "logical_cores": 2,
            },
            "memory_bytes": 1 << 30,
            "gpus": [],
        },
        "software": {
            "python": "3.11.7",
            "tensorflow": "2.18.1",
            "keras": "3.15.1",
            "keras_major": 3,
            "backend": "tensorflow",
            "backend_version": "2.18.1",
            "backend_devices": ["CPU:/physical_device:CPU:0"],
            "tensorflow_metal": None,
            "packages": {},
            "tf_devices": ["CPU:/physical_device:CPU:0"],
            "env": {},
            "git": {"commit": None, "dirty": None},
        },
        "config": {
            "profile": "smoke",
            "workloads": ["cnn"],
            "epochs": 2,
            "image_size": 64,
            "batch_size": 16,
            "pipeline": "legacy",
            "seed": 42,
            "repeats": 1,
            "intra_op_threads": 0,
            "inter_op_threads": 0,
            "weights": "random",
            "stopping": {"rule": "fixed"},
        },
        "dataset": {
            "kind": "synthetic",
            "fingerprint": "a" * 64,
            "classes": ["cat", "dog"],
            "splits": {
                "train": {"images": 30, "per_class": {"cat": 15, "dog": 15}},
                "validation": {"images": 10, "per_class": {"cat": 5, "dog": 5}},
            },
        },
        "workloads": [
            {
                "workload": "cnn",
                "repeat": 1,
                "status": "ok",
                "error": None,
                "weights": "none",
                "device": "/job:localhost/replica:0/task:0/device:CPU:0",
                "epochs": [
                    epoch,
                    {**epoch, "epoch": 2, "warmup": False, "epoch_s": 1.0, "train_s": 0.8},
                ],
            }
        ],
    }


def test_schema_is_valid_draft_2020_12() -> None:
    """The committed schema is itself a valid JSON Schema."""
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(results.schema())


def test_minimal_document_validates() -> None:
    """A well-formed document passes validation."""
    results.validate(minimal())


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(schema_version=6), "upgrade benchbook"),
        (lambda d: d.update(schema_version=0), "re-run `nox -s bench`"),
        (lambda d: d.update(schema_version="1"), "not a benchbook results file"),
        (lambda d: d.pop("machine"), "'machine' is a required property"),
        (
            lambda d: d["workloads"][0]["epochs"][0].update(epoch_s=-1.0),
            "workloads/0/epochs/0/epoch_s",
        ),
        (lambda d: d["machine"].update(slug="Bad Slug!"), "machine/slug"),
        (lambda d: d.update(surprise=1), "Additional properties"),
    ],
)
def test_invalid_documents_are_refused_with_the_field(mutate: Any, expected: str) -> None:
    """Each kind of defect is refused with a message naming what is wrong."""
    data = copy.deepcopy(minimal())
    mutate(data)
    with pytest.raises(results.ResultsError, match=re.escape(expected)):
        results.validate(data, "x.json")


def test_loads_refuses_nan_and_broken_json() -> None:
    """NaN is not JSON, and broken text gives a one-line error naming the file."""
    text = json.dumps(minimal()).replace('"loss": 0.7', '"loss": NaN')
    with pytest.raises(results.ResultsError, match=r"^f\.json: not valid JSON"):
        results.loads(text, "f.json")
    with pytest.raises(results.ResultsError, match="not valid JSON"):
        results.loads("{", "f.json")


def test_write_is_atomic_and_never_overwrites(tmp_path: Path) -> None:
    """Two writes with the same start time give two files; no temporary file is left behind."""
    first = results.write(minimal(), tmp_path)
    second = results.write(minimal(), tmp_path)
    assert first == tmp_path / "test-machine" / "20261128T170000Z.json"
    assert second == tmp_path / "test-machine" / "20261128T170000Z-2.json"
    assert {p.name for p in (tmp_path / "test-machine").iterdir()} == {first.name, second.name}
    assert results.load(first) == minimal()


def test_write_refuses_invalid_data_and_writes_nothing(tmp_path: Path) -> None:
    """An invalid document is refused before anything reaches the disk."""
    bad = minimal()
    bad["workloads"][0]["status"] = "great"
    with pytest.raises(results.ResultsError, match="workloads/0/status"):
        results.write(bad, tmp_path)
    assert not list(tmp_path.rglob("*.json*"))


def test_non_finite_metrics_are_stored_as_null(tmp_path: Path) -> None:
    """A diverged loss (NaN) becomes null instead of producing invalid JSON."""
    data = minimal()
    data["workloads"][0]["epochs"][0]["loss"] = float("nan")
    path = results.write(data, tmp_path)
    assert results.load(path)["workloads"][0]["epochs"][0]["loss"] is None


def test_check_destination_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    """A file where the machine's folder should be is reported before any work, naming it."""
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "my-mac").write_text("not a folder")
    with pytest.raises(UserError, match=r"my-mac is a file, not a folder.*--output"):
        results.check_destination(tmp_path / "results", "my-mac")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(UserError, match=r"file is a file, not a folder"):
        results.check_destination(blocker / "results", "my-mac")


def test_check_destination_refuses_a_read_only_folder(tmp_path: Path) -> None:
    """A results folder without write permission is reported before any work."""
    folder = tmp_path / "results"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):  # root ignores permission bits
            pytest.skip("permission bits do not bind this user (root)")
        with pytest.raises(UserError, match="is not writable"):
            results.check_destination(folder, "my-mac")
    finally:
        folder.chmod(0o755)


def test_check_destination_creates_nothing(tmp_path: Path) -> None:
    """Checking a destination that does not exist yet leaves no empty folder behind."""
    target = results.check_destination(tmp_path / "out" / "results", "my-mac")
    assert target == tmp_path / "out" / "results" / "my-mac"
    assert list(tmp_path.iterdir()) == []


def test_written_files_are_readable_by_others(tmp_path: Path) -> None:
    """Results files get the umask's permissions (0644 usually), not mkstemp's 0600."""
    old = os.umask(0o022)
    try:
        path = results.write(minimal(), tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_rescue_keeps_the_document_where_it_can(tmp_path: Path) -> None:
    """When the first place cannot take the file, the next one does, and the file loads."""
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, so no folder can be made here")
    kept = results.rescue(minimal(), [blocked / "sub", tmp_path / "ok"])
    assert kept is not None
    assert kept.parent == tmp_path / "ok"
    assert kept.name == "benchbook-rescued-test-machine-20261128T170000Z.json"
    assert results.load(kept) == minimal()
    assert results.rescue(minimal(), [blocked / "sub"]) is None


def _version_4() -> dict[str, Any]:
    document = minimal()
    document["schema_version"] = 4
    del document["config"]["stopping"]
    return document


WHOLE_EPOCHS = {"rule": "whole-epochs"}
"""How a version 4 or older file's stopping rule reads."""


def _version_2() -> dict[str, Any]:
    document = _version_4()
    document["schema_version"] = 2
    for name in ("backend", "backend_version", "backend_devices"):
        del document["software"][name]
    return document


def _version_1(pipeline: str, augmentation: Any, **config: Any) -> dict[str, Any]:
    document = _version_2()
    document["schema_version"] = 1
    document["config"].update(pipeline=pipeline, **config)
    document["workloads"][0]["augmentation"] = augmentation
    return document


@pytest.mark.parametrize(
    ("pipeline", "augmentation", "read_as"),
    [
        ("tfdata", {"RandomRotation": {"factor": 0.05}, "rescaling": 1 / 255}, "tfdata-layers"),
        ("tfdata", {"transform": "affine", "rescaling": 1 / 255}, "tfdata-affine"),
        ("tfdata", {"rescaling": 1 / 255}, "tfdata-affine"),
        ("tfdata-layers", {"rescaling": 1 / 255}, "tfdata-layers"),
        ("legacy", {"rotation_range": 20}, "legacy"),
    ],
)
def test_a_version_1_file_reads_as_the_current_version(
    tmp_path: Path, pipeline: str, augmentation: Any, read_as: str
) -> None:
    """Version 1 names are upgraded at load: tfdata by its augmentation, legacy_keras as keras2;
    the file on disk is left as it is."""
    path = tmp_path / "old.json"
    text = json.dumps(_version_1(pipeline, augmentation, legacy_keras=True))
    path.write_text(text, encoding="utf-8")
    loaded = results.load(path)
    assert loaded["schema_version"] == results.SCHEMA_VERSION == 5
    assert loaded["config"]["pipeline"] == read_as
    assert loaded["config"]["keras2"] is True
    assert "legacy_keras" not in loaded["config"]
    assert path.read_text(encoding="utf-8") == text


def test_a_version_2_file_reads_as_tensorflow() -> None:
    """Every file from before the backends existed trained on TensorFlow: it reads so, with
    TensorFlow's version and devices, and compares with new TensorFlow files."""
    old = _version_2()
    loaded = results.loads(json.dumps(old), "old.json")
    assert loaded["schema_version"] == results.SCHEMA_VERSION
    software = loaded["software"]
    assert (software["backend"], software["backend_version"]) == ("tensorflow", "2.18.1")
    assert software["backend_devices"] == ["CPU:/physical_device:CPU:0"]
    assert "backend" not in old["software"]  # the parsed original is left as it is
    new = _version_4()
    run = new["workloads"][0]
    assert model.setting_of(loaded, loaded["workloads"][0]) == model.setting_of(
        results.loads(json.dumps(new), "new.json"), run
    )


def test_a_version_3_file_reads_unchanged_and_mlx_needs_version_4() -> None:
    """Version 4 only lets `mlx` be the backend: a version 3 file reads as it is (its version
    number aside), and a version 3 file that names MLX is refused by field, as a version 3
    reader would refuse it."""
    old = _version_4()
    old["schema_version"] = 3
    loaded = results.loads(json.dumps(old), "old.json")
    assert loaded == {**minimal(), "config": {**minimal()["config"], "stopping": WHOLE_EPOCHS}}
    old["software"]["backend"] = "mlx"
    with pytest.raises(results.ResultsError, match="invalid at software/backend"):
        results.loads(json.dumps(old), "old.json")
    new = minimal()
    new["software"].update(backend="mlx", backend_version="0.32.4")
    assert results.loads(json.dumps(new), "new.json")["software"]["backend"] == "mlx"


def test_a_version_2_file_with_a_version_1_name_is_refused() -> None:
    """Version 2 has no `tfdata` pipeline and no `legacy_keras`: each is refused by field."""
    document = _version_2()
    document["config"]["pipeline"] = "tfdata"
    with pytest.raises(results.ResultsError, match="invalid at config/pipeline"):
        results.validate(document)
    document = _version_2()
    document["config"]["legacy_keras"] = False
    with pytest.raises(results.ResultsError, match="legacy_keras"):
        results.validate(document)


def test_a_newer_version_is_refused_in_one_line() -> None:
    """A version 6 file names the versions this benchbook reads and says to update."""
    document = minimal()
    document["schema_version"] = 6
    with pytest.raises(results.ResultsError) as info:
        results.loads(json.dumps(document), "future.json")
    message = str(info.value)
    assert message == (
        "future.json: schema_version 6 is not supported (this benchbook reads versions 1, 2, 3, 4, "
        "5); "
        "upgrade benchbook (git pull) to read it"
    )


def test_writers_write_only_the_current_version(tmp_path: Path) -> None:
    """A version 1 document is readable but never written."""
    with pytest.raises(results.ResultsError, match="new files are version 5"):
        results.write(_version_1("legacy", None), tmp_path)
    assert not any(tmp_path.rglob("*.json"))


def test_the_format_history_covers_every_readable_version() -> None:
    """One history entry per version, in order, each with its schema file."""
    numbers = [v.number for v in results.FORMAT_HISTORY]
    assert numbers == list(range(1, results.SCHEMA_VERSION + 1))
    assert set(numbers) == results.READABLE
    for number in numbers:
        assert results.schema(number)["properties"]["schema_version"]["const"] == number


def test_every_committed_result_validates() -> None:
    """Every file in results/ follows the current schema (the one test that reads results/)."""
    for path in results.result_paths(ROOT / "results"):
        data = results.load(path)
        assert path.parent.name == data["machine"]["slug"], f"{path} is in the wrong folder"


def test_fast_validator_is_used_for_every_version() -> None:
    """The schemas stay within draft-07's meaning, so the compiled validator is active."""
    for version in results.READABLE:
        assert format._compiled(version) is not None


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "unevaluatedProperties": False},
        {
            "$defs": {"a": {"type": "string"}},
            "properties": {"x": {"$ref": "#/$defs/a", "maxLength": 2}},
        },
        {"items": [{"type": "string"}]},
        {"properties": {"x": {"type": "string", "format": "date-time"}}},
    ],
)
def test_fast_path_is_refused_for_keywords_draft7_reads_differently(schema: dict[str, Any]) -> None:
    """A schema keyword draft-07 would ignore or read differently disables the fast path."""
    assert not format._draft7_compatible(schema)


TRICKY = [True, False, None, 0, -1, 1.5, 1e20, "", "x" * 5000, "2026-01-01", [], {}, [1], {"a": 1}]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location in a JSON document."""
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


DOCUMENT = json.loads(V1_FILE.read_text(encoding="utf-8"))
LOCATIONS = [p for p in _paths(DOCUMENT) if p]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    location=st.sampled_from(LOCATIONS),
    value=st.sampled_from(TRICKY),
    delete=st.booleans(),
)
def test_fast_validator_agrees_with_jsonschema(
    location: tuple[Any, ...], value: Any, delete: bool
) -> None:
    """Whatever one field becomes, the fast path never accepts what jsonschema rejects."""
    data = copy.deepcopy(DOCUMENT)
    parent = data
    for step in location[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[location[-1]]
    else:
        parent[location[-1]] = value
    fast = format._compiled(1)
    assert fast is not None
    try:
        fast(data)
        fast_ok = True
    except ValueError:
        fast_ok = False
    slow_ok = jsonschema.Draft202012Validator(results.schema(1)).is_valid(data)
    assert fast_ok == slow_ok


def test_devices_are_shortened_one_way_for_every_reader() -> None:
    """A TensorFlow device string reads as ``GPU:0`` (kind ``GPU``); nothing known is None."""
    from bench.results import model

    full = "/job:localhost/replica:0/task:0/device:GPU:0"
    assert model.short_device(full) == "GPU:0"
    assert model.device_kind(full) == "GPU"
    assert model.device_kind("/physical_device:CPU:0") == "CPU"
    assert model.short_device(None) is None
    assert model.device_kind("") is None


def test_a_run_is_read_through_the_model() -> None:
    """Measured epochs leave out the warm-up and failed runs; the throughput is their median."""
    from bench.results import model

    document = minimal()
    run = document["workloads"][0]
    assert model.epoch_seconds(run) == [1.0]
    assert model.images_per_s(run) == 20.0
    assert model.attribution_of(run).status == "not measured"
    assert model.measured_epochs({**run, "status": "failed"}) == []
    assert math.isnan(model.images_per_s({**run, "status": "failed"}))
    setting = model.setting_of(document, run)
    assert model.as_dict(setting)["pipeline"] == "legacy"
    assert model.describe(setting) == (
        "smoke profile, 64 px, batch 16, synthetic data aaaaaaaa, weights none, legacy pipeline, "
        "default intra-op threads, Keras 3.15.1, TensorFlow 2.18.1 backend, fixed epochs"
    )
    other = model.setting_of({**document, "config": {**document["config"], "batch_size": 32}}, run)
    assert model.differences(setting, other) == ["batch size 16 vs 32"]
    software = {**document["software"], "backend": "jax", "backend_version": "0.10.2"}
    on_jax = model.setting_of({**document, "software": software}, run)
    assert model.describe(on_jax) == model.describe(setting).replace(
        "TensorFlow 2.18.1 backend", "JAX 0.10.2 backend"
    )
    assert model.differences(setting, on_jax) == [
        "backend TensorFlow vs JAX",
        "backend version 2.18.1 vs 0.10.2",
    ]
    assert model.preference(setting) < model.preference(on_jax)


@pytest.mark.parametrize("version_text", ["2.18.1\n<b>x</b>", "2.18\x1b[31m", "<b>2.18</b>"])
def test_an_older_file_meets_the_newest_formats_rules_after_its_upgrade(
    tmp_path: Path, version_text: str
) -> None:
    """A v1 file's free ``software.tensorflow`` text becomes v3's constrained backend_version:
    the upgraded document is validated again, so it cannot split comparisons or carry markup."""
    data = json.loads(
        (
            ROOT / "tests" / "data" / "results" / "fixture-laptop-a" / "20260101T100000Z.json"
        ).read_text()
    )
    assert data["schema_version"] == 1
    data["software"]["tensorflow"] = version_text
    with pytest.raises(results.ResultsError, match="after upgrading it from format version 1"):
        results.loads(json.dumps(data), "old.json")


def test_an_integer_beyond_float_range_is_refused_in_one_line() -> None:
    """A 400-digit integer is valid JSON and matched "number" in the schema; readers that call
    float() on it overflowed. The parser refuses it like an infinity."""
    big = "1" + "0" * 400
    with pytest.raises(results.ResultsError, match="out of range"):
        results.parse(f'{{"loss": {big}}}', "big.json")
    assert results.parse('{"count": 12345678901234567890}', "ok.json") == {
        "count": 12345678901234567890
    }
