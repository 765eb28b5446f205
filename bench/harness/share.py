"""Share a result in one command: ``nox -s share`` or ``benchbook share [FILE ...]``.

Without files it takes the newest results file that is not yet in the repository. It then

1. refuses, in one line and before changing anything, a checkout with changes outside
   ``results/`` (a result must come from benchbook's committed code), a file already in the
   repository, a file outside ``results/<slug>/`` and any file that fails validation: the files
   are checked in a copy of the committed ``results/`` tree plus the shared files, with
   `bench.results.check_tree`, which is exactly what ``nox -s validate`` runs in CI;
2. shows what it will send: the machine, the runs, one line per workload (median seconds per
   epoch with its 95 % interval) and the comparison with the closest machine already in
   ``results/`` (`bench.readers.comparison.report`, the verdicts ``nox -s compare`` prints);
3. after asking (or with ``--yes``), commits only those files on a new branch, without touching
   the working tree, the index or the current branch (a temporary index; the files stay where
   they are);
4. where the GitHub CLI ``gh`` is installed and logged in, pushes the branch to the user's fork
   and opens the pull request with the description shown; otherwise prints the exact commands
   and the page to open.

``--dry-run`` shows all of it and changes nothing. Everything shown from a results file passes
through `bench.text.printable` (terminal) or `bench.text.escape_markdown` (the pull
request description).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bench import results
from bench.harness.contribution import Summary, pull_request_body, summarise
from bench.harness.repository import (
    RESULTS,
    Git,
    ShareError,
    changes_outside_results,
    chosen_files,
    github_repo,
    in_checkout,
    new_results,
    redacted,
    run_tool,
    validate_as_ci,
)
from bench.text import printable

FORK_REMOTE = "fork"
"""The remote the branch is pushed to; ``gh repo fork --remote`` adds it when missing."""
UPSTREAM_REMOTE = "origin"
BASE_BRANCH = "main"


@dataclass(frozen=True)
class Plan:
    """Everything `share` would do, worked out before anything is done."""

    summary: Summary
    branch: str
    message: str
    body: str
    upstream: str | None
    """``owner/name`` of the upstream repository on GitHub, when the upstream remote is one."""
    upstream_url: str | None
    gh: bool
    """Whether ``gh`` is installed and logged in."""
    left_out: list[PurePosixPath]
    """Other new results files, not shared (name them to share them too)."""
    fork_url: str | None
    """The URL of the ``fork`` remote, when there is one."""
    reuse: bool = False
    """The branch exists from an earlier share that stopped before its pull request, holding
    exactly these files: it is pushed and opened again, not made again."""


def _gh_ready(git: Git) -> bool:
    if shutil.which("gh") is None:
        return False
    try:
        run_tool(["gh", "auth", "status"], cwd=git.root, what="check the GitHub login")
    except ShareError:
        return False
    return True


def _branch_name(summary: Summary) -> str:
    stamp = summary.files[-1].stem
    name = f"results/{summary.slug}/{stamp}"
    return re.sub(r"[^A-Za-z0-9._/-]", "-", name)


def _check_recorded_code(git: Git, path: PurePosixPath, document: results.Result) -> None:
    """Refuse a file whose own record says it was not made by committed code of this repository:
    a checkout with changes (``git.dirty``) or a commit this repository does not have.

    A file that recorded no commit (benchbook run outside a git checkout) passes: there is
    nothing to check it against, and the report shows the commit as unknown.
    """
    recorded = document.get("software", {}).get("git") or {}
    if recorded.get("dirty") is True:
        msg = (
            f"{path}: the run recorded uncommitted changes to benchbook's code (git.dirty); a "
            "shared result must come from committed code: commit or stash them and run again"
        )
        raise ShareError(msg)
    commit = recorded.get("commit")
    if isinstance(commit, str) and commit and not git.has(f"{commit}^{{commit}}"):
        msg = (
            f"{path}: the run recorded commit {printable(commit[:12])}, which this repository "
            "does not have; share from the checkout that ran it (pull first if it is behind)"
        )
        raise ShareError(msg)


def plan(git: Git, given: Sequence[str], *, upstream_remote: str = UPSTREAM_REMOTE) -> Plan:
    """Check everything and work out what to do; changes nothing.

    Raises
    ------
    ShareError
        A dirty checkout, a file already in the repository or outside results/, a branch that
        exists already.
    Invalid
        A file that fails validation.
    """
    dirty = changes_outside_results(git)
    if dirty:
        shown = ", ".join(printable(p, 80) for p in dirty[:5]) + (", ..." if len(dirty) > 5 else "")
        msg = (
            f"the checkout has changes outside {RESULTS}/ ({shown}); a shared result must come "
            "from benchbook's committed code: commit or stash them (git stash -u), rerun "
            "`nox -s bench` if the code changed, then share"
        )
        raise ShareError(msg)
    new = [in_checkout(git, f) for f in new_results(git)]
    files = chosen_files(git, given, new)
    machines = sorted({f.parent.name for f in files})
    if len(machines) > 1:
        msg = (
            f"these files are of {len(machines)} machines ({printable(', '.join(machines), 200)}); "
            "share one machine folder at a time, so each pull request summarises one machine"
        )
        raise ShareError(msg)
    loaded = validate_as_ci(git, files)
    shared = {p: loaded[p] for p in files}
    for path, document in shared.items():
        _check_recorded_code(git, path, document)
    summary = summarise(shared, loaded)
    branch = _branch_name(summary)
    reuse = git.has(f"refs/heads/{branch}")
    if reuse and not _holds(git, branch, files):
        msg = (
            f"branch {printable(branch)} exists already and holds other files; delete it with "
            f"`git branch -D {branch}` to share again"
        )
        raise ShareError(msg)
    listing = "\n".join(f"- {p}" for p in files)
    message = (
        f"{summary.title()}\n\n{listing}\n\n"
        "Shared with `nox -s share`: validated as `nox -s validate` does.\n"
    )
    url = git.remote_url(upstream_remote)
    upstream = github_repo(url)
    return Plan(
        summary=summary,
        branch=branch,
        message=message,
        body=pull_request_body(summary),
        upstream=upstream,
        upstream_url=redacted(url),
        # gh needs a GitHub upstream to aim the pull request at; without one it could open it
        # against the contributor's own fork, so the branch is made and the steps printed.
        gh=upstream is not None and _gh_ready(git),
        fork_url=redacted(git.remote_url(FORK_REMOTE)),
        left_out=[] if given else [f for f in new if f not in files],
        reuse=reuse,
    )


def _holds(git: Git, branch: str, files: Sequence[PurePosixPath]) -> bool:
    """Whether ``branch`` (an earlier share's) adds exactly ``files``, as they are now."""
    changed = git.lines("diff", "--name-only", f"HEAD...{branch}", what="read the branch")
    if sorted(changed) != sorted(str(f) for f in files):
        return False
    for path in files:
        there = git("rev-parse", f"{branch}:{path}", what="read the branch").strip()
        here = git("hash-object", "--", str(path), what="read the file").strip()
        if there != here:
            return False
    return True


def shown(p: Plan, *, base: str) -> str:
    """The plan in words, as printed before asking."""
    s = p.summary
    note = (
        "Note: smoke-profile runs check that everything works and measure little (one epoch "
        "of tiny images); `nox -s bench` (the quick profile) makes a result worth comparing."
    )
    lines = [
        *([note] if any(" smoke profile," in x for x in s.runs) else []),
        f"Machine: {s.machine}",
        "Files:",
        *[f"  {x}" for x in s.files],
        *[f"  also new, not shared (name files to share them): {x}" for x in p.left_out],
        "Runs:",
        *[f"  {printable(x, 300)}" for x in s.runs],
        "Workloads:",
        *[f"  {printable(x, 300)}" for x in s.workloads],
        *[printable(line, 600) for line in s.standing[:1]],
        *[f"  {printable(line.strip(), 600)}" for line in s.standing[1:]],
        "",
        (
            f"Against the closest machine in {RESULTS}/ ({s.closest}, as A):"
            if s.closest
            else f"Against the machines in {RESULTS}/:"
        ),
        *[f"  {line}" for line in s.comparison.splitlines()],
        "",
        (
            f"Branch: {p.branch} (made by an earlier share that stopped before its pull request, "
            "holding these files: it is pushed and opened again)"
            if p.reuse
            else f"Branch: {p.branch} (from HEAD; the working tree, the index and the current "
            "branch stay as they are)"
        ),
        "Commit:",
        *[f"  {line}" for line in p.message.rstrip().splitlines()],
        "Pull request:",
        f"  into {p.upstream or printable(p.upstream_url or 'the upstream repository')} {base}",
        f"  title: {s.title()}",
        "  description:",
        *[f"    {line}" for line in p.body.rstrip().splitlines()],
    ]
    if p.gh:
        target = "the remote 'fork'" if p.fork_url else "your fork (gh repo fork adds it as 'fork')"
        lines.append(f"Send: push {p.branch} to {target}, then `gh pr create`")
    elif p.upstream is None:
        lines.append(
            "Send: the upstream remote is not a GitHub repository, so gh cannot aim the pull "
            "request at it: the branch is made here and the commands to push it are printed"
        )
    else:
        lines.append(
            "Send: gh (the GitHub CLI) is not installed or not logged in: the branch is made "
            "here and the commands to push it are printed"
        )
    return "\n".join(line.rstrip() for line in lines)


def _commit(git: Git, p: Plan) -> str:
    """Commit the files on a new branch through a temporary index; the commit's id."""
    with tempfile.TemporaryDirectory(prefix="benchbook-share-") as temporary:
        env = {"GIT_INDEX_FILE": str(Path(temporary) / "index")}
        git("read-tree", "HEAD", what="prepare the commit", env=env)
        git("add", "--", *[str(f) for f in p.summary.files], what="stage the results", env=env)
        tree = git("write-tree", what="prepare the commit", env=env).strip()
    commit = git(
        "commit-tree", tree, "-p", "HEAD", "-m", p.message.rstrip(), what="commit the results"
    ).strip()
    git("branch", p.branch, commit, what="make the branch")
    return commit


def _manual_steps(p: Plan, base: str) -> list[str]:
    repo = p.upstream or "<owner>/benchbook"
    name = repo.split("/")[1]
    fork = p.fork_url or f"https://github.com/<you>/{name}.git"
    compare_page = f"https://github.com/{repo}/compare/{base}...<you>:{p.branch}?expand=1"
    steps = []
    if not p.fork_url:
        steps += [
            f"  1. fork https://github.com/{repo} on GitHub (once), then",
            f"     git remote add {FORK_REMOTE} {fork}",
        ]
    steps += [
        f"  {2 if not p.fork_url else 1}. git push {FORK_REMOTE} {p.branch}",
        f"  {3 if not p.fork_url else 2}. open {compare_page}",
        "     and paste the description shown above",
        (
            "Or install gh (https://cli.github.com), run `gh auth login`, and `nox -s share` "
            f"again after `git branch -D {p.branch}`."
        ),
    ]
    return steps


def send(git: Git, p: Plan, *, base: str, out: Callable[[str], None]) -> None:
    """Make the branch; push it and open the pull request where ``gh`` can."""
    if p.reuse:
        commit = git("rev-parse", f"refs/heads/{p.branch}", what="read the branch").strip()
        out(f"share: reusing branch {p.branch} (commit {commit[:12]}) from an earlier share")
    else:
        commit = _commit(git, p)
        out(
            f"share: made branch {p.branch} (commit {commit[:12]}) with "
            f"{len(p.summary.files)} file(s)"
        )
    if not p.gh:
        why = "gh is not installed or not logged in" if p.upstream else "no GitHub upstream"
        out(f"share: {why}; nothing was pushed. To send it:")
        for line in _manual_steps(p, base):
            out(line)
        return
    if git.remote_url(FORK_REMOTE) is None:
        run_tool(
            ["gh", "repo", "fork", "--remote", "--remote-name", FORK_REMOTE],
            cwd=git.root,
            what="make your fork",
        )
    git("push", FORK_REMOTE, f"refs/heads/{p.branch}:refs/heads/{p.branch}", what="push the branch")
    login = run_tool(["gh", "api", "user", "--jq", ".login"], cwd=git.root, what="read your login")
    with tempfile.TemporaryDirectory(prefix="benchbook-share-") as temporary:
        body = Path(temporary) / "body.md"
        body.write_text(p.body, encoding="utf-8")
        repo = ["--repo", p.upstream] if p.upstream else []
        made = run_tool(
            [
                "gh",
                "pr",
                "create",
                *repo,
                "--base",
                base,
                "--head",
                f"{login.strip()}:{p.branch}",
                "--title",
                p.summary.title(),
                "--body-file",
                str(body),
            ],
            cwd=git.root,
            what="open the pull request",
        )
    out(f"share: opened {printable(made.strip(), 300) or 'the pull request'}")
