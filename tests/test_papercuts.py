"""Issue 13's small things, end to end through the real command line: asking the provider
before recording, rules that cannot win on the calls seen, a target too big for the prompt,
candidate ids from a JSON report, progress and tables in a pipe, collection errors,
``--python``."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.domain import Candidate, TargetRef
from agent.profile.recording import _entry, _MalformedDump
from agent.project.runner import Project
from agent.project.workspace import Workspace
from agent.providers.base import Need, needs_of
from agent.reports.format import plural
from agent.verify.suite import collection_error
from tests.conftest import KEYS_PROJECT, MakeRepo, evolver, init_repo, write_files
from tests.llm_server import LLMServer, Reply
from tests.loopback import Serving

HOIST = "pkg/geometry_of_points.py::total_length_of_the_segments"

# Three targets: one a rule speeds up, one only the attribute-lookup hoist fires on (and its
# calls have at most three points), one no rule touches.
THREE_TARGETS = {
    **KEYS_PROJECT,
    "pkg/geometry_of_points.py": """
        import math


        def total_length_of_the_segments(points):
            total = 0.0
            for x, y in points:
                total += math.hypot(x, y)
            return total
    """,
    "tests/test_geometry.py": """
        from pkg.geometry_of_points import total_length_of_the_segments


        def test_lengths():
            assert total_length_of_the_segments([(3, 4)]) == 5.0
            assert total_length_of_the_segments([(3, 4), (6, 8), (0, 1)]) == 16.0
            assert total_length_of_the_segments([]) == 0.0
    """,
}
TARGETS = ("pkg/core.py::count_known", HOIST, "pkg/core.py::double")


@dataclass
class Run:
    repo: Path
    done: subprocess.CompletedProcess[str]
    report: dict


@pytest.fixture(scope="module")
def three_targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One rules run on THREE_TARGETS, its output piped (no terminal) at 80 columns."""
    root = tmp_path_factory.mktemp("papercuts")
    repo = init_repo(root / "repo", THREE_TARGETS)
    out = root / "report.json"
    flags = [arg for target in TARGETS for arg in ("--target", target)]
    done = evolver(
        "run", str(repo), *flags, "--no-confirm", "--json", str(out), env={"COLUMNS": "80"}
    )
    assert done.returncode == 0, done.stderr
    yield Run(repo, done, json.loads(out.read_text()))


@pytest.mark.pipeline
def test_the_provider_is_asked_first_and_only_targets_with_candidates_are_recorded(
    three_targets: Run,
) -> None:
    err = three_targets.done.stderr
    assert "asking rules about 3 targets" in err
    assert "recording calls to 2 targets" in err  # not `double`, which no rule touches
    assert err.index("asking rules") < err.index("recording calls")
    assert "[1/2] pkg/core.py::count_known" in err and f"[2/2] {HOIST}" in err
    notes = three_targets.report["notes"]
    assert "pkg/core.py::double: rules proposed nothing" in notes
    judged = {c["target"] for c in three_targets.report["candidates"]}
    assert judged == {"pkg/core.py::count_known"}


@pytest.mark.pipeline
def test_a_hoist_is_not_tried_where_the_recorded_calls_loop_over_three_items(
    three_targets: Run,
) -> None:
    note = f"hoist_attribute_lookup: skipped for {HOIST}: recorded calls iterate at most 3 items"
    assert note in three_targets.report["notes"]
    assert all(c["target"] != HOIST for c in three_targets.report["candidates"])


@pytest.mark.pipeline
def test_progress_goes_to_a_pipe_as_plain_lines(three_targets: Run) -> None:
    lines = three_targets.done.stderr.splitlines()
    assert any(line == "profiling the workload" for line in lines), lines
    assert "\x1b[" not in three_targets.done.stderr  # no colour, no cursor movement
    assert not any(re.search(r"cli\.py:\d+|^\[\d\d:\d\d:\d\d\]", line) for line in lines)
    assert re.search(r"^  [✓✗] dict_keys_membership: ", three_targets.done.stderr, re.M)


@pytest.mark.pipeline
def test_piped_tables_and_notes_are_whole_lines(three_targets: Run) -> None:
    lines = three_targets.done.stdout.splitlines()
    note = f"note: hoist_attribute_lookup: skipped for {HOIST}: recorded calls iterate at most"
    assert any(line.startswith(note) for line in lines), lines
    # The Targets table has a row longer than 80 columns, whole, on one line.
    [row] = [line for line in lines if HOIST in line and "%" in line]
    assert len(row) > 80 and "total_length_of_the_segments" in row


