"""Writing results files: one per `nox -s bench` invocation, at ``<results>/<slug>/<stamp>.json``.

Writers validate against the current schema before writing; files appear whole (`bench.files`)
and are never overwritten: a correction is a new file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema

from bench import files
from bench.errors import UserError
from bench.results import model
from bench.results.format import ResultsError, load, schema, validate
from bench.text import printable


def result_paths(results_dir: str | os.PathLike[str]) -> list[Path]:
    """Every results file under ``results_dir``, sorted, ``<slug>/<stamp>.json`` only."""
    root = Path(results_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*/*.json") if p.is_file())


def utc_stamp(moment: datetime | None = None) -> str:
    """A file-name-safe UTC timestamp, e.g. ``20261128T174500Z``."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def utc_iso(moment: datetime | None = None) -> str:
    """An ISO 8601 UTC timestamp with a ``Z`` suffix, to the millisecond."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _finite(value: Any) -> Any:
    """Replace NaN and infinities (JSON has neither) by None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def dumps(data: Mapping[str, Any]) -> str:
    """Serialise a results document: stable key order, no NaN, trailing newline."""
    return json.dumps(_finite(dict(data)), indent=2, sort_keys=False, allow_nan=False) + "\n"


def field_problem(field: str, value: Any) -> str | None:
    """Why ``value`` may not be stored as ``field`` (``"config.epochs"``), or None.

    ``field`` names a block (a ``$defs`` entry or a top-level property) and a property in it.
    Lets the command line refuse a value before any work from the schema's own bounds (minimum,
    maximum, length, pattern) instead of a second copy of them that could drift.
    """
    full = schema()
    block, name = field.split(".")
    node = full["$defs"].get(block) or full["properties"][block]
    sub = {**node["properties"][name], "$defs": full["$defs"]}
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(sub).iter_errors(value)
    )
    if error is None:
        return None
    keyword, limit = error.validator, error.validator_value
    if keyword in {"minimum", "maximum"}:
        return f"must be at {'least' if keyword == 'minimum' else 'most'} {limit}"
    if keyword == "maxLength":
        return f"is {len(value)} characters long; at most {limit} are stored"
    if keyword == "pattern":
        return "holds characters a results file may not store (control or direction characters)"
    return printable(error.message, 200)


def check_destination(results_dir: str | os.PathLike[str], slug: str) -> Path:
    """Fail early, before any work, when ``<results_dir>/<slug>/`` could not receive a file.

    Creates nothing: a refused run leaves no empty folder behind. Checks that every part of the
    path that exists is a folder and that the deepest existing one is writable.

    Raises
    ------
    UserError
        Naming the path in the way and what to do.
    """
    folder = Path(results_dir) / slug
    existing = folder
    while not existing.exists() and not existing.is_symlink() and existing != existing.parent:
        existing = existing.parent
    if existing.is_symlink() and not existing.exists():
        reason = "is a broken symbolic link"
    elif not existing.is_dir():
        reason = "is a file, not a folder"
    elif not os.access(existing, os.W_OK | os.X_OK):
        reason = "is not writable"
    else:
        return folder
    msg = (
        f"{existing} {reason}, so results cannot be written to {folder}/; "
        "fix it or choose another folder with --output"
    )
    raise UserError(msg)


def folder_holds_other_hardware(
    results_dir: str | os.PathLike[str], slug: str, machine: Mapping[str, Any]
) -> str | None:
    """How the machine the folder ``<results_dir>/<slug>/`` already holds differs from
    ``machine`` (`bench.results.model.hardware_differences` against its first file, the one
    ``validate`` compares every other file of the folder with), or None: the folder is new,
    holds no readable file, or holds this kind of machine."""
    folder = Path(results_dir) / slug
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            first = load(path)
        except (ResultsError, OSError):
            continue
        differs = model.hardware_differences(first["machine"], machine)
        return f"{path.name}: {'; '.join(differs)}" if differs else None
    return None


def slug_for(results_dir: str | os.PathLike[str], slug: str, machine: Mapping[str, Any]) -> str:
    """For a machine whose ``slug`` folder holds another kind of machine (a VM that reports the
    same CPU name on another host, `folder_holds_other_hardware`): the first ``slug-2``,
    ``slug-3``... whose folder is new or holds this kind, so a result that `validate` would
    refuse in its folder is never written there."""
    n = 2
    while True:
        candidate = f"{slug[: 62 - len(str(n))]}-{n}"
        if folder_holds_other_hardware(results_dir, candidate, machine) is None:
            return candidate
        n += 1


def _stamp_of(data: Mapping[str, Any]) -> str:
    started = datetime.strptime(str(data["started_at"]), "%Y-%m-%dT%H:%M:%S.%fZ")
    return utc_stamp(started.replace(tzinfo=UTC))


def write(data: Mapping[str, Any], results_dir: str | os.PathLike[str]) -> Path:
    """Validate ``data`` (current version only) and write it to ``<results_dir>/<slug>/<stamp>.json``.

    The file appears complete or not at all. An existing file with the same stamp is never
    overwritten: a ``-2``, ``-3``... suffix is added instead.
    """
    text = dumps(data)
    # Validate what will be on disk, not the in-memory object (NaN became null, tuples lists).
    validate(json.loads(text), "results to be written", current_only=True)
    folder = Path(results_dir) / str(data["machine"]["slug"])
    stamp = _stamp_of(data)
    names = (f"{stamp}.json" if n == 1 else f"{stamp}-{n}.json" for n in range(1, 1000))
    written = files.write_new(folder, names, text)
    if written is None:
        msg = f"{folder}: too many results files with this stamp"
        raise ResultsError(msg)
    return written


def rescue_places() -> list[Path]:
    """Where `rescue` tries to keep a results document, in order."""
    return [Path.cwd(), Path(tempfile.gettempdir()), Path.home()]


def rescue(data: Mapping[str, Any], places: Sequence[Path] | None = None) -> Path | None:
    """Keep ``data`` in the first of ``places`` (default `rescue_places`) that takes it.

    For when `write` failed after the work (a full disk, a folder made read-only mid-run, a bug
    in validation): the measurements must survive. The file is written as it is, unvalidated,
    named ``benchbook-rescued-<slug>-<stamp>.json``; None when no place took it.
    """
    try:
        text = dumps(data)
    except (TypeError, ValueError):
        text = json.dumps(dict(data), default=str, indent=2) + "\n"
    slug = printable(data.get("machine", {}).get("slug", "machine"), 63)
    slug = "".join(c if c.isalnum() or c == "-" else "-" for c in slug)
    stamp = _stamp_of(data) if "started_at" in data else utc_stamp()
    names = [
        f"benchbook-rescued-{slug}-{stamp}{'' if n == 1 else f'-{n}'}.json" for n in range(1, 100)
    ]
    for place in rescue_places() if places is None else places:
        try:
            written = files.write_new(place, iter(names), text)
        except OSError:
            continue
        if written is not None:
            return written
    return None
