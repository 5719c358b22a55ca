"""The HTML report's parts, as its template receives them: every value already formatted,
nothing computed there (``agent.reports.html`` makes them from a report)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from agent.reports.diff import Diff


@dataclass(frozen=True)
class Hotspot:
    rank: int
    target: str
    file: str
    name: str
    share: str
    bar: float  # percent of the hottest's share, for the inline bar
    own: str
    cum: str
    calls: str
    complexity: str
    anchor: str | None  # the target's section, when it has one
    # With memory in the objective: the peak of one call ("3.2 MiB"), and what else the
    # memory profile says of it (its tooltip).
    peak: str | None = None
    peak_detail: str = ""


@dataclass(frozen=True)
class Measure:
    """What one bar of a chart shows: a ratio (1 is no change), its interval when known, the
    ratio as text, and the tooltip's words on it (``speedup 3.10×, 95% interval …``)."""

    value: float
    interval: tuple[float, float] | None
    text: str
    about: str


@dataclass(frozen=True)
class MemoryCell:
    """A candidate's peak memory against the original's (``agent.reports.memory_view``)."""

    peak: str  # "3.2 MiB → 1.0 MiB"
    ratio: str  # "3.20× less"
    ci: str  # "3.10–3.30×"
    level: str  # of the interval: "99%"
    detail: str  # what else was measured, for the tooltip
    measure: Measure | None  # for the chart: none when there is no ratio to draw


@dataclass(frozen=True)
class CandidateRow:
    id: str
    summary: str
    provider: str
    verdict: str  # one of VERDICTS
    stage: str
    reason: str
    detail: str  # the commit, or why an accepted candidate was not committed
    speedup: str
    ci: str
    level: str  # of the interval: "99.5%"
    first_call: str
    speedup_value: float | None  # for the chart
    interval: tuple[float, float] | None
    risk_level: str | None
    risk_class: str
    risk_reasons: tuple[str, ...]
    # (check, sentence, whether it compared anything): a check that compared nothing gets
    # no tick
    evidence: tuple[tuple[str, str, bool], ...]
    diff: Diff | None
    anchor: str
    # "end to end" when the speedup is the whole workload's (the target's calls could not be
    # timed one by one); empty when per call
    method: str = ""
    not_compared: tuple[str, ...] = ()  # stages that ran but compared nothing
    # The optimization strategies it follows: one for a model's candidate, one per rule for
    # a rules candidate ("builtins+data-structure"); empty when the report does not say.
    strategies: tuple[str, ...] = ()
    memory: MemoryCell | None = None  # measured with memory in the objective
    # When it changes more than its target: each definition it changes with its own diff.
    definitions: tuple[tuple[str, Diff], ...] = ()


@dataclass(frozen=True)
class TargetSection:
    target: str
    file: str
    name: str
    anchor: str
    share: str | None
    candidates: tuple[CandidateRow, ...]
    peak: str | None = None  # the memory profile's peak of one call, when it was traced


@dataclass(frozen=True)
class Tick:
    x: float
    label: str | None  # None: a grid line without a label, where labels would crowd
    one: bool


@dataclass(frozen=True)
class Bar:
    y: float
    middle: float
    x: float
    width: float
    low: float | None  # the interval's ends, when known
    high: float | None
    label: str
    value: str
    value_x: float
    verdict: str
    tooltip: str
    stripe: bool
    anchor: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    top: float
    bottom: float
    one: float
    ticks: tuple[Tick, ...]
    bars: tuple[Bar, ...]
    verdicts: tuple[str, ...]  # those present, for the legend


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    mono: bool = False


@dataclass
class Page:
    title: str
    repo: str
    facts: list[Fact]
    counts: list[tuple[str, int, str]]  # label, number, css class
    confirmation: dict[str, Any] | None
    sandbox: list[str]
    hotspots: list[Hotspot]
    hotspots_source: str
    chart: Chart | None
    timed: int
    sections: list[TargetSection]
    candidates: int
    level: str  # of the speedup intervals: "99.5%"
    notes: list[str]
    flaky_tests: list[str]
    version: int
    css: Markup
    usage: str | None = None
    # With memory in the objective (``--objective memory`` or ``both``): the memory columns
    # and chart; none of it for a run that measured time only.
    measures_memory: bool = False
    memory_chart: Chart | None = None
    memory_level: str = ""  # of the memory intervals: "99%"
