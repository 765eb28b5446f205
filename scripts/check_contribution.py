"""The check on a pull request's results: ``python scripts/check_contribution.py BASE``.

Run by `.github/workflows/results.yml` (through ``nox -s contribution``) from a checkout of the
base branch, over the pull request's merge checkout (``--checkout``), with ``BASE`` the branch it
goes into (``origin/main``): the code that judges a contribution is never the contribution's. It

- lists the results files the pull request adds, changes or deletes (``git diff BASE...HEAD``);
- refuses a change to a committed results file (a measurement is never edited: a correction is
  a new file), anything under ``results/`` that is not a results file, and any change outside
  ``results/``;
- validates the whole merged ``results/`` tree with `bench.results.check_tree`, what
  ``nox -s validate`` and `benchbook share` run;
- writes, per machine with new files, the summary `benchbook share` shows (its runs, one line
  per workload, the comparison with the closest other machine) as Markdown to the job summary
  (the file ``$GITHUB_STEP_SUMMARY`` names; standard output without it).

Exit status 0 when the results pass, 1 when they do not (each problem is in the summary and on
standard error), 2 on a bad argument.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from bench.harness import contribution, repository

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import results
from bench.commands.arguments import OneLineParser, refuse
from bench.errors import UserError
from bench.text import escape_markdown, printable


def changed(git: repository.Git, base: str) -> dict[str, list[PurePosixPath]]:
    """The results paths the branch adds, modifies and deletes against ``base``, by kind."""
    # --end-of-options: a BASE such as "--output=FILE" must never be read as an option.
    entries = git.lines(
        "diff", "--name-status", "--no-renames", "--end-of-options", f"{base}...HEAD", "--",
        repository.RESULTS, what=f"list the results changed since {base}",
    )  # fmt: skip
    kinds: dict[str, list[PurePosixPath]] = {"added": [], "modified": [], "deleted": []}
    names = {"A": "added", "D": "deleted"}
    for status, path in zip(entries[::2], entries[1::2], strict=True):
        kinds[names.get(status[0], "modified")].append(PurePosixPath(path))
    return kinds


def check(root: Path, base: str) -> tuple[list[str], str]:
    """The problems and the job summary (Markdown) of the pull request checked out at ``root``."""
    git = repository.Git.find(root)
    kinds = changed(git, base)
    problems = [
        f"{p}: a committed results file was changed; never edit one: restore it and add a new "
        "run as a new file"
        for p in kinds["modified"]
    ]
    # A result must come from committed code: a pull request that adds results changes nothing
    # else (the check itself runs from the base branch, but the rule keeps reviews simple).
    outside = git.lines(
        "diff", "--name-only", "--no-renames", "--end-of-options", f"{base}...HEAD", "--", ".",
        f":(exclude){repository.RESULTS}", what=f"list the other files changed since {base}",
    )  # fmt: skip
    if any(kinds.values()):
        problems += [
            f"{printable(p)}: changed outside results/; a pull request of results changes only "
            "results/ (send code changes as their own pull request)"
            for p in outside
        ]
    # What the validator skips (.DS_Store, .gitkeep, a README) has no place in a contribution.
    problems += [
        f"{printable(p)}: not a results file; remove it from the pull request (results/ holds "
        "only results/<machine>/<stamp>.json files)"
        for p in kinds["added"]
        if p.suffix != ".json" or p.name.startswith(".") or len(p.parts) != 3
    ]
    report = results.check_tree(git.root / repository.RESULTS)
    problems += [
        f"{printable(p.path.relative_to(git.root))}: {printable(p.message, 600)}"
        for p in report.problems
    ]
    lines = ["## Results in this pull request", ""]
    if not any(kinds.values()):
        lines.append(f"No results files changed since {base}.")
    for path in kinds["deleted"]:
        lines.append(f"- withdrawn: `{path}` (say why in the description)")
    if problems:
        lines += ["", "### Problems", "", *[f"- {escape_markdown(p)}" for p in problems]]
        lines += ["", "See CONTRIBUTING.md; `nox -s validate` shows the same lines locally."]
        return problems, "\n".join(lines) + "\n"
    loaded = {
        PurePosixPath(p.relative_to(git.root).as_posix()): d for p, d in report.documents.items()
    }
    folders: dict[str, dict[PurePosixPath, results.Result]] = {}
    for path in kinds["added"]:
        if path in loaded:
            folders.setdefault(path.parent.name, {})[path] = loaded[path]
    for shared in folders.values():
        summary = contribution.summarise(shared, loaded)
        lines += [
            "",
            f"### {escape_markdown(summary.slug)}",
            "",
            contribution.summary_markdown(summary),
        ]
    lines.append(f"All {report.files} results file(s) under results/ are valid.")
    return [], "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 when the results pass, 1 when they do not, 2 on a bad argument."""
    p = OneLineParser(
        name="check_contribution", description=__doc__.splitlines()[0] if __doc__ else None
    )
    p.add_argument("base", help="the branch the pull request goes into, e.g. origin/main")
    p.add_argument(
        "--checkout",
        type=Path,
        default=Path.cwd(),
        help="the pull request's checkout to check (default: the current folder); the check "
        "runs with this script's own code, never the pull request's",
    )
    args = p.parse_args(argv)
    if args.base.startswith("-"):
        return refuse(
            "check_contribution",
            f"BASE {printable(args.base, 100)!r} starts with '-'; give a branch name such as "
            "origin/main",
        )
    try:
        problems, summary = check(args.checkout.resolve(), args.base)
    except UserError as exc:
        return refuse("check_contribution", exc)
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as out:
            out.write(summary)
    else:
        sys.stdout.write(summary)
    for problem in problems:
        print(f"check_contribution: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
