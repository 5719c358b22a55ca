"""The real-repo benchmark's parts, fast: its manifest, the neutral probe, the branch's suite
check, and one end-to-end run of the runner on a tiny sdist built here (the benchmark itself
runs for an hour and is not run by the tests)."""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

from agent.domain import Metrics, Outcome, Target, TargetRef, Verdict
from agent.providers import PROVIDERS
from agent.providers.base import ProposalRequest
from agent.providers.neutral import NeutralProvider
from agent.verify.scope import check_static
from evals.realrepos.fetch import FetchError, cached_sdist, make_repo, sha256_of
from evals.realrepos.judgeability import target_judgements
from evals.realrepos.manifest import ManifestError, RepoSpec, load_manifest, select
from evals.realrepos.suite import check_branch
from tests.conftest import git, init_repo

TINY_SOURCE = '''\
"""A tiny library."""


def total_length(words):
    """The summed length of the words."""
    total = 0
    for word in words:
        total += len(word)
    return total


def shout(text): return text.upper()
'''
TINY_TESTS = """\
from tiny import shout, total_length


def test_total_length():
    assert total_length(["ab", "c"]) == 3
    assert total_length([]) == 0


def test_shout():
    assert shout("hi") == "HI"
"""
TINY_WORKLOAD = """\
from tiny import total_length

words = [f"word{i}" for i in range(200)]
print(sum(total_length(words[: i % 50]) for i in range(3000)))
"""


def test_the_manifest_pins_at_least_five_sdists_with_tests_and_workloads() -> None:
    specs = load_manifest()
    assert len(specs) >= 5
    for spec in specs:
        assert len(spec.sha256) == 64 and spec.version and spec.test_command.startswith("pytest")
        assert spec.requirement == f"{spec.project}=={spec.version} --hash=sha256:{spec.sha256}"
        ast.parse(spec.workload)  # a script, which the manifest's loader compiles too
        assert "import" in spec.workload
    assert [spec.name for spec in select(specs, ["toolz", "sqlparse"])] == ["toolz", "sqlparse"]
    with pytest.raises(ManifestError, match="unknown repos: nope"):
        select(specs, ["nope"])


def test_a_manifest_entry_without_a_hash_is_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "repos.toml"
    manifest.write_text(
        '[[repo]]\nname = "x"\nproject = "x"\nversion = "1"\nsha256 = ""\n'
        'test_command = "pytest"\nworkload = "print(1)"\n'
    )
    with pytest.raises(ManifestError, match="missing sha256"):
        load_manifest(manifest)


def target_in(source: str, qualname: str) -> Target:
    tree = ast.parse(source)
    line = next(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == qualname.split(".")[-1]
    )
    return Target(TargetRef("tiny/__init__.py", qualname), "", line, Metrics(1, 1.0, 100.0, 5))


VERDICT = Verdict(False, "speed", "not proven faster")
CLASS_SOURCE = """\
class Box:
    @property
    def size(self):
        return self._size

    @size.setter
    def size(self, value):
        if value < 0:
            raise ValueError("negative")
        self._size = value
"""


LOOP_SOURCE = """\
def count(items):
    for item in items:
        yield item
"""


@pytest.mark.parametrize(
    ("source", "qualname", "new_lines"),
    [
        (TINY_SOURCE, "total_length", 0),  # after the docstring: `pass; total = 0`
        (TINY_SOURCE, "shout", 0),  # `def shout(text): pass; return text.upper()`
        (CLASS_SOURCE, "Box.size", 0),  # the getter (at the target's line), not the setter
        (LOOP_SOURCE, "count", 1),  # a compound statement first: `pass` on a line of its own
    ],
)
def test_the_neutral_candidate_parses_differs_and_stays_in_scope(
    source: str, qualname: str, new_lines: int
) -> None:
    target = target_in(source, qualname)
    provider = PROVIDERS["neutral"](None, None)  # type: ignore[arg-type]  # it needs neither
    assert provider.name == "neutral"
    (candidate,) = provider.propose(ProposalRequest(target, source, limit=4))
    new = candidate.files[target.ref.path]
    assert new != source
    ast.parse(new)
    assert check_static(candidate, target, source) is None
    assert new.count("pass") == source.count("pass") + 1
    # No line moves where it can be helped: line numbers are visible to code.
    assert len(new.splitlines()) == len(source.splitlines()) + new_lines
    if qualname == "Box.size":
        assert "pass; return self._size" in new


