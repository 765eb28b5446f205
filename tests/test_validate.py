"""Tests for bench/commands/validate.py and bench/results/checks.py: the checks every results file passes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench import results
from bench.commands import validate
from bench.protocol.stopping import StoppingRule
from bench.results import checks

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "data" / "validate" / "valid"  # one file written by a real smoke run
SLUG = "amd-epyc-2c"
GOOD = VALID / SLUG / "20261128T200525Z.json"

Change = Callable[[dict[str, Any]], None]


def base() -> dict[str, Any]:
    """The real smoke-run document: cnn and vgg16, 2 repeats of 2 epochs."""
    data: dict[str, Any] = json.loads(GOOD.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A results folder holding the valid fixture."""
    root = tmp_path / "results"
    shutil.copytree(VALID, root)
    return root


def stamp_of(data: dict[str, Any]) -> str:
    """The file name `bench.results.write` gives a document."""
    return results.utc_stamp(checks.parse_timestamp(data["started_at"])) + ".json"


def plant(
    root: Path, change: Change, *, name: str | None = None, folder: str | None = None
) -> Path:
    """Write a changed copy of the valid document (with its own run_id) and return its path."""
    data = base()
    data["run_id"] = "f" * 32
    data["started_at"] = "2026-11-29T09:00:00.000Z"
    data["finished_at"] = "2026-11-29T09:01:10.000Z"
    change(data)
    path = root / (folder or data["machine"]["slug"]) / (name or stamp_of(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def problems(root: Path) -> list[str]:
    """Every problem line of a folder."""
    return [str(p) for p in results.check_tree(root).problems]


def epoch(data: dict[str, Any], run: int = 0, number: int = 1) -> dict[str, Any]:
    """One epoch record of a document."""
    record: dict[str, Any] = data["workloads"][run]["epochs"][number - 1]
    return record


def test_valid_tree_passes(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder of valid files passes with exit status 0 and a one-line summary."""
    assert validate.main([str(tree)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"validate: 1 results file(s) from 1 machine(s) under {tree}: all valid"
    ]


def test_the_compare_fixtures_pass() -> None:
    """The hand-built comparison fixtures obey the same rules as real files."""
    assert problems(ROOT / "tests" / "data" / "compare") == []


def test_committed_results_are_valid() -> None:
    """Every committed file in results/ passes the validator (what CI checks on each pull request)."""
    if not (ROOT / "results").is_dir():
        pytest.skip("no results/ folder in this checkout")
    assert problems(ROOT / "results") == []


def test_a_planted_valid_file_passes(tree: Path) -> None:
    """The planting helper itself produces a valid file, so each bad one fails for its own reason."""
    plant(tree, lambda d: None)
    assert problems(tree) == []


def test_a_planted_adaptive_file_passes(tree: Path) -> None:
    """A format 5 file of the adaptive rule, every step timed, passes: the mutations of it below
    each fail for their own reason."""

    def longer(d: dict[str, Any]) -> None:  # an extra epoch is within the rule's 100
        _extra_epoch(d)
        d["workloads"][0]["stopping"]["measured_epochs"] = 2

    plant(tree, _adaptive(longer))
    assert problems(tree) == []


def _set_epoch(run: int, number: int, **fields: Any) -> Change:
    return lambda d: epoch(d, run, number).update(fields)


def _drop_run(index: int) -> Change:
    return lambda d: d["workloads"].pop(index)


def _renumber(d: dict[str, Any]) -> None:
    epoch(d, 0, 2)["epoch"] = 3


def _no_error(d: dict[str, Any]) -> None:
    d["workloads"][1].update(status="failed", error=None)


def _duplicate_run(d: dict[str, Any]) -> None:
    d["workloads"][2]["repeat"] = 1


def _adaptive(then: Change) -> Change:
    """The document as an adaptive run of format 5 writes it (every step timed, why each run
    stopped), then ``then``."""

    def change(d: dict[str, Any]) -> None:
        upgraded = results.loads(json.dumps(d), "base.json")
        d.clear()
        d.update(upgraded)
        d["config"]["stopping"] = StoppingRule(2, budget_s=5.0).stored()
        for run in d["workloads"]:
            for e in run["epochs"]:
                e["step_s"] = [e["train_s"] / 4] * run["steps_per_epoch"]
            run["stopping"] = {"reason": "budget", "measured_epochs": 1, "half_width": None}
        then(d)

    return change


def _extra_epoch(d: dict[str, Any]) -> None:
    run = d["workloads"][0]
    run["epochs"].append({**run["epochs"][-1], "epoch": len(run["epochs"]) + 1})


def _past_the_limit(d: dict[str, Any]) -> None:
    d["config"]["stopping"]["max_epochs"] = 2
    _extra_epoch(d)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            _set_epoch(0, 2, train_s=0.5, validation_s=0.5),
            "workloads[0] (cnn #1) epoch 2: train_s + validation_s = 1 s is longer than epoch_s",
            id="phases-longer-than-epoch",
        ),
        pytest.param(
            _set_epoch(1, 2, images_per_s=500.0),
            "workloads[1] (vgg16 #1) epoch 2: images_per_s = 500, but train_images / train_s",
            id="throughput-inconsistent",
        ),
        pytest.param(
            _renumber,
            "workloads[0] (cnn #1): epochs are numbered [1, 3], not 1..2 in order",
            id="epochs-misnumbered",
        ),
        pytest.param(
            _set_epoch(0, 2, warmup=True),
            "warm-up epochs are [1, 2]; exactly the first epoch must be warm-up",
            id="two-warmups",
        ),
        pytest.param(
            _set_epoch(0, 1, warmup=False),
            "warm-up epochs are []; exactly the first epoch must be warm-up",
            id="no-warmup",
        ),
        pytest.param(
            lambda d: d["workloads"][0]["epochs"].pop(),
            "workloads[0] (cnn #1): finished with 1 epochs, but its stopping rule allows 2",
            id="finished-run-short",
        ),
        pytest.param(
            _extra_epoch,
            "workloads[0] (cnn #1): finished with 3 epochs, but its stopping rule allows 2",
            id="fixed-rule-run-long",
        ),
        pytest.param(
            _adaptive(_past_the_limit),
            "workloads[0] (cnn #1): finished with 3 epochs, but its stopping rule allows 2 to 2",
            id="adaptive-run-past-its-limit",
        ),
        pytest.param(
            _adaptive(lambda d: epoch(d, 0, 2)["step_s"].append(0.01)),
            "workloads[0] (cnn #1) epoch 2: 3 steps timed, but steps_per_epoch is 2",
            id="steps-miscounted",
        ),
        pytest.param(
            _adaptive(lambda d: epoch(d, 0, 2).update(step_s=[1.0, 1.0])),
            "workloads[0] (cnn #1) epoch 2: its steps add up to 2 s, longer than train_s",
            id="steps-longer-than-training",
        ),
        pytest.param(
            _adaptive(lambda d: d["workloads"][0]["stopping"].update(measured_epochs=3)),
            "workloads[0] (cnn #1): stopping says 3 measured epochs, but the run has 1",
            id="stopping-miscounted",
        ),
        pytest.param(
            _adaptive(lambda d: d["config"].update(stopping={"rule": "fixed"})),
            "workloads[0] (cnn #1): stopped for 'budget' under the fixed rule",
            id="budget-under-the-fixed-rule",
        ),
        pytest.param(
            lambda d: d.update(finished_at="2026-11-29T08:00:00.000Z"),
            "started_at 2026-11-29T09:00:00.000Z is after finished_at 2026-11-29T08:00:00.000Z",
            id="finished-before-started",
        ),
        pytest.param(
            lambda d: d.update(finished_at="2026-11-29T09:00:01.000Z"),
            "the epochs add up to",
            id="epochs-longer-than-the-run",
        ),
        pytest.param(
            lambda d: d.update(finished_at="2026-11-30T25:00:00.000Z"),
            "started_at or finished_at: '2026-11-30T25:00:00.000Z' is not a real date and time",
            id="impossible-time",
        ),
        pytest.param(
            _drop_run(3),
            "status complete but workload runs are missing: vgg16 #2",
            id="repeat-left-out",
        ),
        pytest.param(
            _duplicate_run,
            "workloads[2] (cnn #1): cnn repeat 1 appears twice",
            id="run-twice",
        ),
        pytest.param(
            lambda d: d["config"].update(workloads=["cnn"]),
            "workloads[1] (vgg16 #1): vgg16 is not in config.workloads",
            id="workload-not-configured",
        ),
        pytest.param(
            lambda d: d["workloads"][2].update(repeat=3),
            "workloads[2] (cnn #3): repeat 3 > config.repeats 2",
            id="repeat-out-of-range",
        ),
        pytest.param(
            _no_error,
            "workloads[1] (vgg16 #1): failed without an error message",
            id="failed-silently",
        ),
        pytest.param(
            lambda d: d["workloads"][0].update(error="boom"),
            "workloads[0] (cnn #1): status ok but an error is recorded",
            id="ok-with-error",
        ),
    ],
)
def test_impossible_timings_and_inconsistent_runs(
    tree: Path, change: Change, expected: str
) -> None:
    """Each kind of physically impossible or inconsistent record is reported with its place."""
    path = plant(tree, change)
    found = problems(tree)
    assert any(line.startswith(f"{path}: ") and expected in line for line in found), found


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            _set_epoch(0, 2, epoch_s=-1.0), "invalid at workloads/0/epochs/1/epoch_s", id="negative"
        ),
        pytest.param(
            _set_epoch(0, 2, train_s=0), "invalid at workloads/0/epochs/1/train_s", id="zero"
        ),
        pytest.param(lambda d: d.update(schema_version=6), "upgrade benchbook", id="newer-version"),
        pytest.param(
            lambda d: d.update(schema_version=0), "re-run `nox -s bench`", id="older-version"
        ),
        pytest.param(
            lambda d: d["config"].update(batch_size="64"),
            "invalid at config/batch_size",
            id="wrong-type",
        ),
        pytest.param(
            lambda d: d.pop("machine"), "'machine' is a required property", id="missing-field"
        ),
    ],
)
def test_schema_violations_are_reported(tree: Path, change: Change, expected: str) -> None:
    """A file that breaks the schema or has another version is one problem naming the field."""
    path = plant(tree, change, name="20261129T090000Z.json", folder=SLUG)
    found = [line for line in problems(tree) if line.startswith(f"{path}: ")]
    assert len(found) == 1
    assert expected in found[0]


def test_broken_json_and_non_utf8_are_reported(tree: Path) -> None:
    """Text that is not JSON, bytes that are not UTF-8 and byte-order marks are problems."""
    broken = tree / SLUG / "20261129T090000Z.json"
    broken.write_text('{"schema_version": 1,', encoding="utf-8")
    binary = tree / SLUG / "20261129T090001Z.json"
    binary.write_bytes(b'{"a": "\xff"}')
    utf16 = tree / SLUG / "20261129T090002Z.json"
    utf16.write_bytes(b"\xff\xfe{\x00}\x00")
    found = problems(tree)
    assert any(line.startswith(f"{broken}: not valid JSON") for line in found)
    assert any(line.startswith(f"{binary}: not UTF-8 text") for line in found)
    assert any(line.startswith(f"{utf16}: starts with a byte-order mark") for line in found)


def test_folder_must_be_the_machine_slug(tree: Path) -> None:
    """A file in another machine's folder is reported and told to move."""
    path = plant(tree, lambda d: None, folder="someone-else")
    assert problems(tree) == [
        f"{path}: machine.slug is '{SLUG}' but the file is in folder 'someone-else'; move it"
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("my-results.json", "file name is not a UTC stamp"),
        ("20261129T090000.json", "file name is not a UTC stamp"),
        ("20261129T090000Z-x.json", "file name is not a UTC stamp"),
        (
            "20261129T100000Z.json",
            "file name stamp 20261129T100000Z is not started_at (20261129T090000Z)",
        ),
    ],
)
def test_file_name_must_be_the_start_stamp(tree: Path, name: str, expected: str) -> None:
    """The file name is the UTC stamp of started_at, as the harness wrote it."""
    path = plant(tree, lambda d: None, name=name)
    found = problems(tree)
    assert len(found) == 1
    assert found[0].startswith(f"{path}: {expected}")


def test_same_second_suffix_is_accepted(tree: Path) -> None:
    """Two runs started in the same second are ``STAMP.json`` and ``STAMP-2.json``."""
    plant(tree, lambda d: None)
    plant(tree, lambda d: d.update(run_id="e" * 32), name="20261129T090000Z-2.json")
    assert problems(tree) == []


def test_duplicate_run_id_is_reported(tree: Path) -> None:
    """The same run twice (even reformatted, under another name) is a duplicate."""
    first = plant(tree, lambda d: None)
    copy = first.with_name("20261129T090000Z-2.json")
    copy.write_text(json.dumps(json.loads(first.read_text())), encoding="utf-8")
    assert problems(tree) == [
        f"{copy}: run_id {'f' * 32} is also in {first}; one run is one file, delete the copy"
    ]


def test_byte_identical_files_are_reported(tree: Path) -> None:
    """A byte-for-byte copy is reported once, as identical to the first file."""
    copy = tree / "copy-machine" / GOOD.name
    copy.parent.mkdir()
    shutil.copyfile(tree / SLUG / GOOD.name, copy)
    assert problems(tree) == [f"{copy}: byte-identical to {tree / SLUG / GOOD.name}; delete one"]


STRAY = "not a results file in results/<machine slug>/<UTC stamp>.json; move or delete it"


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("stray.json", STRAY),
        (f"{SLUG}/notes.txt", STRAY),
        (f"{SLUG}/old/20261129T090000Z.json", STRAY),
        (f"{SLUG}/.abc123.json.tmp", "leftover of an interrupted write; delete it"),
    ],
)
def test_stray_files_are_reported(tree: Path, relative: str, expected: str) -> None:
    """Anything but results files in their machine folders is reported."""
    path = tree / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}", encoding="utf-8")
    assert problems(tree) == [f"{path}: {expected}"]


