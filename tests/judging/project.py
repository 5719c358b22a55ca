"""The repository the judging corpus works on: one module per kind of function, each with a
contract a real caller keeps (sorted lists, grids of equal-length rows of ints, strings of
digits and commas, objects with an invariant, items documented as possibly unhashable,
intervals as pairs, counting, integer arithmetic); a workload that calls every function only
within its contract, with inputs large enough that a better algorithm is measurably faster yet
each call stays within a few milliseconds; and a deliberately weak test suite, as real suites
are, some of whose calls go wider than the workload's (unhashable items, duplicate keys).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import init_repo

SORTED_OPS = '''
    """Queries over lists sorted ascending."""


    def count_below(values: list[int], limit: int) -> int:
        """How many of ``values`` (sorted ascending) are less than ``limit``."""
        count = 0
        for value in values:
            if value >= limit:
                break
            count += 1
        return count


    def merge_sorted(left: list[int], right: list[int]) -> list[int]:
        """The items of two ascending lists as one sorted list, duplicates kept."""
        merged = []
        i = j = 0
        while i < len(left) and j < len(right):
            if left[i] <= right[j]:
                merged.append(left[i])
                i += 1
            else:
                merged.append(right[j])
                j += 1
        merged.extend(left[i:])
        merged.extend(right[j:])
        return merged
'''

GRIDS = '''
    """Grids: lists of equal-length rows of ints."""


    def column_sums(grid: list[list[int]]) -> list[int]:
        """The sum of each column of ``grid``, a list of equal-length rows of ints."""
        if not grid:
            return []
        width = len(grid[0])
        sums = [0] * width
        for row in grid:
            for column in range(width):
                sums[column] += row[column]
        return sums


    def border_sum(grid: list[list[int]]) -> int:
        """The sum of the cells on the border of ``grid`` (equal-length rows of ints)."""
        height = len(grid)
        total = 0
        for i, row in enumerate(grid):
            width = len(row)
            for j, cell in enumerate(row):
                if i == 0 or i == height - 1 or j == 0 or j == width - 1:
                    total += cell
        return total


    def transpose(grid: list[list[int]]) -> list[list[int]]:
        """The columns of ``grid`` (equal-length rows of ints), as a list of rows."""
        if not grid:
            return []
        height, width = len(grid), len(grid[0])
        result = []
        for j in range(width):
            column: list[int] = []
            for i in range(height):
                column = column + [grid[i][j]]  # a copy per cell: quadratic in the height
            result.append(column)
        return result
'''

PARSERS = '''
    """Parsing lines of text."""


    def parse_ints(line: str) -> list[int]:
        """The integers of a line like ``"12,-3,45"``; an empty line has none, and a trailing
        comma is allowed."""
        numbers = []
        current = ""
        for char in line:
            if char == ",":
                numbers.append(int(current))
                current = ""
            else:
                current += char
        if current:
            numbers.append(int(current))
        return numbers


    def count_vowels(text: str) -> int:
        """How many vowels (a, e, i, o, u, in either case) ``text`` holds."""
        count = 0
        for char in text:
            if char in "aeiouAEIOU":
                count += 1
        return count
'''

OBJECTS = '''
    """A playlist and an account."""


    class Playlist:
        """Track titles in play order."""

        def __init__(self, titles: list[str]) -> None:
            self.titles = list(titles)

        def position(self, title: str) -> int:
            """The index of the first track called ``title``, or -1 if there is none."""
            for index, name in enumerate(self.titles):
                if name == title:
                    return index
            return -1


    class Account:
        """A balance, and the lowest it has ever been."""

        def __init__(self, balance: int = 0) -> None:
            self.balance = balance
            self.lowest = balance

        def apply(self, amounts: list[int]) -> int:
            """Adds each amount in turn, keeping the lowest balance; returns the balance."""
            for amount in amounts:
                self.balance += amount
                if self.balance < self.lowest:
                    self.lowest = self.balance
            return self.balance
'''

UNHASHABLE = '''
    """Functions over items that may be unhashable."""


    def dedupe(items: list) -> list:
        """The items without repeats, each first occurrence in order. Items may be unhashable
        (lists, dicts): they are compared with ``==``."""
        result = []
        for item in items:
            if item not in result:
                result.append(item)
        return result


    def lookup_all(names: list[str], table: list[tuple[str, int]]) -> list[int]:
        """The value of each name in ``table``, a list of (name, value) pairs where the first
        pair for a name wins; a name with no pair raises KeyError."""
        values = []
        for name in names:
            for key, value in table:
                if key == name:
                    values.append(value)
                    break
            else:
                raise KeyError(name)
        return values
'''

INTERVALS = '''
    """Half-open integer intervals, as (start, end) pairs."""


    def total_covered(intervals: list[tuple[int, int]]) -> int:
        """How many units the half-open intervals ``(start, end)`` cover together; an interval
        whose end is not after its start covers nothing."""
        merged: list[list[int]] = []
        for start, end in intervals:
            if end <= start:
                continue
            kept = []
            for span in merged:
                if span[1] < start or span[0] > end:
                    kept.append(span)
                else:
                    start, end = min(start, span[0]), max(end, span[1])
            kept.append([start, end])
            merged = kept
        return sum(end - start for start, end in merged)
'''

COUNTING = '''
    """Counting words."""


    def most_common_word(words: list[str]) -> str | None:
        """The word that occurs most often; on a tie the one that appears first; None when
        there are no words."""
        best = None
        best_count = 0
        for word in words:
            count = words.count(word)
            if count > best_count:
                best, best_count = word, count
        return best
'''

NUMERIC = '''
    """Integer arithmetic."""


    def sum_of_divisors(n: int) -> int:
        """The sum of the positive divisors of ``n``; 0 when ``n`` is less than 1."""
        total = 0
        for divisor in range(1, n + 1):
            if n % divisor == 0:
                total += divisor
        return total
'''

# Every call keeps its function's contract. Sizes: the original takes about 0.5-10 ms a
# call, so each better algorithm wins by far more than the 1.1x bar and timing stays short.
WORKLOAD = """
    import random
    import string

    from kinds.counting import most_common_word
    from kinds.grids import border_sum, column_sums, transpose
    from kinds.intervals import total_covered
    from kinds.numeric import sum_of_divisors
    from kinds.objects import Account, Playlist
    from kinds.parsers import count_vowels, parse_ints
    from kinds.sorted_ops import count_below, merge_sorted
    from kinds.unhashable import dedupe, lookup_all

    WORDS = ["Umbra", "under", "Ursa", "Utopia", "apple", "river", "stone", "Ocean", "night",
             "Echo", "idle", "forest", "Iris", "amber", "quiet"]


    def sorted_lists(rng: random.Random) -> None:
        values = sorted(rng.sample(range(0, 200000, 2), 8000))
        for _ in range(12):
            count_below(values, rng.randrange(1, 200000, 2))
            left = sorted(rng.choices(range(50000), k=3000))
            right = sorted(rng.choices(range(50000), k=3000))
            merge_sorted(left, right)


    def grids(rng: random.Random) -> None:
        for _ in range(10):
            height, width = rng.randint(60, 90), rng.randint(60, 90)
            grid = [[rng.randint(-50, 99) for _ in range(width)] for _ in range(height)]
            column_sums(grid)
            border_sum(grid)
            transpose(grid)


    def parsers(rng: random.Random) -> None:
        for _ in range(10):
            numbers = [rng.randint(-9999, 99999) for _ in range(rng.randint(400, 700))]
            parse_ints(",".join(map(str, numbers)))
            count_vowels(" ".join(rng.choices(WORDS, k=rng.randint(800, 1200))))


    def objects(rng: random.Random) -> None:
        titles = [f"track {i:05d}" for i in range(4000)]
        playlist = Playlist(titles)
        account = Account(1000)
        for _ in range(12):
            playlist.position(rng.choice(titles))
            account.apply([rng.randint(-120, 130) for _ in range(4000)])


    def unhashable(rng: random.Random) -> None:
        tags = [f"tag-{i}" for i in range(250)]
        names = [f"item-{i}" for i in range(1500)]
        for _ in range(10):
            dedupe(rng.choices(tags, k=1500))
            table = [(rng.choice(names), rng.randint(1, 999)) for _ in range(1200)]
            present = [key for key, _ in table]
            lookup_all(rng.choices(present, k=150), table)


    def intervals(rng: random.Random) -> None:
        for _ in range(10):
            starts = [rng.randrange(100000) for _ in range(200)]
            total_covered([(start, start + 40) for start in starts])


    def counting(rng: random.Random) -> None:
        vocabulary = [w.lower() for w in WORDS]
        for _ in range(10):
            words = rng.choices(vocabulary, k=300) + ["river"] * 40
            rng.shuffle(words)
            most_common_word(words)


    def numeric(rng: random.Random) -> None:
        for n in (20011, 24000, 30030, 35002, 41580, 45045, 50400, 55440, 60060, 65520):
            sum_of_divisors(n)


    def main() -> None:
        rng = random.Random(12)
        for part in (sorted_lists, grids, parsers, objects, unhashable, intervals, counting,
                     numeric):
            part(rng)


    if __name__ == "__main__":
        main()
