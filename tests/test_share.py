"""`benchbook share` end to end: a local bare repository as the upstream, another as the fork,
and a stand-in `gh` on PATH that records what it is asked and answers as GitHub's CLI does."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from documents import LAPTOP_A, committed_results, git, on_jax, read, write

from bench import results
from bench.commands import share as share_command
from bench.harness import contribution, repository
from bench.results.model import WORKLOADS

ROOT = Path(__file__).resolve().parents[1]
BRANCH = "results/fixture-laptop-a/20260101T100000Z"
NEW = Path("results", "fixture-laptop-a", LAPTOP_A.name)

STAND_IN_GH = """\
#!{python}
import os, shutil, subprocess, sys
args = sys.argv[1:]
with open(os.environ["GH_LOG"], "a", encoding="utf-8") as log:
    log.write(" ".join(args) + "\\n")
if args[:2] == ["auth", "status"]:
    sys.exit(0 if os.environ.get("GH_LOGGED_IN") == "1" else 1)
if args[:2] == ["repo", "fork"]:
    subprocess.run(["git", "remote", "add", "fork", os.environ["FORK_URL"]], check=True)
elif args[:2] == ["api", "user"]:
    print("contributor")
elif args[:2] == ["pr", "create"]:
    if os.environ.get("GH_PR_FAILS") == "1":
        print("GraphQL: something went wrong", file=sys.stderr)
        sys.exit(1)
    shutil.copyfile(args[args.index("--body-file") + 1], os.environ["GH_LOG"] + ".body")
    print("https://github.com/owner/benchbook/pull/7")
"""


@dataclass
class Checkout:
    """A clone of a bare upstream holding two committed machines, a bare fork, a stand-in gh."""

    work: Path
    upstream: Path
    fork: Path
    bin: Path
    log: Path

    def share(
        self,
        *args: str,
        gh: bool = True,
        stdin: Any = subprocess.DEVNULL,
        pr_fails: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """``python -m bench share ARGS`` in the clone; ``gh`` False: gh is not logged in;
        ``pr_fails``: gh fails to open the pull request."""
        env = {
            "GH_PR_FAILS": "1" if pr_fails else "0",
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "GH_LOG": str(self.log),
            "GH_LOGGED_IN": "1" if gh else "0",
            "FORK_URL": str(self.fork),
        }
        return subprocess.run(
            [sys.executable, "-m", "bench", "share", *args],
            cwd=self.work,
            env=env,
            stdin=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    def state(self) -> tuple[str, str, str]:
        """Refs, status and HEAD of the clone, and the fork's refs: what sharing may change."""
        return (
            git("for-each-ref", cwd=self.work) + git("for-each-ref", cwd=self.fork),
            git("status", "--porcelain", "--untracked-files=all", cwd=self.work),
            git("rev-parse", "--abbrev-ref", "HEAD", cwd=self.work),
        )

    def gh_calls(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []


@pytest.fixture
def checkout(tmp_path: Path) -> Checkout:
    seed = committed_results(tmp_path / "seed")
    upstream, fork, work = tmp_path / "upstream.git", tmp_path / "fork.git", tmp_path / "work"
    git("clone", "-q", "--bare", str(seed), str(upstream), cwd=tmp_path)
    git("init", "-q", "--bare", "-b", "main", str(fork), cwd=tmp_path)
    git("clone", "-q", str(upstream), str(work), cwd=tmp_path)
    git("config", "user.name", "Contributor", cwd=work)
    git("config", "user.email", "contributor@example.org", cwd=work)
    # The upstream as a contributor's clone names it (share never contacts it; gh is a stand-in).
    git("remote", "set-url", "origin", "https://github.com/owner/benchbook.git", cwd=work)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(STAND_IN_GH.format(python=sys.executable), encoding="utf-8")
    gh.chmod(0o755)
    return Checkout(work, upstream, fork, bin_dir, tmp_path / "gh.log")


def add_new(c: Checkout, source: Path = LAPTOP_A, relative: Path = NEW) -> Path:
    """A new results file in the clone, recording the clone's HEAD as the code that ran it."""
    target = c.work / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    data = read(source)
    data["software"]["git"] = {"commit": git("rev-parse", "HEAD", cwd=c.work).strip(),
                               "dirty": False}  # fmt: skip
    write(target, data)
    return target


def test_shares_for_real_to_the_fork_and_opens_the_pull_request(checkout: Checkout) -> None:
    new = add_new(checkout)
    before = new.read_bytes()
    proc = checkout.share("--yes")
    assert proc.returncode == 0, proc.stderr
    # Pushed to the fork: one commit on top of upstream main, holding only the new file.
    branches = git("branch", "--format=%(refname:short)", cwd=checkout.fork).split()
    assert branches == [BRANCH]
    changed = git("diff", "--name-only", "main", BRANCH, cwd=checkout.work).split()
    assert changed == [NEW.as_posix()]
    upstream_main = git("rev-parse", "main", cwd=checkout.upstream).strip()
    assert git("rev-parse", f"{BRANCH}^", cwd=checkout.fork).strip() == upstream_main
    subject = git("log", "-1", "--format=%s", BRANCH, cwd=checkout.fork).strip()
    assert subject == "Results: fixture-laptop-a (MacBook Air (M1, 2020), fixture), 1 file"
    # The pull request: from the contributor's fork branch into main, with the description shown.
    calls = checkout.gh_calls()
    assert "repo fork --remote --remote-name fork" in calls
    create = next(c for c in calls if c.startswith("pr create"))
    assert f"--head contributor:{BRANCH}" in create
    assert "--base main" in create
    body = Path(f"{checkout.log}.body").read_text(encoding="utf-8")
    assert "fixture-laptop-b (A)" in body  # the closest committed machine
    assert "B vs A: 1.50x slower, 95 % CI 1.44 to 1.56" in body
    # Where the machine stands among the committed machines, per workload.
    assert "Where fixture-laptop-a stands among the" in body
    assert re.search(r"  cnn: \d+(st|nd|rd|th) of \d+ \(faster than \d+ % of the others\)", body)
    assert "opened https://github.com/owner/benchbook/pull/7" in proc.stdout
    # The checkout is as it was: on main, the file still there and still new.
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=checkout.work).strip() == "main"
    status = git("status", "--porcelain", "--untracked-files=all", cwd=checkout.work)
    assert status.strip() == f"?? {NEW.as_posix()}"
    assert new.read_bytes() == before


