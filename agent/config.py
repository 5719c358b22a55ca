"""One validated configuration for a run: the user's defaults (``config.toml`` in their config
folder), then ``[tool.evolver]`` in the repo's pyproject.toml, then flags."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.domain import RISK_LEVELS, TargetRef
from agent.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class RunConfig(BaseModel):
    """A run's settings. A field with a description is also an option of ``evolver run``
    (its help; the flag is one line of agent/cli/options.py); the rest only ``[tool.evolver]``
    sets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    repo: Path
    base: str | None = Field(None, description="Commit, branch or tag to evolve (default: HEAD).")
    targets: tuple[TargetRef, ...] = Field((), description="FILE::QUALNAME; repeatable.")
    provider: str = Field(
        "rules",
        description="rules (offline), openai, anthropic, local (a GGUF model) or replay "
        "(--replies).",
    )
    model: str | None = Field(None, description="Model name for an LLM provider.")
    base_url: str | None = Field(None, description="OpenAI-compatible server URL.")
    candidates: int = Field(4, ge=1, le=64, description="Candidates per target and round.")
    rounds: int = Field(
        3, ge=1, le=20, description="Rounds per target, each learning from the last."
    )
    max_targets: int = Field(5, ge=1, le=100, description="Targets to try.")
    min_speedup: float = Field(1.05, ge=1.0, le=100.0, description="Lower CI bound to accept.")
    objective: Literal["time", "memory", "both"] = Field(
        "time",
        description="What to make better: time; memory (peak memory per call, no slower "
        "than --max-slowdown); or both (better on one, not worse on the other).",
    )
    min_memory_saving: float = Field(
        0.10,
        gt=0.0,
        lt=1.0,
        description="Share of peak memory a change must save, at its interval's bound, to be "
        "accepted for memory (default 0.10).",
    )
    max_slowdown: float = Field(
        1.05,
        ge=1.0,
        le=10.0,
        description="How much slower (time) or larger (memory) a change may be on the side it "
        "does not improve (default 1.05).",
    )
    float_tolerance: float = Field(
        1e-9, ge=0.0, le=1.0, description="Relative difference allowed in float results."
    )
    # A probe is an input of a shape no real call or test used.
    strict_behaviour: bool = Field(
        False,
        description="Reject a change that differs from the original on probes (inputs of "
        "shapes no real call or test used), instead of showing it as a risk.",
    )
    check_timeout: float = Field(
        300.0, gt=0, description="Seconds per import, behaviour or timing check."
    )
    timing_budget: float = Field(
        20.0,
        gt=0,
        le=3600,
        description="Seconds a candidate's timing may take to decide (more processes while "
        "its interval straddles the bar; default 20).",
    )
    min_time: float = Field(
        0.05,
        ge=0.005,
        le=10.0,
        description="Seconds each timed sample lasts at least (its loop count is calibrated "
        "to it); shorter is quicker and noisier (default 0.05).",
    )
    # For the command and everything it starts.
    memory_mb: int = Field(4096, ge=128, description="Memory for each sandboxed command, in MiB.")
    confirm: bool = Field(
        True, description="Time the repo's workload on the base and on the result at the end."
    )
    branch: str | None = Field(None, description="Result branch (default evolver/<UTC time>).")
    json_path: Path | None = Field(None, description="Write a JSON report here.")
    jobs: int = Field(1, ge=1, le=64, description="Candidates verified in parallel.")
    workload: str | None = Field(
        None, description="Shell command to profile (default: benchmarks)."
    )
    test_command: tuple[str, ...] | None = Field(
        None, description="Command that runs the tests (default: pytest)."
    )
    test_timeout: float = Field(900.0, gt=0)
    # Relative to the repo in [tool.evolver], to where the command runs on the command line;
    # see agent/project/interpreter.py.
    python: str | None = Field(
        None,
        min_length=1,
        description="The project's Python interpreter (default: the repo's .venv or venv, "
        "else the active virtual environment, else Evolver's own)",
    )
    # Model providers
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Model sampling temperature.")
    strategies: Literal["varied", "single"] = Field(
        "varied",
        description="varied: each candidate asked for another optimization strategy "
        "(algorithm, data structure, builtins, repeated work, caching, parallel); single: "
        "every candidate offered them all.",
    )
    max_tokens: int = Field(2048, ge=64, le=65536, description="Most tokens per model reply.")
    max_prompt_tokens: int = Field(
        6000, ge=500, le=1_000_000, description="Most tokens in a prompt to a model."
    )
    context_window: int | None = Field(
        None, ge=1000, description="The model's context window, in tokens."
    )
    request_timeout: float = Field(120.0, gt=0, description="Seconds per model request.")
    seed: int | None = Field(None, description="Sampling seed, where the model takes one.")
    max_attempts: int = Field(6, ge=1, le=50)
    max_retry_seconds: float = Field(300.0, gt=0)
    budget_usd: float | None = Field(
        None, ge=0, description="Stop asking the model once this much is spent."
    )
    cache: bool = Field(True, description="Reuse the model's cached replies.")
    cache_dir: Path | None = None
    key_file: Path | None = Field(None, description="NAME=value lines with API keys.")
    model_path: Path | None = Field(None, description="GGUF file for --provider local.")
    record_replies: Path | None = Field(
        None, description="Append the model's replies to this JSONL file."
    )
    replies: Path | None = Field(
        None, description="Replies recorded earlier, for --provider replay."
    )
    prices: dict[str, tuple[float, float, float]] = Field(default_factory=dict)

    @field_validator("targets", mode="before")
    @classmethod
    def _parse_targets(cls, value: Any) -> Any:
        if isinstance(value, str):  # one target (evolver prompt --target)
            value = (value,)
        return tuple(TargetRef.parse(v) if isinstance(v, str) else v for v in value or ())

    @field_validator("json_path")
    @classmethod
    def _writable_place(cls, value: Path | None) -> Path | None:
        if value is not None and not value.parent.is_dir():
            raise ValueError(f"no directory {value.parent} to write the report into")
        return value

    @field_validator("test_command", mode="before")
    @classmethod
    def _split_command(cls, value: Any) -> Any:
        if isinstance(value, str):
            argv = shlex.split(value)
            if not argv:
                raise ValueError("must not be empty")
            return tuple(argv)
        return value


