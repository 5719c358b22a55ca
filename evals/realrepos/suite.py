"""The library's own full test suite on what Evolver committed, judged by the benchmark itself.

The result branch is checked out in a separate clone and its suite runs in a sandbox (the
committed code is candidate code). A test that fails there, fails again when rerun, and
passes on the base commit is broken by the change; when the tip has such failures, every
earlier commit of the branch is tried in turn, so that the broken commits are counted, not guessed.
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.project.runner import Project
from evals.realrepos.fetch import git
from sandbox import Sandbox, default_parent


@dataclass(frozen=True)
class SuiteCheck:
    """``broken`` maps each broken commit to the tests it breaks (or why the suite failed
    when pytest named no test); ``passed`` says the tip's suite passed outright."""

    passed: bool
    commits: int
    broken: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def broken_commits(self) -> int:
        return len(self.broken)


def check_branch(repo: Path, base: str, branch: str, test_command: str) -> SuiteCheck:
    """The suite on ``branch`` of ``repo`` (made from ``base``), in a clone of its own."""
    project = Project(test_command=tuple(shlex.split(test_command)))
    scratch = Path(tempfile.mkdtemp(prefix="evolver-realrepos-"))
    try:
        clone = scratch / "clone"
        git(scratch, "clone", "-q", "--branch", branch, str(repo), str(clone))
        commits = git(clone, "rev-list", "--reverse", f"{base}..HEAD").split()
        parent = Path(tempfile.mkdtemp(dir=default_parent(), prefix="evolver-realrepos-"))
        try:
            return _check(project, clone, base, commits, parent, hidden=(repo,))
        finally:
            shutil.rmtree(parent, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _check(
    project: Project,
    clone: Path,
    base: str,
    commits: list[str],
    parent: Path,
    hidden: Sequence[Path],
) -> SuiteCheck:
    failures, seconds = _new_failures(project, clone, base, None, parent, hidden)
    if not failures:
        return SuiteCheck(True, len(commits), seconds=seconds)
    broken: dict[str, list[str]] = {}
    for commit in commits[:-1]:  # which earlier commits break it (the tip's are known)
        git(clone, "checkout", "-q", "--detach", commit)
        found, spent = _new_failures(project, clone, base, commit, parent, hidden)
        seconds += spent
        if found:
            broken[commit] = found
    if commits:
        broken[commits[-1]] = failures
    notes = [] if commits else ["the branch fails tests its base passes, with no commit on it"]
    return SuiteCheck(False, len(commits), broken or {"HEAD": failures}, notes, seconds)


def _new_failures(
    project: Project,
    clone: Path,
    base: str,
    commit: str | None,
    parent: Path,
    hidden: Sequence[Path],
) -> tuple[list[str], float]:
    """What fails at the clone's checkout (twice, for the tests named) and passes on
    ``base``; ``commit`` only names the checkout."""
    with Sandbox.create(parent, clone, hidden=hidden) as sandbox:
        run = project.run_tests(sandbox)
        seconds = run.duration
        if run.ok:
            return [], seconds
        named = list(run.failed)
        if not named:  # nothing to rerun or compare: the whole run failed
            return [run.describe_failure() or "the test suite failed"], seconds
        again = project.run_tests(sandbox, select=named)
        seconds += again.duration
        if again.ok:
            return [], seconds
        named = [test for test in named if test in set(again.failed)] or named
    base_tree = parent / f"base-{commit or 'tip'}"
    try:
        git(clone, "worktree", "add", "-q", "--detach", str(base_tree), base)
        with Sandbox.create(parent, base_tree, hidden=hidden) as sandbox:
            on_base = project.run_tests(sandbox, select=named)
            seconds += on_base.duration
    finally:
        git(clone, "worktree", "remove", "--force", str(base_tree))
    failing_on_base = set(on_base.failed) if not on_base.ok else set()
    if not on_base.ok and not on_base.failed:
        return [], seconds  # the base fails them as a whole: nothing new
    return [test for test in named if test not in failing_on_base], seconds
