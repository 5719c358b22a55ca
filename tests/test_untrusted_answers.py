"""A harness answer is hostile data: whatever a process that ran candidate code leaves in its
answer file (a FIFO, a link to /dev/zero, gigabytes, JSON of any shape or depth), Evolver
rejects it with a reason, promptly, and never crashes, hangs or quotes a secret.

The hostile "harness" is the real one (``evolver_inputs.py``) importing a target module that,
at exit, rewrites the answer the harness just wrote: the attack a candidate can make.
"""

from __future__ import annotations

import json
import math
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from agent._harness.evolver_blobs import BlobsError, decode_calls, encode_calls
from agent._harness.evolver_observe import describe, digest, outcome
from agent.project.runner import Project
from agent.verify.answers import (
    MAX_DESCRIPTION_DEPTH,
    InputsAnswer,
    MalformedAnswer,
    ObserveAnswer,
    TimeAnswer,
    check_description,
    parse_answer,
)
from agent.verify.harness import HarnessError, run_harness
from agent.verify.outcomes import difference, render, render_call
from agent.verify.untrusted import MAX_ANSWER_BYTES, UntrustedDataError, read_json
from sandbox import Sandbox
from tests.conftest import write_files

SECRET = "sk-live-0123456789abcdefghijklmnopqrstuv"

# The target module: a harmless function, and an exit hook that does ``ACTION`` to the answer
# file (``out``) once the harness has written it.
HOSTILE = """
import atexit, json, os, sys


def f(x):
    return x


def _swap():
    with open(sys.argv[1]) as spec:
        out = json.load(spec)["out"]
{action}


atexit.register(_swap)
"""


def _hostile_run(tmp_path: Path, action: str, schema: Any = InputsAnswer) -> Any:
    """``run_harness`` on ``evolver_inputs.py`` whose target module does ``action`` at exit."""
    source = tmp_path / "src"
    module = HOSTILE.format(action=textwrap.indent(textwrap.dedent(action).strip(), "    "))
    write_files(source, {"app/__init__.py": "", "app/hostile.py": module})
    spec = {"module": "app.hostile", "qualname": "f", "count": 3}
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        return run_harness(
            Project(), sandbox, "evolver_inputs.py", spec, [], timeout=60, schema=schema
        )


def _rejected(tmp_path: Path, action: str, schema: Any = InputsAnswer) -> str:
    started = time.monotonic()
    with pytest.raises(HarnessError) as raised:
        _hostile_run(tmp_path, action, schema)
    assert time.monotonic() - started < 30, "a hostile answer must not hold the run up"
    return str(raised.value)


def test_an_honest_answer_is_read_and_validated(tmp_path: Path) -> None:
    answer = _hostile_run(tmp_path, "pass")
    assert isinstance(answer, InputsAnswer)
    assert answer.calls == [] and answer.note is not None


def test_a_fifo_kept_open_is_refused_at_once(tmp_path: Path) -> None:
    # A descendant holds the FIFO open for writing and never writes: a blocking read would wait
    # for ever.
    why = _rejected(
        tmp_path,
        """
        os.unlink(out)
        os.mkfifo(out)
        if os.fork() == 0:
            fd = os.open(out, os.O_RDWR)
            import time
            time.sleep(120)
        """,
    )
    assert "gave no readable answer" in why and "not a regular file" in why


def test_a_link_to_dev_zero_is_not_followed(tmp_path: Path) -> None:
    why = _rejected(tmp_path, 'os.unlink(out)\nos.symlink("/dev/zero", out)')
    assert "gave no readable answer" in why


def test_an_answer_past_the_size_cap_is_refused(tmp_path: Path) -> None:
    why = _rejected(tmp_path, f"os.truncate(out, {MAX_ANSWER_BYTES + 1})")  # sparse: no disk
    assert "gave no readable answer" in why and "larger than" in why


def test_an_answer_of_ten_gigabytes_stops_at_the_file_size_limit(tmp_path: Path) -> None:
    # Python ignores SIGXFSZ, so the sandbox's file size limit shows as EFBIG; had the file
    # grown, the size cap would refuse it all the same.
    action = """
    try:
        os.truncate(out, 10 * 1024**3)
    except OSError as error:
        sys.stderr.write(f"{error.strerror}\\n")
        os._exit(7)
    """
    assert _rejected(tmp_path, action) == "failed: File too large"


@pytest.mark.parametrize(
    ("answer", "where"),
    [
        ([], "the answer"),  # a list where an object belongs
        ({"calls": "AAAA", "probes": [], "note": None}, "calls"),  # wrong type
        ({"calls": [1], "probes": [], "note": None}, "calls[0]"),
        ({"calls": ["!!not base64!!"], "probes": [], "note": None}, "calls[0]"),
        ({"calls": [], "probes": [2], "note": None}, "probes[0]"),
        ({"calls": [], "probes": []}, "note"),  # a key missing
        ({"calls": [], "note": None}, "probes"),
        ({"calls": [], "probes": [], "note": None, "spare": 1}, "spare"),  # a key unknown
        ({"calls": [], "probes": [], "note": ["a list"]}, "note"),
    ],
)
def test_json_of_the_wrong_shape_is_a_reason(tmp_path: Path, answer: Any, where: str) -> None:
    action = f"with open(out, 'w') as handle:\n    handle.write({json.dumps(answer)!r})"
    why = _rejected(tmp_path, action)
    assert why.startswith("gave a malformed answer: ") and where in why