# What [tool.evolver] and the user's config.toml may set: everything but what names this one
# run (flags win anyway).
FILE_KEYS = set(RunConfig.model_fields) - {
    "repo", "base", "targets", "branch", "json_path", "record_replies", "replies",
}  # fmt: skip


def user_config_path() -> Path:
    """The user's defaults for every run: ``$XDG_CONFIG_HOME/evolver/config.toml`` (by default
    ``~/.config/evolver/config.toml``), keys as in ``[tool.evolver]``."""
    folder = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(folder) / "evolver" / "config.toml"


def load_config(
    repo: Path,
    pyproject_text: str | None,
    flags: Mapping[str, object],
    flag_names: Mapping[str, str] | None = None,
) -> RunConfig:
    """Merge the user's defaults (:func:`user_config_path`), ``[tool.evolver]`` (from the
    committed pyproject.toml) and the given flags (by field; None: not given), each winning
    over the one before. An error names a flag as ``flag_names`` spells it (by field; default
    ``--field-name``), or the file and key."""
    user = user_config_path()
    try:
        user_text = user.read_text(encoding="utf-8")
    except FileNotFoundError:
        user_text = None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{user}: cannot read: {error}") from None
    layers = (
        (str(user), _settings(user_text, str(user), str(user), dict)),
        ("[tool.evolver]", _settings(pyproject_text, "pyproject.toml", "[tool.evolver]", _tool)),
    )
    settings: dict[str, Any] = {}
    for _, table in layers:
        settings.update(table)
    settings.update({k: v for k, v in flags.items() if v is not None and v != ()})
    try:
        return RunConfig(repo=repo, **settings)
    except ValidationError as error:
        # Named after the last layer that set the bad key (a flag's error names the flag).
        key = str(error.errors()[0]["loc"][0]) if error.errors()[0]["loc"] else ""
        where = next((name for name, table in reversed(layers) if key in table), layers[-1][0])
        raise _usage_error(error, flags, where, flag_names or {}) from None


def _tool(document: dict[str, Any]) -> dict[str, Any]:
    table = dict(document.get("tool", {}).get("evolver", {}))
    table.pop("watch", None)  # [tool.evolver.watch]: see WatchConfig
    return table