def test_the_neutral_provider_proposes_once_per_target() -> None:
    target = target_in(TINY_SOURCE, "total_length")
    provider = NeutralProvider()
    (first,) = provider.propose(ProposalRequest(target, TINY_SOURCE, limit=4))
    later = ProposalRequest(target, TINY_SOURCE, limit=4, history=(Outcome(first, VERDICT),))
    assert provider.propose(later) == []
    missing = Target(TargetRef("tiny/__init__.py", "gone"), "", 1, target.metrics)
    assert provider.propose(ProposalRequest(missing, TINY_SOURCE, limit=4)) == []


def test_the_neutral_candidate_behaves_as_the_original() -> None:
    target = target_in(TINY_SOURCE, "total_length")
    (candidate,) = NeutralProvider().propose(ProposalRequest(target, TINY_SOURCE, 1))
    original: dict[str, Any] = {}
    changed: dict[str, Any] = {}
    exec(TINY_SOURCE, original)
    exec(candidate.files[target.ref.path], changed)
    for words in ([], ["a"], ["ab", "cde", ""]):
        assert changed["total_length"](words) == original["total_length"](words)
    assert changed["total_length"].__doc__ == original["total_length"].__doc__


def test_judgeability_needs_a_behaviour_comparison_and_a_timing() -> None:
    report = {
        "version": 1,
        "targets": [{"target": t} for t in ("m.py::timed", "m.py::untimed", "m.py::none")]
        + [{"target": "m.py::blind"}, {"target": "m.py::accepted"}, {"target": "m.py::whole"}],
        "candidates": [
            {"target": "m.py::timed", "verdict": "rejected", "stage": "speed", "speedup": 1.0,
             "reason": "not proven faster"},
            {"target": "m.py::untimed", "verdict": "rejected", "stage": "speed", "speedup": None,
             "reason": "no recorded calls to time it on: 3 calls had arguments that could not "
             "be pickled"},
            {"target": "m.py::blind", "verdict": "rejected", "stage": "speed", "speedup": 1.0,
             "reason": "behaviour: not compared (arguments not picklable); too noisy to decide"},
            {"target": "m.py::accepted", "verdict": "accepted", "stage": "speed", "speedup": 2.0,
             "reason": "", "evidence": {"differential": "same results on 3 calls"}},
            {"target": "m.py::whole", "verdict": "accepted", "stage": "speed", "speedup": 1.2,
             "reason": "", "evidence": {"behaviour": "not compared per call (arguments not "
             "picklable): the workload's and the tests' outputs compared end to end"}},
        ],
    }  # fmt: skip
    judged = {j.target: j.judged for j in target_judgements(report)}
    assert judged == {
        "m.py::timed": True,
        "m.py::untimed": False,
        "m.py::none": False,
        "m.py::blind": False,
        "m.py::accepted": True,
        "m.py::whole": True,
    }
    rejected_at_behaviour = {"target": "m.py::x", "verdict": "rejected", "stage": "equivalence"}
    (judgement,) = target_judgements(
        {"version": 1, "targets": [], "candidates": [rejected_at_behaviour]}
    )
    assert not judgement.candidates[0].compared and not judgement.judged


def make_sdist(root: Path, name: str, files: dict[str, str]) -> Path:
    """``root/<name>.tar.gz`` holding ``files`` under ``<name>/``, as an sdist does."""
    archive = root / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path, text in files.items():
            data = textwrap.dedent(text).encode()
            info = tarfile.TarInfo(f"{name}/{path}")
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    return archive


def tiny_spec(sha256: str) -> RepoSpec:
    return RepoSpec(
        name="tiny",
        project="tiny",
        version="0.1",
        sha256=sha256,
        test_command="pytest",
        workload=TINY_WORKLOAD,
    )


