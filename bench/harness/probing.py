"""The probes from the parent's side: one worker process per section, scored and checked.

Each section runs in a fresh worker (`bench.protocol.jobs.ProbeJob`), so its thread settings are
its own and a crash loses one section, not the run. The parent scores what the worker measured
against the reference machine (`bench.readers.reference`) and checks the scored section against
the schema before it goes into the results file.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from bench.errors import UserError
from bench.protocol import jobs
from bench.protocol.jobs import ProbeJob, ProbeSettings, not_measured
from bench.readers import reference
from bench.results import model, schema
from bench.results.model import SECTIONS

WORKER = jobs.WORKER
"""The worker's command line before its job and output files (tests give a stand-in)."""


@cache
def _section_validator() -> jsonschema.Draft202012Validator:
    root = {"$ref": "#/$defs/probe_section", "$defs": schema()["$defs"]}
    return jsonschema.Draft202012Validator(root)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def _run_worker(
    job: ProbeJob, timeout_s: float, folder: Path
) -> tuple[dict[str, Any], list[str] | None]:
    """Run one section's worker; return its section (or a ``failed`` one) and the GPUs it saw."""
    try:
        code, stderr, output = jobs.run(
            job, folder, job.section, worker=WORKER, timeout_s=timeout_s, capture=True
        )
    except subprocess.TimeoutExpired:
        return not_measured("failed", f"worker timed out after {timeout_s:.1f} s"), None
    except OSError as exc:
        return not_measured("failed", f"worker could not start: {exc}"), None
    if code != 0:
        reason = f"worker exited with status {code}: {_last_line(stderr)}"
        return not_measured("failed", reason), None
    try:
        data = json.loads(output.read_text(encoding="utf-8"))
        gpus = data["gpus"]
        # Scored here so that the whole section, scores included, is checked against the schema.
        scored = reference.rescore({"sections": {job.section: data["section"]}})
        block = scored["sections"][job.section]
        error = jsonschema.exceptions.best_match(_section_validator().iter_errors(block))
        if error is not None:
            msg = f"{'/'.join(map(str, error.absolute_path)) or 'section'}: {error.message}"
            raise ValueError(msg[:300])
        if block["status"] == "failed":
            return block, None
        if not (isinstance(gpus, list) and all(isinstance(g, str) for g in gpus)):
            msg = "gpus is not a list of names"
            raise ValueError(msg)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, UserError) as exc:
        return not_measured("failed", f"worker wrote no valid section ({exc})"), None
    return block, gpus


def run_probes(
    *,
    gpu: bool = True,
    timeout_s: float = 300,
    scale: float = 1.0,
    min_time_s: float = 1.0,
    log: Callable[[str], None] | None = None,
    backend: str = "tensorflow",
) -> dict[str, Any]:
    """Run the single-core, multi-core and GPU probes, each in a fresh process, and score them.

    Parameters
    ----------
    gpu
        Measure the GPU section; when false it is recorded as ``skipped``.
    timeout_s
        Time allowed to all the workers together; a worker still running when it is used up
        is stopped and its section (and any not yet started) recorded as ``failed``.
    scale, min_time_s
        Work size and seconds per timed repeat; only tests change them, and scores are
        comparable only at the defaults.
    log
        Called with one line of progress per section.
    backend
        The Keras backend whose framework runs matmul and conv2d (`run_section`).

    Returns
    -------
    dict
        The ``probes`` block of a results file (see the schema's ``$defs/probes``), scored
        against `bench.readers.reference.CURRENT`.
    """
    settings = ProbeSettings(scale=scale, min_time_s=min_time_s)
    say = log or (lambda _: None)
    started = time.perf_counter()
    deadline = started + timeout_s
    sections: dict[str, dict[str, Any]] = {}
    gpus: list[str] | None = None
    with tempfile.TemporaryDirectory(prefix="benchbook-probes-") as tmp:
        for section in SECTIONS:
            left = deadline - time.perf_counter()
            if section == "gpu" and not gpu:
                sections[section] = not_measured("skipped", "GPU probes not requested")
            elif section == "gpu" and gpus == []:
                # The multi-core worker listed the GPUs: no need for a third TensorFlow import.
                reason = f"no GPU visible to {model.backend_title(backend)}"
                sections[section] = not_measured("unavailable", reason)
            elif left <= 0:
                reason = f"not run: the probes' time limit of {timeout_s:g} s was used up"
                sections[section] = not_measured("failed", reason)
            else:
                say(f"probes: measuring {section.replace('_', '-')} ...")
                job = ProbeJob(section=section, backend=backend, settings=settings)
                block, seen = _run_worker(job, left, Path(tmp))
                sections[section] = block
                if section == "multi_core":
                    gpus = seen
            say(f"probes: {section.replace('_', '-')}: {_summary(sections[section])}")
    block = {
        "baseline_version": reference.CURRENT.version,
        "settings": asdict(settings),
        "sections": sections,
        "elapsed_s": time.perf_counter() - started,
    }
    return reference.rescore(block, reference.CURRENT)


def _summary(section: Mapping[str, Any]) -> str:
    if section["status"] in ("ok", "partial"):
        parts = [
            f"{p['name']} {p['value']:.4g} {p['unit']}"
            for p in section["probes"]
            if p["status"] == "ok"
        ]
        return f"{section['status']}: " + ", ".join(parts)
    return f"{section['status']}: {section['reason']}"
