"""Plain data that flows between the stages of the loop.

Every stage takes and returns these; none of them knows how another stage works.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, order=True)
class TargetRef:
    """A function in the repository: ``pkg/mod.py::Class.method``."""

    path: str
    qualname: str

    @classmethod
    def parse(cls, text: str) -> TargetRef:
        path, sep, qualname = text.partition("::")
        if not sep or not path or not qualname:
            raise ValueError(f"target {text!r} is not of the form FILE::QUALNAME")
        if not all(part.isidentifier() for part in qualname.split(".")):
            raise ValueError(f"target {text!r} has an invalid qualified name {qualname!r}")
        posix = PurePosixPath(path.replace("\\", "/"))
        if posix.is_absolute() or ".." in posix.parts:
            raise ValueError(f"target {text!r} must name a file inside the repository")
        return cls(str(posix), qualname)

    @property
    def module(self) -> str:
        """The import name of the file, for a flat or a ``src/`` layout."""
        parts = list(PurePosixPath(self.path).with_suffix("").parts)
        if parts and parts[0] == "src":
            parts = parts[1:]
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        return ".".join(parts)

    def __str__(self) -> str:
        return f"{self.path}::{self.qualname}"


@dataclass(frozen=True)
class FunctionProfile:
    """Where the workload's time went, for one function.

    ``own_time`` counts the function's own bytecode and the library calls it makes directly
    (a ``list.pop(0)`` is the caller's cost, not the list's); ``share`` is that over the total.
    """

    own_time: float
    cum_time: float
    calls: int
    share: float
    memory: MemoryProfile | None = None  # with --objective memory or both


@dataclass(frozen=True)
class MemoryProfile:
    """Where the workload's memory went, for one function (``tracemalloc``, in a pass of its own).

    ``peak`` is the most memory any one call held at once beyond what was held when it began
    (its callees' included): what making it leaner can save. ``allocated`` is those peaks
    summed over its calls (a lower bound on what it allocated); ``alive`` what was still
    allocated by its code when the workload ended (leak suspects: caches and lists that only
    grow).
    """

    calls: int
    peak: int
    allocated: int
    alive: int


@dataclass(frozen=True)
class Metrics:
    """Radon's view of one function."""

    complexity: int
    halstead_effort: float
    maintainability: float
    lines: int


@dataclass(frozen=True)
class Target:
    ref: TargetRef
    source: str
    lineno: int
    metrics: Metrics
    profile: FunctionProfile | None = None


@dataclass(frozen=True)
class Candidate:
    """A proposed edit: the new full text of each file it changes.

    ``problem`` is set instead of ``files`` when a provider's answer could not be turned into
    an edit (a model reply with elided code, say): it is rejected with that reason, unrun.
    ``provenance`` says where it came from (model, tokens, cost, prompt and reply digests).
    ``strategy`` names the optimization strategy it follows (``prompts/strategies.toml``), when
    one was asked for or named.
    """

    id: str
    target: TargetRef
    provider: str
    files: dict[str, str]
    summary: str
    problem: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    strategy: str | None = None


@dataclass(frozen=True)
class Timing:
    """A measured speedup (original time / candidate time) and its confidence interval.

    ``first_call`` is the speedup of the first pass in each fresh process alone: a candidate
    that caches results across calls shines on repeated calls, never on the first.

    ``method`` says what was timed: ``"per call"``, the target on recorded calls (the speedup
    is the target's own); ``"end to end"``, the whole workload or the tests that reach the
    target, one fresh process per value (the speedup is the whole run's, the target's diluted
    by the rest; every value is a first run, so ``first_call`` is the speedup of the medians);
    ``"sequences"``, a change to the target's class on recorded sequences of calls on its
    objects, each a construction and then its calls (``first_call``: the first pass of all).
    """

    speedup: float
    ci: tuple[float, float]
    samples: int
    first_call: float
    confidence: float = 0.95  # the interval's two-sided level
    method: str = "per call"

    @property
    def level(self) -> str:
        """``"99.5%"``: the interval's level, as people read it."""
        return confidence_text(self.confidence)


@dataclass(frozen=True)
class MemoryUse:
    """Peak memory of the original against a candidate on the recorded calls: bytes traced per
    process (each call's peak beyond what it was given, summed over the calls), the medians of
    each side, and ``ratio`` (original / candidate: 2.0 is half the memory) with its interval.
    ``retained`` is what the calls left allocated, per side; ``rss`` each side's median peak
    resident size, in bytes, seen from outside the processes (the cross-check)."""

    original: int
    candidate: int
    ratio: float
    ci: tuple[float, float]
    processes: int
    retained: tuple[int, int]
    rss: tuple[int, int]
    confidence: float = 0.99

    @property
    def saving(self) -> float:
        """The share of the original's peak the candidate saves (negative: it uses more)."""
        return 1 - 1 / self.ratio if self.ratio > 0 else 0.0


def confidence_text(confidence: float) -> str:
    """``0.995`` as ``"99.5%"``, ``0.95`` as ``"95%"``."""
    return f"{confidence * 100:.4g}%"


@dataclass(frozen=True)
class ProbeDifference:
    """A probe on which a change differs from its original: the call, and how it differs."""

    call: str  # f([[]])
    difference: str  # raises TypeError where the original raises KeyError

    def __str__(self) -> str:
        return f"{self.call} {self.difference}"


@dataclass(frozen=True)
class Verdict:
    """``evidence`` says, for an accepted candidate, what each check showed (check → sentence);
    ``probe_differences`` how it differs from the original on inputs no real call or test
    used (``f([[]]) raises TypeError where the original raises KeyError``): not a rejection,
    but a reviewer's business.

    ``not_compared`` names the stages (of :data:`STAGES`) that ran but compared nothing (the
    behaviour stage when no call could be recorded): never to be shown as passed. An evidence
    sentence for such a check starts with :data:`NOT_COMPARED`."""

    accepted: bool
    stage: str
    reason: str
    timing: Timing | None = None
    evidence: dict[str, str] = field(default_factory=dict)
    probe_differences: tuple[ProbeDifference, ...] = ()
    not_compared: tuple[str, ...] = ()
    memory: MemoryUse | None = None  # measured with --objective memory or both
    # What it changes besides its target (qualified names: ``Book.__init__``, ``_helper``),
    # once its scope was checked; a change to the target's class is judged on sequences.
    changed: tuple[str, ...] = ()


NOT_COMPARED = "not compared"


def compared(sentence: str) -> bool:
    """Whether an evidence sentence says that its check compared something."""
    return not sentence.startswith(NOT_COMPARED)


RISK_LEVELS = ("low", "medium", "high")  # least to most

# The verification cascade's stages in the order they run, each with what a rejection by it
# means (the words a prompt uses to tell a model how its earlier candidates fared). Every list
# of stage names comes from here; the stages themselves are ``agent.verify.cascade.CASCADE``,
# in this order (a test checks). The names are in JSON reports, the history and the cache keys
# of recorded model replies: never rename one.
STAGE_MEANINGS: Mapping[str, str] = MappingProxyType(
    {
        "reply": "its reply could not be turned into an edit",
        "parse": "it does not parse",
        "scope": "it changed more than it may",
        "capability": "it reached for something its original does not use",
        "import": "the module no longer imports",
        "equivalence": "it behaved differently from the original",
        "tests": "tests failed",
        "speed": "it was not proven faster",
    }
)
STAGES = tuple(STAGE_MEANINGS)

# Every name a verdict's stage may have, and what a rejection there means: the stages, then
# ``tamper``, checked after every stage that runs the candidate's code (so it is no step of its
# own, and passes none), and ``internal``, a check that failed itself (a candidate may never
# stop a run, so that too is a rejection, with its reason).
REJECTIONS: Mapping[str, str] = MappingProxyType(
    {
        **STAGE_MEANINGS,
        "tamper": "it changed the files that judge it",
        "internal": "checking it failed",
        "memory": "it was not proven to use less memory",
    }
)
# ``memory`` rejects within the last stage, before its timing (``agent.verify.speed``), when
# the objective is memory or both.
_WITHIN = {"memory": "speed"}


def stages_passed(stage: str, accepted: bool, not_compared: tuple[str, ...] = ()) -> list[str]:
    """The cascade's stages a candidate got through: all for an accepted one, else those
    before the one that rejected it (``tamper`` and ``internal`` reject between stages), but
    never one that compared nothing."""
    if accepted:
        reached = list(STAGES)
    elif _WITHIN.get(stage, stage) in STAGES:
        reached = list(STAGES[: STAGES.index(_WITHIN.get(stage, stage))])
    else:
        reached = []
    return [name for name in reached if name not in not_compared]


@dataclass(frozen=True)
class Risk:
    """How closely a reviewer should look at a proven change (see ``agent.decide.risk``)."""

    level: str  # "low", "medium" or "high"
    reasons: tuple[str, ...]


@dataclass
class Outcome:
    """What became of one candidate."""

    candidate: Candidate
    verdict: Verdict
    committed: bool = False
    commit: str | None = None
    patch: str | None = None  # the candidate as a unified diff against what it changed
    risk: Risk | None = None  # for accepted candidates
    # When it changes more than its target: each definition it changes (the target too) with
    # its own diff (``syntax.definition_diffs``).
    changes: dict[str, str] = field(default_factory=dict)


# Medians of a whole-result confirmation within this share of each other are called the same.
NO_CHANGE = 0.02


@dataclass(frozen=True)
class Confirmation:
    """The repository's own workload run on the base commit and on the result, alternately.

    ``speedup`` is base over result: the geometric mean of the per-benchmark ratios of
    pytest-benchmark's medians when the workload is the repo's benchmarks (``method``
    "benchmarks", each ratio in ``benchmarks``), else the ratio of median wall times
    (``method`` "wall time"). Wall times are kept either way: medians of ``runs`` runs a side.
    ``change`` is what the runs show (``record.confirm.change``): "faster", "slower", "about
    the same" or "too noisy to tell".
    """

    what: str
    method: str
    runs: int
    base_seconds: float
    result_seconds: float
    speedup: float
    change: str
    benchmarks: dict[str, float] = field(default_factory=dict)

    @property
    def wall_speedup(self) -> float:
        return self.base_seconds / self.result_seconds


@dataclass
class RunReport:
    repo: str
    base_commit: str
    branch: str | None
    provider: str
    targets: list[Target] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)  # model tokens, cost, cache hits
    flaky_tests: list[str] = field(default_factory=list)  # outcome differed on HEAD
    confirmation: Confirmation | None = None  # the whole result, when something was committed
    sandbox: list[str] = field(default_factory=list)  # the protection candidates ran under
    hotspots: dict[TargetRef, FunctionProfile] = field(default_factory=dict)  # hottest first
    model: str | None = None
    run_id: int | None = None  # in the history, when recorded
    started: str | None = None  # ISO 8601, UTC
    finished: str | None = None
    objective: str = "time"  # "time", "memory" or "both"

    @property
    def accepted(self) -> int:
        return sum(o.verdict.accepted for o in self.outcomes)

    @property
    def committed(self) -> int:
        return sum(o.committed for o in self.outcomes)
