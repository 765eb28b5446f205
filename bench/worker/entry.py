"""The worker process's entry point: ``python -m bench.worker JOB_FILE OUT_FILE``.

Reads one job of the protocol (`bench.protocol.jobs`), does it, and writes its one record to
``OUT_FILE`` (atomically). The worker exits 0 whenever it wrote a record, also when the job
itself failed (out of memory, an operation a plugin lacks): the record then says so. It exits
130 when interrupted, and 2 when the job file is not a job.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import files
from bench.protocol import jobs, processes
from bench.text import error_line
from bench.worker import probes, training

_START = time.perf_counter()


def perform(job: jobs.Job) -> dict[str, Any]:
    """Do ``job`` in this process; its record, a failure record when it raised."""
    if isinstance(job, jobs.ProbeJob):
        try:
            return probes.run_section(job.section, job.settings, backend=job.backend)
        except Exception as exc:  # noqa: BLE001 (a failed section is recorded, not fatal)
            traceback.print_exc(file=sys.stderr)
            return jobs.failure(job, error_line(exc))
    record = jobs.failure(job, None)
    try:
        training.run_job(job, record)
    except Exception as exc:  # noqa: BLE001 (any failure of the workload is recorded, not fatal)
        traceback.print_exc(file=sys.stderr)
        record["status"] = "failed"
        record["error"] = error_line(exc)
    record["wall_s"] = time.perf_counter() - _START
    return record


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the worker process."""
    processes.hold_lifeline()  # never run on as an orphan when the parent is gone
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m bench.worker JOB_FILE OUT_FILE", file=sys.stderr)
        return 2
    job_file, out_file = Path(args[0]), Path(args[1])
    try:
        job = jobs.loads(job_file.read_text(encoding="utf-8"))
    except (OSError, jobs.JobError) as exc:
        print(f"bench.worker: {job_file}: {error_line(exc)}", file=sys.stderr)
        return 2
    try:
        record = perform(job)
    except KeyboardInterrupt:
        return 130
    files.write_atomic(out_file, json.dumps(record, allow_nan=False, default=str))
    return 0
