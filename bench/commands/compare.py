"""``benchbook compare A B [--force]``: two machines (or two setups) side by side.

A and B are each a results file or a machine folder (``results/<slug>/``: every file in it). The
comparison itself, and its text, is `bench.readers.comparison`'s.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench.commands.arguments import OneLineParser, refuse
from bench.errors import UserError
from bench.readers.comparison import load_side, report


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    p = OneLineParser(
        name="compare",
        prog="benchbook compare",
        description=(
            "Compare the training times of two results files or machine folders "
            "(results/<slug>/), workload by workload: medians with 95 %% intervals, how many "
            "times faster B is than A, and a verdict."
        ),
    )
    p.add_argument("a", metavar="A", help="the baseline: a results file or a machine folder")
    p.add_argument("b", metavar="B", help="compared with A: a results file or a machine folder")
    p.add_argument(
        "--force",
        action="store_true",
        help="compare runs with different settings anyway (marked FORCED)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 after a comparison; 2 with one line on bad input, a refused comparison or
    nothing to compare."""
    args = parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        a, b = load_side("A", args.a), load_side("B", args.b)
        text = report(a, b, force=args.force)
    except UserError as exc:
        # ResultsError messages quote file names and values from the file: `refuse` makes them
        # printable.
        return refuse("compare", exc)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
