"""A pytest plugin that writes down each test's outcome as it happens, for Evolver to judge.

Loaded with ``-p evolver_results``, so it is imported before the project's conftest files and
test modules (and so before any candidate code). At import it takes from the environment
``EVOLVER_RESULTS`` (the file to create) and ``EVOLVER_RESULTS_KEY`` (a file holding a
one-time key, which it reads and deletes), removes both variables so that no later process
sees them, and creates the results file without following links and only if it is new.

Each line is ``<mac> <json>``: the JSON record, and an HMAC chained over every record before
it with the key, which only this plugin's memory holds once the key file is gone. Records are
``start``; ``collect`` (a module that failed or skipped at collection); ``collected`` (the
node ids to run); ``report`` (one per test phase: setup, call, teardown); and ``end`` (the
exit status and how many records of each kind came before). Each is written with one
``os.write``, never buffered, so what happened before an ``os._exit`` or a signal is on disk,
and a run that never reached its end says so by having no ``end``. The parent
(``agent/verify/suite.py``) checks the chain, the order and the counts, and judges the tests
only from these records.

Stdlib and pytest only. The functions it relies on are bound at import, before a candidate
could replace them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Generator
from json.encoder import encode_basestring_ascii
from typing import Any

import pytest

RESULTS_VARIABLE = "EVOLVER_RESULTS"
KEY_VARIABLE = "EVOLVER_RESULTS_KEY"
MESSAGE_CHARS = 300

# pytest's own code that turns a test run into reports: replaced while the tests run, a report
# could say anything. Checked by identity after each test and at the end.
_GUARDED = (
    ("_pytest.runner", "runtestprotocol"),
    ("_pytest.runner", "call_and_report"),
    ("_pytest.runner", "call_runtest_hook"),
    ("_pytest.runner", "check_interactive_exception"),
    ("_pytest.runner", "pytest_runtest_makereport"),
    ("_pytest.runner", "pytest_runtest_protocol"),
    ("_pytest.runner", "CallInfo"),
    ("_pytest.reports", "TestReport"),
    ("_pytest.reports", "CollectReport"),
    ("_pytest.python", "Function"),
    ("_pytest.python", "pytest_pyfunc_call"),
    ("_pytest.skipping", "pytest_runtest_makereport"),
    ("_pytest.main", "pytest_runtestloop"),
)
_GUARDED_ATTRIBUTES = (
    ("_pytest.runner", "CallInfo", "from_call"),
    ("_pytest.reports", "TestReport", "from_item_and_call"),
    ("_pytest.reports", "TestReport", "__init__"),
    ("_pytest.reports", "CollectReport", "__init__"),
    ("_pytest.python", "Function", "runtest"),
)


def _encode(value: Any, escape: Callable[[str], str] = encode_basestring_ascii) -> str:
    """Compact JSON of str, int, bool, None, lists and dicts, with no module lookups at call
    time (``json.dumps`` reads module globals a candidate could replace)."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{escape(str(k))}:{_encode(v)}" for k, v in value.items())
        return "{" + ",".join(pairs) + "}"
    return escape(str(value))


class _Sink:
    """The results file: one record per ``os.write``, each chained to the previous by HMAC."""

    def __init__(self, fd: int, key: bytes) -> None:
        write, digest, new = os.write, hashlib.sha256, hmac.new
        last_mac, written = [""], [0]

        def emit(kind: str, fields: dict[str, Any]) -> int:
            seq = written[0]
            body = _encode({"seq": seq, "kind": kind, **fields}).encode("ascii")
            mac = new(key, last_mac[0].encode("ascii") + b"\n" + body, digest).hexdigest()[:32]
            last_mac[0], written[0] = mac, seq + 1
            data = mac.encode("ascii") + b" " + body + b"\n"
            while data:
                data = data[write(fd, data) :]
            return seq

        self.emit = emit

    @classmethod
    def from_environment(cls) -> _Sink | None:
        path = os.environ.pop(RESULTS_VARIABLE, None)
        key_path = os.environ.pop(KEY_VARIABLE, None)
        if not path or not key_path:
            return None
        key = _take_key(key_path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags, 0o600)
        return cls(fd, key)