@pytest.mark.pipeline
def test_show_takes_the_json_reports_candidate_id(three_targets: Run) -> None:
    repo = three_targets.repo
    [winner] = three_targets.report["candidates"]  # committed or not: it is in the history
    for given in (winner["id"], winner["id"][:6], winner["id"].upper()):
        shown = evolver("show", given, "-C", str(repo), "--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["candidate"] == winner["id"]
    number = json.loads(evolver("show", winner["id"], "-C", str(repo), "--json").stdout)["id"]
    by_number = evolver("show", str(number), "-C", str(repo))
    assert by_number.returncode == 0 and f"candidate {number}" in by_number.stdout
    for given, message in [("0000000000", "no candidate 0000000000"), ("not-an-id", "its number")]:
        refused = evolver("show", given, "-C", str(repo))
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr


HUGE_LINES = "\n".join(f"    value = (value * {i} + {i * 7}) % 1000003  # {i}" for i in range(400))
TOO_BIG = {
    **KEYS_PROJECT,
    "pkg/big.py": f"def churn(value):\n{HUGE_LINES}\n    return value\n",
}


@pytest.mark.pipeline
def test_a_target_too_big_for_the_prompt_is_skipped_and_the_run_goes_on(
    make_repo: MakeRepo, tmp_path: Path, loopback: Serving
) -> None:
    repo = make_repo(TOO_BIG)
    out = tmp_path / "report.json"
    # A reply with no code: judged at once, since what is tested is that it was asked for.
    server = loopback(LLMServer([Reply(text="No faster version comes to mind.")]))
    done = evolver(
        "run", str(repo), "--provider", "openai", "--base-url", server.openai_base_url,
        "--model", "gpt-4.1-mini", "--target", "pkg/big.py::churn",
        "--target", "pkg/core.py::count_known", "--rounds", "1", "--candidates", "1",
        "--no-confirm", "--json", str(out),
        env={"OPENAI_API_KEY": "sk-test", "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    requests = len(server.requests)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    [skipped] = [n for n in report["notes"] if n.startswith("pkg/big.py::churn: skipped: ")]
    assert re.fullmatch(
        r"pkg/big\.py::churn: skipped: the function alone takes \d+ tokens, over the prompt "
        r"budget of 6000 \(raise --max-prompt-tokens or --context-window\)",
        skipped,
    )
    assert requests == 1  # the small target was asked about, and tried
    [candidate] = report["candidates"]
    assert candidate["target"] == "pkg/core.py::count_known"
    assert candidate["stage"] == "reply", candidate
    assert "recording calls to 1 target\n" in done.stderr  # one, said as one


@pytest.mark.pipeline
def test_no_progress_is_silent(make_repo: MakeRepo) -> None:
    repo = make_repo(KEYS_PROJECT)
    done = evolver("run", str(repo), "--target", "pkg/core.py::double", "--no-progress")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "pkg/core.py::double: rules proposed nothing" in done.stdout


def test_a_collection_error_carries_its_cause() -> None:
    with Workspace() as workspace:
        write_files(
            workspace.state,
            {
                "tests/test_fine.py": "def test_fine():\n    pass\n",
                "tests/test_broken.py": "import no_such_module_here\n",
            },
        )
        with workspace.sandbox("tests") as sandbox:
            run = Project().run_tests(sandbox)
    assert not run.ok and run.record is not None
    cause = (
        "ERROR collecting tests/test_broken.py: ModuleNotFoundError: "
        "No module named 'no_such_module_here'"
    )
    assert collection_error(run.record, run.output, run.failed) == cause
    assert collection_error(None, run.output) == cause  # from pytest's summary alone
    assert collection_error(run.record, run.output, ["tests/test_fine.py"]) is None


@pytest.mark.parametrize("command", ["run", "profile", "prompt"])
def test_python_option(make_repo: MakeRepo, tmp_path: Path, command: str) -> None:
    helped = evolver(command, "--help", env={"COLUMNS": "300"})
    words = " ".join(helped.stdout.split())
    assert "The project's Python interpreter (default: the repo's .venv or venv" in words
    repo = make_repo(KEYS_PROJECT)
    missing = tmp_path / "no" / "python"
    done = evolver(command, str(repo), "--python", str(missing))
    assert done.returncode == 2, done.stderr
    assert str(missing) in done.stderr.splitlines()[-1]


def test_needs_are_declared_by_rules_and_checked_against_sizes() -> None:
    from agent.providers.rules import RULES

    declared = {rule.name: getattr(rule, "min_items", 0) for rule in RULES}
    assert declared["hoist_attribute_lookup"] == 8
    need = Need("hoist_attribute_lookup", 8)
    assert need.unmet(3) == "recorded calls iterate at most 3 items"
    assert need.unmet(8) is None and need.unmet(None) is None  # nothing seen: kept
    candidate = Candidate(
        "x", TargetRef.parse("a.py::f"), "rules", {}, "s", provenance={"needs": [need.as_json()]}
    )
    assert needs_of(candidate) == [need]
    assert plural(1, "target") == "1 target" and plural(2, "target") == "2 targets"


@pytest.mark.parametrize("largest", [-1, "3", 2**40, True, 1.5])
def test_a_dump_with_a_bad_size_is_refused(largest: object) -> None:
    with pytest.raises(_MalformedDump, match="largest"):
        _entry({"calls": [], "tests": [], "largest": largest}, 16)
    assert _entry({"calls": [], "tests": [], "largest": 12}, 16).largest == 12


def test_the_recorder_notes_the_largest_argument() -> None:
    """The harness's size of a call: containers, counts, one level in, objects' attributes."""
    path = Path(__file__).parents[1] / "agent" / "_harness" / "sitecustomize.py"
    spec = importlib.util.spec_from_file_location("evolver_harness_under_test", path)
    assert spec is not None and spec.loader is not None
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)  # does nothing without EVOLVER_* in the environment

    class Holder:
        def __init__(self) -> None:
            self.items = list(range(50))

    class Slotted:
        __slots__ = ("x",)

    size = harness._call_size
    assert size(([1, 2], "abc"), {}) == 3
    assert size(([[0] * 40, [1]],), {}) == 40  # rows of a table
    assert size((Holder(),), {}) == 50  # self.items
    assert size((7, None, 2.5, Slotted()), {"n": 12}) == 12  # a count, as in range(n)
    assert size((True, None), {}) == -1  # nothing with a size
