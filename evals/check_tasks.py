"""Check the eval corpus (``evals/tasks/``): every task is well formed, its tests judge it, its
reference is right and faster (or, for a task scored on memory, leaner), and (``--rules-check``)
the rules provider solves the ``rules`` tasks.

    .venv/bin/python evals/check_tasks.py [--only NAME]... [--write] [--rules-check]
                                          [--no-timing] [--jobs N]

Per task, in sandboxes (the task directory is only read, but for ``--write``), with the eval's
and the agent's own code rather than copies of it:

* ``task.toml`` and the layout, as ``evals/corpus.py`` loads a task (``load_task_checked``);
* the visible and the hidden tests pass on ``repo/``, and the benchmarks run;
* with ``reference/`` laid over ``repo/``: the reference passes the checks every candidate
  meets before it runs (Evolver's scope and capability checks), the visible and hidden tests
  pass and the benchmarks run; and it behaves as the original, judged by Evolver's behaviour
  check (``agent/verify/equivalence.py``) on the benchmark's call, a small sample of it, and
  inputs Evolver's generator draws from that sample;
* the reference's speedup on the benchmark's call, timed as the eval times it
  (``evals/retime.py``). It is informational: the eval times the reference in its own run.
  ``--write`` stores it in ``task.toml``; without it, a measurement more than 2x off the
  stored value is shown as a warning. A reference must be faster; one of a task scored on
  memory (kind ``memory``) must instead take at most half the original's peak memory on that
  call, measured as the eval measures it (``evals/peaks.py``; stored as ``memory_ratio``), and
  be no slower than Evolver's default ``--max-slowdown``.

``--rules-check`` also runs ``evolver run`` (rules provider) on a fresh git repository made
from each ``rules`` task's ``repo/``, and checks that it commits a candidate and that the
committed code passes the hidden tests. It prints a table and exits 1 if any check fails.

(Just over 400 lines: one check per property of a task, each short, in the order it runs.)
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

from agent.config import RunConfig
from agent.domain import Candidate, Metrics, Target, TargetRef
from agent.profile.recording import record_calls
from agent.project.runner import Project
from agent.reports import format as fmt
from agent.verify import equivalence as same
from agent.verify import sequences
from agent.verify.bench import GENERATED_SEQUENCES
from agent.verify.capabilities import check_capabilities
from agent.verify.harness import HarnessError
from agent.verify.scope import check_static, parsed
from agent.verify.unit import Unit, helper_refusal, shared_helpers, unit_of
from evals.corpus import KINDS, MEMORY, TASKS_DIR, Task, load_task_checked
from evals.peaks import PeakError, benchmark_calls, peak_ratios
from evals.retime import RetimeError, retime_sides, speedup
from sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
FUZZ_EXAMPLES = 150
CHECK_TIMEOUT = 300.0
EVOLVER_TIMEOUT = 1200
BAND_MS = (2.0, 80.0)  # where an original's benchmark call must lie (the README asks 5-50)
MIN_MEMORY_RATIO = 2.0  # a memory task's reference takes at most half the original's peak
MAX_SLOWDOWN = RunConfig.model_fields["max_slowdown"].default  # and is no slower than this


@dataclass
class Checked:
    """One task's checks: the problems found (empty: all passed) and the measurements."""

    name: str
    task: Task | None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sides: dict[str, Sandbox] = field(default_factory=dict)  # the trees to time
    original_ms: float | None = None
    reference_ms: float | None = None
    speedup: float | None = None
    interval: tuple[float, float] | None = None
    memory_ratio: float | None = None  # a memory task's reference, peak original / reference
    memory_interval: tuple[float, float] | None = None
    rules: str = ""

    @property
    def kind(self) -> str:
        return "?" if self.task is None else self.task.kind


def tail(output: str, lines: int = 12) -> str:
    return textwrap.indent("\n".join(output.strip().splitlines()[-lines:]), "      ")


