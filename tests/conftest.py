"""What the tests share: real temporary git repositories (and a way to see that one did not
change), the virtual environment their projects run with, a provider that serves fixed
candidates, and loopback servers started as fixtures."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import venv
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from agent.config import RunConfig, load_config
from agent.domain import Candidate, Outcome, Target
from agent.project.interpreter import normalize
from agent.providers.base import ProposalRequest, candidate_id
from tests.loopback import ConnectionListener, Serving

GIT_ID = ["-c", "user.name=Test", "-c", "user.email=test@localhost"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with whole-pipeline tests first, each module's tests kept together and in order:
    with one worker per module (scripts/test, which keeps this order), the long modules start
    at once and the short ones fill in at the end, so that no worker waits long for the other."""
    heavy = {item.path for item in items if item.get_closest_marker("pipeline") is not None}
    items.sort(key=lambda item: item.path not in heavy)


EVOLVER = [sys.executable, "-m", "agent"]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *GIT_ID, *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def write_files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def init_repo(path: Path, files: Mapping[str, str] | None = None, message: str = "initial") -> Path:
    """``path`` made a git repository on ``main`` whose one commit holds ``files`` (dedented)
    and whatever ``path`` already held; returns ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    write_files(path, dict(files or {}))
    git(path, "add", "-A")
    git(path, "commit", "--quiet", "-m", message)
    return path


MakeRepo = Callable[[dict[str, str]], Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """A git repository holding ``files`` in one commit on ``main`` (a new one each call)."""
    counter = iter(range(100))
    return lambda files: init_repo(tmp_path / f"repo{next(counter)}", files)


def repo_state(repo: Path) -> dict[str, object]:
    """Everything evolver must leave alone: files (tracked or not), index, refs, stash."""
    files = {}
    for path in sorted(repo.rglob("*")):
        parts = path.relative_to(repo).parts
        if ".git" in parts or parts[0] == ".evolver" or not path.is_file():  # its history
            continue
        files[str(path.relative_to(repo))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return {
        "files": files,
        "head": git(repo, "rev-parse", "HEAD"),
        "branch": git(repo, "rev-parse", "--abbrev-ref", "HEAD"),  # "HEAD" when detached
        "status": git(repo, "status", "--porcelain"),
        "index": hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest(),
        "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "stash": git(repo, "stash", "list"),
        "worktrees": git(repo, "worktree", "list", "--porcelain"),
    }


def evolver(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess."""
    return subprocess.run(
        [*EVOLVER, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


InProcess = Callable[..., tuple[int, str]]


@pytest.fixture
def evolver_here(capsys: pytest.CaptureFixture[str]) -> Iterator[InProcess]:
    """``evolver ARGS`` run in this process, as ``python -m agent`` runs it: its exit code and
    its stderr. For usage errors, which stop before any run starts (a process of its own
    spends most of its time importing). ``main`` takes over SIGTERM and SIGINT; they are
    given back."""
    from agent.cli.main import main

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def invoke(*argv: str) -> tuple[int, str]:
        capsys.readouterr()  # only what this call writes
        with pytest.raises(SystemExit) as exited:
            main(list(argv))
        assert isinstance(exited.value.code, int)
        return exited.value.code, capsys.readouterr().err

    yield invoke
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


# What the suite's runs are set to by default, as a user's own config.toml sets theirs (see
# agent/config.py): timing samples of 10 ms, not 50. The tests check verdicts, not figures
# (the statistic keeps its level at any sample length; the intervals only widen), and this
# makes the suite about 2 minutes quicker. (Before the timing marks were stamped by the kernel,
# our clock read them late on a loaded machine and disagreed with the process's own.)
USER_CONFIG = "min_time = 0.01\n"


@pytest.fixture(scope="session", autouse=True)
def user_config() -> Iterator[Path]:
    """Every test's ``XDG_CONFIG_HOME``: a folder holding ``evolver/config.toml`` with
    ``USER_CONFIG``, never the config of whoever runs the suite."""
    with tempfile.TemporaryDirectory(prefix="evolver-user-config-") as folder:
        path = Path(folder) / "evolver" / "config.toml"
        path.parent.mkdir()
        path.write_text(USER_CONFIG, encoding="utf-8")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("XDG_CONFIG_HOME", folder)
            yield path


def run_config(repo: Path, **fields: object) -> RunConfig:
    """``fields`` as a run of the command line would get them: over the user's config.toml
    (in the suite, ``USER_CONFIG``), for the tests that run the loop in this process."""
    return load_config(repo, None, fields)


# What a test repository's own virtual environment holds: pytest and pytest-benchmark, linked
# from ours, as a user's project venv would, rather than Evolver's environment, whose other
# pytest plugins (hypothesis, xdist, anyio, timeout) cost every pytest run of the project's
# tests in a sandbox about a second. Tests of the other ways to find an interpreter (the
# repo's .venv, --python, Evolver's own) say so themselves.
PROJECT_DISTRIBUTIONS = ("pytest", "pytest-benchmark")


@pytest.fixture(scope="session", autouse=True)
def project_venv() -> Iterator[Path]:
    """The active virtual environment (``VIRTUAL_ENV``) for every test: a venv of its own
    holding only ``PROJECT_DISTRIBUTIONS`` and what they require, code and metadata. Not
    under pytest's temporary folder, which only we may enter: sandboxed commands run as
    another user."""
    with tempfile.TemporaryDirectory(prefix="evolver-project-venv-") as folder:
        os.chmod(folder, 0o755)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("VIRTUAL_ENV", str(_make_venv(Path(folder))))
            yield Path(folder)


def _make_venv(path: Path) -> Path:
    venv.EnvBuilder(symlinks=True, with_pip=False).create(path)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = path / "lib" / version / "site-packages"
    for distribution in _closure(PROJECT_DISTRIBUTIONS):
        tops = {file.parts[0] for file in distribution.files or () if file.parts}
        for top in tops - {"..", "__pycache__"}:
            source = Path(str(distribution.locate_file(top)))
            if source.exists():
                (site / top).symlink_to(source)
    return path


def _closure(names: Sequence[str]) -> list[importlib.metadata.Distribution]:
    """``names`` and the distributions they require here, recursively (no extras): what
    ``agent.project.interpreter`` lends the harness, but with metadata and without a project
    interpreter to leave anything out for."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        distribution = importlib.metadata.distribution(todo.pop())
        name = normalize(distribution.metadata["Name"])
        if name in found:
            continue
        found[name] = distribution
        for text in distribution.requires or ():
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return list(found.values())


DEMO = Path(__file__).parents[1] / "examples" / "demo"


def task_repo_files(task: Path) -> dict[str, str]:
    """The files of an eval task's ``repo/`` (``evals/tasks/<name>``), by relative path."""
    root = task / "repo"
    return {
        str(path.relative_to(root)): path.read_text(encoding="utf-8")
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def outcome_of(outcomes: Sequence[Outcome], summary: str) -> Outcome:
    """The one outcome of the candidate with that summary."""
    [found] = [o for o in outcomes if o.candidate.summary == summary]
    return found


def demo_repo(path: Path) -> Path:
    """A fresh git repository holding a copy of the bundled demo project."""
    shutil.copytree(DEMO, path)
    return init_repo(path, message="demo")


def demo_workload(benchmark: str) -> str:
    """A workload of the demo's one benchmark ``benchmark`` (a ``-k`` expression): for tests
    about something other than what the profile finds, at a fifth of the whole profile's cost."""
    return f"python -m pytest -q -p no:cacheprovider benchmarks -k {benchmark} --benchmark-disable"


def run_tests_on_branch(repo: Path, branch: str, into: Path) -> subprocess.CompletedProcess[str]:
    """Clone ``branch`` of ``repo`` into ``into`` and run its tests there with pytest."""
    git(into.parent, "clone", "--quiet", "--branch", branch, str(repo), str(into))
    return run_project_tests(into)


def run_project_tests(checkout: Path) -> subprocess.CompletedProcess[str]:
    """The project's tests in ``checkout``, with its interpreter (:func:`project_venv`)."""
    python = Path(os.environ["VIRTUAL_ENV"]) / "bin" / "python"
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )


# A small project where one rule applies: `k in d.keys()` in a hot loop.
KEYS_PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": """
        def count_known(d, keys):
            total = 0
            for k in keys:
                if k in d.keys():
                    total += 1
            return total


        def double(x):
            return x * 2
    """,
    "tests/test_core.py": """
        from pkg.core import count_known, double


        def test_count_known():
            d = {i: i for i in range(1000)}
            assert count_known(d, list(range(0, 300000, 3))) == 334
            assert count_known({}, []) == 0


        def test_double():
            assert double(2) == 4
    """,
}


@dataclass(frozen=True)
class Offer:
    """One fixed candidate: the new text of each file it rewrites, for ``target`` (a
    qualname) only, or for every target when ``target`` is None."""

    summary: str
    files: Mapping[str, str]
    target: str | None = None


@dataclass
class StaticProvider:
    """A provider (``agent/providers/base.py``) that answers every request with the offers
    for its target, in order, whatever the round; it keeps the requests it was asked."""

    offers: Sequence[Offer]
    name: str = "hand"
    requests: list[ProposalRequest] = field(default_factory=list)

    def propose(self, request: ProposalRequest) -> list[Candidate]:
        self.requests.append(request)
        target = request.target
        return [
            Candidate(
                _offer_id(target, offer),
                target.ref,
                self.name,
                dict(offer.files),
                offer.summary,
            )
            for offer in self.offers
            if offer.target in (None, target.ref.qualname)
        ]


def _offer_id(target: Target, offer: Offer) -> str:
    """The id a real provider gives the edit: that of the target file's new text (of every
    file, when the offer leaves the target's file alone)."""
    text = offer.files.get(target.ref.path, repr(sorted(offer.files.items())))
    return candidate_id(target, text)


@pytest.fixture
def loopback() -> Iterator[Serving]:
    """Starts loopback servers for one test: ``server = loopback(LLMServer([...]))``; each is
    stopped when the test ends."""
    with Serving() as serving:
        yield serving


@pytest.fixture(scope="module")
def module_loopback() -> Iterator[Serving]:
    """``loopback`` for the module-scoped fixtures of one module (its shared runs)."""
    with Serving() as serving:
        yield serving


@pytest.fixture(scope="module")
def listener() -> Iterator[ConnectionListener]:
    """A loopback socket on the host that notes every connection it gets: a sandboxed
    candidate must never reach it."""
    with ConnectionListener() as listening:
        yield listening
