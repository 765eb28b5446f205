"""The report's raw data as files readers download: the tidy tables as CSV, every results file.

Written into the built site's ``data/`` folder after each build (``docs/conf.py``), from the same
`bench.report.tables.Results` the pages draw, so a download is exactly what the pages show. The
results data is shared under CC BY 4.0 (`DATA_LICENCE`); the code stays under the MIT licence.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd

from bench.report.tables import Results

DATA_LICENCE = "CC BY 4.0"
DATA_LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
TABLES = ("files", "runs", "epochs", "attribution", "probe_sections", "probe_values", "geekbench")
"""The tidy tables written as CSV, one file each (`bench.report.tables.Results`)."""
_FORMULA_STARTS = ("=", "+", "-", "@")
_FIELD_SEPARATORS = ";,|"
"""Excel splits a line at the locale's separator (``;`` in much of Europe), so a field
``;=cmd`` can become a cell ``=cmd``."""


def _dangerous(value: str) -> bool:
    """Whether a spreadsheet could read ``value`` (or a piece of it after a separator) as a
    formula: a formula character after any whitespace (no-break spaces included), separators
    or line breaks."""
    if value[:1] in {"\t", "\r", "\n"}:
        return True
    stripped = value.lstrip()
    while stripped[:1] and stripped[0] in _FIELD_SEPARATORS:
        stripped = stripped[1:].lstrip()
    return stripped.startswith(_FORMULA_STARTS)


def _inert(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
    ``@`` first, after whitespace or a separator) prefixed by an apostrophe: results files are
    contributors' text."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(
                lambda v: "'" + v if isinstance(v, str) and _dangerous(v) else v
            )
    return out


def write(results: Results, folder: Path) -> list[Path]:
    """Write every table as ``<table>.csv`` and every results file under ``results/`` (its own
    bytes, at its own ``<slug>/<stamp>.json``) into ``folder``, then ``index.json`` listing
    them with their sizes and SHA-256. Returns the files written, the index last."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    written = []
    for name in TABLES:
        path = folder / f"{name}.csv"
        table = getattr(results, name)
        # Every text field quoted, so no separator inside one can start a new cell.
        _inert(table.drop(columns=["path"], errors="ignore")).to_csv(
            path, index=False, quoting=csv.QUOTE_NONNUMERIC
        )
        written.append(path)
    for source in results.files["path"]:
        source_path = Path(source)
        # <results>/<slug>/<stamp>.json: kept below its machine folder
        target = folder / "results" / source_path.parent.name / source_path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_path, target)
        written.append(target)
    entries = [
        {
            "path": p.relative_to(folder).as_posix(),
            "bytes": p.stat().st_size,
            "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
        }
        for p in written
    ]
    index = folder / "index.json"
    index.write_text(
        json.dumps({"licence": DATA_LICENCE, "licence_url": DATA_LICENCE_URL, "files": entries},
                   indent=1) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    return [*written, index]
