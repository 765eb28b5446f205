"""Shared fixtures: an isolated Keras home, and one real smoke-profile run reused by many tests."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

# Property-based tests draw the same examples on every run (derandomize): a suite that fails
# once in a fresh clone and passes on a rerun blocks submissions at random. A longer, random
# search is a deliberate run: HYPOTHESIS_PROFILE=explore.
settings.register_profile("suite", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

HAS_MLX = importlib.util.find_spec("mlx") is not None
NO_MLX = "MLX is not installed (its wheels need macOS 14+ on Apple silicon, or Linux glibc 2.35+)"
"""Why the MLX tests are skipped where they are."""

SLOW_FIXTURES = frozenset({"smoke_run", "jax_smoke"})
"""Fixtures that train real models: a test that uses one belongs to the slow tier."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put every test that uses a training fixture in the slow tier (``-m slow``)."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def _isolated_keras_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keras writes ~/.keras on import and deletes a wrong weights file: keep it in a temp folder."""
    os.environ["KERAS_HOME"] = str(tmp_path_factory.mktemp("keras-home"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run_compare(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m bench compare ARGS`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bench", "compare", *args],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        check=False,
    )


def run_bench(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bench`` as a user would, in ``cwd``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real run of the four workloads on the smoke profile (about half a minute)."""
    work = tmp_path_factory.mktemp("smoke")
    proc = run_bench(
        "--profile",
        "smoke",
        "--skip-probes",
        "--weights",
        "random",
        "--output",
        str(work / "results"),
        "--cache",
        str(work / "cache"),
        "--label",
        "test run",
        cwd=work,
    )
    files = sorted((work / "results").glob("*/*.json"))
    return {
        "proc": proc,
        "files": files,
        "data": json.loads(files[0].read_text()) if len(files) == 1 else None,
        "work": work,
    }


@pytest.fixture(scope="module")
def loaded() -> Any:
    """Every fixture results file (tests/data/results), loaded once, as the report's tables."""
    from documents import FIXTURES

    from bench.report import tables

    return tables.load_results(FIXTURES)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A writable copy of the fixture results folder."""
    import shutil

    from documents import FIXTURES

    return Path(shutil.copytree(FIXTURES, tmp_path / "results"))


@pytest.fixture(scope="module")
def with_variants(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The fixtures plus fixture-laptop-a runs with the tf.data pipelines and with 4 threads."""
    import shutil

    from documents import ATTRIBUTION_FIXTURES, FIXTURES

    from bench.report import tables

    copy = Path(shutil.copytree(FIXTURES, tmp_path_factory.mktemp("variants") / "results"))
    shutil.copytree(ATTRIBUTION_FIXTURES, copy, dirs_exist_ok=True)
    return tables.load_results(copy)
