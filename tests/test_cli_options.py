"""Run settings on the command line: each ``RunConfig`` option has its flag, the real
commands pass what they parse on to ``RunConfig``, a flag beats ``[tool.evolver]`` which beats
the user's config.toml which beats the default, and a bad value is one line naming the flag
(or the file and key), exit 2."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperCommand, TyperGroup, TyperOption

from agent.cli.main import app
from agent.cli.options import (
    PROFILE_OPTIONS,
    PROMPT_OPTIONS,
    RUN_OPTIONS,
    ConfigOption,
    flag_names,
    gather,
)
from agent.cli.ship import PublishOptions
from agent.config import RunConfig, load_config
from agent.domain import TargetRef
from agent.loop import timing_plan
from agent.verify.timing import TimingPlan
from tests.conftest import InProcess, git, init_repo, repo_state


@pytest.fixture(autouse=True)
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the user's config.toml goes: none at first (not the suite's, see conftest)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "evolver" / "config.toml"


def command(name: str) -> TyperCommand:
    """The real app's command ``evolver <name>``, as typer builds it."""
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    found = group.commands[name]
    assert isinstance(found, TyperCommand)
    return found


def parsed(
    name: str, options: tuple[ConfigOption, ...], repo: Path, pyproject: str | None, *argv: str
) -> RunConfig:
    """What ``evolver <name> REPO ARGV`` would run with: the real command's parse, then
    the flags gathered as the command gets them, then [tool.evolver]."""
    context = command(name).make_context(name, [str(repo), *argv])
    return load_config(repo, pyproject, gather(options, context.params), flag_names(options))


def test_the_described_fields_are_the_run_options() -> None:
    described = {name for name, f in RunConfig.model_fields.items() if f.description}
    declared = [option.field for option in RUN_OPTIONS]
    assert sorted(declared) == sorted(described)
    assert len(set(declared)) == len(declared)
    flags = [option.name for option in RUN_OPTIONS]
    assert len(set(flags)) == len(flags)


def test_the_run_command_has_every_flag_and_its_help() -> None:
    params = {param.name: param for param in command("run").params}
    for option in RUN_OPTIONS:
        param = params[option.field]
        assert isinstance(param, TyperOption)
        assert option.name in param.opts
        assert param.help == (option.help or RunConfig.model_fields[option.field].description)


def test_every_command_that_runs_the_project_takes_memory_mb() -> None:
    for name in ("run", "profile", "prompt", "watch"):
        opts = [opt for param in command(name).params for opt in param.opts]
        assert "--memory-mb" in opts, name


# Every run option with a value unlike its default, and the value RunConfig should hold.
RUN_ARGV = {
    "targets": (["--target", "pkg/a.py::f", "--target", "pkg/b.py::C.g"],
                (TargetRef("pkg/a.py", "f"), TargetRef("pkg/b.py", "C.g"))),
    "provider": (["--provider", "openai"], "openai"),
    "model": (["--model", "m-1"], "m-1"),
    "base_url": (["--base-url", "http://127.0.0.1:9/v1"], "http://127.0.0.1:9/v1"),
    "candidates": (["--candidates", "7"], 7),
    "rounds": (["--rounds", "2"], 2),
    "max_targets": (["--max-targets", "9"], 9),
    "min_speedup": (["--min-speedup", "1.5"], 1.5),
    "objective": (["--objective", "both"], "both"),
    "min_memory_saving": (["--min-memory-saving", "0.25"], 0.25),
    "max_slowdown": (["--max-slowdown", "1.2"], 1.2),
    "float_tolerance": (["--float-tolerance", "0.001"], 0.001),
    "strict_behaviour": (["--strict-behaviour"], True),
    "check_timeout": (["--check-timeout", "12"], 12.0),
    "timing_budget": (["--timing-budget", "30"], 30.0),
    "memory_mb": (["--memory-mb", "512"], 512),
    "branch": (["--branch", "faster"], "faster"),
    "jobs": (["--jobs", "3"], 3),
    "workload": (["--workload", "python bench.py"], "python bench.py"),
    "test_command": (["--test-command", "pytest -x -q"], ("pytest", "-x", "-q")),
    "temperature": (["--temperature", "0.7"], 0.7),
    "strategies": (["--strategies", "single"], "single"),
    "max_tokens": (["--max-tokens", "999"], 999),
    "request_timeout": (["--timeout", "33"], 33.0),
    "seed": (["--seed", "5"], 5),
    "budget_usd": (["--budget-usd", "1.5"], 1.5),
    "confirm": (["--no-confirm"], False),
    "cache": (["--no-cache"], False),
    "model_path": (["--model-path", "m.gguf"], Path("m.gguf")),
    "key_file": (["--key-file", "keys.env"], Path("keys.env")),
    "record_replies": (["--record-replies", "out.jsonl"], Path("out.jsonl")),
    "replies": (["--replies", "in.jsonl"], Path("in.jsonl")),
    "base": (["--base", "v1.0"], "v1.0"),
    "python": (["--python", "bin/python"], str(Path("bin/python").absolute())),
    "max_prompt_tokens": (["--max-prompt-tokens", "700"], 700),
    "context_window": (["--context-window", "4096"], 4096),
    "min_time": (["--min-time", "0.02"], 0.02),
}  # fmt: skip


