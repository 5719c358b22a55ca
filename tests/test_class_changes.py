"""Issue 17: a candidate may change its target's class, and is then judged as a unit.

On the eval task ``customer-name-lookup`` (``CustomerBook.names_for`` scans every record for
every id), through the real loop: an index built in the constructor and kept by ``add`` is
committed, judged on sequences of calls on real books (construction, ``add``, ``names_for``)
and timed on them, construction included; the task's hidden tests pass on the branch. The same
index with an ``add`` that forgets it is rejected on a recorded sequence. A rewritten helper
that other code of the module also uses is refused before anything runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent import loop
from agent.reports.model import ReportCandidate
from tests.conftest import (
    Offer,
    StaticProvider,
    git,
    init_repo,
    outcome_of,
    run_config,
    run_project_tests,
    task_repo_files,
)

TASK = Path(__file__).resolve().parents[1] / "evals" / "tasks" / "customer-name-lookup"
TARGET = "crm/book.py::CustomerBook.names_for"
# The task's book, with a public method that neither its tests nor its benchmark call.
ORIGINAL = (TASK / "repo" / "crm" / "book.py").read_text(encoding="utf-8") + (
    "\n    def size(self) -> int:\n        return len(self.records)\n"
)

INDEXED = ORIGINAL.replace(
    """        self.records = list(records)

    def add(self, customer_id: int, name: str) -> None:
        self.records.append((customer_id, name))
""",
    """        self.records = list(records)
        self._index: dict[int, str] = {}
        for customer_id, name in self.records:
            self._index.setdefault(customer_id, name)

    def add(self, customer_id: int, name: str) -> None:
        self.records.append((customer_id, name))
        self._index.setdefault(customer_id, name)
""",
).replace(
    """        names = []
        for wanted in customer_ids:
            name = missing
            for customer_id, customer_name in self.records:
                if customer_id == wanted:
                    name = customer_name
                    break
            names.append(name)
        return names
""",
    """        get = self._index.get
        return [get(wanted, missing) for wanted in customer_ids]
""",
)
# The same index, but add no longer keeps it (the constructor still builds it).
FORGETS_ADD = INDEXED.replace(
    "name))\n        self._index.setdefault(customer_id, name)\n", "name))\n"
)


# The index, and a size that no recorded sequence calls, changed (wrongly: duplicates).
UNJUDGED = INDEXED.replace("return len(self.records)", "return len(self._index)")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> loop.RunReport:
    files = {**task_repo_files(TASK), "crm/book.py": ORIGINAL}
    repo = init_repo(tmp_path_factory.mktemp("class") / "repo", files)
    config = run_config(
        repo, targets=(TARGET,), candidates=3, branch="evolver/class", confirm=False
    )
    offers = [
        Offer("index", {"crm/book.py": INDEXED}),
        Offer("forgets", {"crm/book.py": FORGETS_ADD}),
        Offer("unjudged", {"crm/book.py": UNJUDGED}),
    ]
    return loop.run(config, StaticProvider(offers), loop.Silent())


@pytest.mark.pipeline
def test_an_index_kept_by_the_class_is_committed_judged_and_timed_on_sequences(
    report: loop.RunReport, tmp_path: Path
) -> None:
    indexed = outcome_of(report.outcomes, "index")
    verdict = indexed.verdict
    assert verdict.accepted and indexed.committed, verdict.reason
    assert verdict.changed == ("CustomerBook.__init__", "CustomerBook.add")
    assert verdict.timing is not None and verdict.timing.method == "sequences"
    assert "generated sequences" in verdict.reason and "construction included" in verdict.reason
    assert ReportCandidate.from_outcome(indexed).to_json()["changed"] == list(verdict.changed)
    # each definition it changes with its own diff, the target's first
    assert list(indexed.changes) == [TARGET.split("::")[1], *verdict.changed]
    assert "+    self._index.setdefault(customer_id, name)" in indexed.changes["CustomerBook.add"]
    assert indexed.risk is not None and indexed.risk.level == "high", indexed.risk
    assert any("CustomerBook.__init__" in reason for reason in indexed.risk.reasons)
    # the task's hidden tests pass on what was committed
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "--quiet", "--branch", "evolver/class", report.repo, str(checkout))
    shutil.copy(TASK / "hidden" / "test_hidden_book.py", checkout / "tests")
    run = run_project_tests(checkout)
    assert run.returncode == 0, run.stdout[-2000:]


@pytest.mark.pipeline
def test_an_index_that_add_forgets_is_rejected_on_a_recorded_sequence(
    report: loop.RunReport,
) -> None:
    verdict = outcome_of(report.outcomes, "forgets").verdict
    assert not verdict.accepted and verdict.stage == "equivalence", verdict.reason
    assert "recorded sequence" in verdict.reason and "names_for" in verdict.reason


@pytest.mark.pipeline
def test_a_changed_method_that_no_recorded_sequence_calls_is_rejected(
    report: loop.RunReport,
) -> None:
    verdict = outcome_of(report.outcomes, "unjudged").verdict
    assert not verdict.accepted and verdict.stage == "equivalence", verdict.reason
    assert verdict.reason.startswith("changes CustomerBook.size, which no recorded sequence")
