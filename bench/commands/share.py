"""``benchbook share [FILE ...]`` (``nox -s share``): its parser, confirmation and one-line errors.

What it does is `bench.harness.share`'s.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.commands.arguments import OneLineParser, refuse
from bench.errors import UserError
from bench.harness.repository import Git, Invalid, ShareError
from bench.harness.share import BASE_BRANCH, plan, send, shown


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        msg = (
            "not asking: the input is not a terminal; run again with --yes to share what is "
            "shown above, or --dry-run only to look"
        )
        raise ShareError(msg)
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    p = OneLineParser(
        name="share",
        prog="benchbook share",
        description=(
            "Send results to benchbook as a pull request: validate them as CI does, show the "
            "machine, its runs and the comparison with the closest machine, then commit only "
            "those files on a new branch and, with the GitHub CLI, push it to your fork and "
            "open the pull request."
        ),
    )
    p.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="results files to share (default: the newest file in results/ not yet committed)",
    )
    p.add_argument("--dry-run", action="store_true", help="show all of it; change nothing")
    p.add_argument("--yes", action="store_true", help="do not ask before making and sending")
    p.add_argument(
        "--base",
        default=BASE_BRANCH,
        help=f"the upstream branch the pull request goes into (default: {BASE_BRANCH})",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 when shared (or shown, with --dry-run, or declined); 1 when a file fails
    validation; 2 with one line on any other refusal."""
    args = parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        git = Git.find(Path.cwd())
        p = plan(git, args.files)
        print(shown(p, base=args.base))
        if args.dry_run:
            print("share: dry run: nothing was made, committed or pushed")
            return 0
        what = "make the branch and push it" if p.gh else "make the branch"
        if not args.yes and not _confirm(f"Share: {what}?"):
            print("share: nothing was done")
            return 0
        send(git, p, base=args.base, out=print)
    except Invalid as exc:
        for line in str(exc).splitlines():
            print(f"share: {line}", file=sys.stderr)
        print(
            "share: not shared: fix or remove the files above (see CONTRIBUTING.md)",
            file=sys.stderr,
        )
        return 1
    except UserError as exc:
        return refuse("share", exc)
    except KeyboardInterrupt:
        print(
            "share: interrupted; what was made is kept: run `nox -s share` again to go on (it "
            "reuses the branch), or `git branch -D` it to start over",
            file=sys.stderr,
        )
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