def test_deeply_nested_json_is_a_reason(tmp_path: Path) -> None:
    action = "with open(out, 'w') as handle:\n    handle.write('[' * 200000 + ']' * 200000)"
    assert "gave no readable answer" in _rejected(tmp_path, action)


def test_nan_where_a_digest_belongs_is_a_reason(tmp_path: Path) -> None:
    observed = outcome(3, (3,), {})
    answer = {
        "observations": [observed],
        "digests": [math.nan],
        "seconds": [0.001],
        "inputs": [describe(((3,), {}))],
        "timed_out_at": None,
        "shared": [False],
    }
    text = json.dumps(answer, allow_nan=True)
    action = f"with open(out, 'w') as handle:\n    handle.write({text!r})"
    why = _rejected(tmp_path, action, ObserveAnswer)
    assert why.startswith("gave a malformed answer: digests[0]")


def test_last_words_on_stderr_are_scrubbed(tmp_path: Path) -> None:
    why = _rejected(tmp_path, f'sys.stderr.write("leaking {SECRET}\\n")\nos._exit(3)')
    assert why.startswith("failed: leaking") and SECRET not in why and "[redacted]" in why


def test_a_replaced_temporary_directory_is_not_written_through(tmp_path: Path) -> None:
    # Everything we write in tmp/ next time would land where the link points.
    action = """
    tmp = os.path.dirname(out)
    os.rename(tmp, tmp + "-moved")
    os.symlink(os.getcwd(), tmp)
    """
    assert "temporary directory replaced" in _rejected(tmp_path, action)


# The validators themselves, on honest and hostile data.


def _observe_answer(observations: list[Any]) -> dict[str, Any]:
    return {
        "observations": observations,
        "digests": [None if o is None else digest(o) for o in observations],
        "seconds": [None if o is None else 0.01 for o in observations],
        "inputs": [describe(((1,), {})) for _ in observations],
        "timed_out_at": None,
        "shared": [None if o is None else False for o in observations],
    }


class Slotted:
    __slots__ = ("a",)

    def __init__(self) -> None:
        self.a = [1, 2]


def _honest_outcomes() -> list[dict[str, Any]]:
    """What the real harness writes, through JSON, for values of every kind."""

    def fails() -> None:
        raise ValueError("no")

    values: list[Any] = [
        None,
        1.5,
        math.nan,
        "text",
        [1, [2, (3, {"k": {4}})]],
        frozenset({1, 2}),
        b"\x00\xff",
        bytearray(b"ab"),
        Slotted(),
        iter([1, 2]),
        len,
        ValueError("kept"),
        complex(1, 2),
    ]
    outcomes = [outcome(value, (value,), {"key": value}) for value in values]
    outcomes.append(outcome(_raised(fails), (), {}))
    nested: list[Any] = []
    for _ in range(300):  # deeper than the describer goes: it stops with ["deep"]
        nested = [nested]
    outcomes.append(outcome(nested, (), {}))
    return json.loads(json.dumps(outcomes, allow_nan=True))


def _raised(function: Any) -> Any:
    from agent._harness.evolver_observe import call

    return call(function, (), {})


def test_every_honest_outcome_passes_the_schema() -> None:
    outcomes = _honest_outcomes()
    answer = parse_answer(ObserveAnswer, _observe_answer([*outcomes, None]))
    assert answer.observations[: len(outcomes)] == outcomes


@pytest.mark.parametrize(
    "observation",
    [
        ["not", "a", "dict"],
        {"returned": 1},  # no args
        {"args": None},  # neither returns nor raises
        {"args": None, "returned": 1, "extra": 2},
        {"args": None, "raised": "ValueError"},
        {"args": None, "raised": ["ValueError", 3]},
        {"args": None, "returned": {"a": "dict"}},  # descriptions hold no dicts
        {"args": None, "returned": ["seq", "list", 5]},  # items not a list
        {"args": None, "returned": ["map", "dict", [[1]]]},  # a pair of one
        {"args": None, "returned": ["seq", 1, []]},  # a type name not text
        {"args": None, "returned": ["bytes", "bytes", None]},
        {"args": None, "returned": ["alien", "x", []]},  # a kind we do not know
        {"args": None, "returned": ["ref", -1]},
        {"args": None, "returned": []},
    ],
)
def test_a_malformed_outcome_is_refused(observation: Any) -> None:
    answer = _observe_answer([None])
    answer["observations"] = [observation]
    answer["digests"] = [digest(observation)]
    answer["seconds"] = [0.01]
    with pytest.raises(MalformedAnswer):
        parse_answer(ObserveAnswer, answer)


