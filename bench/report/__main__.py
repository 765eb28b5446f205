"""``python -m bench.report [FOLDER]``: check that the report can be built from a folder."""

from __future__ import annotations

from collections.abc import Sequence

from bench.errors import UserError
from bench.report.tables import load_results, overview
from bench.report.training import check_baseline


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.report [FOLDER]``: validate every results file, say so in one line.

    Exit status 0 when every file is valid (an empty or missing default folder included), 2 with
    the first bad file's path and the reason otherwise.
    """
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        results = load_results(args[0] if args else None)
        check_baseline(results)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    facts = overview(results)
    print(f"{facts.files} results files from {facts.machines} machines, all valid")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
