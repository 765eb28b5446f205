"""Tests for bench/report/downloads.py: the raw data readers download from the site."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from documents import FIXTURES, read, write

from bench.report import downloads, tables


def test_every_table_and_every_results_file_is_written(
    loaded: tables.Results, tmp_path: Path
) -> None:
    """One CSV per tidy table with all its rows, each results file byte for byte, and an index
    with sizes, digests and the data licence."""
    written = downloads.write(loaded, tmp_path / "data")
    folder = tmp_path / "data"
    for name in downloads.TABLES:
        frame = pd.read_csv(folder / f"{name}.csv")
        assert len(frame) == len(getattr(loaded, name))
    for source in FIXTURES.rglob("*.json"):
        copy = folder / "results" / source.relative_to(FIXTURES)
        assert copy.read_bytes() == source.read_bytes()
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    assert index["licence"] == downloads.DATA_LICENCE
    listed = {entry["path"]: entry for entry in index["files"]}
    assert len(listed) == len(written) - 1
    entry = listed["epochs.csv"]
    assert entry["sha256"] == hashlib.sha256((folder / "epochs.csv").read_bytes()).hexdigest()


def test_text_a_spreadsheet_would_run_is_made_inert(tmp_path: Path) -> None:
    """A contributor's label starting with ``=`` reaches the CSV behind an apostrophe."""
    root = Path(shutil.copytree(FIXTURES, tmp_path / "results"))
    path = root / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(path)
    data["machine"]["label"] = '=HYPERLINK("http://x","y")'
    write(path, data)
    downloads.write(tables.load_results(root), tmp_path / "data")
    files = pd.read_csv(tmp_path / "data" / "files.csv")
    assert '\'=HYPERLINK("http://x","y")' in set(files["label"])


@pytest.mark.parametrize(
    "label",
    [";=cmd|' /C calc'!A0", " =1+1", "\u00a0=1+1", "; -2+3", ",@SUM(A1)"],
)
def test_formulas_behind_whitespace_or_a_separator_are_made_inert(
    tmp_path: Path, label: str
) -> None:
    """What Excel in a ';' locale, or after trimming, would run is neutralised too, and every
    text field is quoted so no separator inside it starts a new cell."""
    root = Path(shutil.copytree(FIXTURES, tmp_path / "results"))
    path = root / "fixture-laptop-b" / "20260103T120000Z.json"
    data = read(path)
    data["machine"]["label"] = label
    write(path, data)
    downloads.write(tables.load_results(root), tmp_path / "data")
    files = pd.read_csv(tmp_path / "data" / "files.csv", keep_default_na=False)
    assert "'" + label in set(files["label"])
    text = (tmp_path / "data" / "files.csv").read_text(encoding="utf-8")
    assert f'"\'{label}"' in text


def test_a_leading_line_break_or_tab_is_dangerous_too() -> None:
    """Free text such as a run's error may start with a line break (labels cannot)."""
    assert downloads._dangerous("\n=1+1")
    assert downloads._dangerous("\t1")
    assert not downloads._dangerous("MacBook Air; M1")