def test_dry_run_shows_branch_commit_and_pull_request_and_changes_nothing(
    checkout: Checkout,
) -> None:
    add_new(checkout)
    before = checkout.state()
    proc = checkout.share("--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert f"Branch: {BRANCH}" in proc.stdout
    assert "Commit:\n  Results: fixture-laptop-a (MacBook Air (M1, 2020), fixture), 1 file" in (
        proc.stdout
    )
    assert "title: Results: fixture-laptop-a" in proc.stdout
    assert "B vs A: 1.50x slower, 95 % CI 1.44 to 1.56" in proc.stdout
    assert "dry run: nothing was made, committed or pushed" in proc.stdout
    assert checkout.state() == before
    assert [c for c in checkout.gh_calls() if not c.startswith("auth status")] == []


def test_a_file_that_fails_validation_is_never_sent(checkout: Checkout, tmp_path: Path) -> None:
    data = read(LAPTOP_A)
    data["workloads"][0]["epochs"][1]["epoch_s"] = -1.0
    add_new(checkout, write(tmp_path / "bad.json", data))
    before = checkout.state()
    proc = checkout.share("--yes")
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0].startswith(f"share: {NEW.as_posix()}: ")
    assert "not shared" in proc.stderr
    assert checkout.state() == before
    assert [c for c in checkout.gh_calls() if not c.startswith("auth status")] == []


def test_a_copy_of_a_committed_run_fails_as_ci_would(checkout: Checkout) -> None:
    """Validation runs over the committed tree plus the new file, as `nox -s validate` will."""
    committed = min((checkout.work / "results" / "fixture-laptop-b").glob("*.json"))
    data = read(committed)
    data["machine"]["label"] = "a copy"
    add_new(
        checkout,
        write(checkout.work.parent / "copy.json", data),
        committed.relative_to(checkout.work).with_name("20260103T120000Z-2.json"),
    )
    proc = checkout.share("--yes")
    assert proc.returncode == 1
    assert "run_id" in proc.stderr


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("README.md", "the checkout has changes outside results/ (README.md)"),
        ("notes.txt", "the checkout has changes outside results/ (notes.txt)"),
    ],
)
def test_a_dirty_checkout_outside_results_is_refused(
    checkout: Checkout, change: str, expected: str
) -> None:
    add_new(checkout)
    (checkout.work / change).write_text("edited\n", encoding="utf-8")
    before = checkout.state()
    proc = checkout.share("--yes")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"share: error: {expected}")
    assert len(proc.stderr.splitlines()) == 1
    assert checkout.state() == before


