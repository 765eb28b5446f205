"""The git checkout `share` works in: git and gh run with one-line errors, which files are new
results, and the check that runs exactly as CI does."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bench import results
from bench.errors import UserError
from bench.text import printable

_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")

RESULTS = "results"
"""The results folder, relative to the repository root."""


_GITHUB = re.compile(r"github\.com[:/](?P<repo>[\w.-]+/[\w.-]+?)(?:\.git)?/?$")


class ShareError(UserError):
    """Sharing refused or failed: one line, exit status 2, nothing sent."""


class Invalid(ShareError):
    """A file to share fails validation: exit status 1, as ``nox -s validate`` exits."""


def run_tool(
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
        return run_tool(["git", *args], cwd=self.root, env=env, what=what)

    @classmethod
    def find(cls, start: Path) -> Git:
        """The checkout that holds ``start``."""
        if shutil.which("git") is None:
            msg = "git is not installed; install git, clone benchbook and run `nox -s bench` there"
            raise ShareError(msg)
        try:
            top = run_tool(
                ["git", "rev-parse", "--show-toplevel"], cwd=start, what="find the checkout"
            )
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


def in_checkout(git: Git, given: Path) -> PurePosixPath:
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
        chosen = list(dict.fromkeys(in_checkout(git, Path(g)) for g in given))
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