def check_task(root: Path, parent: Path, project: Project) -> Checked:
    """Everything but the timing; the sandboxes made stay in ``sides`` for it."""
    task, problems = load_task_checked(root)
    checked = Checked(root.name, task, problems)
    if task is None or any("target" in p for p in problems):
        return checked
    original = _sandbox(task, parent, with_reference=False)
    checked.sides["original"] = original
    checked.problems += check_tests(project, original, "original")
    if task.reference is None:
        return checked
    checked.problems += check_reference_static(task)
    if checked.problems:
        return checked
    reference = _sandbox(task, parent, with_reference=True)
    checked.sides["reference"] = reference
    checked.problems += check_tests(project, reference, "reference")
    if not checked.problems:
        unit = reference_unit(task)
        judge = check_class_behaviour if unit.class_level else check_behaviour
        checked.problems += judge(project, task, original, reference)
        for helper in shared_helpers(unit, parsed(_source(task))):
            checked.problems += check_helper_behaviour(project, task, helper, original, reference)
    return checked


def _sandbox(task: Task, parent: Path, with_reference: bool) -> Sandbox:
    """``repo/`` (with ``reference/`` laid over it) and the hidden tests in ``tests/``."""
    sandbox = Sandbox.create(parent, task.repo)
    files = {f"tests/{p.name}": p.read_text(encoding="utf-8") for p in task.hidden.glob("*.py")}
    if with_reference:
        files.update(task.reference_files())
    for relative, text in sorted(files.items()):
        sandbox.write_file(relative, text)
    return sandbox


def check_tests(project: Project, sandbox: Sandbox, label: str) -> list[str]:
    """The tests (visible and hidden) pass, and the benchmarks run, judged as Evolver judges a
    test run (its results plugin's per-test records)."""
    problems = []
    for select, what in ((None, "tests fail"), (["benchmarks"], "benchmarks fail")):
        run = project.run_tests(sandbox, select=select)
        if not run.ok:
            problems.append(f"{label}: {what}: {run.describe_failure()}\n{tail(run.output)}")
    return problems


def check_reference_static(task: Task) -> list[str]:
    """What Evolver checks of every candidate before any of its code runs: only the target's
    file changes, and in it only the target plus new imports, constants and helpers (scope);
    and it reaches nothing the original does not (capabilities)."""
    assert task.reference is not None
    ref = TargetRef.parse(task.target)
    files = task.reference_files()
    source = (task.repo / ref.path).read_text(encoding="utf-8")
    candidate = Candidate("reference", ref, "reference", files, "reference solution")
    target = Target(ref, source, 0, Metrics(0, 0.0, 0.0, 0))
    static = check_static(candidate, target, source, unit=True)
    if static is not None:
        return [f"reference fails the {static[0]} check: {static[1]}"]
    helper = helper_refusal(reference_unit(task), parsed(source))
    if helper is not None:
        return [f"reference fails the scope check: {helper}"]
    reach = check_capabilities(source, files[ref.path], ref.qualname)
    return [] if reach is None else [f"reference fails the capability check: {reach}"]


def _source(task: Task) -> str:
    return (task.repo / TargetRef.parse(task.target).path).read_text(encoding="utf-8")


def reference_unit(task: Task) -> Unit:
    """What the reference changes besides its target (``agent/verify/unit.py``)."""
    ref = TargetRef.parse(task.target)
    new = task.reference_files()[ref.path]
    return unit_of(ref.qualname, parsed(_source(task)), parsed(new))


def check_helper_behaviour(
    project: Project, task: Task, helper: str, original: Sandbox, reference: Sandbox
) -> list[str]:
    """A rewritten helper that other code of the file also uses, judged on its own calls
    (recorded from the task's tests and benchmarks, and drawn from them) as Evolver judges it."""
    ref = TargetRef(TargetRef.parse(task.target).path, helper)
    try:
        recording = record_calls(project, original, [ref])[ref]
        behaviour = same.observe_recording(
            project, original, ref, recording, FUZZ_EXAMPLES, CHECK_TIMEOUT
        )
        if not behaviour.real:
            return [f"no recorded call of {helper} to judge the reference's on"]
        judgement = same.check(project, reference, ref, behaviour, 1e-9, CHECK_TIMEOUT)
    except HarnessError as error:
        return [f"the behaviour check of {helper} {error}"]
    return [] if judgement.reason is None else [f"reference's {helper} differs: {judgement.reason}"]


