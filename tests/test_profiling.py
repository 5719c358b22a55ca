"""Attribution of a real cProfile run to the repository's own functions; a workload that
fails is bad input."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from agent.domain import TargetRef
from agent.errors import UsageError
from agent.profile.profiling import Profile, profile_workload
from agent.profile.workload import outside_paths
from agent.project.runner import Project
from agent.rank.ranking import rank
from sandbox import Sandbox, _confine
from tests.conftest import KEYS_PROJECT, MakeRepo, evolver, repo_state, write_files
from tests.test_cli_errors import assert_usage_error, exited

FILES = {
    "app/__init__.py": "",
    "app/work.py": """
        import functools


        def drain(n):
            queue = list(range(n))
            while queue:
                queue.pop(0)  # library time, spent on drain's behalf
            return n


        def squares(n):
            return sum([i * i for i in range(n)])  # the comprehension is squares' own time


        class Grid:
            @functools.lru_cache(maxsize=None)
            def cell(self, x):
                return x


        def cheap():
            return 1
    """,
    "tests/test_work.py": """
        from app.work import Grid, cheap, drain, squares


        def test_all():
            assert drain(30000) == 30000
            assert squares(300000) > 0
            assert Grid().cell(3) == 3
            assert cheap() == 1
            for _ in range(100000):  # test code is never a target
                pass
    """,
}


def test_time_goes_to_the_functions_that_spend_it(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write_files(source, FILES)
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        profile = profile_workload(Project(), sandbox)
    functions = profile.functions
    assert all(f.own_time <= f.cum_time for f in functions.values())
    drain, squares = TargetRef("app/work.py", "drain"), TargetRef("app/work.py", "squares")
    assert set(functions) >= {drain, squares, TargetRef("app/work.py", "cheap")}
    assert not any(ref.path.startswith("tests/") for ref in functions)
    assert functions[drain].own_time > 0.5 * functions[drain].cum_time > 0
    assert functions[squares].own_time > 0.5 * functions[squares].cum_time > 0
    assert functions[drain].calls == 1
    assert profile.workload == "the test suite"
    ranked = [t.ref for t in rank(source, functions, limit=2)]
    assert set(ranked) == {drain, squares}


# One-line wrappers whose library call runs the repository's code back: the time is the
# code's own (words, weight, the genexpr in squares_text), never the wrapper's too.
CALLBACK_FILES = {
    "app/__init__.py": "",
    "app/text.py": """
        import functools


        def words(n):
            for i in range(n):
                yield str(i * i % 9973) + "," + str(i % 7)


        def joined(n):
            return "".join(words(n))


        def weight(x):
            total = 0
            for k in range(40):
                total += (x * k) % 7
            return total


        def total_weight(xs):
            return sum(map(weight, xs))


        def by_weight(xs):
            return sorted(xs, key=weight)


        def folded(xs):
            return functools.reduce(lambda a, b: a + weight(b), xs, 0)


        def squares_text(n):
            return "".join(str(i * i) for i in range(n))


        def evens(xs):
            return (x for x in xs if x % 2 == 0)  # run by whoever consumes it


        def count_evens(xs):
            return sum(1 for _ in evens(xs))
    """,
    "bench.py": """
        from app.text import (
            by_weight, count_evens, folded, joined, squares_text, total_weight,
        )

        xs = list(range(20000))
        joined(150000)
        total_weight(xs)
        by_weight(xs)
        folded(xs)
        squares_text(100000)
        count_evens(list(range(1000000)))
    """,
}


def _ref(qualname: str) -> TargetRef:
    return TargetRef("app/text.py", qualname)


def test_library_calls_that_run_repository_code_count_it_once(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write_files(source, CALLBACK_FILES)
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        profile = profile_workload(Project(workload="python bench.py"), sandbox)
    functions = profile.functions
    for ref, figures in functions.items():
        assert figures.own_time <= figures.cum_time, ref
    own = {ref.qualname: figures.own_time for ref, figures in functions.items()}
    # The wrappers keep only what they do themselves: tiny next to the code they run back.
    assert own["joined"] < 0.6 * own["words"]
    for wrapper in ("total_weight", "by_weight", "folded"):
        assert own[wrapper] < 0.2 * own["weight"], wrapper
    # A generator expression's time is its function's, when it runs beneath it...
    squares = functions[_ref("squares_text")]
    assert squares.own_time > 0.7 * squares.cum_time
    # ...and not when another function consumes the generator it returned.
    assert own["evens"] < 0.5 * own["count_evens"]
    assert functions[_ref("evens")].own_time <= functions[_ref("evens")].cum_time
    ranked = [t.ref for t in rank(source, functions, limit=3)]
    assert ranked[0] == _ref("weight")
    assert not {_ref(w) for w in ("joined", "total_weight", "by_weight", "folded")} & set(
        ranked[:2]
    )


def _profile(tmp_path: Path, files: dict[str, str], project: Project) -> Profile:
    source = tmp_path / "src"
    write_files(source, files)
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        return profile_workload(project, sandbox)


KILL = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
SMALL = {"app/__init__.py": "", "app/core.py": "def f():\n    return 1\n"}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "import sys; print('setup done'); print('no such table: t', file=sys.stderr); "
            "sys.exit(3)",
            "failed with exit code 3: no such table: t",
        ),
        (KILL, "failed with exit code 137 (killed by signal 9): Killed"),  # as the shell says
        ("exec", "was killed by signal 9: no output"),
    ],
)
def test_a_failing_workload_is_bad_input(tmp_path: Path, code: str, message: str) -> None:
    workload = f"python -c {shlex.quote(code)}" if code != "exec" else f"exec python -c '{KILL}'"
    with pytest.raises(UsageError) as raised:
        _profile(tmp_path, SMALL, Project(workload=workload))
    assert str(raised.value) == f"the workload ({workload}) {message}"


@pytest.mark.skipif(
    _confine.choose().name != "bubblewrap", reason="only bubblewrap hides the rest of /tmp"
)
def test_a_workload_script_the_sandbox_cannot_see_is_bad_input(tmp_path: Path) -> None:
    script = tmp_path / "outside" / "bench.py"
    write_files(script.parent, {"bench.py": "import app.core\napp.core.f()\n"})
    with pytest.raises(UsageError, match=r"failed with exit code 2: .*bench\.py"):
        _profile(tmp_path, SMALL, Project(workload=f"python {script}"))


FLAKY = {
    **SMALL,
    "tests/test_core.py": """
        from app.core import f


        def test_f():
            assert f() == 1


        def test_sometimes():
            assert False  # failing this time; the baseline found it flaky
    """,
}


def test_tests_flaky_on_head_may_fail_while_profiled(tmp_path: Path) -> None:
    flaky = Project(flaky_tests=("tests/test_core.py::test_sometimes",))
    profile = _profile(tmp_path / "flaky", FLAKY, flaky)
    assert TargetRef("app/core.py", "f") in profile.functions
    assert any("exit code 1" in note for note in profile.notes)
    with pytest.raises(UsageError, match="the workload \\(the test suite\\) failed"):
        _profile(tmp_path / "not", FLAKY, Project())


def test_cli_failing_workload_exits_2_and_leaves_the_repository(make_repo: MakeRepo) -> None:
    repo = make_repo(KEYS_PROJECT)
    before = repo_state(repo)
    done = evolver("run", str(repo), "--workload", 'python -c "import sys; sys.exit(3)"')
    assert_usage_error(*exited(done), "the workload (python -c", "failed with exit code 3")
    assert repo_state(repo) == before


def test_outside_paths_names_existing_files_outside_the_repository(tmp_path: Path) -> None:
    repo, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    write_files(repo, {"bench.py": "", "data/in.sql": ""})
    write_files(
        elsewhere, {"run.py": "", "big.sql": "", "cfg.toml": "", "out.txt": "", "t.sql": ""}
    )
    os.symlink(elsewhere / "t.sql", repo / "data" / "linked.sql")
    command = (
        f"cd {repo} && {sys.executable} {elsewhere}/run.py --input={elsewhere}/big.sql "
        f"CFG={elsewhere}/cfg.toml bench.py data/in.sql data/linked.sql ../elsewhere/run.py "
        f"{elsewhere}/missing.py {elsewhere} > {elsewhere}/out.txt; echo 'python -c x'"
    )
    found = outside_paths(command, repo, cwd=repo)
    assert found == [
        Path(sys.executable),
        elsewhere / "run.py",
        elsewhere / "big.sql",
        elsewhere / "cfg.toml",
        Path(os.path.realpath(elsewhere / "t.sql")),
        elsewhere / "out.txt",
    ]
    assert outside_paths("python bench.py", repo, cwd=repo) == []
    assert outside_paths("python run.py 'unclosed", repo, cwd=elsewhere) == [elsewhere / "run.py"]


def test_cli_shows_a_workload_script_outside_the_repository(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """The user named it: the sandbox may read it (and nothing else of where it lives)."""
    repo = make_repo(KEYS_PROJECT)
    script = tmp_path / "elsewhere" / "bench.py"
    write_files(
        script.parent,
        {"bench.py": "from pkg.core import count_known\n"
         "count_known({i: i for i in range(500)}, list(range(200000)))\n"},
    )  # fmt: skip
    report = tmp_path / "profile.json"
    done = evolver("profile", str(repo), "--workload", f"python {script}", "--json", str(report))
    assert done.returncode == 0, done.stderr
    assert "pkg/core.py::count_known" in report.read_text()