def test_a_file_already_in_the_repository_is_refused(checkout: Checkout) -> None:
    committed = min((checkout.work / "results" / "fixture-laptop-b").glob("*.json"))
    proc = checkout.share("--yes", str(committed.relative_to(checkout.work)))
    assert proc.returncode == 2
    assert "is already in the repository" in proc.stderr
    assert checkout.gh_calls() == []


def test_nothing_new_to_share_says_what_to_do(checkout: Checkout) -> None:
    proc = checkout.share("--dry-run")
    assert proc.returncode == 2
    assert "run `nox -s bench` first" in proc.stderr


def test_a_file_outside_results_is_refused(checkout: Checkout) -> None:
    outside = checkout.work / "elsewhere.json"
    shutil.copyfile(LAPTOP_A, outside)
    git("add", "elsewhere.json", cwd=checkout.work)
    git("commit", "-qm", "x", cwd=checkout.work)
    proc = checkout.share("--yes", str(outside))
    assert proc.returncode == 2
    assert "is not in results/<slug>/" in proc.stderr


def test_without_gh_the_branch_is_made_and_the_commands_printed(checkout: Checkout) -> None:
    add_new(checkout)
    proc = checkout.share("--yes", gh=False)
    assert proc.returncode == 0, proc.stderr
    assert f"made branch {BRANCH}" in proc.stdout
    assert f"git push fork {BRANCH}" in proc.stdout
    assert f"compare/main...<you>:{BRANCH}?expand=1" in proc.stdout
    assert git("branch", "--list", BRANCH, cwd=checkout.work).strip()
    assert git("for-each-ref", cwd=checkout.fork) == ""  # nothing pushed
    assert not any(c.startswith(("repo", "pr")) for c in checkout.gh_calls())


def test_nothing_is_sent_without_asking(checkout: Checkout) -> None:
    add_new(checkout)
    before = checkout.state()
    proc = checkout.share()  # stdin is not a terminal, and no --yes
    assert proc.returncode == 2
    assert "not asking" in proc.stderr
    assert "--yes" in proc.stderr
    assert checkout.state() == before