def test_inconsistent_observe_answers_are_refused() -> None:
    good = _observe_answer([outcome(1, (1,), {})])
    cases: list[dict[str, Any]] = [
        {**good, "digests": ["0" * 32]},  # a digest that is not its outcome's
        {**good, "digests": [None]},  # an outcome without its digest
        {**good, "seconds": [math.inf]},
        {**good, "seconds": [-1.0]},
        {**good, "seconds": [True]},
        {**good, "inputs": []},  # lists of different lengths
        {**good, "timed_out_at": 1},  # names no call
        {**good, "timed_out_at": False},
        {**good, "digests": ["A" * 32]},
    ]
    for case in cases:
        with pytest.raises(MalformedAnswer):
            parse_answer(ObserveAnswer, case)
    with pytest.raises(MalformedAnswer, match="answers 1 calls, not 2"):
        parse_answer(ObserveAnswer, good).expect_calls(2)


def test_descriptions_deeper_than_the_limit_are_refused_without_recursion() -> None:
    tree: Any = 1
    for _ in range(MAX_DESCRIPTION_DEPTH + 1):
        tree = ["seq", "list", [tree]]
    with pytest.raises(ValueError, match="nested too deeply"):
        check_description(tree)
    shallow: Any = 1
    for _ in range(MAX_DESCRIPTION_DEPTH - 1):
        shallow = ["seq", "list", [shallow]]
    assert check_description(shallow) is shallow
    # Comparing and rendering what passed stays within Python's recursion limit.
    other = json.loads(json.dumps(shallow).replace("1", "2"))
    was, now = {"returned": shallow, "args": None}, {"returned": other, "args": None}
    found = difference(was, now, 0.0, True)
    assert found is not None and found.startswith("the result differs at [0][0][0]")
    assert render(shallow).startswith("[[[[")


def test_the_reason_for_a_malformed_answer_never_quotes_it() -> None:
    with pytest.raises(MalformedAnswer) as raised:
        parse_answer(InputsAnswer, {"calls": [], "probes": [], "note": None, SECRET: SECRET})
    assert SECRET not in str(raised.value)
    with pytest.raises(MalformedAnswer) as raised:
        parse_answer(InputsAnswer, {"calls": [], "probes": [], "note": SECRET * 1000})
    assert SECRET not in str(raised.value) and len(str(raised.value)) <= 200


def test_rendering_a_huge_value_costs_no_more_than_a_small_one() -> None:
    huge = describe(((list(range(200_000)), "x" * 5_000_000), {"key": SECRET}))
    started = time.monotonic()
    shown = render_call(huge)
    assert time.monotonic() - started < 0.05
    assert shown.startswith("([0, 1, 2") and shown.endswith("…") and len(shown) <= 80
    assert render(describe("y" * 10_000_000), limit=20) == "'" + "y" * 18 + "…"
    assert render_call(describe(((1, "a", [2.5]), {"key": None}))) == "(1, 'a', [2.5], key=None)"


def test_read_json_refuses_what_is_not_a_small_regular_file(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UntrustedDataError):
        read_json(deep)
    link = tmp_path / "link.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(UntrustedDataError):
        read_json(link)


def test_calls_files_round_trip_and_refuse_garbage() -> None:
    blobs = [b"", b"\x80\x04abc", bytes(range(256)) * 100]
    assert decode_calls(encode_calls(blobs)) == blobs
    assert decode_calls(encode_calls([])) == []
    data = encode_calls(blobs)
    for broken in (b"", b"\x80\x04]q\x00.", data[:-1], data + b"x", data[:20]):
        with pytest.raises(BlobsError):
            decode_calls(broken)


def test_the_timing_answer_schema_takes_what_the_timer_writes_and_nothing_else() -> None:
    seen = digest(outcome(2, (1,), {}))
    honest = {
        "loops": 40,
        "unchanged": False,
        "first": 0.002,
        "values": [0.0001, 0.00012],
        "checks": {"0": [seen], "1": [seen, seen]},
        "clock_patched": ["perf_counter"],
    }
    assert parse_answer(TimeAnswer, honest).checks["1"] == [seen, seen]
    hostile: list[dict[str, Any]] = [
        {**honest, "loops": 0},
        {**honest, "loops": 1.5},
        {**honest, "unchanged": "yes"},
        {**honest, "first": math.nan},
        {**honest, "values": [-1.0]},
        {**honest, "values": "fast"},
        {**honest, "checks": {"x": [seen]}},
        {**honest, "checks": {"0": [math.nan]}},
        {**honest, "clock_patched": ["x" * 41]},
        {key: value for key, value in honest.items() if key != "checks"},
    ]
    for answer in hostile:
        with pytest.raises(MalformedAnswer):
            parse_answer(TimeAnswer, answer)
