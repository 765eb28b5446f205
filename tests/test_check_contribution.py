"""scripts/check_contribution.py, the pull request check on results, on a real git history, and
the workflow that calls it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from documents import LAPTOP_A, committed_results, git, read, write

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "check_contribution.py"
NEW = Path("results", "fixture-laptop-a", LAPTOP_A.name)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main with two committed machines; the pull request's branch `pr` checked out."""
    work = committed_results(tmp_path / "work")
    git("config", "user.name", "Up", cwd=work)
    git("config", "user.email", "up@example.org", cwd=work)
    git("switch", "-q", "-c", "pr", cwd=work)
    return work


def commit(repo: Path, message: str = "pr") -> None:
    git("add", "-A", cwd=repo)
    git("commit", "-qm", message, cwd=repo)


def run_check(repo: Path, summary: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    if summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(summary)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "main"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_new_machine_passes_and_its_comparison_goes_to_the_job_summary(
    repo: Path, tmp_path: Path
) -> None:
    (repo / NEW).parent.mkdir()
    shutil.copyfile(LAPTOP_A, repo / NEW)
    commit(repo)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    proc = run_check(repo, summary)
    assert proc.returncode == 0, proc.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## Results in this pull request")  # appended
    assert "### fixture\\-laptop\\-a" in text
    assert f"- `{NEW.as_posix()}`" in text
    assert "closest machine in results/, fixture-laptop-b (A)" in text
    assert "B vs A: 1.50x slower, 95 % CI 1.44 to 1.56" in text
    assert "All 4 results file(s) under results/ are valid." in text


def test_an_invalid_new_file_fails_the_check(repo: Path) -> None:
    data = read(LAPTOP_A)
    data["workloads"][0]["epochs"][1]["epoch_s"] = -1.0
    write(repo / NEW, data)
    commit(repo)
    proc = run_check(repo)
    assert proc.returncode == 1
    assert "### Problems" in proc.stdout
    assert proc.stderr.startswith(f"check_contribution: {NEW.as_posix()}: ")


def test_an_edited_committed_file_fails_the_check(repo: Path) -> None:
    committed = min((repo / "results" / "fixture-laptop-b").glob("*.json"))
    data = read(committed)
    data["machine"]["label"] = "edited afterwards"
    write(committed, data)
    commit(repo)
    proc = run_check(repo)
    assert proc.returncode == 1
    assert "a committed results file was changed; never edit one" in proc.stderr


def test_a_withdrawn_file_is_listed_and_passes(repo: Path) -> None:
    committed = min((repo / "results" / "fixture-desktop-c").glob("*.json"))
    committed.unlink()
    commit(repo)
    proc = run_check(repo)
    assert proc.returncode == 0, proc.stderr
    assert f"- withdrawn: `{committed.relative_to(repo).as_posix()}`" in proc.stdout


def test_no_results_changed(repo: Path) -> None:
    (repo / "README.md").write_text("docs\n", encoding="utf-8")
    commit(repo)
    proc = run_check(repo)
    assert proc.returncode == 0, proc.stderr
    assert "No results files changed since main." in proc.stdout


def test_an_unknown_base_is_one_line(repo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "origin/nope"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        "check_contribution: error: could not list the results changed since origin/nope: "
        "git diff said: fatal: bad revision"
    )
    assert len(proc.stderr.splitlines()) == 1


def test_the_workflow_runs_the_check_and_builds_the_report_on_results_pull_requests() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "results.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["pull_request"]["paths"] == ["results/**"]
    assert workflow["permissions"] == {"contents": "read"}
    steps = workflow["jobs"]["check"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert 'nox -s contribution -- "$BASE" --checkout ../pr' in runs
    assert runs[-1] == "nox -s docs"
    # The code that checks comes from the base branch; the pull request is only data.
    checkouts = [s for s in steps if s.get("uses", "").startswith("actions/checkout")]
    pr, base = (c["with"] for c in checkouts)
    assert (pr["path"], pr["fetch-depth"]) == ("pr", 0)
    assert (base["path"], base["ref"]) == ("base", "${{ github.base_ref }}")
    assert all(c["with"]["persist-credentials"] is False for c in checkouts)
    for step in steps:
        if "run" in step and step["run"].startswith("nox -s"):
            assert step["working-directory"] == "base"
    docs = next(s for s in steps if s.get("run") == "nox -s docs")
    assert docs["env"]["BENCHBOOK_RESULTS"].endswith("/pr/results")
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    assert '"scripts/check_contribution.py"' in noxfile


def test_the_checker_is_never_the_pull_requests(repo: Path, tmp_path: Path) -> None:
    """A pull request that replaces the checker with `sys.exit(0)` and adds a non-result still
    fails: this script (the base branch's) checks its checkout as data, and refuses changes
    outside results/."""
    (repo / "scripts" / "check_contribution.py").parent.mkdir(exist_ok=True)
    (repo / "scripts" / "check_contribution.py").write_text("import sys\nsys.exit(0)\n")
    (repo / "results" / "fixture-laptop-a").mkdir()
    (repo / "results" / "fixture-laptop-a" / "20260101T000000Z.json").write_text(
        '{"not": "a result"}', encoding="utf-8"
    )
    commit(repo)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "main", "--checkout", str(repo)],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "scripts/check_contribution.py: changed outside results/" in proc.stderr
    assert "20260101T000000Z.json" in proc.stderr


@pytest.mark.parametrize("name", [".DS_Store", ".gitkeep"])
def test_files_the_validator_skips_are_refused_in_one_line_not_a_crash(
    repo: Path, name: str
) -> None:
    """A Mac's .DS_Store beside a new result gets a problem line and the job summary."""
    (repo / NEW).parent.mkdir()
    shutil.copyfile(LAPTOP_A, repo / NEW)
    (repo / NEW.parent / name).write_bytes(b"\0\1")
    commit(repo)
    proc = run_check(repo)
    assert proc.returncode == 1, proc.stderr
    assert f"{NEW.parent.as_posix()}/{name}: not a results file" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "### Problems" in proc.stdout


def test_a_readme_in_results_is_refused_in_one_line(repo: Path) -> None:
    (repo / "results" / "README.md").write_text("notes\n", encoding="utf-8")
    commit(repo)
    proc = run_check(repo)
    assert proc.returncode == 1
    assert "results/README.md: not a results file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_base_that_looks_like_an_option_is_refused(repo: Path) -> None:
    """`-- --output=FILE` must not make git write a file and the check pass."""
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--", "--output=written"],
        cwd=repo, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "starts with '-'" in proc.stderr
    assert not (repo / "written").exists()


def test_every_action_is_pinned_to_a_commit() -> None:
    """A tag can be moved to other code; a commit cannot (`nox -s lint` audits the rest)."""
    for path in (ROOT / ".github" / "workflows").glob("*.yml"):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                if "uses" in step:
                    ref = step["uses"].split("@", 1)[1]
                    assert len(ref) == 40, (path.name, step["uses"])
                    assert all(c in "0123456789abcdef" for c in ref), (path.name, step["uses"])
