#!/usr/bin/env -S uv run --script
# /// script
# dependencies = ["nox>=2026.8.10"]
# ///
"""Tasks for benchbook: `nox -l` lists them, `nox -s <name> -- <args>` runs one.

Without nox installed, `uv run noxfile.py -s <name>` runs the same (the block above).
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib.util import find_spec
from pathlib import Path

import nox
from packaging.specifiers import SpecifierSet

sys.path.insert(0, str(Path(__file__).parent))
from bench.harness import support  # standard library only: nox's interpreter has nothing more

# PEP 440 ranges in `python=` need nox 2026.08.10.
nox.needs_version = ">=2026.8.10"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]
# A session whose Python is missing fails; nox's default skips it and exits 0.
nox.options.error_on_missing_interpreters = True

PYPROJECT = nox.project.load_toml()
ROOT = Path(__file__).parent
DOCS_BUILD = ROOT / "docs" / "_build"
# The Pythons the pinned TensorFlow has wheels for (pyproject.toml says why; it moves with the
# pin). nox finds one on the machine or, with uv, downloads a managed one.
TENSORFLOW_PYTHON = PYPROJECT["tool"]["benchbook"]["tensorflow-python"]
_MINORS = [f"3.{m}" for m in range(9, 20) if f"3.{m}" in SpecifierSet(TENSORFLOW_PYTHON)]
_HINT = support.missing_python(
    _MINORS,
    os.environ.get("PATH", ""),
    shutil.which("uv") is not None or find_spec("uv") is not None,
)
if _HINT:
    print(_HINT, file=sys.stderr)
# nox forwards Ctrl-C, then sends SIGTERM 0.3 s later and SIGKILL 0.2 s after that by default:
# too soon for the harness to stop its worker and write the finished runs.
INTERRUPT_TIMEOUT_S = 60.0
TERMINATE_TIMEOUT_S = 30.0


def refuse_unsupported(session: nox.Session, name: str) -> None:
    """Stop in one line, before any download, on a platform session ``name`` cannot serve."""
    reason = support.refusal(name)
    if reason is not None:
        session.error(reason)


def run_stoppable(session: nox.Session, *args: str) -> None:
    """Run a harness command that needs time to stop cleanly on Ctrl-C (it writes what finished)."""
    session.run(*args, interrupt_timeout=INTERRUPT_TIMEOUT_S, terminate_timeout=TERMINATE_TIMEOUT_S)


def install(session: nox.Session, *groups: str, project: bool = True) -> None:
    """Install the dependency groups, then the project itself (editable) with its own few
    dependencies (jsonschema, psutil), which every session needs to read or write results."""
    args = [arg for group in groups for arg in nox.project.dependency_groups(PYPROJECT, group)]
    session.install(*args)
    if project:
        session.install("-e", ".")


@nox.session(python=TENSORFLOW_PYTHON)
def bench(session: nox.Session) -> None:
    """Run the article's four workloads and the probes; write results/<machine>/<stamp>.json."""
    refuse_unsupported(session, "bench")
    install(session, "bench")
    run_stoppable(
        session,
        "python",
        "-m",
        "bench",
        *session.posargs,
    )


@nox.session(name="bench-cuda", python=TENSORFLOW_PYTHON)
def bench_cuda(session: nox.Session) -> None:
    """Like bench, with TensorFlow's CUDA build (Linux x86_64 with an NVIDIA GPU)."""
    refuse_unsupported(session, "bench-cuda")
    install(session, "cuda", "runtime")
    run_stoppable(
        session,
        "python",
        "-m",
        "bench",
        *session.posargs,
    )


@nox.session(name="bench-keras2", python=TENSORFLOW_PYTHON)
def bench_keras2(session: nox.Session) -> None:
    """Like bench, on Keras 2 (tf-keras), for Macs where Keras 3 and the Metal plugin disagree."""
    refuse_unsupported(session, "bench-keras2")
    install(session, "bench")
    # tf-keras names `tensorflow` as its dependency; on Linux x86_64 that would install the
    # 572 MB GPU wheel over tensorflow-cpu (same folder), so it goes in without dependencies.
    session.install("--no-deps", "tf-keras==2.18.0")
    run_stoppable(
        session,
        "python",
        "-m",
        "bench",
        "--keras2",
        *session.posargs,
    )


