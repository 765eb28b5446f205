"""Paths of the frozen results fixtures, and reading and writing their documents in tests."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from datetime import datetime, timedelta
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


def on_jax(document: dict[str, Any], slower: float) -> dict[str, Any]:
    """A copy of a TensorFlow file as if measured on JAX, every epoch ``slower`` times longer
    and every probe rate ``slower`` times lower."""
    out = copy.deepcopy(document)
    out["run_id"] = "f" + document["run_id"][1:]
    # Twelve hours on, as the file name says, and long enough to hold the slower epochs.
    for field, hours in (("started_at", 12), ("finished_at", 12 + 3 * slower)):
        when = datetime.fromisoformat(out[field]) + timedelta(hours=hours)
        out[field] = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    out["software"].update(backend="jax", backend_version="0.10.2", backend_devices=["CPU:cpu:0"])
    for run in out["workloads"]:
        for epoch in run["epochs"]:
            for field in ("epoch_s", "train_s", "validation_s"):
                epoch[field] *= slower
            epoch["images_per_s"] /= slower
    for section in (out.get("probes") or {}).get("sections", {}).values():
        for probe in section.get("probes", []):
            if probe.get("value"):
                probe["value"] /= slower
    return out


def with_energy(path: Path, watts: float, train_watts: float | None = None) -> dict[str, Any]:
    """The fixture at ``path`` (upgraded to the current format) as if an NVIDIA GPU's NVML
    counter had measured ``watts`` over each epoch and ``train_watts`` (default ``watts``)
    over its training phase: joules are watts times seconds."""
    from bench import results

    document = copy.deepcopy(dict(results.load(path)))
    train_watts = watts if train_watts is None else train_watts
    for run in document["workloads"]:
        if run["status"] != "ok":
            continue
        run["energy"] = {
            "status": "ok",
            "domains": {"gpu0": {"source": "nvml", "kind": "measurement", "wraps_at_j": None}},
            "idle_s": 1.0,
            "idle_w": {"gpu0": 60.0},
            "unavailable": {"rapl": "no RAPL package zone under /sys/class/powercap"},
            "notes": [],
        }
        for epoch in run["epochs"]:
            epoch["energy_j"] = {
                "train": {"gpu0": train_watts * epoch["train_s"]},
                "epoch": {"gpu0": watts * epoch["epoch_s"]},
            }
    return document