def test_every_run_flag_reaches_run_config(tmp_path: Path) -> None:
    argv = [arg for args, _ in RUN_ARGV.values() for arg in args]
    argv += ["--json", str(tmp_path / "report.json")]
    config = parsed("run", RUN_OPTIONS, tmp_path, None, *argv)
    expected = {field: value for field, (_, value) in RUN_ARGV.items()}
    expected["json_path"] = tmp_path / "report.json"
    assert set(expected) == {option.field for option in RUN_OPTIONS}
    for field, value in expected.items():
        assert getattr(config, field) == value, field
        assert value != RunConfig.model_fields[field].default, field


def test_nothing_given_is_the_defaults(tmp_path: Path) -> None:
    assert parsed("run", RUN_OPTIONS, tmp_path, None) == RunConfig(repo=tmp_path)


def test_a_flag_beats_the_file_which_beats_the_default(tmp_path: Path) -> None:
    pyproject = "[tool.evolver]\ncandidates = 9\nrounds = 1\nstrict-behaviour = true\n"
    config = parsed("run", RUN_OPTIONS, tmp_path, pyproject, "--candidates", "2")
    assert (config.candidates, config.rounds, config.strict_behaviour) == (2, 1, True)
    assert config.max_tokens == RunConfig.model_fields["max_tokens"].default
    config = parsed("run", RUN_OPTIONS, tmp_path, pyproject, "--no-strict-behaviour")
    assert (config.candidates, config.strict_behaviour) == (9, False)


def test_the_users_config_comes_below_the_projects(tmp_path: Path, user_config: Path) -> None:
    user_config.parent.mkdir(parents=True)
    user_config.write_text("candidates = 7\nrounds = 2\nmin-time = 0.2\n")
    pyproject = "[tool.evolver]\nrounds = 1\n"
    config = parsed("run", RUN_OPTIONS, tmp_path, pyproject, "--min-time", "0.01")
    assert (config.candidates, config.rounds, config.min_time) == (7, 1, 0.01)
    assert parsed("profile", PROFILE_OPTIONS, tmp_path, None).min_time == 0.2


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("nope = 1\n", "{path}: unknown key 'nope'"),
        ("branch = 'mine'\n", "{path}: unknown key 'branch'"),  # names one run: a flag
        ("candidates = 0\n", "{path} candidates: input should be greater than or equal to 1"),
        ("candidates = \n", "{path}: "),
    ],
)
def test_a_bad_user_config_is_one_line_naming_it(
    cli: Cli, repo: Path, user_config: Path, text: str, said: str
) -> None:
    user_config.parent.mkdir(parents=True)
    user_config.write_text(text)
    before = repo_state(repo)
    code, line = cli("run", str(repo), "--no-history")
    assert code == 2, line
    assert line.startswith(f"evolver: error: {said.format(path=user_config)}"), line
    assert repo_state(repo) == before


def test_the_timing_flags_reach_the_timing_plan(tmp_path: Path) -> None:
    argv = ["--min-time", "0.02", "--timing-budget", "7", "--check-timeout", "30"]
    plan = timing_plan(parsed("run", RUN_OPTIONS, tmp_path, None, *argv))
    assert (plan.min_time, plan.budget, plan.timeout) == (0.02, 7, 30)
    assert timing_plan(RunConfig(repo=tmp_path)).min_time == TimingPlan().min_time


