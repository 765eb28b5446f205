"""Wheels for a GPU server that has PyTorch or JAX but no TensorFlow and no package registry.

``python scripts/carry_wheels.py FOLDER [--python-version 3.12] [--platform ...]`` downloads,
on a machine that reaches PyPI, the few pure or small packages benchbook needs beside a
framework that is already there: Keras (pinned as the benchmark pins it) with its two small
dependencies that such images lack (namex, optree), and benchbook's own (jsonschema and its
helpers, fastjsonschema, psutil). Each is fetched without its dependencies, for the server's
Python and platform, so nothing already installed there is replaced. It prints the commands to
run on the server; docs/reproduce.md ("A GPU server without a registry") walks through them.

NumPy, SciPy and Pillow (ImageDataGenerator's) are expected on the server, as they are in
PyTorch and JAX images; add them with ``--also`` where they are not.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
)
"""Linux x86_64 wheel tags, newest first: pip matches each exactly."""
HELPERS = (
    "namex",
    "optree",
    "jsonschema-specifications",
    "referencing",
    "rpds-py",
    "attrs",
    "nvidia-ml-py",
)
"""Dependencies of Keras and jsonschema that PyTorch and JAX images often lack, and NVML's Python
binding for the GPU's energy counter; pure Python but for optree and rpds-py, which are compiled
(hence the Python version and platform)."""


def pinned_keras() -> str:
    """The Keras requirement of the benchmark's TensorFlow group (``keras==3.15.1``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for requirement in project["dependency-groups"]["tensorflow"]:
        if isinstance(requirement, str) and requirement.startswith("keras=="):
            return requirement
    msg = "pyproject.toml pins no keras== in the tensorflow group"
    raise SystemExit(msg)


def own_dependencies() -> list[str]:
    """benchbook's own requirements (``[project].dependencies``), markers left out."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [str(r).split(";")[0].strip() for r in project["project"]["dependencies"]]


def requirements(also: Sequence[str] = ()) -> list[str]:
    """Everything to carry, in the order pip is given it."""
    return [pinned_keras(), *HELPERS, *own_dependencies(), *also]


def download_command(
    folder: Path, python_version: str, platforms: Sequence[str], also: Sequence[str] = ()
) -> list[str]:
    """The ``pip download`` command that fetches `requirements` for the server."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--python-version", python_version, "--implementation", "cp", "-d", str(folder)]  # fmt: skip
    for platform in platforms:
        command += ["--platform", platform]
    # "--": a requirement is never read as a pip option.
    return [*command, "--", *requirements(also)]


TARGET = ".carried"
"""Where the server installs the wheels: a fresh folder inside the checkout (ignored by git).

Not a fixed folder in /tmp: on a shared server another user could make it first (with a
``sitecustomize.py`` or a ``keras/`` package of their own) and ``pip --target`` would keep their
files with only a warning; an existing folder, stale or not, is refused by ``mkdir``."""


def server_commands(folder: str, backend: str) -> list[str]:
    """What to run on the server, in the checkout, with the wheels in ``folder`` (quoted for
    the shell: a folder name is never read as a command)."""
    return [
        f"mkdir {TARGET}  # fails if it exists: remove an old one first (rm -r {TARGET})",
        (
            "python3 -m pip install -q --no-index --no-deps --target "
            f"{TARGET} {shlex.quote(folder)}/*.whl"
        ),
        # The checkout first: nothing carried can shadow benchbook's own modules.
        f'export PYTHONPATH="$PWD:$PWD/{TARGET}"',
        f"python3 -m bench --backend {shlex.quote(backend)} --profile quick",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Download the wheels; print the server's commands."""
    parser = argparse.ArgumentParser(prog="python scripts/carry_wheels.py", description=__doc__)
    parser.add_argument("folder", type=Path, help="where to put the wheels (made if missing)")
    parser.add_argument("--python-version", default="3.12", help="the server's Python (3.12)")
    parser.add_argument(
        "--platform",
        action="append",
        dest="platforms",
        help=f"a wheel platform tag; repeat for several (default: {', '.join(DEFAULT_PLATFORMS)})",
    )
    parser.add_argument(
        "--also", action="append", default=[], help="one more requirement, e.g. scipy==1.15.2"
    )
    parser.add_argument("--backend", choices=("torch", "jax"), default="torch")
    args = parser.parse_args(argv)
    options = [a for a in args.also if a.startswith("-")]
    if options:
        parser.error(f"--also {options[0]!r} looks like an option; give a requirement (name==1.2)")
    args.folder.mkdir(parents=True, exist_ok=True)
    command = download_command(
        args.folder, args.python_version, args.platforms or DEFAULT_PLATFORMS, args.also
    )
    if subprocess.run(command, check=False).returncode != 0:
        print(
            "carry_wheels: pip could not download every wheel (is PyPI reachable?); "
            "nothing else was changed",
            file=sys.stderr,
        )
        return 1
    print(f"\nWheels in {args.folder}. On the server, in a benchbook checkout beside them:")
    for line in server_commands(str(args.folder), args.backend):
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
