"""The project's own interpreter: found, checked, lent what the harness needs, and used.

A real venv without Evolver in it (pytest 8, none of Evolver's other packages), made once for
the module; the end-to-end test (SLOW, about 40 s: ``-k project_venv_end_to_end``) runs
``evolver run`` on a repo whose ``.venv`` it is and checks that the venv is unchanged.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import load_config
from agent.errors import UsageError
from agent.project.interpreter import (
    HARNESS_IMPORTS,
    find_python,
    lend_harness_libraries,
    probe,
)
from agent.project.runner import HARNESS_DIR, open_project, project_for
from agent.project.workspace import Workspace
from tests.conftest import KEYS_PROJECT, evolver, git, init_repo, write_files

PROJECT_PYTEST = "pytest<9"  # not Evolver's pytest (9.x): the project's own must be the one used


@pytest.fixture(scope="module")
def project_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``<dir>/project/.venv``: a venv with the project's pytest and nothing of Evolver's."""
    venv = tmp_path_factory.mktemp("interpreter") / "project" / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # pip's own configuration here points at this machine's local indexes and wheels.
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", PROJECT_PYTEST],
        check=True,
        capture_output=True,
    )
    yield venv


def freeze(venv: Path) -> str:
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "freeze", "--all"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def tree(venv: Path) -> dict[str, tuple[int, int]]:
    """Every file of ``venv`` with its size and modification time: a cache written counts."""
    return {
        str(path.relative_to(venv)): (path.lstat().st_size, path.lstat().st_mtime_ns)
        for path in venv.rglob("*")
    }


def test_the_harness_imports_only_the_stdlib_pytest_and_what_is_lent() -> None:
    """Whatever agent/_harness imports must be there under the project's interpreter: the
    standard library, the project's own pytest, the harness's own modules, and what
    HARNESS_IMPORTS lends. A new import there must be added to it."""
    own = {path.stem for path in HARNESS_DIR.glob("*.py")}
    imported = set()
    for path in HARNESS_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    beyond = imported - set(sys.stdlib_module_names) - own - {"__future__", "pytest"}
    assert beyond == set(HARNESS_IMPORTS)


def test_a_configured_python_is_relative_to_the_repo_and_must_work(
    project_venv: Path, tmp_path: Path
) -> None:
    repo = project_venv.parent
    found = find_python(repo, ".venv/bin/python", environ={})
    assert found.python == str(project_venv / "bin" / "python")  # the venv's link, unresolved
    assert found.found_by == "configured" and found.version[:2] == sys.version_info[:2]
    assert found.has("pytest") and found.has("Pytest") and not found.has("pytest-benchmark")
    assert not found.has("hypothesis")

    (tmp_path / "script").write_text("#!/bin/sh\necho '{}'\n")  # runs, but answers nothing
    (tmp_path / "script").chmod(0o755)
    (tmp_path / "text").write_text("x\n")
    wrong = {
        "missing/python": "does not exist",
        str(tmp_path / "text"): "is not an executable file",
        str(tmp_path): "is not an executable file",
        "/bin/sh": "is not a working Python",
        str(tmp_path / "script"): "is not a working Python",
    }
    for configured, reason in wrong.items():
        with pytest.raises(UsageError, match=reason) as raised:
            find_python(repo, configured, environ={})
        assert "\n" not in str(raised.value)


