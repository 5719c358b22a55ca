"""Check the eval corpus (``evals/tasks/``): every task is well formed, its tests judge it, its
reference is right and faster, and (``--rules-check``) the rules provider solves the ``rules``
tasks.

    .venv/bin/python evals/check_tasks.py [--only NAME]... [--write] [--rules-check]

Per task, in temporary copies (the task directory is only read, but for ``--write``):

* ``task.toml`` has the fields of ``evals/tasks/README.md``, and the files are where they belong;
* the visible and the hidden tests pass on ``repo/``, and the benchmarks run;
* with ``reference/`` laid over ``repo/``: the reference touches only the target's file, and in it
  only the target plus new imports, constants and helpers (Evolver's own scope check); the
  visible and hidden tests pass, the benchmarks run; and the reference behaves as the original
  on the benchmark's call and on inputs generated from it (Evolver's input generator): same
  results (floats within 1e-9), same exceptions (type and message), same arguments after the
  call, same object state for a method;
* the speedup of the reference on the benchmark's call (``bench_case()`` of the benchmark
  module), timed in fresh processes, original and reference alternating, timeit-style
  (calibrated loop, 5 repeats, the median; the better of two rounds); ``--write`` stores it
  in ``task.toml``.

``--rules-check`` also runs ``evolver run`` (rules provider) on a fresh git repository made
from each ``rules`` task's ``repo/``, and checks that it commits a candidate and that the
committed code passes the hidden tests. It prints a table and exits 1 if any check fails.
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

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
TASKS = ROOT / "evals" / "tasks"
HARNESS = ROOT / "agent" / "_harness"
PYTHON = sys.executable
KINDS = ("rules", "model", "none")
NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
PYTEST = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
TEST_TIMEOUT = 600
FUZZ_EXAMPLES = 150
EVOLVER_TIMEOUT = 1200


@dataclass
class Task:
    name: str
    path: Path
    meta: dict
    problems: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", "?"))

    @property
    def target_path(self) -> str:
        return str(self.meta.get("target", "")).partition("::")[0]

    @property
    def qualname(self) -> str:
        return str(self.meta.get("target", "")).partition("::")[2]

    @property
    def module(self) -> str:
        return self.target_path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")

    @property
    def benchmark(self) -> Path | None:
        found = sorted((self.path / "repo" / "benchmarks").glob("test_bench_*.py"))
        return found[0] if found else None


@dataclass
class Result:
    task: Task
    checks: list[str] = field(default_factory=list)  # failures; empty means all passed
    original_ms: float | None = None
    reference_ms: float | None = None
    speedup: float | None = None
    rules: str = ""


def load(path: Path) -> Task:
    try:
        meta = tomllib.loads((path / "task.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        return Task(path.name, path, {}, [f"task.toml: {error}"])
    return Task(path.name, path, meta)


def check_layout(task: Task) -> list[str]:
    """The fields of ``task.toml`` and where the files are."""
    problems = list(task.problems)
    meta, path = task.meta, task.path
    if not NAME.match(task.name):
        problems.append("directory name is not kebab-case")
    if meta.get("name") != task.name:
        problems.append(f"name {meta.get('name')!r} is not the directory's")
    description = meta.get("description")
    if not isinstance(description, str) or not description.strip() or "\n" in description:
        problems.append("description must be one non-empty line")
    if task.kind not in KINDS:
        problems.append(f"kind {task.kind!r} is not one of {', '.join(KINDS)}")
    tags = meta.get("tags")
    if not (isinstance(tags, list) and tags and all(isinstance(t, str) for t in tags)):
        problems.append("tags must be a non-empty list of strings")
    target = str(meta.get("target", ""))
    if "::" not in target or not (path / "repo" / task.target_path).is_file():
        problems.append(f"target {target!r} is not FILE::QUALNAME of a file in repo/")
    elif not all(part.isidentifier() for part in task.qualname.split(".")):
        problems.append(f"target {target!r} has a bad qualified name")
    repo = path / "repo"
    if not list((repo / "tests").glob("test_*.py")):
        problems.append("no visible tests (repo/tests/test_*.py)")
    if task.benchmark is None:
        problems.append("no benchmark (repo/benchmarks/test_bench_*.py)")
    if not list((path / "hidden").glob("test_hidden_*.py")):
        problems.append("no hidden tests (hidden/test_hidden_*.py)")
    reference = meta.get("reference")
    if task.kind == "none":
        if (path / "reference").exists() or reference is not None:
            problems.append("a 'none' task has no reference/ and no [reference]")
    elif task.kind in KINDS:
        if not (path / "reference").is_dir():
            problems.append("no reference/")
        if not isinstance(reference, dict) or not isinstance(reference.get("speedup"), float):
            problems.append("[reference] speedup (a float) is missing")
    return problems


def run(argv: list[str], cwd: Path, timeout: float = TEST_TIMEOUT) -> tuple[int, str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    env.pop("PYTHONPATH", None)
    try:
        done = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {timeout:.0f} s"
    return done.returncode, done.stdout + done.stderr


def tail(output: str, lines: int = 12) -> str:
    return textwrap.indent("\n".join(output.strip().splitlines()[-lines:]), "      ")


def make_copy(task: Task, where: Path, with_reference: bool) -> Path:
    """``repo/`` (with ``reference/`` laid over it) and the hidden tests in ``tests/``."""
    shutil.copytree(task.path / "repo", where, ignore=shutil.ignore_patterns("__pycache__"))
    if with_reference:
        for source in (task.path / "reference").rglob("*.py"):
            destination = where / source.relative_to(task.path / "reference")
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
    for hidden in (task.path / "hidden").glob("*.py"):
        shutil.copyfile(hidden, where / "tests" / hidden.name)
    return where


def check_tests(task: Task, copy: Path, label: str) -> list[str]:
    problems = []
    code, output = run(PYTEST, copy)
    if code != 0:
        problems.append(f"{label}: tests fail\n{tail(output)}")
    code, output = run([*PYTEST, "--benchmark-disable", "benchmarks"], copy)
    if code != 0:
        problems.append(f"{label}: benchmarks fail\n{tail(output)}")
    return problems


def check_reference_scope(task: Task) -> list[str]:
    """Only the target's file changes, and in it only what Evolver's scope check allows."""
    reference = task.path / "reference"
    files = sorted(str(p.relative_to(reference)) for p in reference.rglob("*.py"))
    others = [p for p in reference.rglob("*") if p.is_file() and p.suffix != ".py"]
    problems = []
    if files != [task.target_path] or others:
        problems.append(f"reference/ must hold exactly {task.target_path} (has {files})")
        return problems
    original = (task.path / "repo" / task.target_path).read_text()
    new = (reference / task.target_path).read_text()
    if original == new:
        return ["reference changes nothing"]
    try:
        import libcst as cst

        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from agent.verify.scope import _compare  # the check Evolver applies to every candidate
    except ImportError as error:
        return [f"cannot load Evolver's scope check: {error}"]
    old_module, new_module = cst.parse_module(original), cst.parse_module(new)
    path = task.qualname.split(".")
    reason = _compare(old_module, old_module.body, new_module, new_module.body, path)
    if reason is not None:
        problems.append(f"reference is out of scope: {reason}")
    return problems


# Runs in a fresh process: the original's outcomes on the benchmark's call and on generated
# inputs, then the reference's on the same calls, compared.
_FUZZ = r'''
import copy, enum, importlib, importlib.util, json, math, pickle, signal, sys, time
original, reference, harness, bench_file, package, qualname, count = sys.argv[1:8]
count = int(count)
sys.path.insert(0, harness)
sys.setrecursionlimit(10_000)
import evolver_inputs

def load(root):
    for name in list(sys.modules):
        if name == package or name.startswith(package + ".") or name == "task_benchmark":
            del sys.modules[name]
    sys.path.insert(0, root)
    try:
        spec = importlib.util.spec_from_file_location("task_benchmark", f"{root}/{bench_file}")
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
        return bench.bench_case()
    finally:
        sys.path.remove(root)

class Slow(Exception):
    pass

def alarm(signum, frame):
    raise Slow()

signal.signal(signal.SIGALRM, alarm)

def state(value):
    return copy.deepcopy(vars(value)) if hasattr(value, "__dict__") else None

def outcome(function, blob):
    args, kwargs = pickle.loads(blob)
    signal.alarm(10)
    try:
        result = function(*args, **kwargs)
        if hasattr(result, "__next__"):
            result = list(result)
        answer = ("returned", result)
    except Slow:
        return None
    except RecursionError:
        answer = ("raised", "RecursionError", "")
    except Exception as error:
        answer = ("raised", type(error).__name__, str(error))
    finally:
        signal.alarm(0)
    return answer, args, kwargs, state(getattr(function, "__self__", None))

def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (a != a and b != b) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    kind_a, kind_b = type(a), type(b)
    if (kind_a.__module__, kind_a.__qualname__) != (kind_b.__module__, kind_b.__qualname__):
        return False
    if kind_a is not kind_b:  # the task's own types, loaded twice (original, reference)
        if isinstance(a, enum.Enum):
            return a.name == b.name
        if hasattr(a, "__dict__"):
            return same(vars(a), vars(b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items())
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (set, frozenset)):
        return a == b
    try:
        return bool(a == b) or a is b
    except Exception:
        return a is b

def shrink(value):
    """A small sample of a benchmark-sized argument, for the generator to learn from."""
    if isinstance(value, (list, str, bytes)):
        return value[:40]
    if isinstance(value, tuple):
        return tuple(shrink(v) for v in value)
    if isinstance(value, dict):
        return {k: shrink(v) for k, v in list(value.items())[:40]}
    return value

function, args = load(original)
bound = function
benchmark_call = pickle.dumps((tuple(args), {}))
sample = pickle.dumps((tuple(shrink(a) for a in args), {}))
calls, note = evolver_inputs.generate(function, [sample], count)
calls = [benchmark_call, sample] + calls
expected = [outcome(function, blob) for blob in calls]
function, _ = load(reference)
problems = []
checked = 0
for number, (blob, want) in enumerate(zip(calls, expected)):
    if want is None:
        continue
    got = outcome(function, blob)
    checked += 1
    if got is None or not same(want, got):
        shown = repr(pickle.loads(blob))[:300]
        problems.append(f"call {shown}: original {repr(want)[:200]}, reference {repr(got)[:200]}")
        if len(problems) >= 3:
            break
import inspect
params = len(inspect.signature(bound).parameters)
print(json.dumps({"checked": checked, "problems": problems, "note": note, "params": params}))
'''


def check_equivalence(task: Task, original: Path, reference: Path) -> list[str]:
    assert task.benchmark is not None
    bench = str(task.benchmark.relative_to(task.path / "repo"))
    package = task.module.split(".")[0]
    argv = [PYTHON, "-c", _FUZZ, str(original), str(reference), str(HARNESS), bench, package]
    code, output = run([*argv, task.qualname, str(FUZZ_EXAMPLES)], original.parent)
    last = output.strip().splitlines()[-1] if output.strip() else ""
    try:
        answer = json.loads(last)
    except json.JSONDecodeError:
        return [f"equivalence check crashed\n{tail(output)}"]
    if code != 0:
        return [f"equivalence check crashed\n{tail(output)}"]
    problems = [f"reference differs: {p}" for p in answer["problems"]]
    if answer["checked"] < (2 if answer["params"] else 1):
        problems.append(f"equivalence checked only {answer['checked']} call(s): {answer['note']}")
    return problems


# Runs in a fresh process in one copy: seconds per call of the benchmark's call.
_TIMER = r"""
import gc, importlib.util, json, statistics, sys, timeit
root, bench_file, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, root)
spec = importlib.util.spec_from_file_location("task_benchmark", f"{root}/{bench_file}")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
function, args = bench.bench_case()
timer = timeit.Timer(lambda: function(*args), setup="gc.enable()", globals={"gc": gc})
number, _ = timer.autorange()  # at least 0.2 s per repeat
number = max(1, number // 2)
times = [t / number for t in timer.repeat(repeat=repeats, number=number)]
print(json.dumps({"median": statistics.median(times), "min": min(times)}))
"""


def time_call(copy: Path, bench: str, repeats: int) -> float:
    code, output = run([PYTHON, "-c", _TIMER, str(copy), bench, str(repeats)], copy)
    if code != 0:
        raise RuntimeError(f"timing failed\n{tail(output)}")
    return float(json.loads(output.strip().splitlines()[-1])["median"])


def measure(task: Task, original: Path, reference: Path, rounds: int = 2) -> tuple[float, float]:
    """Seconds per call, original and reference: each round times both in fresh processes,
    alternating; the best round's median counts (the least disturbed by other load)."""
    assert task.benchmark is not None
    bench = str(task.benchmark.relative_to(task.path / "repo"))
    old: list[float] = []
    new: list[float] = []
    for _ in range(rounds):
        old.append(time_call(original, bench, 5))
        new.append(time_call(reference, bench, 5))
    return min(old), min(new)


def write_speedup(task: Task, speedup: float) -> None:
    path = task.path / "task.toml"
    text = path.read_text()
    line = f"speedup = {speedup:.2f}"
    if re.search(r"(?m)^\[reference\]\s*$", text):
        head, _, rest = text.partition("[reference]")
        if re.search(r"(?m)^speedup\s*=.*$", rest):
            rest = re.sub(r"(?m)^speedup\s*=.*$", line, rest, count=1)
        else:
            rest = f"\n{line}" + rest
        text = head + "[reference]" + rest
    else:
        text = text.rstrip("\n") + f"\n\n[reference]\n{line}\n"
    path.write_text(text)


def check_task(task: Task, scratch: Path) -> Result:
    result = Result(task)
    result.checks += check_layout(task)
    if any("target" in p or "task.toml" in p for p in result.checks):
        return result
    original = make_copy(task, scratch / "original", with_reference=False)
    result.checks += check_tests(task, original, "original")
    if task.kind == "none" or not (task.path / "reference").is_dir():
        return result
    reference = make_copy(task, scratch / "reference", with_reference=True)
    result.checks += check_reference_scope(task)
    result.checks += check_tests(task, reference, "reference")
    if not result.checks:
        result.checks += check_equivalence(task, original, reference)
    return result


def time_task(result: Result, scratch: Path, write: bool) -> None:
    task = result.task
    original, reference = scratch / "original", scratch / "reference"
    assert task.benchmark is not None
    try:
        if not reference.exists():  # a "none" task: the original's time only
            bench = str(task.benchmark.relative_to(task.path / "repo"))
            old = time_call(original, bench, 5)
            result.original_ms = old * 1e3
            if old * 1e3 > 80 or old * 1e3 < 2:
                result.checks.append(f"benchmark call takes {old * 1e3:.1f} ms (want 5-50 ms)")
            return
        old, new = measure(task, original, reference)
    except RuntimeError as error:
        result.checks.append(str(error))
        return
    result.original_ms, result.reference_ms = old * 1e3, new * 1e3
    result.speedup = old / new
    if write:
        write_speedup(task, round(result.speedup, 2))
    elif task.kind != "none":
        stored = task.meta.get("reference", {}).get("speedup")
        if isinstance(stored, float) and not (0.5 * stored <= result.speedup <= 2 * stored):
            result.checks.append(f"measured {result.speedup:.2f}x, task.toml says {stored}x")
    if old * 1e3 > 80 or old * 1e3 < 2:
        result.checks.append(f"benchmark call takes {old * 1e3:.1f} ms (want 5-50 ms)")
    if task.kind != "none" and result.speedup < 1.2:
        result.checks.append(f"reference speedup {result.speedup:.2f}x is too small to measure")


def rules_check(task: Task, scratch: Path) -> tuple[str, list[str]]:
    """Run Evolver's rules provider on a git copy of ``repo/``; ``(summary, problems)``."""
    repo = scratch / "git"
    shutil.copytree(task.path / "repo", repo, ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-c", "user.name=evals", "-c", "user.email=evals@localhost"]
    for argv in ([*git, "init", "-q"], [*git, "add", "-A"], [*git, "commit", "-qm", "task"]):
        code, output = run(argv, repo)
        if code != 0:
            return "git failed", [tail(output)]
    report = scratch / "evolver.json"
    target = str(task.meta["target"])
    evolver = [PYTHON, "-m", "agent", "run", str(repo), "--target", target]  # this checkout's
    argv = [*evolver, "--json", str(report), "--no-progress"]
    started = time.monotonic()
    code, output = run(argv, ROOT, timeout=EVOLVER_TIMEOUT)
    seconds = time.monotonic() - started
    if code != 0 or not report.exists():
        return f"evolver exit {code}", [f"evolver run failed ({seconds:.0f} s)\n{tail(output)}"]
    data = json.loads(report.read_text())
    committed = [c for c in data.get("candidates", []) if c.get("committed")]
    if not committed:
        verdicts = "; ".join(
            f"{c.get('summary')}: {c.get('verdict')} at {c.get('stage')} ({c.get('reason')})"
            for c in data.get("candidates", [])
        )
        return "nothing committed", [f"rules provider committed nothing: {verdicts or 'no rule'}"]
    best = committed[0]
    summary = f"{best.get('summary')} {best.get('speedup', 0):.2f}x ({seconds:.0f} s)"
    # What was committed must pass the hidden tests too.
    result = scratch / "committed"
    result.mkdir()
    archive = subprocess.run(
        ["git", "archive", str(data["branch"])], cwd=repo, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(result)], input=archive.stdout, check=True)
    for hidden in (task.path / "hidden").glob("*.py"):
        shutil.copyfile(hidden, result / "tests" / hidden.name)
    code, output = run(PYTEST, result)
    if code != 0:
        return summary, [f"the committed rewrite fails the hidden tests\n{tail(output)}"]
    return summary, []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    parser.add_argument("--write", action="store_true", help="store speedups in task.toml")
    parser.add_argument("--rules-check", action="store_true", help="run evolver on rules tasks")
    parser.add_argument("--no-timing", action="store_true", help="skip the speedup measurement")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    options = parser.parse_args()

    started = time.monotonic()
    paths = sorted(p for p in TASKS.iterdir() if p.is_dir())
    tasks = [load(p) for p in paths if not options.only or p.name in options.only]
    unknown = set(options.only) - {t.name for t in tasks}
    if unknown:
        print(f"no such task: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="evals-check-") as tmp:
        scratch = {t.name: Path(tmp) / t.name for t in tasks}
        for path in scratch.values():
            path.mkdir()
        with concurrent.futures.ThreadPoolExecutor(max(1, options.jobs)) as pool:
            results = list(pool.map(lambda t: check_task(t, scratch[t.name]), tasks))
        if not options.no_timing:  # one at a time, so that the timings do not disturb each other
            for result in results:
                if not result.checks:
                    time_task(result, scratch[result.task.name], options.write)
        if options.rules_check:
            for result in results:
                if result.task.kind == "rules":
                    summary, problems = rules_check(result.task, scratch[result.task.name])
                    result.rules = summary
                    result.checks += problems
                    print(f"rules-check {result.task.name}: {summary}", flush=True)
    print_table(results)
    failed = [r for r in results if r.checks]
    counts = {kind: sum(r.task.kind == kind for r in results) for kind in KINDS}
    print(
        f"\n{len(results)} tasks ({', '.join(f'{n} {k}' for k, n in counts.items())}), "
        f"{len(failed)} failing, {time.monotonic() - started:.0f} s"
    )
    for result in failed:
        print(f"\n{result.task.name}:")
        for problem in result.checks:
            print(f"  - {problem}")
    return 1 if failed else 0


def print_table(results: list[Result]) -> None:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    rows = [("task", "kind", "original ms", "reference ms", "speedup", "checks", "rules-check")]
    for r in results:
        speedup = "-" if r.speedup is None else f"{r.speedup:.2f}x"
        checks = "ok" if not r.checks else f"{len(r.checks)} failed"
        rows.append(
            (r.task.name, r.task.kind, ms(r.original_ms), ms(r.reference_ms), speedup, checks,
             r.rules)
        )  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        cells = [
            cell.rjust(width) if 1 < i < 5 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if number == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    sys.exit(main())
