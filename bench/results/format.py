"""The results format: its versions, their schemas, and reading a file into the current version.

Every reader goes through `loads`: parse (no NaN, no infinities), check the file against the
JSON Schema of its own version, then upgrade it to the current version in memory. Files on disk
are never rewritten: a committed version 1 file stays version 1 and reads as version 2.
`FORMAT_HISTORY` is the history as data; the results format page renders it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema

from bench.errors import UserError
from bench.text import printable

SCHEMA_VERSION = 5
"""The version every new file is written in."""
SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"

Result = dict[str, Any]


class ResultsError(UserError):
    """A results file is missing, malformed, or does not follow the schema."""


@dataclass(frozen=True)
class FormatVersion:
    """One version of the results format."""

    number: int
    benchbook: str
    """The benchbook release that first wrote it."""
    summary: str
    changes: tuple[str, ...] = ()
    """What a reader of the previous version must know, one item per change."""


FORMAT_HISTORY = (
    FormatVersion(
        1,
        "0.1",
        "First version: machine, software, dataset and config blocks; one entry per workload "
        "run (workload x repeat) with every epoch, the warm-up epoch included and marked.",
        (
            (
                "Added later, optional, so that files without them stay valid version 1 files: per "
                "workload run an `attribution` block (input-only and compute-only throughputs) and "
                "`wall_s`; `config.attribution`; `status` `failed`; `conditions`, `crosscheck`, "
                "`config.cooldown_s`, `machine.cpu.identity`, `software.plugin_error`."
            ),
            (
                "`config.pipeline` `tfdata` meant the Keras preprocessing layers in files written "
                "before `tfdata-layers` existed, and the affine tf.data pipeline after."
            ),
        ),
    ),
    FormatVersion(
        2,
        "0.2",
        "Names that mean one thing.",
        (
            (
                "`config.pipeline` `tfdata` is now `tfdata-affine`; a version 1 `tfdata` file whose "
                "augmentation names Keras layers (`RandomRotation`) reads as `tfdata-layers`."
            ),
            (
                '`config.legacy_keras` is now `config.keras2` ("legacy" names only the '
                "ImageDataGenerator pipeline)."
            ),
            (
                "`peak_rss_bytes` is the peak over training alone, read before the attribution "
                "measurement (version 1 files read it after)."
            ),
        ),
    ),
    FormatVersion(
        3,
        "0.3",
        "The Keras backend: TensorFlow, PyTorch or JAX.",
        (
            (
                "`software.backend` (`tensorflow`, `torch` or `jax`), `software.backend_version` "
                "and `software.backend_devices` are new and required; the backend is part of the "
                "comparability key. Version 1 and 2 files read as `tensorflow`, with TensorFlow's "
                "version and `tf_devices`."
            ),
            (
                "`software.tf_devices` is empty when another backend trained; `tensorflow` is the "
                "TensorFlow installed beside it, or null."
            ),
            (
                "On PyTorch and JAX the probes' matmul and conv2d use the backend's own "
                "operations; jpeg_decode uses TensorFlow wherever it is installed and fails "
                "(so the section has no score) where it is not."
            ),
        ),
    ),
    FormatVersion(
        4,
        "0.4",
        "MLX beside the Keras backends; energy per epoch.",
        (
            (
                "`software.backend` may be `mlx`: the article's models written in Apple's MLX "
                "(`bench/worker/mlx_models.py`), trained by its own loop on the same input "
                "pipelines and timed by the same epoch clock. `software.keras` is then the Keras "
                "whose ImageDataGenerator or tf.data reader fed it."
            ),
            (
                "Energy, optional: per workload run an `energy` block (each domain's counter, "
                "`estimate` or `measurement`, the idle power before the run, the counters this "
                "machine lacks and why), and per epoch `energy_j` (joules per domain over the "
                "training phase and the whole epoch). Absent where no counter could be read: "
                "never zero. Version 3 files read as they are, without energy."
            ),
        ),
    ),
    FormatVersion(
        5,
        "0.5",
        "Each training step timed; runs that stop when their estimate is precise enough.",
        (
            (
                "Per epoch `step_s`: every training step's seconds. Estimates count each epoch's "
                "steady time: its training steps, the first (the input pipeline starting again) "
                "counted at the mean of the others, and its validation phase; the time after "
                "validation is left out (`bench.results.model.steady_seconds`)."
            ),
            (
                "`config.stopping`, required: `fixed` (the epochs asked for) or `adaptive` "
                "(at least those, then more until the median's 95 % interval is within "
                "`target` or `budget_s` is spent), with per workload run a `stopping` block "
                "saying why it stopped. The rule and target are part of the comparability key. "
                "Version 4 and older files read as `whole-epochs`: their epochs count whole, as "
                "they always did, and they are never pooled with version 5 files."
            ),
            (
                "Optional in `config.stopping`: `process_spread`, the allowance for other "
                "processes that the target's interval includes (the interval every report "
                "prints), and `short_runs: steps`, where a run of fewer than `min_for_target` "
                "measured epochs may stop at the target, its error sized by its timed steps. "
                "Files without them were written when the target read the run's own epochs "
                "alone; every reader sizes a short run by its steps either way."
            ),
        ),
    ),
)
READABLE = frozenset(v.number for v in FORMAT_HISTORY)
assert max(READABLE) == SCHEMA_VERSION


def schema_path(version: int = SCHEMA_VERSION) -> Path:
    """The JSON Schema file of ``version``."""
    return SCHEMA_DIR / f"results-v{version}.schema.json"


@cache
def schema(version: int = SCHEMA_VERSION) -> dict[str, Any]:
    """The JSON Schema of ``version`` (default: the current one)."""
    with schema_path(version).open(encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


@cache
def _validator(version: int) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(version))


# Keywords whose meaning is the same in draft-07 and draft 2020-12. fastjsonschema implements
# draft-07; the compiled path is used only when a schema stays inside this set, so both
# validators accept the same files (any other keyword would be ignored by draft-07).
_SAME_IN_DRAFT7 = frozenset(
    [
        "$schema",
        "$id",
        "$ref",
        "$defs",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "minProperties",
        "maxProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
    ]
)
_ANNOTATIONS = frozenset({"description", "title", "$comment", "default", "examples"})


def _draft7_compatible(node: Any) -> bool:
    """Whether a schema uses only keywords that draft-07 reads as 2020-12 does."""
    if isinstance(node, bool):
        return True
    if not isinstance(node, dict) or not set(node) <= _SAME_IN_DRAFT7:
        return False
    # draft-07 ignores every keyword beside a $ref; 2020-12 applies them.
    if "$ref" in node and not set(node) - {"$ref"} <= _ANNOTATIONS:
        return False
    if isinstance(node.get("items"), list):  # a tuple in draft-07, an error in 2020-12
        return False
    subschemas: list[Any] = []
    for key in ("properties", "$defs"):
        subschemas.extend(node.get(key, {}).values())
    subschemas.extend(node[key] for key in ("items", "additionalProperties", "not") if key in node)
    for key in ("allOf", "anyOf", "oneOf"):
        subschemas.extend(node.get(key, []))
    return all(_draft7_compatible(sub) for sub in subschemas)


@cache
def _compiled(version: int) -> Callable[[Any], Any] | None:
    """A compiled validator of ``version`` for the common case (valid files), or None.

    jsonschema takes about 5 ms for a full-profile file, too slow for a thousand files; the
    compiled one about 0.3 ms. It only decides "valid": a file it rejects goes to jsonschema,
    which stays the authority and words the error.
    """
    compiled = dict(schema(version))
    if not _draft7_compatible(compiled):
        return None
    compiled.pop("$id", None)  # resolve "#/$defs/..." in this document, never over the network
    compiled["$schema"] = "http://json-schema.org/draft-07/schema#"
    validator: Callable[[Any], Any] = fastjsonschema.compile(compiled)
    return validator


def _where(error: jsonschema.ValidationError) -> str:
    # Keys come from the file: a line break or an escape sequence in one must not reach the
    # one-line message raw.
    path = "/".join(printable(p, 60) for p in error.absolute_path)
    return path or "(top level)"


def version_of(data: Any, source: str = "results") -> int:
    """The format version of a parsed file, when this benchbook reads it.

    Raises
    ------
    ResultsError
        Saying what to do: upgrade benchbook for a newer version, re-run for an unknown one.
    """
    if not isinstance(data, Mapping):
        msg = f"{source}: not a benchbook results file (the top level is not a JSON object)"
        raise ResultsError(msg)
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        what = "it is not a benchbook results file"
    elif version in READABLE:
        return version
    elif version > SCHEMA_VERSION:
        what = "upgrade benchbook (git pull) to read it"
    else:
        what = "re-run `nox -s bench` to produce a current file"
    known = ", ".join(str(v) for v in sorted(READABLE))
    msg = (
        f"{source}: schema_version {printable(version, 40)} is not supported "
        f"(this benchbook reads versions {known}); {what}"
    )
    raise ResultsError(msg)


def validate(data: Any, source: str = "results", *, current_only: bool = False) -> int:
    """Check ``data`` against the schema of its own version; return that version.

    ``current_only`` refuses every version but `SCHEMA_VERSION` (what writers must write).

    Raises
    ------
    ResultsError
        With the file (``source``), the field and the reason, in one line.
    """
    version = version_of(data, source)
    if current_only and version != SCHEMA_VERSION:
        msg = f"{source}: schema_version {version}, but new files are version {SCHEMA_VERSION}"
        raise ResultsError(msg)
    fast = _compiled(version)
    if fast is not None:
        try:
            fast(data)
        except ValueError:  # fastjsonschema's JsonSchemaException: jsonschema words it
            pass
        else:
            return version
    error = jsonschema.exceptions.best_match(_validator(version).iter_errors(data))
    if error is not None:
        msg = f"{source}: invalid at {_where(error)}: {printable(error.message, 300)}"
        raise ResultsError(msg)
    return version


def _refuse_constant(name: str) -> float:
    msg = f"{name} is not valid JSON"
    raise ValueError(msg)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        msg = f"the number {text[:40]} is out of range"
        raise ValueError(msg)
    return value


def _float_range_int(text: str) -> int:
    value = int(text)
    try:
        float(value)
    except OverflowError:
        msg = f"the number {text[:40]}... is out of range"
        raise ValueError(msg) from None
    return value


def parse(text: str, source: str = "results") -> Any:
    """The JSON value of ``text``, refusing NaN, infinities and numbers out of float range
    (integers too: a 400-digit "loss" once reached float() in a reader and overflowed)."""
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_float_range_int,
        )
    except (ValueError, RecursionError) as exc:
        msg = f"{source}: not valid JSON ({str(exc)[:200]})"
        raise ResultsError(msg) from None


_LAYER_NAMES = frozenset({"RandomRotation", "RandomTranslation", "RandomShear", "RandomZoom"})


def _v1_pipeline(data: Mapping[str, Any]) -> str:
    pipeline = str(data["config"]["pipeline"])
    if pipeline != "tfdata":
        return pipeline
    layered = any(
        isinstance(run.get("augmentation"), Mapping) and _LAYER_NAMES & set(run["augmentation"])
        for run in data["workloads"]
    )
    return "tfdata-layers" if layered else "tfdata-affine"


def upgrade(data: Mapping[str, Any], version: int) -> Result:
    """A valid file of ``version`` as a current-version document (a new object at the top level
    and for every block that changes; ``data`` is left as it is)."""
    document = dict(data)
    if version == 1:
        config = {k: v for k, v in data["config"].items() if k != "legacy_keras"}
        config["pipeline"] = _v1_pipeline(data)
        if "legacy_keras" in data["config"]:
            config["keras2"] = data["config"]["legacy_keras"]
        document["config"] = config
        document["schema_version"] = 2
    if version <= 2:
        software = dict(data["software"])
        software["backend"] = "tensorflow"
        software["backend_version"] = software["tensorflow"]
        software["backend_devices"] = list(software["tf_devices"])
        document["software"] = software
        document["schema_version"] = 3
    if version <= 3:
        document["schema_version"] = 4
    if version <= 4:
        document["config"] = {**document["config"], "stopping": {"rule": "whole-epochs"}}
        document["schema_version"] = 5
    return document


def loads(text: str, source: str = "results") -> Result:
    """Parse, validate and upgrade the text of a results file.

    An upgraded file is validated again, against the current schema: an older format's looser
    field (v1 and v2 let ``software.tensorflow`` hold any text) becomes a field the current
    format constrains (``backend_version``), and must meet the current rules like any new file.
    """
    data = parse(text, source)
    version = validate(data, source)
    document = upgrade(data, version)
    if version != SCHEMA_VERSION:
        try:
            validate(document, source, current_only=True)
        except ResultsError as exc:
            msg = (
                f"{exc} (after upgrading it from format version {version}; the newest format's "
                "rules apply to every file)"
            )
            raise ResultsError(msg) from None
    return document


def load(path: str | Path) -> Result:
    """Read, validate and upgrade one results file (no checks across files: `check_tree`)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        msg = f"{printable(path)}: no such results file"
        raise ResultsError(msg) from None
    except OSError as exc:
        msg = f"{printable(path)}: cannot be read ({exc})"
        raise ResultsError(msg) from None
    return loads(decode(raw, str(path)), str(path))


def decode(raw: bytes, source: str) -> str:
    """The text of a results file: UTF-8 without a byte-order mark, as `dumps` writes it.

    Raises
    ------
    ResultsError
        For a BOM (UTF-8 or UTF-16) or bytes that are not UTF-8.
    """
    if raw.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        msg = f"{source}: starts with a byte-order mark; save it as UTF-8 without one"
        raise ResultsError(msg)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise ResultsError(msg) from None
