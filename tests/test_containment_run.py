"""Candidates that misbehave are contained by the sandbox, rejected with a reason, and the run
goes on: a hang, a huge allocation, a fork bomb, a network connection, reading an API key,
deleting a file outside their copy."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import loop
from agent.domain import RunReport
from sandbox import protection
from tests.conftest import Offer, StaticProvider, init_repo, run_config
from tests.loopback import ConnectionListener

pytestmark = pytest.mark.pipeline

SECRET = "sk-evolver-test-secret-0123456789"

# The original already reaches everything the candidates below abuse (in a branch no call
# takes), so the static capability stage lets them through: the sandbox is what must hold.
HEADER = "import os\nimport socket\nimport time\n\n\n"
ORIGINAL = (
    HEADER
    + """def total(values: list[int]) -> int:
    if not values and any(name.startswith("TOTAL_") for name in os.environ):
        socket.create_connection(("127.0.0.1", 9), timeout=0.1).close()
        time.sleep(0)
        if os.fork() == 0:
            os._exit(0)
        os.remove(os.devnull)
    result = 0
    for value in values:
        result = result + value
    return result
"""
)


def misbehaving(body: str) -> str:
    """``total`` that does something first, then the right thing quickly."""
    return (
        HEADER
        + "def total(values: list[int]) -> int:\n"
        + textwrap.indent(textwrap.dedent(body).strip() + "\nreturn sum(values)\n", "    ")
    )


def candidates(port: int, outside: Path) -> dict[str, tuple[str, str]]:
    """name → (code, words the rejection reason must contain)."""
    return {
        "hangs": (misbehaving("while True:\n    pass"), "did not finish in"),
        "allocates 6 GB": (
            misbehaving("hog = b'x' * (6 * 1024**3)\nassert hog"),
            "hit the sandbox's memory limit",
        ),
        "fork bomb": (
            misbehaving(
                """
                for _ in range(5000):
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                """
            ),
            "hit the sandbox's pids limit",
        ),
        "connects out": (
            misbehaving(f"socket.create_connection(('127.0.0.1', {port}), timeout=2)"),
            "raises",
        ),
        "reads an API key": (
            misbehaving("values = values + [len(os.environ['OPENAI_API_KEY'])]"),
            "raises KeyError",
        ),
        "deletes a file outside": (
            misbehaving(f"os.remove({str(outside)!r})"),
            "raises",
        ),
    }


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Under /var/tmp, not /tmp: the sandbox hides /tmp, and this must be a real, visible file.
    place = Path(os.environ.get("EVOLVER_TEST_OUTSIDE", "/var/tmp")) / f"evolver-{os.getpid()}"
    place.mkdir(exist_ok=True)
    victim = place / "precious.txt"
    victim.write_text("keep me")
    return victim


@pytest.fixture(scope="module")
def report(
    tmp_path_factory: pytest.TempPathFactory,
    listener: ConnectionListener,
    outside: Path,
) -> Iterator[RunReport]:
    repo = init_repo(
        tmp_path_factory.mktemp("contain") / "repo",
        {
            "pkg/__init__.py": "",
            "pkg/funcs.py": ORIGINAL,
            "tests/test_funcs.py": """
                from pkg.funcs import total


                def test_total():
                    assert total(list(range(100))) == 4950
                    assert total([]) == 0
            """,
        },
    )
    offers = [
        Offer(name, {"pkg/funcs.py": code})
        for name, (code, _) in candidates(listener.port, outside).items()
    ]
    os.environ["OPENAI_API_KEY"] = SECRET
    try:
        config = run_config(
            repo,
            targets=("pkg/funcs.py::total",),
            rounds=1,
            candidates=10,
            branch="evolver/contain",
            memory_mb=1024,  # the same mechanism as the default 4 GB, sooner
            confirm=False,
        )
        yield loop.run(config, StaticProvider(offers), loop.Silent())
    finally:
        del os.environ["OPENAI_API_KEY"]


NAMES = list(candidates(0, Path("/x")))


@pytest.mark.parametrize("name", NAMES)
def test_each_is_rejected_with_its_reason(
    report: RunReport, name: str, listener: ConnectionListener, outside: Path
) -> None:
    [outcome] = [o for o in report.outcomes if o.candidate.summary == name]
    words = candidates(listener.port, outside)[name][1]
    assert not outcome.verdict.accepted
    assert words in outcome.verdict.reason, outcome.verdict.reason


def test_the_run_completes_and_nothing_escaped(
    report: RunReport, listener: ConnectionListener, outside: Path
) -> None:
    assert sorted(o.candidate.summary for o in report.outcomes) == sorted(NAMES)
    assert listener.accepted == [], "a candidate reached the host's network"
    assert SECRET not in repr(report)
    if protection().writes_outside_blocked:
        assert outside.read_text() == "keep me"