def _take_key(path: str) -> bytes:
    """Read the one-time key and delete its file, so code that runs later cannot read it."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        key = os.read(fd, 256)
    finally:
        os.close(fd)
        os.unlink(path)
    if len(key) < 16:
        raise RuntimeError("evolver_results: the key file is too short")
    return key


def _lookup(module: Any, names: tuple[str, ...]) -> Any:
    """The object itself, not what attribute access makes of it (a new bound method each time
    for a classmethod)."""
    value = module
    for name in names:
        value = vars(value).get(name) if hasattr(value, "__dict__") else None
    return value


class _Guard:
    """What pytest's reporting code is at import; :meth:`replaced` names what changed since."""

    def __init__(self) -> None:
        import importlib

        paths = [*_GUARDED, *_GUARDED_ATTRIBUTES]
        self.watched = [
            (".".join(path), importlib.import_module(path[0]), tuple(path[1:])) for path in paths
        ]
        self.originals = [_lookup(module, names) for _, module, names in self.watched]

    def replaced(self) -> list[str]:
        return [
            name
            for (name, module, names), original in zip(self.watched, self.originals, strict=True)
            if _lookup(module, names) is not original
        ]


def _hook_functions(config: Any) -> list[str]:
    """Every hook implementation now registered, by the module and name of its function: code
    that adds one (to rewrite reports, say) shows up here, unless it was there on HEAD too."""
    found = set()
    for name, caller in vars(config.pluginmanager.hook).items():
        if not name.startswith("pytest_") or not hasattr(caller, "get_hookimpls"):
            continue
        for impl in caller.get_hookimpls():
            function = impl.function
            module = getattr(function, "__module__", None) or "?"
            found.add(f"{module}.{getattr(function, '__qualname__', '?')}")
    return sorted(found)


def _message(report: Any) -> str:
    """The last meaningful line of a failure, short (the parent caps and scrubs it again)."""
    try:
        text = str(report.longreprtext)
    except Exception:  # a report that cannot render still counts
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return (errors or lines or [""])[-1][:MESSAGE_CHARS]


class Recorder:
    """The hooks: each writes what pytest did, at once."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.guard = _Guard()
        self.collected_written = False
        self.replaced: list[str] = []
        self.counts = {"collect": 0, "report": 0}
        sink.emit("start", {"pid": os.getpid(), "pytest": pytest.__version__})

    def _write_collected(self, ids: list[str]) -> None:
        if not self.collected_written:
            self.collected_written = True
            self.sink.emit("collected", {"ids": ids})

    def _check_guard(self) -> None:
        for name in self.guard.replaced():
            if name not in self.replaced:
                self.replaced.append(name)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: Any) -> None:
        if report.passed:
            return
        outcome = "failed" if report.failed else "skipped"
        fields = {"node": report.nodeid, "outcome": outcome, "message": _message(report)}
        self.sink.emit("collect", fields)
        self.counts["collect"] += 1

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: Any) -> None:
        if session.config.pluginmanager.hasplugin("dsession"):
            return  # xdist's controller: its workers collect, see below
        self._write_collected([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self._write_collected(list(ids))  # every worker collects the same (xdist checks)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: Any) -> None:
        fields: dict[str, Any] = {
            "node": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "xfail": hasattr(report, "wasxfail"),
        }
        if report.failed:
            fields["message"] = _message(report)
        if report.when == "teardown":
            self._check_guard()
        if self.replaced:
            fields["replaced"] = list(self.replaced)
        self.sink.emit("report", fields)
        self.counts["report"] += 1

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: Any) -> Generator[None, None, None]:
        try:
            yield
        finally:
            # Outermost wrapper: every other plugin has had its say on the exit status.
            self._check_guard()
            self.sink.emit(
                "end",
                {
                    "exitstatus": int(session.exitstatus),
                    "collect": self.counts["collect"],
                    "report": self.counts["report"],
                    "replaced": list(self.replaced),
                    "hooks": _hook_functions(session.config),
                },
            )


def _start() -> Recorder | None:
    sink = _Sink.from_environment()
    return None if sink is None else Recorder(sink)


_recorder = _start()


def pytest_configure(config: Any) -> None:
    if _recorder is not None and not config.pluginmanager.is_registered(_recorder):
        config.pluginmanager.register(_recorder, "evolver-results-recorder")
