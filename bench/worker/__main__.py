"""``python -m bench.worker JOB_FILE OUT_FILE``: the worker process the harness starts per job."""

from __future__ import annotations

import sys

from bench.worker.entry import main

sys.exit(main())