"""

# Weak on purpose, as many real suites are; some calls go wider than the workload's.
TESTS = {
    "tests/test_sorted_ops.py": """
        from kinds.sorted_ops import count_below, merge_sorted


        def test_count_below():
            assert count_below([1, 3, 5, 7], 4) == 2
            assert count_below([], 3) == 0


        def test_merge_sorted():
            assert merge_sorted([1, 4], [2, 3]) == [1, 2, 3, 4]
    """,
    "tests/test_grids.py": """
        from kinds.grids import border_sum, column_sums, transpose


        def test_column_sums():
            assert column_sums([[1, 2], [3, 4]]) == [4, 6]


        def test_border_sum():
            assert border_sum([[1, 2, 3], [4, 5, 6], [7, 8, 9]]) == 40


        def test_transpose():
            assert transpose([[1, 2], [3, 4]])[1][0] == 2
    """,
    "tests/test_parsers.py": """
        from kinds.parsers import count_vowels, parse_ints


        def test_parse_ints():
            assert parse_ints("1,-2,30") == [1, -2, 30]


        def test_count_vowels():
            assert count_vowels("Evolver") == 3
    """,
    "tests/test_objects.py": """
        from kinds.objects import Account, Playlist


        def test_position():
            assert Playlist(["a", "b"]).position("b") == 1


        def test_apply():
            account = Account(10)
            assert account.apply([5, -20, 3]) == -2
            assert account.lowest == -5
    """,
    "tests/test_unhashable.py": """
        from kinds.unhashable import dedupe, lookup_all


        def test_dedupe():
            assert dedupe(["a", "b", "a"]) == ["a", "b"]


        def test_dedupe_unhashable_items():
            assert dedupe([[1], {"k": 2}, [1]]) == [[1], {"k": 2}]


        def test_lookup_all():
            assert lookup_all(["b"], [("a", 1), ("b", 2)]) == [2]
    """,
    "tests/test_intervals.py": """
        from kinds.intervals import total_covered


        def test_total_covered():
            assert total_covered([(0, 5), (3, 8), (10, 12)]) == 10
    """,
    "tests/test_counting.py": """
        from kinds.counting import most_common_word


        def test_most_common_word():
            assert most_common_word(["a", "b", "b"]) == "b"
    """,
    "tests/test_numeric.py": """
        from kinds.numeric import sum_of_divisors


        def test_sum_of_divisors():
            assert sum_of_divisors(12) == 28
            assert sum_of_divisors(0) == 0
    """,
}

MODULES = {
    "sorted_ops": SORTED_OPS,
    "grids": GRIDS,
    "parsers": PARSERS,
    "objects": OBJECTS,
    "unhashable": UNHASHABLE,
    "intervals": INTERVALS,
    "counting": COUNTING,
    "numeric": NUMERIC,
}

WORKLOAD_COMMAND = "python workload.py"


def files() -> dict[str, str]:
    tree = {"kinds/__init__.py": "", "workload.py": WORKLOAD}
    tree |= {f"kinds/{name}.py": text for name, text in MODULES.items()}
    return tree | TESTS


def make_repo(root: Path) -> Path:
    """A git repository holding :func:`files` in one commit on ``main``."""
    return init_repo(root, files())