def test_symlinks_are_reported_not_followed(tree: Path) -> None:
    """A symbolic link is refused without reading what it points to."""
    link = tree / SLUG / "20261129T090000Z.json"
    link.symlink_to("/etc/hostname")
    assert problems(tree) == [f"{link}: is a symbolic link; commit the results file itself"]


def test_readme_and_os_files_are_ignored(tree: Path) -> None:
    """A README at the top, .gitkeep and .DS_Store files are not results and not problems."""
    (tree / "README.md").write_text("# Results\n", encoding="utf-8")
    (tree / ".gitkeep").write_text("", encoding="utf-8")
    (tree / SLUG / ".DS_Store").write_bytes(b"\x00\x01")
    assert problems(tree) == []


def test_oversized_file_is_not_parsed(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file larger than any real result is reported without being read."""
    monkeypatch.setattr(checks, "MAX_BYTES", 100)
    found = problems(tree)
    assert len(found) == 1
    assert "larger than any results file (100 max)" in found[0]


def test_problems_exit_1_with_one_line_each(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Problems print one line each with the path, then a count; the exit status is 1."""
    a = plant(tree, _set_epoch(0, 2, images_per_s=500.0))
    (tree / "stray.txt").write_text("x", encoding="utf-8")
    assert validate.main([str(tree)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{tree / 'stray.txt'}: ")  # the top level comes first
    assert lines[1].startswith(f"{a}: ")
    assert lines[2] == f"validate: 2 problem(s) in 2 file(s) under {tree}; see CONTRIBUTING.md"


def test_hostile_file_names_are_printed_safely(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file name with escape sequences is shown escaped, never sent raw to the terminal."""
    (tree / SLUG / "\x1b[2Jevil\x07.json").write_text("{}", encoding="utf-8")
    assert validate.main([str(tree)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "evil\\x07.json" in out


def test_missing_folder_given_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder that does not exist, named on the command line, is one line and status 2."""
    assert validate.main([str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no such results folder" in err


def test_missing_default_folder_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A checkout with no results yet passes: nothing to check."""
    monkeypatch.chdir(tmp_path)
    assert validate.main([]) == 0
    assert capsys.readouterr().out == "validate: no results yet (results/ does not exist)\n"


def test_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Two folders, or an option, is a usage error with status 2."""
    assert validate.main(["a", "b"]) == 2
    assert validate.main(["--help"]) == 2
    assert "usage: benchbook validate [RESULTS_DIR]" in capsys.readouterr().err


def test_parse_timestamp() -> None:
    """Timestamps with any number of fractional digits parse to aware UTC datetimes."""
    assert checks.parse_timestamp("2026-11-28T17:00:00Z") == datetime(2026, 11, 28, 17, tzinfo=UTC)
    assert checks.parse_timestamp("2026-11-28T17:00:00.1234567Z").microsecond == 123456
    with pytest.raises(ValueError, match="not a UTC timestamp"):
        checks.parse_timestamp("2026-11-28 17:00:00")
    with pytest.raises(ValueError, match="not a real date and time"):
        checks.parse_timestamp("2026-02-30T17:00:00Z")


def test_module_runs_as_a_command(tree: Path) -> None:
    """``benchbook validate DIR`` exits 0 on a valid folder, 1 with a planted problem."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "bench", "validate", str(tree)]
    ok = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert ok.returncode == 0
    assert "all valid" in ok.stdout
    plant(tree, _set_epoch(0, 2, images_per_s=500.0))
    bad = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr


ZEN4 = {"vendor": "AuthenticAMD", "family": 25, "model": 17, "stepping": 1,
        "microarchitecture": "zen4", "cache_kb": 1024, "mhz": 2596.1,
        "flags_sha256": "6a93d771884cba54"}  # fmt: skip


def test_a_folder_with_two_kinds_of_hardware_is_refused(tree: Path) -> None:
    """Two files in one folder from CPUs of different generations (both named "AMD EPYC", one of
    them family 26 with another flag set) are refused, naming what differs."""

    def zen4(data: dict[str, Any]) -> None:
        data["machine"]["cpu"]["identity"] = dict(ZEN4)

    def zen5(data: dict[str, Any]) -> None:
        data["machine"]["cpu"]["identity"] = {**ZEN4, "family": 26, "model": 2,
                                              "microarchitecture": "zen5",
                                              "flags_sha256": "0123456789abcdef"}  # fmt: skip
        data["run_id"] = "e" * 32
        data["started_at"] = "2026-11-30T09:00:00.000Z"
        data["finished_at"] = "2026-11-30T09:01:10.000Z"

    (tree / SLUG / GOOD.name).unlink()
    plant(tree, zen4)
    later = plant(tree, zen5)
    report = results.check_tree(tree)
    assert [p.path for p in report.problems] == [later]
    message = report.problems[0].message
    assert "other hardware than 20261129T090000Z.json in the same folder" in message
    assert "cpu family 25 vs 26" in message


def test_files_from_before_identities_are_judged_on_what_they_record(tree: Path) -> None:
    """An older file (no identity) and a newer one of the same CPU name, cores and flags pass;
    other recorded vector extensions do not."""
    plant(tree, lambda d: d["machine"]["cpu"].__setitem__("identity", dict(ZEN4)))
    assert results.check_tree(tree).problems == []

    def fewer_flags(data: dict[str, Any]) -> None:
        data["machine"]["cpu"]["flags"] = ["avx", "avx2"]
        data["run_id"] = "e" * 32
        data["started_at"] = "2026-11-30T09:00:00.000Z"
        data["finished_at"] = "2026-11-30T09:01:10.000Z"

    plant(tree, fewer_flags)
    problems = results.check_tree(tree).problems
    assert len(problems) == 1
    assert "vector extensions" in problems[0].message
