"""The baseline: the tests pass on HEAD, twice, and the flaky ones are known."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from agent.config import RunConfig
from agent.errors import UsageError
from agent.project.runner import Project, TestRun, is_pytest, open_project
from agent.project.workspace import Workspace
from agent.verify.suite import SuiteBaseline


def baseline(
    config: RunConfig,
    workspace: Workspace,
    step: Callable[[str], None],
    notes: list[str] | None = None,
) -> Project:
    """Run the tests on HEAD twice: they must pass, but for tests that are flaky.

    A test whose outcome differs between the two runs is flaky: it is reported (in ``notes``
    and the project's ``flaky_tests``) and judges no candidate. A run that fails only in
    flaky tests is no reason to stop; a test that fails both times is. Returns the project
    with timeouts fitted to the tests and the flaky tests known.
    """
    notes = [] if notes is None else notes
    project = open_project(config, workspace, notes)
    step("running the baseline tests (twice, to find flaky ones)")
    # Both runs in one copy: the tests stage runs a candidate's targeted tests and then the
    # whole suite in one copy too, so a test that fails when run again in a used copy (state
    # left behind by the first run) would reject every candidate; found here, it is flaky.
    with workspace.sandbox("baseline") as sandbox:
        first = project.run_tests(sandbox)
        if first.no_tests:
            raise UsageError("no tests found: evolver needs tests to verify changes")
        if first.timed_out:
            raise UsageError(f"baseline tests fail on HEAD: {first.describe_failure()}")
        second = project.run_tests(sandbox)
    for run in (first, second):
        if run.per_test and run.record is None:
            raise UsageError(
                f"baseline tests on HEAD: pytest gave no per-test results ({run.record_problem}), "
                "which evolver needs to judge candidates"
            )
    flaky = flaky_tests(first, second, notes, pytest=is_pytest(project.tests_argv))
    fitted = min(config.test_timeout, 60 + 5 * max(first.duration, second.duration))
    suite = suite_baseline(first, second, flaky)
    return dataclasses.replace(project, test_timeout=fitted, flaky_tests=flaky, suite=suite)


def suite_baseline(first: TestRun, second: TestRun, flaky: tuple[str, ...]) -> SuiteBaseline:
    """What candidates must match: the tests HEAD collected, and how each steady one ended
    (a test collected in only one run has differing outcomes, so it is flaky)."""
    if first.record is None or second.record is None:
        return SuiteBaseline(per_test=False, flaky=flaky)
    collected = tuple(
        dict.fromkeys([*(first.record.collected or ()), *(second.record.collected or ())])
    )
    outcomes = first.outcomes or {}
    return SuiteBaseline(
        per_test=True,
        collected=collected,
        outcomes={t: outcomes[t] for t in collected if t in outcomes and t not in flaky},
        flaky=flaky,
        replaced=tuple(dict.fromkeys([*first.record.replaced, *second.record.replaced])),
        hooks=tuple(sorted({*first.record.hooks, *second.record.hooks})),
    )


def flaky_tests(
    first: TestRun, second: TestRun, notes: list[str], pytest: bool = True
) -> tuple[str, ...]:
    """The tests whose outcome differs between two runs; raises if a failure is consistent.

    Without per-test outcomes (a test command that is not pytest) only the overall results
    can be compared: failing twice stops the run, failing once is said.
    """
    if first.outcomes is None or second.outcomes is None:
        if not first.ok and not second.ok:
            raise UsageError(f"baseline tests fail on HEAD: {first.describe_failure()}")
        if first.ok != second.ok:
            why = "pytest wrote no per-test results" if pytest else "it is not pytest"
            failing = second if first.ok else first
            notes.append(
                "the test command passed once and failed once on HEAD: it is flaky, and "
                f"which tests are cannot be told ({why}); candidates it fails are rejected "
                f"({failing.describe_failure()})"
            )
        return ()
    runs = (first.outcomes, second.outcomes)
    every = sorted(runs[0].keys() | runs[1].keys())
    flaky = tuple(t for t in every if runs[0].get(t) != runs[1].get(t))
    for run, outcomes in zip((first, second), runs, strict=True):
        failed = [t for t, outcome in outcomes.items() if outcome == "failed"]
        if run.timed_out or (not run.ok and not failed):
            raise UsageError(f"baseline tests fail on HEAD: {run.describe_failure()}")
        steady = [t for t in failed if t not in flaky]
        if steady:
            shown = dataclasses.replace(run, failed=tuple(steady))
            raise UsageError(f"baseline tests fail on HEAD: {shown.describe_failure()}")
    if flaky:
        notes.append(
            f"flaky tests on HEAD (their outcome differed between two runs), not used to judge "
            f"candidates: {some(flaky)}"
        )
        # pytest's --deselect takes prefixes: leaving out test_a also leaves out test_ab.
        caught = [t for t in every if t not in flaky and t.startswith(flaky)]
        if caught:
            notes.append(f"left out with them, as pytest deselects by prefix: {some(caught)}")
    return flaky


def some(items: list[str] | tuple[str, ...], shown: int = 10) -> str:
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more