def install_torch(session: nox.Session, *, required: bool = True) -> None:
    """PyTorch: a wheel file named by ``BENCHBOOK_TORCH_WHEEL`` (an offline machine, or a CPU
    build already on disk), else the pinned release from the index (PyPI's Linux x86_64 build
    is CUDA's; ``UV_TORCH_BACKEND=cpu`` makes uv take the CPU build instead)."""
    wheel = os.environ.get("BENCHBOOK_TORCH_WHEEL")
    if wheel:
        if not Path(wheel).is_file():
            session.error(f"BENCHBOOK_TORCH_WHEEL={wheel}: no such file; unset it or fix the path")
        found = session.run(
            "python", "-c", "import sys; print(f'cp3{sys.version_info[1]}')", silent=True
        )
        tag = str(found).strip()
        if f"-{tag}-" not in Path(wheel).name:
            problem = f"BENCHBOOK_TORCH_WHEEL={wheel} is not built for this session's {tag}"
            if required:
                session.error(problem)
            session.warn(f"{problem}: the PyTorch tests are skipped")
            return
        session.install(wheel)
    else:
        install(session, "torch", project=False)


@nox.session(name="bench-torch", python=TENSORFLOW_PYTHON)
def bench_torch(session: nox.Session) -> None:
    """Like bench, on Keras 3's PyTorch backend (on a Mac, the GPU through MPS)."""
    refuse_unsupported(session, "bench-torch")
    install(session, "bench")
    install_torch(session)
    run_stoppable(session, "python", "-m", "bench", "--backend", "torch", *session.posargs)


@nox.session(name="bench-jax", python=TENSORFLOW_PYTHON)
def bench_jax(session: nox.Session) -> None:
    """Like bench, on Keras 3's JAX backend (CPU; JAX has no Apple GPU support)."""
    refuse_unsupported(session, "bench-jax")
    install(session, "bench-jax")
    run_stoppable(session, "python", "-m", "bench", "--backend", "jax", *session.posargs)


@nox.session(name="bench-mlx", python=TENSORFLOW_PYTHON)
def bench_mlx(session: nox.Session) -> None:
    """Like bench, with the article's models written in MLX (Apple silicon's GPU on macOS 14+,
    the CPU build on Linux with glibc 2.35+); TensorFlow beside it reads the images."""
    refuse_unsupported(session, "bench-mlx")
    install(session, "bench", "mlx")
    run_stoppable(session, "python", "-m", "bench", "--backend", "mlx", *session.posargs)


@nox.session(python=TENSORFLOW_PYTHON)
def data(session: nox.Session) -> None:
    """Prepare the Kaggle Dogs vs Cats archive or folder into data/ (`-- ARCHIVE_OR_FOLDER`)."""
    refuse_unsupported(session, "data")
    install(session, "data")
    run_stoppable(
        session,
        "python",
        "scripts/prepare_data.py",
        *session.posargs,
    )


@nox.session
def compare(session: nox.Session) -> None:
    """Compare two results files or machine folders, with intervals (`-- A B`)."""
    install(session, "compare")
    session.run("python", "-m", "bench", "compare", *session.posargs)


@nox.session
def share(session: nox.Session) -> None:
    """Send your newest result as a pull request, checked as CI checks it (`-- --dry-run`)."""
    install(session, "compare")
    session.run("python", "-m", "bench.share", *session.posargs)


@nox.session
def contribution(session: nox.Session) -> None:
    """The pull request check on results (`-- BASE`): validate, summarise the new machine."""
    install(session, "compare")
    session.run("python", "scripts/check_contribution.py", *session.posargs)


