"""Prepare the Kaggle Dogs vs Cats images for the benchmark: ``nox -s data -- ARCHIVE_OR_FOLDER``.

    python scripts/prepare_data.py kagglecatsanddogs_5340.zip         # PetImages, into data/
    python scripts/prepare_data.py train.zip --limit-per-class 1000   # a quicker balanced subset

Checks every image with Pillow and TensorFlow, excludes the broken ones with their reasons, splits
the rest per class (80/10/10 by default, seeded) into data/{train,validation,test}/{cat,dog}/ and
writes data/manifest.json, whose fingerprint every results file records. The logic is in
bench/harness/dataset/.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from bench.harness.dataset import checking, source, splitting

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.commands.arguments import OneLineParser, refuse, whole_number
from bench.errors import UserError
from bench.harness.dataset import prepare
from bench.protocol import processes

PROG = "prepare_data"


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        msg = f"{text!r} is not a whole number"
        raise argparse.ArgumentTypeError(msg) from None


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = OneLineParser(
        name=PROG,
        prog=PROG,
        description=(
            "Prepare the Kaggle Dogs vs Cats images for the benchmark: check every image with "
            "Pillow and TensorFlow, exclude broken files with their reasons, split the rest per "
            "class and write OUTPUT/{train,validation,test}/{cat,dog}/ with OUTPUT/manifest.json."
        ),
        epilog=f"Accepted sources: {source.EXPECTED}.",
    )
    p.add_argument(
        "source",
        type=Path,
        metavar="ARCHIVE_OR_FOLDER",
        help="the downloaded .zip (PetImages or the competition's train.zip) or its extracted folder",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=prepare.DEFAULT_OUTPUT,
        help="dataset folder to create (default: %(default)s, where `nox -s bench` looks)",
    )
    p.add_argument(
        "--split",
        default=splitting.DEFAULT_SPLIT,
        metavar="TRAIN/VALIDATION/TEST",
        help="ratios applied to each class (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=_seed,
        default=splitting.DEFAULT_SEED,
        help="seed of the split order (default: %(default)s)",
    )
    p.add_argument(
        "--limit-per-class",
        type=whole_number(1),
        metavar="N",
        help="use N usable images of each class, for quicker runs (default: all)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace a different dataset already in the output folder",
    )
    p.add_argument(
        "--workers",
        type=whole_number(1),
        metavar="N",
        help="processes that decode images (default: one per CPU)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the summary")
    return p


def main(argv: list[str] | None = None) -> int:
    """Prepare the dataset; a user mistake prints one line and returns 2."""
    args = parser().parse_args(argv)
    started = time.perf_counter()
    try:
        # SIGTERM and SIGHUP clean up as Ctrl-C does: no half-made folder is left.
        with processes.stop_signals(), contextlib.ExitStack() as stack:
            outcome = _prepare(args, progress=None if args.quiet else _bar(stack))
    except UserError as exc:
        return refuse(PROG, exc)
    except KeyboardInterrupt as exc:
        print(f"{PROG}: interrupted; {args.output} was left as it was", file=sys.stderr)
        return processes.exit_status(exc)
    for line in prepare.summary(outcome):
        print(line)
    seconds = time.perf_counter() - started
    if outcome.already_prepared:
        print(f"Already prepared: nothing changed ({seconds:.1f} s)")
    else:
        print(f"Prepared in {seconds:.1f} s; train on it with `nox -s bench`")
    return 0


def _bar(stack: contextlib.ExitStack) -> checking.ProgressFn:
    """A progress callback drawing a bar on stderr, shown from the first file checked."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("Checking images"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        # stderr, so stdout holds the summary only
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("check", total=None)

    def advance(done: int, total: int) -> None:
        if not bar.live.is_started:
            stack.enter_context(bar)
        bar.update(task, completed=done, total=total)

    return advance


def _prepare(args: argparse.Namespace, progress: checking.ProgressFn | None) -> prepare.Outcome:
    return prepare.prepare(
        args.source,
        args.output,
        split=args.split,
        seed=args.seed,
        limit_per_class=args.limit_per_class,
        force=args.force,
        workers=args.workers,
        say=lambda line: print(line, flush=True),
        progress=progress,
    )


if __name__ == "__main__":
    sys.exit(main())