def check_class_behaviour(
    project: Project, task: Task, original: Sandbox, reference: Sandbox
) -> list[str]:
    """For kind "class": the reference judged as Evolver judges a change to a class, on
    sequences of calls on real objects recorded from the task's tests and benchmarks and
    drawn from them in new orders (``agent/verify/sequences.py``)."""
    ref = TargetRef.parse(task.target)
    recorded = record_calls(project, original, [ref])[ref].sequences
    behaviour = sequences.observe_probed(
        project, original, ref, recorded, GENERATED_SEQUENCES, CHECK_TIMEOUT
    )
    unjudged = sequences.unjudged(behaviour, ref.qualname, reference_unit(task).beyond)
    if unjudged is not None:
        return [f"the reference {unjudged}"]
    why = sequences.check_sequences(project, reference, ref, behaviour, CHECK_TIMEOUT)
    return [] if why is None else [f"reference differs: {why}"]


def check_behaviour(
    project: Project, task: Task, original: Sandbox, reference: Sandbox
) -> list[str]:
    """Evolver's behaviour check of the reference against the original, as the cascade runs
    it: the original observed twice on the real calls (here the benchmark's, and a sample of
    it) and on inputs generated from the sample; the reference must match every outcome the
    original repeats (probes, inputs of shapes no real call had, only inform)."""
    ref = TargetRef.parse(task.target)
    try:
        real = benchmark_calls(project, original, task.benchmark, CHECK_TIMEOUT)
        generated = same.generate_inputs(
            project, original, ref, real[1:], FUZZ_EXAMPLES, CHECK_TIMEOUT
        )
        calls = [*real, *generated.calls, *generated.probes]
        origins = ["recorded"] * len(real)
        origins += ["generated"] * len(generated.calls) + ["probe"] * len(generated.probes)
        behaviour = same.reference(project, original, ref, calls, origins, CHECK_TIMEOUT)
        judgement = same.check(project, reference, ref, behaviour, 1e-9, CHECK_TIMEOUT)
    except HarnessError as error:
        return [f"the behaviour check {error}"]
    problems = [] if judgement.reason is None else [f"reference differs: {judgement.reason}"]
    counts = behaviour.counts()
    if counts["recorded"] < 1 or len(behaviour.checkable) < 2:
        notes = "; ".join(filter(None, (*behaviour.notes, generated.note)))
        problems.append(f"behaviour compared on {behaviour.describe()} only: {notes}")
    return problems


def time_task(checked: Checked, project: Project, write: bool) -> None:
    """The original's time per call and the reference's speedup, as the eval measures them;
    for a task scored on memory, also the reference's peak memory against the original's."""
    task = checked.task
    assert task is not None
    module = TargetRef.parse(task.target).module
    try:
        samples = retime_sides(project, checked.sides, task.benchmark, module)
    except RetimeError as error:
        checked.problems.append(str(error))
        return
    checked.original_ms = samples.median("original") * 1e3
    low, high = BAND_MS
    if not low <= checked.original_ms <= high:
        checked.problems.append(f"benchmark call takes {checked.original_ms:.1f} ms (want 5-50)")
    if "reference" not in checked.sides:
        return
    checked.reference_ms = samples.median("reference") * 1e3
    checked.speedup, checked.interval = speedup(samples, "reference")
    # task.toml's key for each figure, what was measured, what it stores, how a warning names it.
    figures = [("speedup", checked.speedup, task.reference_speedup, "")]
    if task.objective == MEMORY:
        ref = TargetRef.parse(task.target)
        try:
            reference = peak_ratios(project, checked.sides, task.benchmark, ref)["reference"]
        except PeakError as error:
            checked.problems.append(str(error))
            return
        checked.memory_ratio, checked.memory_interval = reference.ratio, reference.ci
        figures.append(("memory_ratio", reference.ratio, task.reference_memory_ratio, "peak "))
    for key, value, stored, what in figures:
        if write:
            write_figure(task, key, round(value, 2))
        elif stored is not None and not 0.5 * stored <= value <= 2 * stored:
            checked.warnings.append(f"measured {what}{fmt.times(value)}, task.toml says {stored}×")
    checked.problems += reference_gain_problems(task, checked)