def test_profile_and_prompt_pass_their_flags_on(tmp_path: Path) -> None:
    config = parsed("profile", PROFILE_OPTIONS, tmp_path, "[tool.evolver]\nmax_targets = 3\n")
    assert config.max_targets == 20  # profile's own default: rows to show
    config = parsed("profile", PROFILE_OPTIONS, tmp_path, None, "--memory-mb", "300")
    assert config.memory_mb == 300
    config = parsed(
        "prompt", PROMPT_OPTIONS, tmp_path, None, "--target", "pkg/a.py::f", "--model", "m-2"
    )
    assert (config.targets, config.model) == ((TargetRef("pkg/a.py", "f"),), "m-2")


Cli = Callable[..., tuple[int, str]]


@pytest.fixture
def cli(evolver_here: InProcess) -> Cli:
    """``evolver ARGS`` in this process: its exit code and its last line on stderr."""

    def invoke(*argv: str) -> tuple[int, str]:
        code, stderr = evolver_here(*argv)
        lines = stderr.strip().splitlines()
        return code, lines[-1] if lines else ""

    return invoke


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = init_repo(tmp_path_factory.mktemp("cli") / "repo", {"pkg/core.py": "X = 1\n"})
    git(repo, "switch", "--quiet", "--detach")  # watch keeps away from a checked-out branch
    return repo


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["run", "--timeout", "0"], "--timeout: input should be greater than 0"),
        (["run", "--python", ""], "--python: "),
        (["run", "--strategies", "many"], "--strategies: "),
        (["run", "--test-command", " "], "--test-command: must not be empty"),
        (["run", "--target", "pkg/core.py"], "--target: "),
        (["run", "--temperature", "3"], "--temperature: "),
        (["run", "--max-prompt-tokens", "1"], "--max-prompt-tokens: "),
        (["run", "--context-window", "1"], "--context-window: "),
        (["run", "--memory-mb", "1"], "--memory-mb: "),
        (["profile", "--memory-mb", "1"], "--memory-mb: "),
        (["profile", "--json", "/nonexistent/dir/p.json"], "--json: no directory"),
        (["prompt", "--target", "pkg/core.py"], "--target: "),
        (["watch", "--memory-mb", "1", "--once"], "--memory-mb: "),
    ],
)
def test_a_bad_value_names_its_flag(cli: Cli, repo: Path, argv: list[str], said: str) -> None:
    name, *flags = argv
    quiet = ["--no-history"] if name == "run" else []  # run would keep a record in the repo
    code, line = cli(name, str(repo), *flags, *quiet)
    assert code == 2, line
    assert line.startswith(f"evolver: error: {said}"), line


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--max-tokens", "1"], "--max-tokens: "),
        (["--budget-usd", "-1"], "--budget-usd: "),
        (["--strategies", "many"], "--strategies: "),
    ],
)
def test_a_bad_eval_value_names_its_flag(cli: Cli, argv: list[str], said: str) -> None:
    code, line = cli("eval", *argv)
    assert code == 2, line
    assert line.startswith(f"evolver: error: {said}"), line


def test_the_file_is_read_and_a_flag_overrides_it(cli: Cli, tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo", {"pyproject.toml": "[tool.evolver]\ncandidates = 0\n"})
    code, line = cli("run", str(repo), "--no-history")
    assert (code, line) == (
        2,
        "evolver: error: [tool.evolver] candidates: input should be greater than or equal to 1",
    )
    # The flag's value replaces the file's, so the run gets as far as choosing its provider.
    code, line = cli("run", str(repo), "--no-history", "--candidates", "2", "--provider", "nope")
    assert code == 2
    assert "unknown provider" in line, line


def test_run_and_pr_take_the_same_publishing_options() -> None:
    wanted = {field.name for field in dataclasses.fields(PublishOptions)}
    for name in ("run", "pr"):
        taken = {param.name for param in command(name).params}
        assert wanted <= taken, name
        assert "publish" not in taken


def test_publishing_is_checked_before_the_run_starts(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    before = repo_state(repo)
    code, line = cli("run", str(repo), "--pr", "--remote", "upstream", "--draft")
    assert (code, line) == (
        2,
        "evolver: error: publishing a pull request needs a token: set GITHUB_TOKEN",
    )
    assert repo_state(repo) == before
