"""The judging corpus: for each function of :mod:`tests.judging.project`, one GOOD rewrite and
one subtly WRONG one, each as the model's reply would carry it.

GOOD: correct on the whole domain an expert would accept (the contract in the docstring, the
values a real caller passes) and clearly faster; several differ from the original *outside*
that domain, the way issue 12's five wrongly rejected rewrites did (a list where a string is
expected, unhashable names, ragged grids, malformed intervals, unsorted input to a function
over sorted lists): ``probe_difference`` marks those, whose report entry must show the
difference under ``probes`` instead of rejecting.

WRONG: faster too (so only the behaviour check or the tests can stop them), and wrong on
inputs a real caller can pass; ``bug`` says which. Their reasons must come from a behaviour
stage and name where the input came from (:data:`BEHAVIOUR`) or be the tests stage's
(:data:`TESTS`); adjust the words here when the stages reword them, not the rewrites.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Literal

# A behaviour-stage reason names the input's origin: "on a recorded call (...)", "on a call
# from the tests (...)", "on a generated call (...)".
BEHAVIOUR = ("on a recorded call", "on a call from the tests", "on a generated call")
TESTS = ("test", "tests", "failing", "failed")
WRONG_EXPECT: dict[str, tuple[str, ...]] = {"equivalence": BEHAVIOUR, "tests": TESTS}
STRICT_EXPECT: dict[str, tuple[str, ...]] = {"equivalence": ("on a probe call",)}

FILES = {
    "count_below": "kinds/sorted_ops.py",
    "merge_sorted": "kinds/sorted_ops.py",
    "column_sums": "kinds/grids.py",
    "border_sum": "kinds/grids.py",
    "transpose": "kinds/grids.py",
    "parse_ints": "kinds/parsers.py",
    "count_vowels": "kinds/parsers.py",
    "Playlist.position": "kinds/objects.py",
    "Account.apply": "kinds/objects.py",
    "dedupe": "kinds/unhashable.py",
    "lookup_all": "kinds/unhashable.py",
    "total_covered": "kinds/intervals.py",
    "most_common_word": "kinds/counting.py",
    "sum_of_divisors": "kinds/numeric.py",
}


@dataclass(frozen=True)
class Rewrite:
    name: str
    target: str  # the target's qualname
    kind: Literal["good", "wrong"]
    code: str  # the reply's code block: the new definition, with the imports it needs
    why: str  # what makes it good (and where it differs out of domain) or wrong
    # stage -> phrases, one of which a WRONG one's reason must hold
    expect: dict[str, tuple[str, ...]] = field(default_factory=dict)
    probe_difference: bool = False  # GOOD, differing from the original only on probes

    @property
    def path(self) -> str:
        return FILES[self.target]

    @property
    def reply(self) -> str:
        return f"A faster version:\n\n```python\n{self.code}```\n"


def _code(text: str) -> str:
    return textwrap.dedent(text).lstrip()


def good(name: str, target: str, code: str, why: str, probe: bool = False) -> Rewrite:
    return Rewrite(name, target, "good", _code(code), why, probe_difference=probe)


def wrong(name: str, target: str, code: str, why: str) -> Rewrite:
    return Rewrite(name, target, "wrong", _code(code), why, dict(WRONG_EXPECT))


GOOD = (
    good(
        "count_below-bisect",
        "count_below",
        """
        from bisect import bisect_left


        def count_below(values: list[int], limit: int) -> int:
            \"\"\"How many of ``values`` (sorted ascending) are less than ``limit``.\"\"\"
            return bisect_left(values, limit)
    """,
        "binary search on the sorted list; differs on unsorted lists",
        probe=True,
    ),
    good(
        "merge_sorted-timsort",
        "merge_sorted",
        """
        def merge_sorted(left: list[int], right: list[int]) -> list[int]:
            \"\"\"The items of two ascending lists as one sorted list, duplicates kept.\"\"\"
            return sorted(left + right)
    """,
        "timsort merges the two runs in C; differs on unsorted lists",
        probe=True,
    ),
    good(
        "column_sums-zip",
        "column_sums",
        """
        def column_sums(grid: list[list[int]]) -> list[int]:
            \"\"\"The sum of each column of ``grid``, a list of equal-length rows of ints.\"\"\"
            return [sum(column) for column in zip(*grid)]
    """,
        "zip and sum; on ragged rows it truncates where the original raises IndexError",
        probe=True,
    ),
    good(
        "border_sum-edges",
        "border_sum",
        """
        def border_sum(grid: list[list[int]]) -> int:
            \"\"\"The sum of the cells on the border of ``grid`` (equal-length rows of ints).\"\"\"
            if not grid or not grid[0]:
                return 0
            if len(grid) == 1:
                return sum(grid[0])
            if len(grid[0]) == 1:
                return sum(row[0] for row in grid)
            middle = sum(row[0] + row[-1] for row in grid[1:-1])
            return sum(grid[0]) + sum(grid[-1]) + middle
    """,
        "reads only the border cells; on a ragged grid with an empty row it raises "
        "IndexError where the original returns a sum",
        probe=True,
    ),
    good(
        "transpose-zip",
        "transpose",
        """
        def transpose(grid: list[list[int]]) -> list[list[int]]:
            \"\"\"The columns of ``grid`` (equal-length rows of ints), as a list of rows.\"\"\"
            return [list(column) for column in zip(*grid)]
    """,
        "zip; on ragged rows it truncates where the original raises IndexError",
        probe=True,
    ),
    good(
        "parse_ints-split",
        "parse_ints",
        """
        def parse_ints(line: str) -> list[int]:
            \"\"\"The integers of a line like ``"12,-3,45"``; an empty line has none, and a
            trailing comma is allowed.\"\"\"
            parts = line.split(",")
            if not parts[-1]:
                parts.pop()
            return [int(part) for part in parts]
    """,
        "str.split; given a list it raises AttributeError where the original raises "
        "TypeError (or joins strings)",
        probe=True,
    ),
    good(
        "count_vowels-count",
        "count_vowels",
        """
        def count_vowels(text: str) -> int:
            \"\"\"How many vowels (a, e, i, o, u, in either case) ``text`` holds.\"\"\"
            return sum(map(text.count, "aeiouAEIOU"))
    """,
        "str.count per vowel; given a list of ints it returns 0 where the original raises "
        "TypeError",
        probe=True,
    ),
    good(
        "position-index",
        "Playlist.position",
        """
        def position(self, title: str) -> int:
            \"\"\"The index of the first track called ``title``, or -1 if there is none.\"\"\"
            try:
                return self.titles.index(title)
            except ValueError:
                return -1
    """,
        "list.index in C; the same on every input",
    ),
    good(
        "apply-accumulate",
        "Account.apply",
        """
        from itertools import accumulate


        def apply(self, amounts: list[int]) -> int:
            \"\"\"Adds each amount in turn, keeping the lowest balance; returns the balance.\"\"\"
            running = list(accumulate(amounts, initial=self.balance))
            self.balance = running[-1]
            self.lowest = min(self.lowest, min(running))
            return self.balance
    """,
        "running balances by itertools.accumulate; with a non-number amount it raises "
        "before changing the balance, where the original has added the amounts before it",
    ),
    good(
        "dedupe-hash-first",
        "dedupe",
        """
        def dedupe(items: list) -> list:
            \"\"\"The items without repeats, each first occurrence in order. Items may be
            unhashable (lists, dicts): they are compared with ``==``.\"\"\"
            seen = set()
            unhashable = []
            result = []
            for item in items:
                try:
                    if item in seen:
                        continue
                    seen.add(item)
                except TypeError:
                    if item in unhashable:
                        continue
                    unhashable.append(item)
                result.append(item)
            return result
    """,
        "a set for hashable items, a list scan only among unhashable ones",
    ),
    good(
        "lookup_all-dict",
        "lookup_all",
        """
        def lookup_all(names: list[str], table: list[tuple[str, int]]) -> list[int]:
            \"\"\"The value of each name in ``table``, a list of (name, value) pairs where the
            first pair for a name wins; a name with no pair raises KeyError.\"\"\"
            index: dict[str, int] = {}
            for key, value in table:
                index.setdefault(key, value)
            return [index[name] for name in names]
    """,
        "a dict built once; an unhashable name raises TypeError where the original raises KeyError",
        probe=True,
    ),
    good(
        "total_covered-sweep",
        "total_covered",
        """
        from operator import itemgetter


        def total_covered(intervals: list[tuple[int, int]]) -> int:
            \"\"\"How many units the half-open intervals ``(start, end)`` cover together; an
            interval whose end is not after its start covers nothing.\"\"\"
            total = 0
            low = high = None
            for interval in sorted(intervals, key=itemgetter(0)):
                start, end = interval[0], interval[1]
                if end <= start:
                    continue
                if high is None or start > high:
                    if high is not None:
                        total += high - low
                    low, high = start, end
                elif end > high:
                    high = end
            if high is not None:
                total += high - low
            return total
    """,
        "sort and sweep; a malformed interval of three items is read as its first two "
        "where the original raises ValueError",
        probe=True,
    ),
    good(
        "most_common_word-counter",
        "most_common_word",
        """
        from collections import Counter


        def most_common_word(words: list[str]) -> str | None:
            \"\"\"The word that occurs most often; on a tie the one that appears first; None
            when there are no words.\"\"\"
            if not words:
                return None
            counts = Counter(words)
            return max(counts, key=counts.get)
    """,
        "one Counter pass; unhashable items raise TypeError where the original counts them",
        probe=True,
    ),
    good(
        "sum_of_divisors-sqrt",
        "sum_of_divisors",
        """
        from math import isqrt


        def sum_of_divisors(n: int) -> int:
            \"\"\"The sum of the positive divisors of ``n``; 0 when ``n`` is less than 1.\"\"\"
            if n < 1:
                return 0
            total = 0
            for divisor in range(1, isqrt(n) + 1):
                if n % divisor == 0:
                    total += divisor
                    other = n // divisor
                    if other != divisor:
                        total += other
            return total
    """,
        "divisors in pairs up to the square root",
    ),
)

WRONG = (
    wrong(
        "count_below-bisect-right",
        "count_below",
        """
        from bisect import bisect_right


        def count_below(values: list[int], limit: int) -> int:
            \"\"\"How many of ``values`` (sorted ascending) are less than ``limit``.\"\"\"
            return bisect_right(values, limit)
    """,
        "counts values equal to the limit too (the workload's limits are never in the list)",
    ),
    wrong(
        "merge_sorted-set",
        "merge_sorted",
        """
        def merge_sorted(left: list[int], right: list[int]) -> list[int]:
            \"\"\"The items of two ascending lists as one sorted list, duplicates kept.\"\"\"
            return sorted(set(left) | set(right))
    """,
        "drops duplicates, which the docstring keeps and the workload's lists have",
    ),
    wrong(
        "column_sums-first-row",
        "column_sums",
        """
        from operator import add


        def column_sums(grid: list[list[int]]) -> list[int]:
            \"\"\"The sum of each column of ``grid``, a list of equal-length rows of ints.\"\"\"
            sums = list(grid[0])
            for row in grid[1:]:
                sums = list(map(add, sums, row))
            return sums
    """,
        "raises IndexError on a grid with no rows, where the original returns []",
    ),
    wrong(
        "border_sum-one-row",
        "border_sum",
        """
        def border_sum(grid: list[list[int]]) -> int:
            \"\"\"The sum of the cells on the border of ``grid`` (equal-length rows of ints).\"\"\"
            if not grid or not grid[0]:
                return 0
            if len(grid[0]) == 1:
                return sum(row[0] for row in grid)
            middle = sum(row[0] + row[-1] for row in grid[1:-1])
            return sum(grid[0]) + sum(grid[-1]) + middle
    """,
        "counts a grid of one row twice (the workload's grids have 60 rows or more)",
    ),
    wrong(
        "transpose-tuples",
        "transpose",
        """
        def transpose(grid: list[list[int]]) -> list[list[int]]:
            \"\"\"The columns of ``grid`` (equal-length rows of ints), as a list of rows.\"\"\"
            return list(zip(*grid))
    """,
        "returns tuples as the rows, where the original returns lists",
    ),
    wrong(
        "parse_ints-naive-split",
        "parse_ints",
        """
        def parse_ints(line: str) -> list[int]:
            \"\"\"The integers of a line like ``"12,-3,45"``; an empty line has none, and a
            trailing comma is allowed.\"\"\"
            return [int(part) for part in line.split(",")]
    """,
        "raises ValueError on an empty line or a trailing comma, which the docstring allows",
    ),
    wrong(
        "count_vowels-no-capital-u",
        "count_vowels",
        """
        def count_vowels(text: str) -> int:
            \"\"\"How many vowels (a, e, i, o, u, in either case) ``text`` holds.\"\"\"
            return sum(map(text.count, "aeiouAEIO"))
    """,
        "misses the capital U, which the workload's texts have",
    ),
    wrong(
        "position-no-missing",
        "Playlist.position",
        """
        def position(self, title: str) -> int:
            \"\"\"The index of the first track called ``title``, or -1 if there is none.\"\"\"
            return self.titles.index(title)
    """,
        "raises ValueError for a title not in the playlist, where the original returns -1",
    ),
    wrong(
        "apply-forgets-lowest",
        "Account.apply",
        """
        from itertools import accumulate


        def apply(self, amounts: list[int]) -> int:
            \"\"\"Adds each amount in turn, keeping the lowest balance; returns the balance.\"\"\"
            running = list(accumulate(amounts, initial=self.balance))
            self.balance = running[-1]
            self.lowest = min(running)
            return self.balance
    """,
        "forgets a lowest balance reached before this call (the object's state after it)",
    ),
    wrong(
        "dedupe-dict-keys",
        "dedupe",
        """
        def dedupe(items: list) -> list:
            \"\"\"The items without repeats, each first occurrence in order. Items may be
            unhashable (lists, dicts): they are compared with ``==``.\"\"\"
            return list(dict.fromkeys(items))
    """,
        "raises TypeError on unhashable items, which the docstring and the tests allow "
        "(the workload's items are all strings)",
    ),
    wrong(
        "lookup_all-last-wins",
        "lookup_all",
        """
        def lookup_all(names: list[str], table: list[tuple[str, int]]) -> list[int]:
            \"\"\"The value of each name in ``table``, a list of (name, value) pairs where the
            first pair for a name wins; a name with no pair raises KeyError.\"\"\"
            index = dict(table)
            return [index[name] for name in names]
    """,
        "the last pair for a name wins, not the first (the workload's tables repeat names)",
    ),
    wrong(
        "total_covered-nested",
        "total_covered",
        """
        from operator import itemgetter


        def total_covered(intervals: list[tuple[int, int]]) -> int:
            \"\"\"How many units the half-open intervals ``(start, end)`` cover together; an
            interval whose end is not after its start covers nothing.\"\"\"
            total = 0
            low = high = None
            for start, end in sorted(intervals, key=itemgetter(0)):
                if end <= start:
                    continue
                if high is None or start > high:
                    if high is not None:
                        total += high - low
                    low, high = start, end
                else:
                    high = end
            if high is not None:
                total += high - low
            return total
    """,
        "an interval inside another shortens the span (the workload's intervals have one "
        "length, so none is inside another)",
    ),
    wrong(
        "most_common_word-alphabetical-tie",
        "most_common_word",
        """
        from collections import Counter


        def most_common_word(words: list[str]) -> str | None:
            \"\"\"The word that occurs most often; on a tie the one that appears first; None
            when there are no words.\"\"\"
            if not words:
                return None
            counts = Counter(words)
            return max(sorted(counts), key=counts.get)
    """,
        "on a tie returns the alphabetically first word, not the first to appear (the "
        "workload's lists have one clear winner)",
    ),
    wrong(
        "sum_of_divisors-square-root-twice",
        "sum_of_divisors",
        """
        from math import isqrt


        def sum_of_divisors(n: int) -> int:
            \"\"\"The sum of the positive divisors of ``n``; 0 when ``n`` is less than 1.\"\"\"
            if n < 1:
                return 0
            total = 0
            for divisor in range(1, isqrt(n) + 1):
                if n % divisor == 0:
                    total += divisor + n // divisor
            return total
    """,
        "counts the square root of a perfect square twice (no workload number is a square)",
    ),
)

CORPUS = GOOD + WRONG

# The strict run: GOOD rewrites whose only differences are on probes of the kinds (a
# list where a string is expected, an unhashable name, a malformed interval, unsorted input to
# a function always given sorted lists), rejected there.
STRICT_NAMES = ("parse_ints-split", "lookup_all-dict", "total_covered-sweep", "count_below-bisect")
STRICT = tuple(r for r in GOOD if r.name in STRICT_NAMES)


def replies(rewrites: tuple[Rewrite, ...]) -> dict[str, list[str]]:
    """The model's replies for each target: every rewrite of it, in corpus order."""
    found: dict[str, list[str]] = {}
    for rewrite in rewrites:
        found.setdefault(rewrite.target, []).append(rewrite.reply)
    return found