@nox.session
def validate(session: nox.Session) -> None:
    """Check every file in results/ before it is committed (schema, place, plausibility)."""
    install(session, "compare")
    session.run("python", "-m", "bench", "validate", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the fast tier: readers, report, harness and commands in process, without TensorFlow
    (about two minutes on 2 cores)."""
    install(session, "test-fast")
    session.run("pytest", "-m", "not slow", *session.posargs, env={"PYTHONHASHSEED": "0"})


@nox.session(name="tests-slow", python=TENSORFLOW_PYTHON)
def tests_slow(session: nox.Session) -> None:
    """Run the slow tier: smoke-profile training on TensorFlow and JAX (and PyTorch from a wheel
    on disk), the worker processes, the site built and opened in a browser, fresh environments."""
    refuse_unsupported(session, "tests-slow")
    install(session, "test")
    # PyTorch only from a wheel file on disk: PyPI's Linux build is CUDA's (about 3 GB). Without
    # one the PyTorch tests are skipped, and say why.
    if os.environ.get("BENCHBOOK_TORCH_WHEEL"):
        install_torch(session, required=False)
    # MLX where it has a wheel (macOS 14+ on Apple silicon, Linux with glibc 2.35+); elsewhere
    # its tests are skipped, saying why.
    try:
        install(session, "mlx", project=False)
    except nox.command.CommandFailed:
        session.warn("MLX has no wheel for this platform: the MLX tests are skipped")
    session.run("pytest", "-m", "slow", *session.posargs, env={"PYTHONHASHSEED": "0"})


@nox.session
def docs(session: nox.Session) -> None:
    """Build the report in docs/_build/html from every file in results/ (warnings are errors)."""
    install(session, "docs")
    # A results file that does not validate stops the build here, in one line naming the file,
    # rather than as a traceback from inside an executed page.
    session.run("python", "-m", "bench", "report")
    if DOCS_BUILD.exists():
        shutil.rmtree(DOCS_BUILD)
    # -E with force execution: MyST-NB keys its cache on code cells only, so a new results
    # file would otherwise not re-execute a page.
    # The doctrees go beside the site, not in it: Pages publishes docs/_build/html whole, and
    # the pickled doctrees were half its size (.buildinfo, for incremental builds, goes too).
    session.run(
        "sphinx-build",
        "-W",
        "--keep-going",
        "-E",
        "-d",
        str(DOCS_BUILD / "doctrees"),
        "-b",
        "html",
        "docs",
        str(DOCS_BUILD / "html"),
        *session.posargs,
    )
    (DOCS_BUILD / "html" / ".buildinfo").unlink(missing_ok=True)
    session.log(f"Open {(DOCS_BUILD / 'html' / 'index.html').as_uri()}")


@nox.session
def lint(session: nox.Session) -> None:
    """Run ruff (lint and format check) and mypy."""
    install(session, "lint", "docs", "runtime")
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")
    # The workflows cannot run here: check them against GitHub's workflow schema (vendored by
    # check-jsonschema, so no network is needed).
    session.run(
        "check-jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        *sorted(str(p) for p in Path(".github/workflows").glob("*.yml")),
    )
    # A security audit of the workflows (actions pinned by commit, no credentials kept where
    # pull request code runs, no template injection), offline: no GitHub API calls.
    session.run("zizmor", "--offline", ".github/workflows")
    # The import rule: the worker, the harness and the report never import each other, the
    # shared floor imports none of them, and only the worker imports a framework (pyproject.toml).
    session.run("lint-imports")
    session.run("mypy")  # bench/ (strict), scripts/ and the noxfile
    # The tests, without the errors pandas-stubs makes of every scalar read (`frame.at[...]` is
    # typed as a union of all scalar types, so each comparison on one fails); names,
    # attributes, signatures and return types are still checked.
    session.run(
        "mypy",
        "tests",
        "--disable-error-code=union-attr",
        "--disable-error-code=operator",
        "--disable-error-code=index",
        "--disable-error-code=call-overload",
        "--disable-error-code=arg-type",
    )


if __name__ == "__main__":
    nox.main()
