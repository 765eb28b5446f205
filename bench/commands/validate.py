"""Check every results file before it is merged: ``benchbook validate [RESULTS_DIR]``.

The rules are `bench.results.check_tree`'s (CONTRIBUTING.md states them for contributors), the
same function the report and `compare` read through.

Exit status 0 with a one-line summary when every file passes; 1 with one line per problem
(path, what is wrong, what to do) otherwise; 2 when the folder given does not exist.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from bench.commands.arguments import refuse
from bench.errors import UserError
from bench.results import check_tree
from bench.text import printable

DEFAULT_DIR = Path("results")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 when every file passes, 1 with one line per problem, 2 on a bad argument."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 or (args and args[0].startswith("-")):
        print("usage: benchbook validate [RESULTS_DIR]  (default: results)", file=sys.stderr)
        return 2
    root = Path(args[0]) if args else DEFAULT_DIR
    if not args and not root.exists():
        print(f"validate: no results yet ({root}/ does not exist)")
        return 0
    try:
        report = check_tree(root)
    except UserError as exc:
        return refuse("validate", exc)
    for problem in report.problems:
        print(problem)
    if report.problems:
        bad = len({p.path for p in report.problems})
        print(
            f"validate: {len(report.problems)} problem(s) in {bad} file(s) under "
            f"{printable(root)}; see CONTRIBUTING.md"
        )
        return 1
    machines = len(report.machines)
    print(
        f"validate: {report.files} results file(s) from {machines} machine(s) under "
        f"{printable(root)}: all valid"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
