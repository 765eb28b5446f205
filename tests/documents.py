"""Paths of the frozen results fixtures, and reading and writing their documents in tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "results"
"""Five results files of three fictional machines (format version 1, as committed results are)."""
LAPTOP_A = FIXTURES / "fixture-laptop-a" / "20260101T100000Z.json"
ATTRIBUTION_FIXTURES = ROOT / "tests" / "data" / "attribution"
"""fixture-laptop-a runs with the tf.data pipelines and with 4 threads."""


def read(path: Path) -> dict[str, Any]:
    """A fixture document as a dict."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def write(path: Path, data: dict[str, Any]) -> Path:
    """Write a document as the harness would (no validation)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
