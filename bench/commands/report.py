"""``benchbook report [FOLDER]``: check that the report can be built from a folder of results.

`nox -s docs` runs it before Sphinx, so a results file that does not validate stops the build in
one line naming the file, rather than as a traceback from inside an executed page.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bench.commands.arguments import refuse
from bench.errors import UserError
from bench.report.tables import load_results, overview
from bench.report.training import check_baseline


def main(argv: Sequence[str] | None = None) -> int:
    """Validate every results file the report would read and say so in one line.

    Exit status 0 when every file is valid (an empty or missing default folder included), 2 with
    the first bad file's path and the reason otherwise.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        results = load_results(args[0] if args else None)
        check_baseline(results)
    except UserError as exc:
        return refuse("report", exc)
    facts = overview(results)
    print(f"report: {facts.files} results files from {facts.machines} machines, all valid")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