def reference_gain_problems(task: Task, checked: Checked) -> list[str]:
    """A reference must be faster; one of a task scored on memory, leaner by
    ``MIN_MEMORY_RATIO`` and no slower than Evolver lets a leaner change be by default."""
    assert checked.speedup is not None
    speed = fmt.times(checked.speedup)
    if task.objective != MEMORY:
        return [] if checked.speedup >= 1.2 else [f"reference speedup {speed} is too small"]
    assert checked.memory_ratio is not None
    problems = []
    if checked.memory_ratio < MIN_MEMORY_RATIO:
        ratio = fmt.times(checked.memory_ratio)
        problems.append(f"reference peak ratio {ratio} is too small (want {MIN_MEMORY_RATIO}×)")
    if checked.speedup < 1 / MAX_SLOWDOWN:
        problems.append(f"reference speedup {speed}: slower than --max-slowdown {MAX_SLOWDOWN}×")
    return problems


def write_figure(task: Task, key: str, value: float) -> None:
    """``key = value`` in ``task.toml``'s ``[reference]`` table, replaced or added."""
    path = task.root / "task.toml"
    text = path.read_text()
    line = f"{key} = {value:.2f}"
    if re.search(r"(?m)^\[reference\]\s*$", text):
        head, _, rest = text.partition("[reference]")
        pattern = rf"(?m)^{key}\s*=.*$"
        if re.search(pattern, rest):
            rest = re.sub(pattern, line, rest, count=1)
        else:
            rest = f"\n{line}" + rest
        text = head + "[reference]" + rest
    else:
        text = text.rstrip("\n") + f"\n\n[reference]\n{line}\n"
    path.write_text(text)


