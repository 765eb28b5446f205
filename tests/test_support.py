"""Tests for bench/harness/support.py and the noxfile's interpreter choice: the machines people
have."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bench.harness import support

ROOT = Path(__file__).resolve().parents[1]
PYENV = Path.home() / ".pyenv" / "versions"


@pytest.mark.parametrize(
    ("session", "system", "machine", "expected"),
    [
        ("bench", "Windows", "AMD64", "WSL2"),
        ("tests-slow", "Windows", "AMD64", "WSL2"),
        ("bench", "Darwin", "x86_64", "arm64 Python"),
        ("bench-cuda", "Darwin", "arm64", "on a Mac `nox -s bench` uses the GPU through Metal"),
        ("bench-cuda", "Linux", "aarch64", "x86_64 only"),
        ("bench", "Linux", "ppc64le", "x86_64 and aarch64 only"),
        ("bench", "FreeBSD", "amd64", "not supported"),
        ("bench-mlx", "Darwin", "x86_64", "arm64 Python"),
        ("bench-mlx", "Windows", "AMD64", "WSL2"),
    ],
)
def test_unsupported_platforms_are_refused_in_one_line(
    session: str, system: str, machine: str, expected: str
) -> None:
    """Each platform a session cannot serve gets one line that names what works instead."""
    reason = support.refusal(session, system, machine)
    assert reason is not None
    assert expected in reason
    assert "\n" not in reason


@pytest.mark.parametrize(
    ("session", "system", "machine"),
    [
        ("bench", "Linux", "x86_64"),
        ("bench", "Linux", "aarch64"),
        ("bench", "Darwin", "arm64"),
        ("bench-cuda", "Linux", "x86_64"),
        ("docs", "Windows", "AMD64"),  # reading results needs no TensorFlow
    ],
)
def test_supported_platforms_pass(session: str, system: str, machine: str) -> None:
    """The platforms with wheels for the pinned TensorFlow are not refused."""
    assert support.refusal(session, system, machine) is None


@pytest.mark.parametrize(
    ("system", "release", "expected"),
    [
        ("Darwin", "13.6.1", "MLX needs macOS 14 or newer (this is macOS 13.6.1)"),
        ("Darwin", "", "macOS of unknown version"),
        ("Linux", "2.31", "this system has glibc 2.31"),
    ],
)
def test_mlx_is_refused_where_it_has_no_wheel(system: str, release: str, expected: str) -> None:
    """MLX's wheels need macOS 14 on Apple silicon, or glibc 2.35 on Linux: older systems get
    one line before anything is installed."""
    machine = "arm64" if system == "Darwin" else "x86_64"
    reason = support.refusal("bench-mlx", system, machine, release)
    assert reason is not None
    assert expected in reason
    assert "\n" not in reason
    assert support.refusal("bench", system, machine, release) is None


@pytest.mark.parametrize(
    ("system", "machine", "release"),
    [("Darwin", "arm64", "14.0"), ("Darwin", "arm64", "26.1"), ("Linux", "aarch64", "2.35"),
     ("Linux", "x86_64", "2.39")],
)  # fmt: skip
def test_mlx_runs_where_it_has_a_wheel(system: str, machine: str, release: str) -> None:
    """macOS 14 and newer on Apple silicon, and Linux with glibc 2.35 or newer."""
    assert support.refusal("bench-mlx", system, machine, release) is None


def test_missing_python_hint_only_when_nothing_can_serve(tmp_path: Path) -> None:
    """The hint appears when no supported Python is on PATH and uv is missing, and says what
    to install; a python3.12 on PATH or uv silences it."""
    hint = support.missing_python(["3.11", "3.12"], str(tmp_path), uv_found=False)
    assert hint is not None
    assert "install uv" in hint
    assert "Python 3.12" in hint
    assert support.missing_python(["3.11", "3.12"], str(tmp_path), uv_found=True) is None
    python = tmp_path / "python3.12"
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    assert support.missing_python(["3.11", "3.12"], str(tmp_path), uv_found=False) is None


def test_the_python_range_is_the_tensorflow_pins_range() -> None:
    """pyproject's range admits exactly the Pythons tensorflow 2.18.1 and keras 3.15.1 share."""
    from packaging.specifiers import SpecifierSet

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    allowed = SpecifierSet(pyproject["tool"]["benchbook"]["tensorflow-python"])
    assert [f"3.{m}" for m in range(8, 16) if f"3.{m}" in allowed] == ["3.11", "3.12"]
    noxfile = (ROOT / "noxfile.py").read_text()
    for name in ("bench", "bench-cuda", "bench-keras2", "data", "tests-slow"):
        assert f'refuse_unsupported(session, "{name}")' in noxfile


def _python313() -> Path:
    found = sorted(PYENV.glob("3.13*/bin/python3.13"))
    if not found:
        pytest.skip("needs pyenv's Python 3.13 under ~/.pyenv/versions")
    return found[-1]


def _nox_venv(where: Path, *packages: str) -> Path:
    """A Python 3.13 virtual environment with ``packages`` (nox, and uv or not)."""
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    subprocess.run([uv, "venv", "-q", "-p", str(_python313()), str(where)], check=True)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(where / "bin" / "python"), *packages],
        check=True,
    )
    return where / "bin"


@pytest.mark.network
@pytest.mark.slow
def test_nox_on_python_313_runs_the_bench_on_a_supported_python(tmp_path: Path) -> None:
    """nox running on Python 3.13 with uv builds the bench session on 3.11 or 3.12 and writes a
    valid results file (the Mac user whose python3 is 3.13)."""
    from bench import results

    bin_dir = _nox_venv(tmp_path / "nox313", "nox>=2026.8.10", "uv")
    proc = subprocess.run(
        [str(bin_dir / "nox"), "-f", str(ROOT / "noxfile.py"), "--envdir", str(tmp_path / "envs"),
         "-s", "bench", "--", "--profile", "smoke", "--skip-probes", "--skip-attribution",
         "-w", "cnn", "--output", str(tmp_path / "results"), "--cache", str(tmp_path / "cache")],
        env=dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}"),
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = list((tmp_path / "results").glob("*/*.json"))
    assert len(files) == 1
    data = results.load(files[0])
    assert data["software"]["python"].startswith(("3.11.", "3.12."))
    assert data["status"] == "complete"
    assert json.loads(files[0].read_text())["workloads"][0]["status"] == "ok"


@pytest.mark.network
def test_no_supported_python_and_no_uv_is_one_line_and_a_failure(tmp_path: Path) -> None:
    """With only Python 3.13 and no uv, `nox -s bench` says what to install and exits non-zero,
    before installing anything."""
    bin_dir = _nox_venv(tmp_path / "nox313", "nox>=2026.8.10")
    proc = subprocess.run(
        [str(bin_dir / "nox"), "-f", str(ROOT / "noxfile.py"), "--envdir", str(tmp_path / "envs"),
         "-s", "bench", "--", "--profile", "smoke"],
        env={"HOME": str(tmp_path), "PATH": str(bin_dir)},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    hint = [line for line in out.splitlines() if line.startswith("benchbook:")]
    assert len(hint) == 1, out
    assert "install uv" in hint[0]
    assert "Python interpreter >=3.11,<3.13 not found" in out
    assert not (tmp_path / "envs" / "bench").exists()
