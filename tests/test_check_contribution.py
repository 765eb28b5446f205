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
    assert "B vs A: 1.50x slower, 95 % CI 1.45 to 1.55" in text
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
    assert 'nox -s contribution -- "$BASE"' in runs
    assert runs[-1] == "nox -s docs"
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    assert '"scripts/check_contribution.py"' in noxfile
