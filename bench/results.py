"""Results files: the contract between the benchmark and the report.

One JSON file per `nox -s bench` invocation, at ``results/<machine-slug>/<UTC stamp>.json``.
Writers validate against the JSON Schema in ``bench/schemas`` before writing; readers validate on
load and refuse versions they do not know. Files are written atomically and never overwritten;
a correction is a new file.

Format history
--------------
1 (benchbook 0.1): first version. Machine, software, dataset and config blocks; one entry per
  workload run (workload x repeat) with every epoch, the warm-up epoch included and marked.
  Later added, optional, so files without them stay valid version 1 files: per workload run an
  ``attribution`` block (input-only and compute-only throughputs, every timed batch) and
  ``wall_s``; ``config.attribution``; ``config.pipeline`` ``tfdata`` is now written, then
  ``tfdata-layers`` (the Keras layers' augmentation, which earlier files stored as ``tfdata``);
  ``status`` ``failed`` (every workload run failed; earlier files say ``complete``), a
  ``machine.label`` without control or direction characters, Geekbench scores of at least 1.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from bench.errors import UserError
from bench.terminal import printable

SCHEMA_VERSION = 1
SCHEMA_DIR = Path(__file__).parent / "schemas"
SCHEMA_PATH = SCHEMA_DIR / f"results-v{SCHEMA_VERSION}.schema.json"

Result = dict[str, Any]


class ResultsError(UserError):
    """A results file is missing, malformed, or does not follow the schema."""


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the current results format."""
    with SCHEMA_PATH.open(encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def _where(error: jsonschema.ValidationError) -> str:
    # Keys come from the file: a line break or an escape sequence in one must not reach the
    # one-line message raw.
    path = "/".join(printable(p, 60) for p in error.absolute_path)
    return path or "(top level)"


def validate(data: Any, source: str = "results") -> None:
    """Check ``data`` against the schema of its version.

    Raises
    ------
    ResultsError
        With the file (``source``), the field and the reason, in one line.
    """
    if not isinstance(data, Mapping):
        msg = f"{source}: not a benchbook results file (the top level is not a JSON object)"
        raise ResultsError(msg)
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
            what = "upgrade benchbook (git pull) to read it"
        elif isinstance(version, int) and not isinstance(version, bool):
            what = "re-run `nox -s bench` to produce a current file"
        else:
            what = "it is not a benchbook results file"
        msg = (
            f"{source}: schema_version {version!r} is not supported "
            f"(this benchbook reads version {SCHEMA_VERSION}); {what}"
        )
        raise ResultsError(msg)
    error = jsonschema.exceptions.best_match(_validator().iter_errors(data))
    if error is not None:
        msg = f"{source}: invalid at {_where(error)}: {printable(error.message, 300)}"
        raise ResultsError(msg)


def _refuse_constant(name: str) -> float:
    msg = f"{name} is not valid JSON"
    raise ValueError(msg)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        msg = f"the number {text[:40]} is out of range"
        raise ValueError(msg)
    return value


def parse(text: str, source: str = "results") -> Any:
    """The JSON value of ``text``, refusing NaN, infinities and numbers out of float range."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        msg = f"{source}: not valid JSON ({str(exc)[:200]})"
        raise ResultsError(msg) from None


def loads(text: str, source: str = "results") -> Result:
    """Parse and validate the text of a results file."""
    data = parse(text, source)
    validate(data, source)
    result: Result = data
    return result


def load(path: str | os.PathLike[str]) -> Result:
    """Read and validate one results file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{path}: no such results file"
        raise ResultsError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot be read ({exc})"
        raise ResultsError(msg) from None
    return loads(text, str(path))


def result_paths(results_dir: str | os.PathLike[str]) -> list[Path]:
    """Every results file under ``results_dir``, sorted, ``<slug>/<stamp>.json`` only."""
    root = Path(results_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*/*.json") if p.is_file())


def load_all(results_dir: str | os.PathLike[str]) -> list[tuple[Path, Result]]:
    """Load and validate every results file; the first bad file raises `ResultsError`."""
    return [(path, load(path)) for path in result_paths(results_dir)]


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


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_new(folder: Path, names: Iterator[str], text: str) -> Path:
    """Write ``text`` to the first of ``names`` that does not exist in ``folder``, atomically.

    A temporary file in the same folder, then a hard link, which never replaces an existing file.
    The file gets the usual permissions (0644 under the common umask), not mkstemp's 0600: a
    results folder is meant to be shared.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".", suffix=".json.tmp")
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        for name in names:
            target = folder / name
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            return target
        msg = f"{folder}: too many results files with this stamp"
        raise ResultsError(msg)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _stamp_of(data: Mapping[str, Any]) -> str:
    started = datetime.strptime(str(data["started_at"]), "%Y-%m-%dT%H:%M:%S.%fZ")
    return utc_stamp(started.replace(tzinfo=UTC))


def write(data: Mapping[str, Any], results_dir: str | os.PathLike[str]) -> Path:
    """Validate ``data`` and write it to ``<results_dir>/<slug>/<stamp>.json``.

    The file appears complete or not at all. An existing file with the same stamp is never
    overwritten: a ``-2``, ``-3``... suffix is added instead.
    """
    text = dumps(data)
    # Validate what will be on disk, not the in-memory object (NaN became null, tuples lists).
    validate(json.loads(text), "results to be written")
    folder = Path(results_dir) / str(data["machine"]["slug"])
    stamp = _stamp_of(data)
    names = (f"{stamp}.json" if n == 1 else f"{stamp}-{n}.json" for n in range(1, 1000))
    return _write_new(folder, names, text)


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
            return _write_new(place, iter(names), text)
        except (OSError, ResultsError):
            continue
    return None


def iter_epochs(data: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """Yield ``(workload_run, epoch)`` for every epoch in a results document."""
    for run in data["workloads"]:
        for epoch in run["epochs"]:
            yield run, epoch
