"""Paths of the frozen results fixtures, and reading and writing their documents in tests."""

from __future__ import annotations

import json
import shutil
import subprocess
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


def git(*args: str, cwd: Path) -> str:
    """Run git in ``cwd``; its standard output."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def committed_results(work: Path) -> Path:
    """A git repository at ``work`` on branch main, whose one commit holds two of the fixture
    machines (fixture-laptop-b, fixture-desktop-c) in results/ and a README; ``work``."""
    (work / "results").mkdir(parents=True)
    for name in ("fixture-laptop-b", "fixture-desktop-c"):
        shutil.copytree(FIXTURES / name, work / "results" / name)
    (work / "README.md").write_text("benchbook\n", encoding="utf-8")
    git("init", "-q", "-b", "main", cwd=work)
    git("add", ".", cwd=work)
    git("-c", "user.name=Up", "-c", "user.email=up@example.org", "commit", "-qm", "seed", cwd=work)
    return work
