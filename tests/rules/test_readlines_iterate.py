from pathlib import Path

import pytest

from agent.providers.rules.readlines_iterate import ReadlinesIterate
from tests.rules.helpers import assert_same_behaviour, load, peak, rewrite

RULE = ReadlinesIterate()

CONTENTS = {
    "empty": b"",
    "plain": b"1\n2\n# stop\n3\n",
    "no_final_newline": b"10\n\n20",
    "crlf": b"1\r\n2\r\n\r\n",
    "bad_number": b"1\nx\n2\n",  # int("x"): ValueError
    "only_comment": b"# stop\n",
}


@pytest.fixture
def paths(tmp_path: Path) -> list[str]:
    found = []
    for name, data in CONTENTS.items():
        path = tmp_path / name
        path.write_bytes(data)
        found.append(str(path))
    return found


SOURCE = """
def parse(path):
    numbers = []
    with open(path) as f:
        for line in f.readlines():
            if line.startswith("#"):
                break
            if line.strip():
                numbers.append(int(line))
    raw = open(path, "rb")
    lengths = [len(line) for line in raw.readlines() if line]
    ends = {line[-2:] for line in raw.readlines()}  # at the end of the file already
    raw.close()
    with open(path, newline="") as g:
        kept = {i: line for i, line in enumerate(g.readlines())}
    return numbers, lengths, ends, kept
"""


def test_loops_and_comprehensions_iterate_the_file(paths: list[str]) -> None:
    after = rewrite(RULE, SOURCE, "parse")
    assert after is not None
    assert "        for line in f:\n" in after
    assert "lengths = [len(line) for line in raw if line]" in after
    assert "ends = {line[-2:] for line in raw}" in after
    assert "kept = {i: line for i, line in enumerate(g.readlines())}" in after  # not a loop's
    assert_same_behaviour(SOURCE, after, "parse", [(p,) for p in paths])


def test_a_parameter_is_iterated_when_the_loop_runs_to_the_end(paths: list[str]) -> None:
    before = """
def count(f, path):
    n = 0
    for line in f.readlines():
        if not line.strip():
            continue
        for c in line:
            if c == "#":
                break
        n += 1
    return n, f.read(), f.tell()


def run(path):
    with open(path) as f:
        return count(f, path)
"""
    after = rewrite(RULE, before, "count")
    assert after is not None and "    for line in f:\n" in after
    assert_same_behaviour(before, after, "run", [(p,) for p in paths])


@pytest.mark.parametrize(
    "body",
    [
        "for line in f.readlines(10):\n        n += 1",  # a hint
        "for line in f.readlines():\n        n += len(f.readline())",
        "for line in f.readlines():\n        f.seek(0)",
        "for line in f.readlines():\n        n += f.tell()",
        "for line in f.readlines():\n        n += len(next(f))",
        "for line in f.readlines():\n        n += len(f.read(1))",
        "for line in f.readlines():\n        g(f)",  # passed on
        "for f in f.readlines():\n        n += 1",
        "for line in f.readlines():\n        yield line",  # suspends mid-file
        "for line in f.readlines():\n        break\n    n = f.read()",  # stops early
        "for line in f.readlines():\n        return line",
        "for line in f.readlines():\n        for c in line:\n            pass\n"
        "        else:\n            break",
        "try:\n        for line in f.readlines():\n            n += int(line)\n"
        "    except ValueError:\n        n = f.read()",
        "with g():\n        for line in f.readlines():\n            n += int(line)\n"
        "    n = f.read()",  # g() may swallow the error half-way
        "n = (line for line in f.readlines())",  # lazy: may outlive the file
        "n = [line for line in f.readlines() if f.tell()]",
        "n = [line + next(f) for line in f.readlines()]",
        "n = [(line, x) for line in f.readlines() for x in f]",
        "n = f.readlines()",  # not a loop
        "n = [line for line in f.readlines()[1:]]",
        "for line in self.f.readlines():\n        n += 1",
        "for line in f.readlines(  # all of them\n    ):\n        n += 1",
    ],
)
def test_does_not_fire(body: str) -> None:
    source = f"""
def h(f, g, n, self):
    {body}
    return n
"""
    assert rewrite(RULE, source, "h") is None


PRIVATE = """
def h(path, g, n):
    with open(path) as f:
        for line in f.readlines():
            if line:
                break
    return n
"""


def test_a_loop_that_stops_early_needs_a_file_no_one_else_sees() -> None:
    after = rewrite(RULE, PRIVATE, "h")
    assert after is not None and "for line in f:" in after
    for old, new in [
        ("    return n", "    return f.closed"),  # f is mentioned after the loop
        ("    return n", "    return locals()"),
        ("open(path)", "g(path)"),  # not a file the function opened itself
        ("    with open(path) as f:\n", "    f = open(path)\n    if f:\n"),
        ("        for line", "        def inner():\n         for line"),
    ]:
        assert old in PRIVATE
        assert rewrite(RULE, PRIVATE.replace(old, new), "h") is None, new


def test_does_not_fire_in_async_code() -> None:
    source = """
async def h(f, g):
    n = 0
    for line in f.readlines():
        await g(line)
    return [line async for line in f.readlines()], [await g(x) for x in f.readlines()]
"""
    assert rewrite(RULE, source, "h") is None


def test_the_rewrite_halves_peak_memory(tmp_path: Path) -> None:
    before = """
def longest(path):
    best = 0
    with open(path) as f:
        for line in f.readlines():
            best = max(best, len(line))
    return best
"""
    after = rewrite(RULE, before, "longest")
    assert after is not None and "for line in f:" in after
    path = tmp_path / "big.txt"
    path.write_text("".join(f"line number {i}\n" for i in range(100_000)))
    original, rewritten = load(before, "longest"), load(after, "longest")
    assert original(str(path)) == rewritten(str(path))
    assert peak(rewritten, str(path)) * 2 <= peak(original, str(path))
