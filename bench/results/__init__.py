"""Results files: the contract between the benchmark and the report, read and written here only.

- `bench.results.format`: the format's versions and history, its schemas, and `load`, which
  reads any version this benchbook knows as the current one.
- `bench.results.checks`: `check_tree`, the one validation every reader uses (schema, place,
  duplicates, hardware, plausible timings).
- `bench.results.model`: the comparability key and the accessors of a workload run (measured
  epochs, throughput, attribution, device).
- `bench.results.store`: writing a new file atomically, never over another.

The names below are the package's face; the format history is `FORMAT_HISTORY`.
"""

from bench.results.checks import (
    Problem,
    Report,
    check_document,
    check_place,
    check_tree,
    checked,
)
from bench.results.format import (
    FORMAT_HISTORY,
    READABLE,
    SCHEMA_VERSION,
    FormatVersion,
    Result,
    ResultsError,
    decode,
    load,
    loads,
    parse,
    schema,
    schema_path,
    upgrade,
    validate,
)
from bench.results.store import (
    check_destination,
    dumps,
    field_problem,
    folder_holds_other_hardware,
    rescue,
    rescue_places,
    result_paths,
    slug_for,
    utc_iso,
    utc_stamp,
    write,
)

__all__ = [
    "FORMAT_HISTORY",
    "READABLE",
    "SCHEMA_VERSION",
    "FormatVersion",
    "Problem",
    "Report",
    "Result",
    "ResultsError",
    "check_destination",
    "check_document",
    "check_place",
    "check_tree",
    "checked",
    "decode",
    "dumps",
    "field_problem",
    "folder_holds_other_hardware",
    "load",
    "loads",
    "parse",
    "rescue",
    "rescue_places",
    "result_paths",
    "schema",
    "schema_path",
    "slug_for",
    "upgrade",
    "utc_iso",
    "utc_stamp",
    "validate",
    "write",
]
