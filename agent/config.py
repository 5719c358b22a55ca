"""One validated configuration for a run: ``[tool.evolver]`` in pyproject.toml, then flags."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.domain import TargetRef
from agent.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    repo: Path
    targets: tuple[TargetRef, ...] = ()
    provider: str = "rules"
    model: str | None = None
    base_url: str | None = None
    candidates: int = Field(4, ge=1, le=64)
    rounds: int = Field(3, ge=1, le=20)
    max_targets: int = Field(5, ge=1, le=100)
    min_speedup: float = Field(1.05, ge=1.0, le=100.0)
    branch: str | None = None
    json_path: Path | None = None
    jobs: int = Field(1, ge=1, le=64)
    workload: str | None = None
    test_command: tuple[str, ...] | None = None
    test_timeout: float = Field(900.0, gt=0)

    @field_validator("targets", mode="before")
    @classmethod
    def _parse_targets(cls, value: Any) -> Any:
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


# Keys of [tool.evolver] that may set run options (flags win over them).
FILE_KEYS = {
    "provider",
    "model",
    "base_url",
    "candidates",
    "rounds",
    "max_targets",
    "min_speedup",
    "jobs",
    "workload",
    "test_command",
    "test_timeout",
}


FLAG_NAMES = {"json_path": "json", "targets": "target"}


def load_config(repo: Path, pyproject_text: str | None, flags: dict[str, Any]) -> RunConfig:
    """Merge ``[tool.evolver]`` (from the committed pyproject.toml) with the given flags."""
    settings: dict[str, Any] = {}
    if pyproject_text:
        try:
            table = tomllib.loads(pyproject_text).get("tool", {}).get("evolver", {})
        except tomllib.TOMLDecodeError as error:
            raise UsageError(f"pyproject.toml: {error}") from None
        unknown = sorted(set(table) - FILE_KEYS)
        if unknown:
            raise UsageError(f"[tool.evolver]: unknown key {unknown[0]!r}")
        settings.update({k.replace("-", "_"): v for k, v in table.items()})
    settings.update({k: v for k, v in flags.items() if v is not None and v != ()})
    try:
        return RunConfig(repo=repo, **settings)
    except ValidationError as error:
        first = error.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else "config"
        where = (
            f"--{FLAG_NAMES.get(key, key).replace('_', '-')}"
            if key in flags
            else (f"[tool.evolver] {key}")
        )
        message = first["msg"].removeprefix("Value error, ")
        raise UsageError(f"{where}: {message[:1].lower()}{message[1:]}") from None
