"""The dependency set: one TensorFlow everywhere, the Metal plugin on Apple silicon only.

These tests resolve pyproject.toml's groups with `uv pip compile` for each platform (they need
the package registry, hence the `network` marker; the default test command runs them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

# The slow tier: these resolve and build environments.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def compile_group(
    group: str, platform: str, python: str = "3.11", macos: str | None = None
) -> dict[str, str]:
    """Resolve a dependency group for a platform (``macos``: the lowest macOS release to
    resolve for, uv's default 13.0 when None); return {package: version}."""
    env = dict(os.environ)
    if macos is not None:
        env["MACOSX_DEPLOYMENT_TARGET"] = macos
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "uv",
            "pip",
            "compile",
            "--group",
            group,
            "--python-platform",
            platform,
            "--python-version",
            python,
            "--no-header",
            "--no-annotate",
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)", proc.stdout, re.MULTILINE))
    return {name.lower(): version for name, version in pins.items()}


@pytest.mark.network
def test_macos_arm64_gets_tensorflow_and_the_metal_plugin() -> None:
    """On Apple silicon the bench group is tensorflow 2.18.1 + tensorflow-metal 1.2.0 + keras 3.15.1,
    with Apple's energy counters (zeus-apple-silicon)."""
    pins = compile_group("bench", "aarch64-apple-darwin")
    assert pins["tensorflow"] == "2.18.1"
    assert pins["tensorflow-metal"] == "1.2.0"
    assert pins["keras"] == "3.15.1"
    assert "tensorflow-cpu" not in pins
    assert {"scipy", "pillow"} <= set(pins)
    assert pins["zeus-apple-silicon"] == "1.1.0"  # the energy counters, without root
    assert "nvidia-ml-py" not in pins


@pytest.mark.network
def test_linux_x86_64_gets_tensorflow_cpu_without_the_plugin() -> None:
    """On Linux x86_64 the same TensorFlow version comes as tensorflow-cpu, never beside tensorflow."""
    pins = compile_group("bench", "x86_64-manylinux_2_28")
    assert pins["tensorflow-cpu"] == "2.18.1"
    assert pins["keras"] == "3.15.1"
    assert "tensorflow-metal" not in pins
    assert "tensorflow" not in pins
    assert pins["nvidia-ml-py"] == "13.615.71"
    assert "zeus-apple-silicon" not in pins


@pytest.mark.network
def test_cuda_group_resolves_for_linux() -> None:
    """The opt-in CUDA group resolves to tensorflow 2.18.1 with NVIDIA's libraries."""
    pins = compile_group("cuda", "x86_64-manylinux_2_28")
    assert pins["tensorflow"] == "2.18.1"
    assert any(name.startswith("nvidia-") for name in pins)


@pytest.mark.network
@pytest.mark.parametrize("python", ["3.11", "3.12"])
def test_macos_arm64_gets_every_backend_beside_tensorflow_metal(python: str) -> None:
    """On Apple silicon (macOS 14 or newer, which PyTorch 2.13.0's wheels need) the PyTorch and
    JAX sets resolve with the same TensorFlow, Metal plugin and Keras."""
    torch = compile_group("bench-torch", "aarch64-apple-darwin", python, macos="14.0")
    assert (torch["torch"], torch["tensorflow"], torch["tensorflow-metal"]) == (
        "2.13.0",
        "2.18.1",
        "1.2.0",
    )
    assert torch["keras"] == "3.15.1"
    jax = compile_group("bench-jax", "aarch64-apple-darwin", python, macos="14.0")
    assert (jax["jax"], jax["jaxlib"], jax["tensorflow"]) == ("0.10.2", "0.10.2", "2.18.1")


@pytest.mark.network
@pytest.mark.parametrize(
    ("platform", "python", "macos"),
    [
        ("aarch64-apple-darwin", "3.11", "14.0"),
        ("aarch64-apple-darwin", "3.12", "14.0"),
        ("x86_64-manylinux_2_35", "3.11", None),
    ],
)
def test_mlx_resolves_on_apple_silicon_and_linux(
    platform: str, python: str, macos: str | None
) -> None:
    """MLX 0.32.4 resolves on Apple silicon (macOS 14 or newer) and, as its CPU build, on Linux."""
    pins = compile_group("mlx", platform, python, macos=macos)
    assert pins["mlx"] == "0.32.4"


@pytest.mark.network
def test_linux_gets_the_jax_set_beside_tensorflow_cpu() -> None:
    """The test environment's JAX resolves beside tensorflow-cpu on Linux x86_64."""
    pins = compile_group("test", "x86_64-manylinux_2_28")
    assert (pins["jax"], pins["tensorflow-cpu"], pins["keras"]) == ("0.10.2", "2.18.1", "3.15.1")


def test_docs_group_has_no_tensorflow() -> None:
    """The report environment never installs TensorFlow."""
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    flat = [str(item) for item in groups["docs"]]
    assert not any("tensorflow" in item or "keras" in item for item in flat)
    assert flat, "docs group is empty"
