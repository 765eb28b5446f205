"""A stand-in community: many distinct, valid machines made from real results files.

The report must read as well at 1,000 machines as at 2 (`scripts/benchmark_report.py` times it,
the browser check opens it at 300). No community that size exists yet, so `write_fleet` makes one
from committed results files: each machine gets its own slug, label and hardware (a rotation of
Apple M-series chips, x86 CPUs and NVIDIA GPUs), and every time in its files is the template's
scaled by the machine's own factor (log-uniform over about 20x, with a per-file jitter), so
rankings and distributions have a realistic spread. Images per second are scaled with the times,
so every file passes `bench.results.checked` like a real one. The files say nothing untrue about
being generated: their labels start with "Fleet machine".
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.results import store
from bench.results.checks import parse_timestamp

HARDWARE: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    # (cpu model, architecture, OS, Apple chip, GPU name)
    ("Apple M1", "arm64", "Darwin", "Apple M1", None),
    ("Apple M1 Pro", "arm64", "Darwin", "Apple M1 Pro", None),
    ("Apple M2", "arm64", "Darwin", "Apple M2", None),
    ("Apple M3 Max", "arm64", "Darwin", "Apple M3 Max", None),
    ("Apple M4 Pro", "arm64", "Darwin", "Apple M4 Pro", None),
    ("AMD Ryzen 9 7950X", "x86_64", "Linux", None, None),
    ("Intel(R) Core(TM) i7-12700K", "x86_64", "Linux", None, None),
    ("AMD EPYC 9454", "x86_64", "Linux", None, None),
    ("Intel(R) Xeon(R) Gold 6338", "x86_64", "Linux", None, "NVIDIA A100-SXM4-80GB"),
    ("AMD Ryzen 7 5800X", "x86_64", "Linux", None, "NVIDIA GeForce RTX 4090"),
)
"""The hardware kinds the fleet rotates through."""

_TIMES = ("epoch_s", "train_s", "validation_s")


def _scale_run(run: dict[str, Any], factor: float) -> None:
    for epoch in run["epochs"]:
        for key in _TIMES:
            epoch[key] *= factor
        epoch["images_per_s"] /= factor
        for joules in (epoch.get("energy_j") or {}).values():  # at the same power: J with time
            for domain, value in joules.items():
                if value is not None:
                    joules[domain] = value * factor
    block = run.get("attribution")
    if isinstance(block, dict):
        for part in ("input_only", "compute_only"):
            if isinstance(block.get(part), dict) and block[part].get("images_per_s"):
                block[part]["images_per_s"] /= factor


def _scale_probes(document: dict[str, Any], factor: float) -> None:
    probes = document.get("probes")
    if not isinstance(probes, Mapping):
        return
    for section in probes.get("sections", {}).values():
        if section.get("score") is not None:
            section["score"] /= factor
        for probe in section.get("probes") or []:
            for key in ("value", "score"):
                if probe.get(key) is not None:
                    probe[key] /= factor


def _machine(document: dict[str, Any], index: int, slug: str) -> None:
    model, architecture, system, chip, gpu = HARDWARE[index % len(HARDWARE)]
    machine = document["machine"]
    machine["slug"] = slug
    machine["label"] = f"Fleet machine {index}: {model}"
    machine["hostname_hash"] = f"{index:08x}"
    machine["cpu"]["model"] = model
    machine["cpu"]["architecture"] = architecture
    machine["cpu"].pop("identity", None)  # a stand-in has no CPU identity of its own
    # Every file of a machine must describe the same hardware, whatever its template.
    machine["cpu"]["flags"] = [] if architecture == "arm64" else ["avx", "avx2", "fma"]
    machine["cpu"]["physical_cores"] = machine["cpu"]["logical_cores"] = 8 + 2 * (index % 5)
    machine["memory_bytes"] = 16 * 2**30
    machine["os"]["system"] = system
    machine["gpus"] = [] if gpu is None else [{"name": gpu, "vendor": "NVIDIA"}]
    machine["apple"] = None if chip is None else {"chip": chip}


def write_fleet(
    folder: Path,
    machines: int,
    templates: Sequence[Path],
    *,
    files_per_machine: int = 2,
    seed: int = 2026,
) -> list[Path]:
    """Write ``machines`` machine folders of ``files_per_machine`` files each under ``folder``.

    Parameters
    ----------
    folder
        The results folder to fill (``<folder>/<slug>/<stamp>.json``).
    machines
        How many distinct machines.
    templates
        Valid results files to copy (as stored: older formats stay older, as committed ones do).
    files_per_machine
        Files per machine, cycling through ``templates``.
    seed
        Seed of the machines' speed factors: the same arguments always give the same fleet.

    Returns
    -------
    list of Path
        The files written.
    """
    loaded = [json.loads(Path(p).read_text(encoding="utf-8")) for p in templates]
    if not loaded:
        msg = "a fleet needs at least one template results file"
        raise ValueError(msg)
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    written = []
    for index in range(machines):
        slug = f"fleet-{index:04d}"
        speed = 20 ** rng.uniform(-0.5, 0.5)  # about 4.5x either way of the template
        for number in range(files_per_machine):
            document = copy.deepcopy(loaded[(index + number) % len(loaded)])
            factor = speed * rng.uniform(0.97, 1.03)
            _machine(document, index, slug)
            for run in document["workloads"]:
                _scale_run(run, factor)
            _scale_probes(document, factor)
            span = parse_timestamp(document["finished_at"]) - parse_timestamp(
                document["started_at"]
            )
            moment = start + timedelta(minutes=index * files_per_machine + number)
            document["started_at"] = store.utc_iso(moment)
            # Scaled epochs must still fit between start and finish.
            document["finished_at"] = store.utc_iso(moment + span * max(1.0, factor))
            document["run_id"] = f"{index:016x}{number:016x}"
            path = folder / slug / f"{store.utc_stamp(moment)}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(store.dumps(document), encoding="utf-8")
            written.append(path)
    return written