def test_sdists_are_cached_by_verified_hash_and_make_reproducible_repos(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "tiny-0.1", {"tiny/__init__.py": TINY_SOURCE})
    spec = tiny_spec(sha256_of(sdist))
    cache = tmp_path / "cache"
    (cache / spec.sha256).mkdir(parents=True)
    (cache / spec.sha256 / sdist.name).write_bytes(b"not the sdist")
    assert cached_sdist(spec, cache) is None  # a file with another hash is not it
    (cache / spec.sha256 / sdist.name).write_bytes(sdist.read_bytes())
    assert cached_sdist(spec, cache) == cache / spec.sha256 / sdist.name
    first = make_repo(spec, sdist, tmp_path / "a")
    second = make_repo(spec, sdist, tmp_path / "b")
    assert first == second  # fixed author and date: the same commit
    assert (tmp_path / "a" / "workload.py").read_text() == TINY_WORKLOAD


def test_an_sdist_member_outside_its_directory_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil-1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("evil-1/../../escaped.py")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(FetchError, match="leaves the archive"):
        make_repo(tiny_spec(sha256_of(archive)), archive, tmp_path / "repo")
    assert not (tmp_path / "escaped.py").exists()


def test_the_suite_check_counts_the_commit_that_breaks_the_tests(tmp_path: Path) -> None:
    repo = init_repo(
        tmp_path / "repo", {"tiny/__init__.py": TINY_SOURCE, "tests/test_tiny.py": TINY_TESTS}
    )
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "result")
    for old, new in (("total = 0", "total = 0  # fine"), ("text.upper()", "text.lower()")):
        path = repo / "tiny" / "__init__.py"
        path.write_text(path.read_text().replace(old, new))
        git(repo, "commit", "-q", "-am", new)
    broken = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")

    check = check_branch(repo, base, "result", "pytest")

    assert not check.passed and check.commits == 2
    assert check.broken == {broken: ["tests/test_tiny.py::test_shout"]}
    assert check_branch(repo, base, "main", "pytest").passed


def test_the_runner_runs_evolver_end_to_end_and_resumes(tmp_path: Path) -> None:
    sdist = make_sdist(
        tmp_path,
        "tiny-0.1",
        {"tiny/__init__.py": TINY_SOURCE, "tests/test_tiny.py": TINY_TESTS},
    )
    sha = sha256_of(sdist)
    cache = tmp_path / "cache"
    (cache / sha).mkdir(parents=True)
    (cache / sha / sdist.name).write_bytes(sdist.read_bytes())  # no index needed
    manifest = tmp_path / "repos.toml"
    manifest.write_text(
        f'[[repo]]\nname = "tiny"\nproject = "tiny"\nversion = "0.1"\nsha256 = "{sha}"\n'
        f"test_command = \"pytest\"\nworkload = '''\n{TINY_WORKLOAD}'''\n"
    )
    out = tmp_path / "out"
    argv = [
        sys.executable, "-m", "evals.realrepos", "--provider", "neutral", "--out", str(out),
        "--manifest", str(manifest), "--cache", str(cache), "--max-targets", "1",
    ]  # fmt: skip

    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)

    assert done.returncode == 0, done.stderr + (out / "tiny.log").read_text()
    summary = json.loads((out / "summary.json").read_text())
    (record,) = summary["repos"]
    assert record["status"] == "ok" and record["exit_code"] == 0
    assert record["targets"] == 1 and record["candidates"] == 1
    assert record["committed"] == 0 and record["broken_commits"] == 0
    assert record["speedup"] is None  # nothing committed, nothing confirmed
    (target,) = record["per_target"]
    assert target["target"] == "tiny/__init__.py::total_length"
    (candidate,) = target["candidates"]
    # The probe behaves as the original: never rejected at behaviour; a plain function with
    # recordable arguments is compared and timed, so the target is judged.
    assert candidate["stage"] == "speed" and candidate["verdict"] == "rejected"
    assert target["judged"] and record["judgeability"] == 1.0
    assert summary["totals"]["judged"] == 1 and summary["totals"]["broken_commits"] == 0
    markdown = (out / "summary.md").read_text()
    assert "| tiny 0.1 | 1 | 1 | 0 | 0 | 0 | none (nothing committed) | 1/1 (100%) |" in markdown
    assert "tiny/__init__.py::total_length" in markdown

    again = subprocess.run(argv, capture_output=True, text=True, timeout=120)

    assert again.returncode == 0, again.stderr
    resumed = json.loads((out / "summary.json").read_text())["repos"][0]
    assert resumed["resumed"] and resumed["judgeability"] == 1.0