def test_a_smoke_run_made_by_the_harness_shares_as_a_dry_run(
    checkout: Checkout, smoke_run: dict[str, Any]
) -> None:
    made = smoke_run["files"][0]
    relative = Path("results", made.parent.name, made.name)
    add_new(checkout, made, relative)
    proc = checkout.share("--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert f"Branch: results/{made.parent.name}/{made.stem}" in proc.stdout
    for workload in WORKLOADS:
        assert f"\n  {workload}: 1 run(s), median " in proc.stdout
    assert "(1 measured epoch: no interval)" in proc.stdout
    assert proc.stdout.startswith("Note: smoke-profile runs check that everything works")
    assert "No other machine in results/ has runs comparable" in proc.stdout


def test_the_summary_has_a_line_per_setting_and_names_each_files_framework() -> None:
    """A contributor who shares a TensorFlow run and a JAX run sees both, each run line naming
    what it trained on (not "TensorFlow None" for JAX)."""
    data = results.load(LAPTOP_A)
    jax = on_jax(data, 2.0)
    base = PurePosixPath("results", "fixture-laptop-a")
    shared = {base / LAPTOP_A.name: data, base / "20990101T000000Z.json": jax}
    summary = contribution.summarise(shared, shared)
    assert any(r.endswith(", TensorFlow 2.18.1") for r in summary.runs)
    assert any(r.endswith(", JAX 0.10.2") for r in summary.runs)
    cnn = [line for line in summary.workloads if line.startswith("cnn: ")]
    assert len(cnn) == 2
    assert sum("TensorFlow 2.18.1 backend" in line for line in cnn) == 1
    assert sum("JAX 0.10.2 backend" in line for line in cnn) == 1


def test_the_description_escapes_what_a_file_says(tmp_path: Path) -> None:
    data = results.load(LAPTOP_A)  # as share reads it: validated and upgraded
    data["machine"]["label"] = "<img src=x onerror=alert(1)> ````\n# heading"
    path = PurePosixPath("results", "fixture-laptop-a", LAPTOP_A.name)
    summary = contribution.summarise({path: data}, {path: data})
    body = contribution.pull_request_body(summary)
    # The label is one line inside a code span (GitHub shows its markup as text); its
    # backticks cannot close the span.
    first = body.splitlines()[0]
    assert first == (
        "A new result of **fixture\\-laptop\\-a**: `<img src=x onerror=alert(1)> QQQQ\\n# heading`."
    ).replace("Q", "'")
    assert first.count("`") == 2
    outside = re.sub(r"`[^`]*`", "", body.split("````")[0])
    assert re.search(r"[<>]", outside) is None
    fence_lines = [line for line in body.splitlines() if line.startswith("````")]
    assert fence_lines == ["````", "````"]
    assert json.dumps(data)  # the document itself is untouched
    assert data["machine"]["label"].startswith("<img")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/owner/benchbook.git", "owner/benchbook"),
        ("https://github.com/owner/benchbook", "owner/benchbook"),
        ("git@github.com:owner/bench.book.git", "owner/bench.book"),
        ("/tmp/upstream.git", None),
        (None, None),
    ],
)
def test_github_repo_of_a_remote(url: str | None, expected: str | None) -> None:
    assert repository.github_repo(url) == expected


def test_files_of_two_machines_are_refused_not_pooled(checkout: Checkout) -> None:
    """Two machine folders in one share would be summarised as one machine: refused."""
    add_new(checkout)
    other = add_new(checkout, relative=Path("results", "fixture-other", LAPTOP_A.name))
    data = read(other)
    data["machine"]["slug"] = "fixture-other"
    data["run_id"] = "f" * 32
    write(other, data)
    before = checkout.state()
    proc = checkout.share("--dry-run", str(NEW), str(other.relative_to(checkout.work)))
    assert proc.returncode != 0
    assert "of 2 machines (fixture-laptop-a, fixture-other)" in proc.stderr
    assert "share one machine folder at a time" in proc.stderr
    assert checkout.state() == before


@pytest.mark.parametrize(
    ("recorded", "says"),
    [
        ({"commit": None, "dirty": True}, "recorded uncommitted changes"),
        ({"commit": "ab" * 20, "dirty": False}, "recorded commit abababababab"),
    ],
)
def test_a_file_whose_record_says_it_ran_uncommitted_code_is_refused(
    checkout: Checkout, recorded: dict[str, Any], says: str
) -> None:
    """The file's own git record is checked, not only the checkout at share time."""
    target = add_new(checkout)
    data = read(target)
    data["software"]["git"] = recorded
    write(target, data)
    proc = checkout.share("--dry-run")
    assert proc.returncode != 0
    assert says in proc.stderr


