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

import argparse
import io
import math
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bench import results, stats
from bench.commands.arguments import OneLineParser
from bench.errors import UserError
from bench.readers import comparison, standings
from bench.results import model
from bench.text import escape_markdown, printable

RESULTS = "results"
"""The results folder, relative to the repository root."""
FORK_REMOTE = "fork"
"""The remote the branch is pushed to; ``gh repo fork --remote`` adds it when missing."""
UPSTREAM_REMOTE = "origin"
BASE_BRANCH = "main"
_GITHUB = re.compile(r"github\.com[:/](?P<repo>[\w.-]+/[\w.-]+?)(?:\.git)?/?$")


class ShareError(UserError):
    """Sharing refused or failed: one line, exit status 2, nothing sent."""


class Invalid(ShareError):
    """A file to share fails validation: exit status 1, as ``nox -s validate`` exits."""


def _run(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    what: str,
) -> str:
    """Run a command and return its stdout; a failure is a `ShareError` naming ``what``."""
    try:
        done = subprocess.run(
            list(args),
            cwd=cwd,
            env=None if env is None else {**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        msg = f"could not run {args[0]} to {what}: {exc.strerror}"
        raise ShareError(msg) from None
    if done.returncode != 0:
        said = [
            line
            for line in (done.stderr.strip() or done.stdout.strip()).splitlines()
            if line.strip() and not line.startswith("hint:")
        ]
        # git's own error, not its last hint: "! [rejected] ... (fetch first)", "fatal: ...".
        errors = [x for x in said if x.lstrip().startswith(("error:", "fatal:", "!"))]
        chosen = errors[0] if errors else (said[-1] if said else "")
        detail = printable(chosen.strip(), 300) if chosen else f"exit status {done.returncode}"
        msg = f"could not {what}: {' '.join(args[:2])} said: {detail}"
        raise ShareError(msg)
    return done.stdout


@dataclass(frozen=True)
class Git:
    """The checkout, through the ``git`` command."""

    root: Path

    def __call__(self, *args: str, what: str, env: Mapping[str, str] | None = None) -> str:
        return _run(["git", *args], cwd=self.root, env=env, what=what)

    @classmethod
    def find(cls, start: Path) -> Git:
        """The checkout that holds ``start``."""
        if shutil.which("git") is None:
            msg = "git is not installed; install git, clone benchbook and run `nox -s bench` there"
            raise ShareError(msg)
        try:
            top = _run(["git", "rev-parse", "--show-toplevel"], cwd=start, what="find the checkout")
        except ShareError:
            msg = (
                f"{printable(start)} is not in a git checkout of benchbook; clone it "
                "(git clone https://github.com/<owner>/benchbook) and run `nox -s bench` there"
            )
            raise ShareError(msg) from None
        return cls(Path(top.strip()))

    def lines(self, *args: str, what: str) -> list[str]:
        """The NUL-separated entries of a ``-z`` listing."""
        return [x for x in self(args[0], "-z", *args[1:], what=what).split("\0") if x]

    def has(self, ref: str) -> bool:
        """Whether ``ref`` names an object."""
        try:
            self("rev-parse", "--verify", "--quiet", ref, what="look up a ref")
        except ShareError:
            return False
        return True

    def remote_url(self, name: str) -> str | None:
        """The URL of remote ``name``, or None when there is no such remote."""
        try:
            return self("remote", "get-url", name, what="read a remote").strip()
        except ShareError:
            return None


def github_repo(url: str | None) -> str | None:
    """``owner/name`` of a GitHub remote URL (https or ssh), None for any other URL."""
    found = _GITHUB.search(url or "")
    return found.group("repo") if found else None


_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def redacted(url: str | None) -> str | None:
    """``url`` without the credentials a remote URL can carry (``https://user:token@host``)."""
    return None if url is None else _USERINFO.sub("***@", url)


def changes_outside_results(git: Git) -> list[str]:
    """Paths changed, staged or untracked (not ignored) outside ``results/``."""
    entries = git.lines(
        "status", "--porcelain=v1", "--untracked-files=all", what="read the checkout's state"
    )
    paths = []
    skip = False
    for entry in entries:
        if skip:  # the source path of a rename
            skip = False
            continue
        status, path = entry[:2], entry[3:]
        skip = "R" in status or "C" in status
        if PurePosixPath(path).parts[:1] != (RESULTS,):
            paths.append(path)
    return paths


def new_results(git: Git) -> list[Path]:
    """Results files (``results/<slug>/<stamp>.json``) not committed yet, newest last: untracked
    or staged (CONTRIBUTING's by-hand ``git add``), regular files only (an unrelated dangling
    link in results/ is not a result and must not stop a share)."""
    untracked = git.lines(
        "ls-files", "--others", "--exclude-standard", "--", RESULTS, what="list new results"
    )
    staged = git.lines(
        "diff", "--cached", "--name-only", "--diff-filter=A", "--", RESULTS,
        what="list staged results",
    )  # fmt: skip
    found = [
        git.root / p
        for p in dict.fromkeys([*untracked, *staged])
        if len(PurePosixPath(p).parts) == 3 and p.endswith(".json")
    ]
    regular = [p for p in found if p.is_file() and not p.is_symlink()]
    return sorted(regular, key=lambda p: (p.stem, p.parent.name))


def _relative(git: Git, given: Path) -> PurePosixPath:
    """``given`` as ``results/<slug>/<file>`` relative to the checkout, or a `ShareError`."""
    path = given if given.is_absolute() else Path.cwd() / given
    if not path.is_file():
        msg = f"{printable(given)}: no such results file; give a file under {RESULTS}/<slug>/"
        raise ShareError(msg)
    try:
        relative = PurePosixPath(path.resolve().relative_to(git.root.resolve()).as_posix())
    except ValueError:
        msg = (
            f"{printable(given)} is not in this checkout's {RESULTS}/ folder; "
            f"results are shared from {RESULTS}/<slug>/<stamp>.json, where `nox -s bench` writes"
        )
        raise ShareError(msg) from None
    if relative.parts[:1] != (RESULTS,) or len(relative.parts) != 3:
        msg = (
            f"{printable(given)} is not in {RESULTS}/<slug>/; results are shared from "
            f"{RESULTS}/<slug>/<stamp>.json, where `nox -s bench` writes"
        )
        raise ShareError(msg)
    return relative


def chosen_files(
    git: Git, given: Sequence[str], new: Sequence[PurePosixPath]
) -> list[PurePosixPath]:
    """The files to share: those given, or the newest of ``new`` (`new_results`)."""
    if given:
        chosen = list(dict.fromkeys(_relative(git, Path(g)) for g in given))
    else:
        if not new:
            msg = (
                f"no new results file in {RESULTS}/ (every file there is already in the "
                "repository); run `nox -s bench` first, or name the files to share"
            )
            raise ShareError(msg)
        chosen = [new[-1]]
    # In the repository means committed: a file staged by hand (CONTRIBUTING's `git add`) is
    # still new.
    committed = [str(p) for p in chosen if git.has(f"HEAD:{p}")]
    if committed:
        msg = (
            f"{printable(', '.join(committed))} is already in the repository; "
            "share a new run (`nox -s bench` writes a new file each time)"
        )
        raise ShareError(msg)
    return chosen


def _committed_tree(git: Git, into: Path) -> None:
    """Extract the committed ``results/`` tree (HEAD's, not the working tree's) into ``into``."""
    if not git.lines(
        "ls-tree", "--name-only", "HEAD", "--", RESULTS, what="list committed results"
    ):
        return
    raw = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD", RESULTS],
        cwd=git.root,
        capture_output=True,
        check=False,
    )
    if raw.returncode != 0:
        msg = f"git archive failed to read the committed results: {printable(raw.stderr, 300)}"
        raise ShareError(msg)
    with tarfile.open(fileobj=io.BytesIO(raw.stdout)) as archive:
        try:
            archive.extractall(into, filter="data")
        except tarfile.FilterError as exc:
            member = getattr(exc, "tarinfo", None)
            name = printable(member.name if member is not None else "an entry", 200)
            msg = (
                f"the committed {RESULTS}/ holds {name}, which is not a plain file (a link out "
                f"of the tree); it must be removed from the repository before anything is shared"
            )
            raise ShareError(msg) from None


def validate_as_ci(git: Git, files: Sequence[PurePosixPath]) -> dict[PurePosixPath, results.Result]:
    """The files loaded, after `check_tree` passed over the committed tree plus these files.

    That tree is what CI's ``nox -s validate`` sees once the pull request is merged: duplicates
    of a committed run, a second kind of hardware in a committed machine's folder and any
    schema or plausibility problem are all caught here.

    Raises
    ------
    Invalid
        With one line per problem of a shared file (or of the committed tree).
    """
    with tempfile.TemporaryDirectory(prefix="benchbook-share-") as temporary:
        tree = Path(temporary)
        _committed_tree(git, tree)
        for path in files:
            target = tree / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(git.root / path, target)
        (tree / RESULTS).mkdir(exist_ok=True)
        report = results.check_tree(tree / RESULTS)
        if report.problems:
            lines = [
                f"{printable(p.path.relative_to(tree))}: {printable(p.message, 600)}"
                for p in report.problems
            ]
            raise Invalid("\n".join(lines))
        return {
            PurePosixPath(p.relative_to(tree).as_posix()): d for p, d in report.documents.items()
        }


@dataclass(frozen=True)
class Summary:
    """What is shared, in words: for the terminal and for the pull request."""

    slug: str
    label: str | None
    files: list[PurePosixPath]
    workloads: list[str]
    """One line per workload of the shared runs."""
    runs: list[str]
    """One line per shared file."""
    closest: str | None
    """The closest committed machine's folder name, when one has comparable runs."""
    comparison: str
    """`bench.readers.comparison.report` of the closest machine (A) against the shared runs (B), or why
    there is none."""
    standing: list[str] = field(default_factory=list)
    """Where the machine ranks per workload among the machines in results/
    (`bench.readers.standings.where_it_stands`)."""

    @property
    def machine(self) -> str:
        """``slug ("label")``."""
        label = f' ("{printable(self.label, 80)}")' if self.label else ""
        return f"{printable(self.slug, 80)}{label}"

    def title(self) -> str:
        """The commit's first line and the pull request's title."""
        label = f" ({printable(self.label, 80)})" if self.label else ""
        count = len(self.files)
        return f"Results: {printable(self.slug, 80)}{label}, {count} file{'s' if count > 1 else ''}"


def _workload_line(side: comparison.Side, workload: str) -> str:
    runs = [r for r in side.runs if r.setting[0] == workload]
    usable = [r for r in runs if r.usable]
    failed = len(runs) - len(usable)
    if not usable:
        return f"{workload}: no finished run ({failed} failed)"
    setting = usable[0].setting
    chosen = side.usable(setting)
    interval = stats.median_interval([r.measured.tolist() for r in chosen])
    epochs = sum(r.measured.size for r in chosen)
    # The throughput of the same runs as the median: one setting, finished runs only.
    rates = [
        model.images_per_s(run)
        for _, document in side.documents
        for run in document["workloads"]
        if run["status"] == "ok" and model.setting_of(document, run) == setting
    ]
    rate = model.median_over_runs(rates)
    more = f", {failed} failed" if failed else ""
    rate_text = f", {rate:,.0f} img/s" if math.isfinite(rate) else ""
    spread = (
        "1 measured epoch: no interval"
        if epochs == 1
        else f"95 % CI {interval.low:.3g} to {interval.high:.3g}"
    )
    return (
        f"{workload}: {len(chosen)} run(s){more}, median {interval.value:.3g} s/epoch "
        f"({spread}){rate_text}; "
        f"{comparison.describe(setting)}"
    )


def _settings(documents: Sequence[tuple[Path, results.Result]]) -> set[model.Setting]:
    return {
        model.setting_of(d, run)
        for _, d in documents
        for run in d["workloads"]
        if run["status"] == "ok" and model.epoch_seconds(run)
    }


def _only(
    documents: Sequence[tuple[Path, results.Result]], settings: set[model.Setting]
) -> list[tuple[Path, results.Result]]:
    """The documents with only the runs of ``settings`` (so `comparison.pair` refuses nothing)."""
    kept = []
    for path, d in documents:
        runs = [r for r in d["workloads"] if model.setting_of(d, r) in settings]
        if runs:
            kept.append((path, {**d, "workloads": runs}))
    return kept


def summarise(
    shared: Mapping[PurePosixPath, results.Result],
    committed: Mapping[PurePosixPath, results.Result],
) -> Summary:
    """The summary of ``shared`` against the closest other machine of ``committed``.

    The closest machine is the folder whose finished runs share the most settings (the whole
    comparability key) with the shared runs, then the one with the fewest hardware differences;
    only those common settings are compared.
    """
    files = sorted(shared)
    own = [(Path(str(p)), shared[p]) for p in files]
    latest = own[-1][1]
    slug = latest["machine"]["slug"]
    new = comparison.Side("B", Path(str(files[0].parent)), own)
    runs = [
        f"{path.name}: {d['config']['profile']} profile, {len(d['workloads'])} workload run(s), "
        f"status {d['status']}, {d['dataset']['kind']} data, TensorFlow {d['software']['tensorflow']}"
        for path, d in own
    ]
    folders: dict[str, list[tuple[Path, results.Result]]] = {}
    for path, document in sorted(committed.items()):
        if path not in shared and path.parent.name != slug:
            folders.setdefault(path.parent.name, []).append((Path(str(path)), document))
    mine = _settings(own)
    candidates = []
    for name, found in folders.items():
        common = mine & _settings(found)
        if common:
            differs = len(model.hardware_differences(found[0][1]["machine"], latest["machine"]))
            candidates.append(((-len(common), differs, name), common, found))
    if candidates:
        (_, _, closest), common, found = min(candidates, key=lambda c: c[0])
        against = comparison.report(
            comparison.Side("A", Path(RESULTS, closest), _only(found, common)),
            comparison.Side("B", new.given, _only(own, common)),
        )
        closest_name: str | None = closest
    else:
        closest_name = None
        against = (
            f"No other machine in {RESULTS}/ has runs comparable with these yet (the same "
            "workload, profile, image size, batch, data, weights, pipeline, threads and Keras): "
            "this is the first of its kind."
        )
    standing = standings.where_it_stands({**committed, **shared}, latest, RESULTS)
    return Summary(
        standing=standing,
        slug=slug,
        label=latest["machine"].get("label"),
        files=files,
        workloads=[_workload_line(new, w) for w in new.workloads()],
        runs=runs,
        closest=closest_name,
        comparison=against,
    )


def summary_markdown(summary: Summary) -> str:
    """The summary as GitHub Markdown: the pull request's description and the check's summary.

    Text from the files reaches it escaped (the label) or inside a fenced block, which GitHub
    shows as plain text: printable text has no line break, and a run of four backticks, the
    fence, is replaced.
    """
    # The label in a code span: GitHub applies @mentions and #references after Markdown, so an
    # escaped "\\@user" would still ping; inside code it is text.
    label = (
        f"`{printable(summary.label, 200).replace('`', chr(39))}`"
        if summary.label
        else "(no label)"
    )
    fence = "````"
    closest = (
        f"compared with the closest machine in results/, {summary.closest} (A)"
        if summary.closest
        else "compared with the machines in results/"
    )
    block = [
        "Runs:",
        *[f"  {printable(r, 300)}" for r in summary.runs],
        "Workloads (median of the measured epochs, warm-up left out):",
        *[f"  {printable(w, 300)}" for w in summary.workloads],
        *[printable(line, 600) for line in summary.standing[:1]],
        *[f"  {printable(line.strip(), 600)}" for line in summary.standing[1:]],
        "",
        f"The new runs (B) {closest}:",
        *summary.comparison.splitlines(),
    ]
    lines = [
        f"A new result of **{escape_markdown(summary.slug)}**: {label}.",
        "",
        *[f"- `{p}`" for p in summary.files],
        "",
        fence,
        *[line.replace(fence, "'" * 4) for line in block],
        fence,
    ]
    return "\n".join(lines) + "\n"


def pull_request_body(summary: Summary) -> str:
    """The pull request's description: the summary, and how it was checked."""
    return (
        f"{summary_markdown(summary)}\n"
        "Shared with `nox -s share`: the files passed `nox -s validate` on the committed tree "
        "plus these files. The check on this pull request runs it again and builds the report.\n"
    )


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
        _run(["gh", "auth", "status"], cwd=git.root, what="check the GitHub login")
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
    new = [_relative(git, f) for f in new_results(git)]
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
        _run(
            ["gh", "repo", "fork", "--remote", "--remote-name", FORK_REMOTE],
            cwd=git.root,
            what="make your fork",
        )
    git("push", FORK_REMOTE, f"refs/heads/{p.branch}:refs/heads/{p.branch}", what="push the branch")
    login = _run(["gh", "api", "user", "--jq", ".login"], cwd=git.root, what="read your login")
    with tempfile.TemporaryDirectory(prefix="benchbook-share-") as temporary:
        body = Path(temporary) / "body.md"
        body.write_text(p.body, encoding="utf-8")
        repo = ["--repo", p.upstream] if p.upstream else []
        made = _run(
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
        print(f"share: error: {printable(exc, 1000)}", file=sys.stderr)
        return 2
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
