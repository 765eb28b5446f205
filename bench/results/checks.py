"""The checks every results file passes before anything reads it, beyond its schema.

One function, `check_tree`, serves `nox -s validate`, `nox -s compare`, the report and the Pages
workflow, so they accept and refuse exactly the same files. The rules (CONTRIBUTING.md states
them for contributors):

- Schema: each file is valid UTF-8 JSON (no byte-order mark, no NaN or infinity) of a version
  this benchbook reads (`bench.results.format`).
- Place: each file is ``<results dir>/<machine slug>/<UTC stamp>.json``; the folder is the file's
  ``machine.slug`` and the stamp is its ``started_at`` to the second (``-2``, ``-3``... when two
  runs started in the same second). Nothing else lives in the results folder.
- No duplicates: no ``run_id`` twice, no two byte-identical files.
- One kind of hardware per folder: every file's machine has the same CPU (name, cores, vector
  extensions and, where recorded, vendor, family, model, stepping and flag digest), GPUs and chip
  as the folder's first file.
- Physically possible timings: training plus validation fit in the epoch; throughput is the
  training images over the training time; epochs are numbered 1..n with exactly the first marked
  warm-up; a finished run has every epoch the configuration asked for; every run belongs to the
  configuration (workload chosen, repeat in range, none twice) and a complete file has them all;
  all epochs fit between ``started_at`` and ``finished_at``, and start precedes finish.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.errors import UserError
from bench.results import model
from bench.results.format import Result, ResultsError, decode, loads
from bench.results.store import utc_stamp
from bench.text import printable

STAMP = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>[1-9]\d{0,2}))?\.json$")
"""File name written by `bench.results.write`."""
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$")

PHASE_TOLERANCE = 0.01
"""Relative slack on ``train_s + validation_s <= epoch_s`` (they are read off one clock)."""
PHASE_SLACK_S = 0.001
"""Absolute slack on the same check, for epochs of a few milliseconds."""
THROUGHPUT_TOLERANCE = 0.01
"""Relative slack on ``images_per_s == train_images / train_s`` (the harness divides exactly)."""
DURATION_SLACK_S = 1.0
"""Slack on the epochs fitting between ``started_at`` and ``finished_at`` (millisecond stamps)."""
MAX_BYTES = 16 * 2**20
"""Largest file accepted: a full-profile file with 10 repeats is about 100 KB."""

IGNORED = frozenset({".DS_Store", ".gitkeep"})
"""Operating-system and placeholder files that may sit anywhere in the results folder."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{printable(self.path, 300)}: {printable(self.message, 1000)}"


def parse_timestamp(text: str) -> datetime:
    """A results-file timestamp (``2026-11-28T17:00:00.123Z``) as an aware datetime.

    Raises
    ------
    ValueError
        When it is not such a timestamp or not a real date.
    """
    match = _TIMESTAMP.match(text)
    if match is None:
        msg = f"{text!r} is not a UTC timestamp"
        raise ValueError(msg)
    whole, fraction = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        msg = f"{text!r} is not a real date and time"
        raise ValueError(msg) from None
    return moment.replace(microsecond=micro, tzinfo=UTC)


def _run_name(index: int, run: Mapping[str, Any]) -> str:
    return f"workloads[{index}] ({run['workload']} #{run['repeat']})"


def _epoch_problems(
    where: str, run: Mapping[str, Any], expected: int, stopping: Mapping[str, Any]
) -> Iterator[str]:
    epochs = run["epochs"]
    numbers = [e["epoch"] for e in epochs]
    if numbers != list(range(1, len(epochs) + 1)):
        yield f"{where}: epochs are numbered {numbers}, not 1..{len(epochs)} in order"
    warmups = [e["epoch"] for e in epochs if e["warmup"]]
    if epochs and warmups != [epochs[0]["epoch"]]:
        yield (f"{where}: warm-up epochs are {warmups}; exactly the first epoch must be warm-up")
    yield from _count_problems(where, run, expected, stopping)
    images = run.get("train_images")
    steps = run.get("steps_per_epoch")
    for e in epochs:
        at = f"{where} epoch {e['epoch']}"
        timed = e.get("step_s")
        if timed is not None and steps and len(timed) != steps:
            yield f"{at}: {len(timed)} steps timed, but steps_per_epoch is {steps}"
        if timed is not None and sum(timed) > e["train_s"] * (1 + PHASE_TOLERANCE) + PHASE_SLACK_S:
            yield (
                f"{at}: its steps add up to {sum(timed):.6g} s, longer than "
                f"train_s = {e['train_s']:.6g} s"
            )
        phases = e["train_s"] + e["validation_s"]
        if phases > e["epoch_s"] * (1 + PHASE_TOLERANCE) + PHASE_SLACK_S:
            yield (
                f"{at}: train_s + validation_s = {phases:.6g} s is longer than "
                f"epoch_s = {e['epoch_s']:.6g} s"
            )
        if images:
            expected_rate = images / e["train_s"]
            if abs(e["images_per_s"] - expected_rate) > THROUGHPUT_TOLERANCE * expected_rate:
                yield (
                    f"{at}: images_per_s = {e['images_per_s']:.6g}, but train_images / train_s "
                    f"= {images} / {e['train_s']:.6g} s = {expected_rate:.6g}"
                )