def run(argv: list[str], cwd: Path, timeout: float) -> tuple[int, str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    try:
        done = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {fmt.seconds(timeout, 0)}"
    return done.returncode, done.stdout + done.stderr


def rules_check(task: Task, scratch: Path, project: Project) -> tuple[str, list[str]]:
    """Run Evolver's rules provider on a git copy of ``repo/``; ``(summary, problems)``."""
    repo = scratch / "git"
    shutil.copytree(task.repo, repo, ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-c", "user.name=evals", "-c", "user.email=evals@localhost"]
    for argv in ([*git, "init", "-q"], [*git, "add", "-A"], [*git, "commit", "-qm", "task"]):
        code, output = run(argv, repo, 60)
        if code != 0:
            return "git failed", [tail(output)]
    report = scratch / "evolver.json"
    evolver = [PYTHON, "-m", "agent", "run", str(repo), "--target", task.target]
    started = time.monotonic()
    code, output = run([*evolver, "--json", str(report), "--no-progress"], ROOT, EVOLVER_TIMEOUT)
    seconds = time.monotonic() - started
    if code != 0 or not report.exists():
        return f"evolver exit {code}", [
            f"evolver run failed ({fmt.seconds(seconds, 0)})\n{tail(output)}"
        ]
    data = json.loads(report.read_text())
    committed = [c for c in data.get("candidates", []) if c.get("committed")]
    if not committed:
        verdicts = "; ".join(
            f"{c.get('summary')}: {c.get('verdict')} at {c.get('stage')} ({c.get('reason')})"
            for c in data.get("candidates", [])
        )
        return "nothing committed", [f"rules provider committed nothing: {verdicts or 'no rule'}"]
    best = committed[0]
    summary = (
        f"{best.get('summary')} {fmt.times(best.get('speedup', 0))} ({fmt.seconds(seconds, 0)})"
    )
    # What was committed must pass the hidden tests too.
    result = scratch / "committed"
    subprocess.run(["git", "clone", "-q", "--branch", str(data["branch"]), str(repo), str(result)],
                   check=True, capture_output=True)  # fmt: skip
    shutil.rmtree(result / ".git")
    for hidden in task.hidden.glob("*.py"):
        shutil.copyfile(hidden, result / "tests" / hidden.name)
    with Sandbox.create(scratch / "sandboxes", result) as sandbox:
        tests = project.run_tests(sandbox)
    if not tests.ok:
        why = f"{tests.describe_failure()}\n{tail(tests.output)}"
        return summary, [f"the committed rewrite fails the hidden tests: {why}"]
    return summary, []


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    parser.add_argument("--write", action="store_true", help="store speedups in task.toml")
    parser.add_argument("--rules-check", action="store_true", help="run evolver on rules tasks")
    parser.add_argument("--no-timing", action="store_true", help="skip the speedup measurement")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--tasks-dir", type=Path, default=TASKS_DIR, help="another corpus")
    options = parser.parse_args()

    started = time.monotonic()
    roots = sorted(p for p in options.tasks_dir.iterdir() if p.is_dir())
    chosen = [p for p in roots if not options.only or p.name in options.only]
    unknown = set(options.only) - {p.name for p in chosen}
    if unknown:
        print(f"no such task: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    project = Project()
    with tempfile.TemporaryDirectory(prefix="evals-check-") as tmp:
        parents = {root.name: Path(tmp) / root.name for root in chosen}
        with concurrent.futures.ThreadPoolExecutor(max(1, options.jobs)) as pool:
            results = list(
                pool.map(lambda root: check_task(root, parents[root.name], project), chosen)
            )
        try:
            if not options.no_timing:  # one at a time, so that they do not disturb each other
                for checked in results:
                    if not checked.problems and checked.sides:
                        time_task(checked, project, options.write)
        finally:
            for checked in results:
                for sandbox in checked.sides.values():
                    sandbox.remove()
        if options.rules_check:
            for checked in results:
                if checked.task is not None and checked.kind == "rules":
                    summary, problems = rules_check(checked.task, parents[checked.name], project)
                    checked.rules = summary
                    checked.problems += problems
                    print(f"rules-check {checked.name}: {summary}", flush=True)
    print_table(results)
    return report(results, time.monotonic() - started)


def report(results: list[Checked], seconds: float) -> int:
    failed = [r for r in results if r.problems]
    counts = {kind: sum(r.kind == kind for r in results) for kind in KINDS}
    if not counts[MEMORY]:  # memory tasks are counted when there are some
        del counts[MEMORY]
    print(
        f"\n{len(results)} tasks ({', '.join(f'{n} {k}' for k, n in counts.items())}), "
        f"{len(failed)} failing, {fmt.seconds(seconds, 0)}"
    )
    for checked in results:
        if checked.problems or checked.warnings:
            print(f"\n{checked.name}:")
        for problem in checked.problems:
            print(f"  - {problem}")
        for warning in checked.warnings:
            print(f"  - warning: {warning}")
    return 1 if failed else 0


def print_table(results: list[Checked]) -> None:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    # The reference's peak memory ratio, when a task is scored on memory.
    memory = any(r.kind == MEMORY for r in results)
    header = ("task", "kind", "original ms", "reference ms", "speedup", "95% interval",
              *(("peak ratio",) if memory else ()), "checks", "rules-check")  # fmt: skip
    rows = [header]
    for r in results:
        speed = fmt.times(r.speedup, missing="-")
        interval = fmt.interval(r.interval, unit="", missing="-")
        peak = (fmt.times(r.memory_ratio, missing="-"),) if memory else ()
        checks = "ok" if not r.problems else f"{len(r.problems)} failed"
        rows.append((r.name, r.kind, ms(r.original_ms), ms(r.reference_ms), speed, interval,
                     *peak, checks, r.rules))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for number, row in enumerate(rows):
        cells = [
            cell.rjust(width) if 1 < i < 6 + memory else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if number == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    sys.exit(main())
