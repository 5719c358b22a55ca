"""Fixtures for the sandbox tests: a small source tree, a sandbox, each confinement layer."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import Sandbox, _confine
from tests.sandbox.procs import kill_marked


@pytest.fixture
def source(tmp_path: Path) -> Path:
    tree = tmp_path / "source"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "mod.py").write_text("VALUE = 1\n")
    (tree / "data.txt").write_text("original\n")
    (tree / "link.txt").symlink_to("data.txt")
    return tree


@pytest.fixture
def box(tmp_path: Path, source: Path) -> Iterator[Sandbox]:
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        yield sandbox


@pytest.fixture(params=[layer.name for layer in _confine.available()])
def layer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> _confine.Layer:
    """Run the test under each confinement layer that works on this machine, strongest first."""
    chosen = next(layer for layer in _confine.available() if layer.name == request.param)
    monkeypatch.setattr(_confine, "choose", lambda: chosen)
    return chosen


@pytest.fixture
def marker() -> Iterator[str]:
    """A string to put in the argv of the processes a test starts, so a scan of /proc finds
    them whatever pid namespace they are in; any left at the end are killed."""
    mark = f"sandbox-test-{secrets.token_hex(6)}"
    yield mark
    kill_marked(mark)