def _count_problems(
    where: str, run: Mapping[str, Any], expected: int, stopping: Mapping[str, Any]
) -> Iterator[str]:
    """How many epochs a run has against what its file's stopping rule allows."""
    count = len(run["epochs"])
    adaptive = stopping.get("rule") == "adaptive"
    most = int(stopping["max_epochs"]) if adaptive else expected
    if run["status"] == "ok" and not expected <= count <= most:
        allowed = f"{expected} to {most}" if adaptive else str(expected)
        yield f"{where}: finished with {count} epochs, but its stopping rule allows {allowed}"
    if run["status"] != "ok" and count > most:
        yield f"{where}: {count} epochs, more than its stopping rule allows ({most})"
    block = run.get("stopping")
    measured = sum(not e["warmup"] for e in run["epochs"])
    if block is not None and block["measured_epochs"] != measured:
        yield (
            f"{where}: stopping says {block['measured_epochs']} measured epochs, "
            f"but the run has {measured}"
        )
    if block is not None and block["reason"] in {"target", "budget", "limit"} and not adaptive:
        yield f"{where}: stopped for {block['reason']!r} under the {stopping.get('rule')} rule"


def check_document(data: Mapping[str, Any]) -> list[str]:
    """Problems of a schema-valid document that the schema cannot see (timings, consistency).

    Returns
    -------
    list of str
        One message per problem, empty when the document is consistent.
    """
    problems: list[str] = []
    config = data["config"]
    started: datetime | None
    finished: datetime | None
    try:
        started = parse_timestamp(data["started_at"])
        finished = parse_timestamp(data["finished_at"])
    except ValueError as exc:
        problems.append(f"started_at or finished_at: {exc}")
        started = finished = None
    if started and finished and started > finished:
        problems.append(
            f"started_at {data['started_at']} is after finished_at {data['finished_at']}"
        )
    seen: set[tuple[str, int]] = set()
    total_s = 0.0
    for index, run in enumerate(data["workloads"]):
        where = _run_name(index, run)
        key = (run["workload"], run["repeat"])
        if key in seen:
            problems.append(f"{where}: {run['workload']} repeat {run['repeat']} appears twice")
        seen.add(key)
        if run["workload"] not in config["workloads"]:
            problems.append(f"{where}: {run['workload']} is not in config.workloads")
        if run["repeat"] > config["repeats"]:
            problems.append(f"{where}: repeat {run['repeat']} > config.repeats {config['repeats']}")
        if run["status"] == "failed" and not run["error"]:
            problems.append(f"{where}: failed without an error message")
        if run["status"] == "ok" and run["error"]:
            problems.append(f"{where}: status ok but an error is recorded")
        problems.extend(_epoch_problems(where, run, config["epochs"], config["stopping"]))
        total_s += sum(e["epoch_s"] for e in run["epochs"])
    if started and finished and started <= finished:
        span = (finished - started).total_seconds()
        if total_s > span * (1 + PHASE_TOLERANCE) + DURATION_SLACK_S:
            problems.append(
                f"the epochs add up to {total_s:.6g} s, longer than started_at to finished_at "
                f"({span:.6g} s)"
            )
    if data["status"] == "failed" and any(run["status"] == "ok" for run in data["workloads"]):
        problems.append("status failed but a workload run is ok; `complete` is the status then")
    if data["status"] in {"complete", "failed"}:
        missing = [
            f"{w} #{r}"
            for r in range(1, config["repeats"] + 1)
            for w in config["workloads"]
            if (w, r) not in seen
        ]
        if missing:
            shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
            problems.append(
                f"status {data['status']} but workload runs are missing: {shown} "
                "(a run that failed is recorded as failed, never left out)"
            )
    return problems


def check_place(relative: Path, data: Mapping[str, Any]) -> list[str]:
    """Problems with where a valid document lies, ``relative`` to the results folder."""
    problems = []
    slug = data["machine"]["slug"]
    if len(relative.parts) != 2:
        problems.append(f"results files go in results/<machine slug>/, here results/{slug}/")
        return problems
    folder, name = relative.parts
    if folder != slug:
        problems.append(f"machine.slug is {slug!r} but the file is in folder {folder!r}; move it")
    match = STAMP.match(name)
    if match is None:
        problems.append(
            "file name is not a UTC stamp YYYYMMDDTHHMMSSZ.json (or -N.json); keep the name "
            "`nox -s bench` gave it"
        )
        return problems
    try:
        started = utc_stamp(parse_timestamp(data["started_at"]))
    except ValueError:
        return problems  # reported by check_document
    if match["stamp"] != started:
        problems.append(
            f"file name stamp {match['stamp']} is not started_at ({started}); keep the name "
            "`nox -s bench` gave it"
        )
    return problems


