"""Which platforms a benchmark session can serve, decided before anything is downloaded.

The noxfile asks `refusal` before it installs TensorFlow (hundreds of megabytes), so a user on a
platform with no wheels for the pinned TensorFlow gets one line naming what works instead, not a
resolver error after a long wait. Standard library only: the noxfile imports this module in nox's
own interpreter, where none of benchbook's dependencies are installed.
"""

from __future__ import annotations

import platform

BENCH_SESSIONS = frozenset(
    {"bench", "bench-keras2", "bench-torch", "bench-jax", "bench-mlx", "data", "tests-slow"}
)
"""Sessions that install the platform's TensorFlow (CPU or Metal); bench-torch, bench-jax and
bench-mlx install it beside their framework, for the input pipelines and the JPEG probe."""
MLX_MACOS = (14, 0)
"""The oldest macOS MLX ships wheels for (macosx_14_0_arm64)."""
MLX_GLIBC = (2, 35)
"""The oldest glibc MLX's Linux CPU build ships for (manylinux_2_35)."""
CUDA_SESSIONS = frozenset({"bench-cuda"})
"""Sessions that install TensorFlow's CUDA build."""


def _version(text: str) -> tuple[int, ...]:
    """``"14.5"`` as ``(14, 5)``; ``()`` when it does not start with a number."""
    parts = []
    for part in text.split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def refusal(
    session: str,
    system: str | None = None,
    machine: str | None = None,
    release: str | None = None,
) -> str | None:
    """Why ``session`` cannot run on this platform, in one line naming what works; or None.

    ``system`` and ``machine`` default to this interpreter's ``platform.system()`` and
    ``platform.machine()`` (``x86_64`` for an x86 Python under Rosetta on Apple silicon);
    ``release`` (only bench-mlx asks) to the macOS version on a Mac, else the C library's.
    """
    system = platform.system() if system is None else system
    machine = (platform.machine() if machine is None else machine).lower()
    if session not in BENCH_SESSIONS | CUDA_SESSIONS:
        return None
    if system == "Windows":
        return (
            "Windows is not supported directly (TensorFlow 2.18.1 has no Windows build that "
            "resolves here): install WSL2 with Ubuntu and run the same command inside it"
        )
    if system == "Darwin" and machine != "arm64":
        return (
            f"this Python is {machine} (an Intel Mac, or an x86 Python under Rosetta): TensorFlow "
            "2.18.1 and tensorflow-metal ship for Apple silicon only; on an M-series Mac use an "
            "arm64 Python (uv, Homebrew in /opt/homebrew, or python.org's universal installer)"
        )
    if session in CUDA_SESSIONS and system == "Darwin":
        return "bench-cuda needs Linux with an NVIDIA GPU; on a Mac `nox -s bench` uses the GPU through Metal"
    if session in CUDA_SESSIONS and machine != "x86_64":
        return (
            f"bench-cuda needs Linux x86_64 (TensorFlow's CUDA wheels and NVIDIA's NCCL are x86_64 "
            f"only), this is {machine}: `nox -s bench` runs on the CPU here"
        )
    if system == "Linux" and machine not in {"x86_64", "aarch64", "arm64"}:
        return f"Linux on {machine} is not supported: TensorFlow 2.18.1 ships for x86_64 and aarch64 only"
    if system not in {"Linux", "Darwin"}:
        return f"{system} is not supported: benchbook runs on Linux (x86_64, aarch64) and Apple silicon Macs"
    if session == "bench-mlx":
        return _mlx_refusal(system, release)
    return None


def _mlx_refusal(system: str, release: str | None) -> str | None:
    """Why MLX has no wheel here: too old a macOS, or too old a glibc on Linux."""
    if system == "Darwin":
        found = platform.mac_ver()[0] if release is None else release
        if _version(found) < MLX_MACOS:
            return (
                f"MLX needs macOS 14 or newer (this is macOS {found or 'of unknown version'}); "
                "update macOS, or use `nox -s bench` or `nox -s bench-torch` here"
            )
        return None
    libc, found = platform.libc_ver() if release is None else ("glibc", release)
    if libc != "glibc" or _version(found) < MLX_GLIBC:
        have = f"{libc} {found}".strip() or "an unknown C library"
        return (
            f"MLX's Linux build needs glibc 2.35 or newer (Ubuntu 22.04, Debian 12), this system "
            f"has {have}; use `nox -s bench` here"
        )
    return None


def missing_python(minors: list[str], search_path: str, uv_found: bool) -> str | None:
    """The line to print when no Python in ``minors`` (``["3.11", "3.12"]``) is on
    ``search_path`` and uv, which could fetch one, is missing too; None otherwise.

    nox's own message for this case ("Python interpreter ... not found") names the range but not
    what to install.
    """
    import os
    from pathlib import Path

    if uv_found:
        return None
    for folder in search_path.split(os.pathsep):
        for minor in minors:
            if folder and os.access(Path(folder) / f"python{minor}", os.X_OK):
                return None
    wanted = " or ".join(minors)
    return (
        f"benchbook: the TensorFlow sessions need Python {wanted}, and neither such a Python nor "
        "uv (which fetches one) is installed: install uv (https://docs.astral.sh/uv/) and run "
        f"`uvx nox -s bench`, or install Python {minors[-1]}"
    )