def test_found_in_the_repo_then_the_active_venv_then_evolvers_own(
    project_venv: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    own = find_python(bare, None, environ={})
    assert (own.python, own.found_by) == (sys.executable, "Evolver's own")
    active = find_python(bare, None, environ={"VIRTUAL_ENV": str(project_venv)})
    assert active.found_by == "the active virtual environment"
    assert active.python == str(project_venv / "bin" / "python")
    ours = find_python(bare, None, environ={"VIRTUAL_ENV": sys.prefix})
    assert ours.found_by == "Evolver's own"

    in_repo = find_python(project_venv.parent, None, environ={"VIRTUAL_ENV": sys.prefix})
    assert in_repo.found_by == "the repo's .venv"
    assert in_repo.note.startswith(f"project interpreter: {project_venv}/bin/python (the repo")
    (tmp_path / "broken" / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "broken" / "venv" / "bin" / "python").symlink_to(tmp_path / "gone")
    with pytest.raises(UsageError, match=r"\(the repo's venv\) does not exist"):
        find_python(tmp_path / "broken", None, environ={})


def test_a_toml_python_reaches_the_config(project_venv: Path) -> None:
    text = '[tool.evolver]\npython = ".venv/bin/python"\n'
    config = load_config(project_venv.parent, text, {})
    assert find_python(config.repo, config.python).python == str(project_venv / "bin" / "python")


def test_the_harness_is_lent_only_what_the_venv_lacks_and_only_code(
    project_venv: Path, tmp_path: Path
) -> None:
    interpreter = probe(project_venv / "bin" / "python", "configured")
    folder = tmp_path / "lent"
    folder.mkdir()
    lent = lend_harness_libraries(interpreter, folder)
    assert "hypothesis" in lent and "pytest" not in lent and "pluggy" not in lent
    names = {path.name for path in folder.iterdir()}
    assert "hypothesis" in names and (folder / "hypothesis").is_symlink()
    # No metadata: hypothesis's pytest plugin (an entry point) must not load into the
    # project's test runs.
    assert not [name for name in names if name.endswith(".dist-info")]
    # With the folder after its own path, the venv imports hypothesis, and its own pytest.
    code = (
        f"import sys; sys.path.append({str(folder)!r}); import hypothesis, pytest; "
        "print(hypothesis.__file__, pytest.__version__)"
    )
    done = subprocess.run(
        [interpreter.python, "-I", "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith(str(folder / "hypothesis")) and " 8." in done.stdout

    own = probe(Path(sys.executable), "Evolver's own")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert lend_harness_libraries(own, empty) == () and not list(empty.iterdir())


def test_an_interpreter_without_pytest_is_refused_for_pytest_only(tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = str(bare / "bin" / "python")
    with Workspace() as workspace:
        with pytest.raises(UsageError, match="has no pytest, which runs the project's tests"):
            open_project(load_config(tmp_path, None, {"python": python}), workspace)
        flags = {"python": python, "test_command": "python -m unittest"}
        notes: list[str] = []
        project = open_project(load_config(tmp_path, None, flags), workspace, notes)
    assert project.python == python and notes[0].startswith(f"project interpreter: {python}")
    # Lent to it: what the harness needs (hypothesis), in a folder after the project's paths.
    assert len(project.lent) == 1 and "hypothesis" in notes[1]


def test_the_project_runs_its_own_pytest_in_a_sandbox_hiding_the_checkout(
    project_venv: Path,
) -> None:
    """Under bubblewrap the checkout (and /tmp, where the venv lives) is hidden: the venv and
    the Python it links to must be shown, and pytest has no benchmark flag to pass."""
    repo = project_venv.parent
    config = load_config(repo, None, {})
    project = project_for(find_python(repo, None, environ={}), config)
    assert "--benchmark-disable" not in project.pytest_argv
    assert project_venv in project.readable
    with Workspace(hidden=(repo,), readable=project.readable) as workspace:
        write_files(workspace.state, {"tests/test_it.py": "def test_it():\n    assert True\n"})
        with workspace.sandbox("tests") as sandbox:
            version = sandbox.run(
                [project.python, "-c", "import sys, pytest; print(sys.prefix, pytest.__version__)"],
                timeout=60,
                env=project.env(sandbox),
            )
            tests = project.run_tests(sandbox)
    assert version.stdout.split() == [str(project_venv), version.stdout.split()[1]], version
    assert version.stdout.split()[1].startswith("8."), version.stdout
    assert tests.ok, tests.output


@pytest.mark.pipeline
def test_project_venv_end_to_end(project_venv: Path, tmp_path: Path) -> None:
    """SLOW (about 40 s). `evolver run` on a repo whose .venv has no Evolver in it: the
    interpreter is found there, the project's own pytest runs its tests (a test says so), a
    change is committed, and the venv is exactly as it was."""
    repo = project_venv.parent
    files = dict(KEYS_PROJECT)
    files[".gitignore"] = ".venv/\n"
    files["tests/test_interpreter_used.py"] = f"""
        import sys

        import pytest


        def test_the_projects_own_interpreter_and_pytest():
            assert sys.prefix == {str(project_venv)!r}
            assert pytest.__version__.startswith("8.")
    """
    init_repo(repo, files)
    packages, files_before = freeze(project_venv), tree(project_venv)
    report_path = tmp_path / "report.json"
    # Evolver's own venv active: the repo's .venv must win over it.
    environ = {"VIRTUAL_ENV": sys.prefix}
    done = evolver("run", str(repo), "--no-confirm", "--json", str(report_path), env=environ)
    assert done.returncode == 0, done.stderr
    report = json.loads(report_path.read_text())
    assert f"project interpreter: {project_venv}/bin/python (the repo's .venv" in " ".join(
        report["notes"]
    )
    assert report["committed"] == 1, report["candidates"]
    assert git(repo, "diff", "--name-only", "main", report["branch"]) == "pkg/core.py"
    assert freeze(project_venv) == packages
    assert tree(project_venv) == files_before


def test_the_interpreter_probe_gets_none_of_our_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """It runs outside the sandbox, and a project's environment may run code as it starts."""
    from agent.project.interpreter import _run_code

    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-the-project")
    done = _run_code(sys.executable, "import os; print(sorted(os.environ))")
    assert done.returncode == 0, done.stderr
    assert "OPENAI_API_KEY" not in done.stdout and "PATH" in done.stdout