def _files(root: Path, under: Path) -> Iterator[Path]:
    # By stem within each folder, so STAMP.json comes before STAMP-2.json (plain sorting puts
    # "-" before "."): the later file is the one reported as the copy.
    found = [under] if under.is_file() or under.is_symlink() else under.rglob("*")
    for path in sorted(found, key=lambda p: (p.parent.parts, p.stem, p.name)):
        if path.name in IGNORED or (path.is_dir() and not path.is_symlink()):
            continue
        if path.parent == root and path.name.startswith("README"):
            continue
        yield path


@dataclass
class Report:
    """Outcome of checking a results folder."""

    files: int
    machines: set[str]
    problems: list[Problem]
    documents: dict[Path, Result] = field(default_factory=dict)
    """Every file that passed every check, loaded."""


def check_tree(root: str | Path, within: str | Path | None = None) -> Report:
    """Check every file under ``root`` (see the module docstring for the rules), or only those
    under ``within`` (a machine folder or one file inside ``root``), placed relative to ``root``.

    Raises
    ------
    UserError
        When ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        msg = (
            f"{printable(root)}: no such results folder; give the folder that holds <slug>/ folders"
        )
        raise UserError(msg)
    problems: list[Problem] = []
    documents: dict[Path, Result] = {}
    by_hash: dict[str, Path] = {}
    by_run_id: dict[str, Path] = {}
    machines: set[str] = set()
    count = 0
    for path in _files(root, Path(within) if within is not None else root):
        relative = path.relative_to(root)
        if path.is_symlink():
            problems.append(Problem(path, "is a symbolic link; commit the results file itself"))
            continue
        if path.name.endswith(".tmp"):
            problems.append(Problem(path, "leftover of an interrupted write; delete it"))
            continue
        if path.suffix != ".json" or len(relative.parts) != 2:
            problems.append(
                Problem(
                    path,
                    "not a results file in results/<machine slug>/<UTC stamp>.json; "
                    "move or delete it",
                )
            )
            continue
        count += 1
        found = _check_file(path, relative, by_hash, by_run_id)
        if isinstance(found, list):
            problems.extend(Problem(path, m) for m in found)
        else:
            documents[path] = found
        machines.add(relative.parts[0])
    problems.extend(_mixed_hardware(documents))
    for problem in problems:
        documents.pop(problem.path, None)
    return Report(count, machines, problems, documents)


def _mixed_hardware(documents: Mapping[Path, Result]) -> list[Problem]:
    """A problem for each file whose hardware differs from the first file of its folder.

    A folder is one kind of machine: a VM that reports a generic CPU name on two generations
    must not pool their timings (`bench.results.model.hardware_signature`).
    """
    first: dict[Path, tuple[Path, Mapping[str, Any]]] = {}
    problems = []
    for path, data in sorted(documents.items()):
        machine = data["machine"]
        if path.parent not in first:
            first[path.parent] = (path, machine)
            continue
        origin, reference = first[path.parent]
        differs = model.hardware_differences(reference, machine)
        if differs:
            problems.append(
                Problem(
                    path,
                    f"other hardware than {origin.name} in the same folder ({'; '.join(differs)}); "
                    "one folder holds one kind of machine: run `nox -s bench` again with this "
                    "benchbook (its folder names the CPU generation) or --machine-slug NAME",
                )
            )
    return problems


def _check_file(
    path: Path,
    relative: Path,
    by_hash: dict[str, Path],
    by_run_id: dict[str, Path],
) -> list[str] | Result:
    """The file's problems, or the file loaded when it has none."""
    if path.stat().st_size > MAX_BYTES:
        return [f"{path.stat().st_size} bytes, larger than any results file ({MAX_BYTES} max)"]
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest in by_hash:
        return [f"byte-identical to {by_hash[digest]}; delete one"]
    by_hash[digest] = path
    source = str(path)
    try:
        data = loads(decode(raw, source), source)
    except ResultsError as exc:
        message = str(exc)
        return [message.removeprefix(f"{source}: ")]
    problems = []
    run_id = data["run_id"]
    if run_id in by_run_id:
        problems.append(
            f"run_id {run_id} is also in {by_run_id[run_id]}; one run is one file, delete the copy"
        )
    else:
        by_run_id[run_id] = path
    problems += check_place(relative, data)
    problems += check_document(data)
    return problems or data


def checked(root: str | Path, within: str | Path | None = None) -> dict[Path, Result]:
    """The files `check_tree` accepts, loaded, or the first problem as an error.

    What the report and `compare` read through: they show only what `nox -s validate` accepts.

    Raises
    ------
    ResultsError
        Naming the first problem and how many more there are.
    UserError
        When ``root`` is not a folder.
    """
    report = check_tree(root, within)
    if report.problems:
        more = len(report.problems) - 1
        hint = f" (and {more} more problem(s): run `nox -s validate` for the list)" if more else ""
        msg = f"{report.problems[0]}{hint}"
        raise ResultsError(msg)
    return report.documents