def _settings(
    text: str | None,
    file: str,
    table_name: str,
    table_of: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """The run settings, by field, in the table that ``table_of`` picks from the TOML ``text``
    (of ``file``; ``table_name`` in errors about its keys)."""
    if not text:
        return {}
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{file}: {error}") from None
    table = {key.replace("-", "_"): value for key, value in table_of(document).items()}
    unknown = sorted(set(table) - FILE_KEYS)
    if unknown:
        raise UsageError(f"{table_name}: unknown key {unknown[0]!r}")
    return table


def _usage_error(
    error: ValidationError,
    flags: Mapping[str, object],
    table: str,
    flag_names: Mapping[str, str],
) -> UsageError:
    """One line naming the bad key (dotted for nested ones) or flag, and what is wrong."""
    first = error.errors()[0]
    loc = [str(part) for part in first["loc"]]
    key = loc[0] if loc else "config"
    if key in flags and flags[key] is not None:
        where = flag_names.get(key) or f"--{key.replace('_', '-')}"
    else:
        where = f"{table} {'.'.join(loc) or key}"
    if first["type"] == "extra_forbidden":
        return UsageError(f"{table}: unknown key {'.'.join(loc)!r}")
    message = first["msg"].removeprefix("Value error, ")
    return UsageError(f"{where}: {message[:1].lower()}{message[1:]}")


class Threshold(BaseModel):
    """A bound a metric must keep: at most ``max``, at least ``min``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max: float | None = None
    min: float | None = None


class WatchConfig(BaseModel):
    """``[tool.evolver.watch]``: how ``evolver watch`` measures, evolves, lands and reverts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    branch: str = "main"  # the watched branch; it must not be checked out anywhere
    interval: float = Field(3600.0, gt=0)  # seconds between cycles
    benchmarks: bool = True  # the repo's pytest-benchmark medians, as benchmark:<name>
    metrics_command: str | None = None  # prints one JSON object of numbers
    higher_is_better: tuple[str, ...] = ("throughput",)  # every other metric: lower is better
    # Metrics of memory (peak RSS…): when they slip, evolutions optimize memory (--objective).
    memory_metrics: tuple[str, ...] = ()
    repeats: int = Field(3, ge=1, le=50)  # measurements per cycle; their median counts
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    regression: float = Field(0.10, gt=0, le=10)  # worse than the last cycle by this: a breach
    auto_rollback: bool = True
    rollback_threshold: float = Field(0.10, gt=0, le=10)  # vs the metrics before a landing
    observe_cycles: int = Field(3, ge=1, le=1000)  # cycles a landed change stays on probation
    min_improvement: float = Field(1.05, ge=1.0, le=100.0)  # an evolution's --min-speedup
    max_concurrent: int = Field(2, ge=1, le=16)  # evolutions at once, one target each
    max_targets: int = Field(2, ge=1, le=50)  # targets per evolution cycle
    evolution_timeout: float = Field(1800.0, gt=0)  # seconds; a slower evolution is stopped
    land: tuple[str, ...] = ("low",)  # risk levels that land without review
    push: str | None = None  # a remote to push the branch to after landing or reverting
    provider: str | None = None  # for evolutions; default: the run's provider

    @field_validator("land")
    @classmethod
    def _known_levels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [level for level in value if level not in RISK_LEVELS]
        if unknown:
            raise ValueError(f"unknown risk level {unknown[0]!r} (low, medium or high)")
        return value


def load_watch_config(pyproject_text: str | None, flags: dict[str, Any]) -> WatchConfig:
    """``[tool.evolver.watch]`` of the committed pyproject.toml, then the given flags."""
    settings: dict[str, Any] = {}
    if pyproject_text:
        try:
            tool = tomllib.loads(pyproject_text).get("tool", {})
        except tomllib.TOMLDecodeError as error:
            raise UsageError(f"pyproject.toml: {error}") from None
        table = tool.get("evolver", {}).get("watch", {})
        if not isinstance(table, dict):
            raise UsageError("[tool.evolver] watch: must be a table")
        settings.update({key.replace("-", "_"): value for key, value in table.items()})
    settings.update({k: v for k, v in flags.items() if v is not None})
    try:
        return WatchConfig(**settings)
    except ValidationError as error:
        raise _usage_error(error, flags, "[tool.evolver.watch]", {}) from None