def test_credentials_in_a_remote_url_are_never_printed(checkout: Checkout) -> None:
    add_new(checkout)
    git("remote", "add", "fork", "https://someone:ghp_SECRET@example.org/fork.git",
        cwd=checkout.work)  # fmt: skip
    git("remote", "set-url", "origin", "https://someone:ghp_SECRET@git.example.org/b.git",
        cwd=checkout.work)  # fmt: skip
    proc = checkout.share("--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "ghp_SECRET" not in proc.stdout + proc.stderr
    assert "***@git.example.org/b.git" in proc.stdout


def test_without_a_github_upstream_gh_is_not_used(checkout: Checkout) -> None:
    """gh would aim the pull request at the contributor's fork: the branch is made and the
    steps to send it are printed instead."""
    add_new(checkout)
    git("remote", "set-url", "origin", str(checkout.upstream), cwd=checkout.work)
    proc = checkout.share("--yes")
    assert proc.returncode == 0, proc.stderr
    assert "the upstream remote is not a GitHub repository" in proc.stdout
    assert "share: no GitHub upstream; nothing was pushed" in proc.stdout
    assert not [c for c in checkout.gh_calls() if c.startswith(("repo fork", "pr create"))]
    assert BRANCH in git("branch", "--list", BRANCH, cwd=checkout.work)


def test_a_label_cannot_mention_or_reference_on_github() -> None:
    """GitHub links @mentions and #references after Markdown, so an escaped "\\@home" would
    still ping someone: the label sits in a code span, where GitHub links nothing."""
    data = results.load(LAPTOP_A)
    data["machine"]["label"] = "MacBook @home #12"
    path = PurePosixPath("results", "fixture-laptop-a", LAPTOP_A.name)
    body = contribution.pull_request_body(contribution.summarise({path: data}, {path: data}))
    assert "`MacBook @home #12`" in body.splitlines()[0]
    outside = re.sub(r"`[^`]*`", "", body.split("````")[0])
    assert "@" not in outside


def test_a_share_stopped_at_the_pull_request_resumes_with_the_same_branch(
    checkout: Checkout,
) -> None:
    """gh fails after the push: the rerun reuses the branch (same files), pushes it again and
    opens the pull request; the error shown is gh's own line."""
    add_new(checkout)
    first = checkout.share("--yes", pr_fails=True)
    assert first.returncode == 2
    assert "GraphQL: something went wrong" in first.stderr
    pushed = git("rev-parse", BRANCH, cwd=checkout.fork).strip()
    again = checkout.share("--yes")
    assert again.returncode == 0, again.stderr
    assert f"share: reusing branch {BRANCH}" in again.stdout
    assert "opened https://github.com/owner/benchbook/pull/7" in again.stdout
    assert git("rev-parse", BRANCH, cwd=checkout.fork).strip() == pushed


def test_a_branch_holding_other_files_is_still_refused(checkout: Checkout) -> None:
    target = add_new(checkout)
    checkout.share("--yes", gh=False)
    data = read(target)
    data["machine"]["label"] = "changed since"
    write(target, data)
    proc = checkout.share("--dry-run")
    assert proc.returncode == 2
    assert "exists already and holds other files" in proc.stderr


def test_ctrl_c_at_the_question_is_one_line(
    checkout: Checkout, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C while share asks: one line, exit 130, nothing made."""
    add_new(checkout)
    before = checkout.state()
    monkeypatch.chdir(checkout.work)
    monkeypatch.setenv("PATH", f"{checkout.bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("GH_LOG", str(checkout.log))

    def interrupted(question: str) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(share_command, "_confirm", interrupted)
    assert share_command.main([]) == 130
    err = capsys.readouterr().err
    assert err.startswith("share: interrupted;")
    assert len(err.splitlines()) == 1
    assert checkout.state() == before


def test_a_committed_link_out_of_results_is_one_line(checkout: Checkout) -> None:
    """A symlink to an absolute path committed under results/ stops share with one line, not
    tarfile's AbsoluteLinkError."""
    link = checkout.work / "results" / "fixture-laptop-b" / "escape.json"
    link.symlink_to("/etc/passwd")
    git("add", str(link.relative_to(checkout.work)), cwd=checkout.work)
    git("commit", "-qm", "a link", cwd=checkout.work)
    add_new(checkout)
    proc = checkout.share("--dry-run")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "escape.json, which is not a plain file" in proc.stderr


def test_a_staged_new_result_is_new_not_already_in_the_repository(checkout: Checkout) -> None:
    """CONTRIBUTING's by-hand `git add`, then share: the staged file is shared."""
    add_new(checkout)
    git("add", str(NEW), cwd=checkout.work)
    proc = checkout.share("--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert f"  {NEW.as_posix()}" in proc.stdout
    assert "already in the repository" not in proc.stderr


def test_an_unrelated_dangling_link_does_not_block_sharing(checkout: Checkout) -> None:
    add_new(checkout)
    dangling = checkout.work / "results" / "fixture-laptop-a" / "20250101T000000Z.json"
    dangling.symlink_to(checkout.work / "nowhere.json")
    proc = checkout.share("--dry-run", str(NEW))
    assert proc.returncode == 0, proc.stderr
    proc = checkout.share("--dry-run")
    assert proc.returncode == 0, proc.stderr
