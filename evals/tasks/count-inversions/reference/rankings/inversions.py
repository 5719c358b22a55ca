"""How far a ranking is from sorted."""

from __future__ import annotations


def count_inversions(values: list[int]) -> int:
    """The number of pairs ``i < j`` with ``values[i] > values[j]`` (equal values are not an
    inversion). 0 for a sorted list, ``n * (n - 1) // 2`` for a strictly decreasing one."""
    # Merge sort, counting as it merges: when an element of the right half is taken before
    # the rest of the left half, it is smaller than all of them. O(n log n).
    def sort_count(items: list[int]) -> tuple[list[int], int]:
        if len(items) <= 1:
            return items, 0
        middle = len(items) // 2
        left, left_count = sort_count(items[:middle])
        right, right_count = sort_count(items[middle:])
        merged: list[int] = []
        count = left_count + right_count
        i = j = 0
        while i < len(left) and j < len(right):
            if right[j] < left[i]:
                merged.append(right[j])
                count += len(left) - i
                j += 1
            else:
                merged.append(left[i])
                i += 1
        merged.extend(left[i:])
        merged.extend(right[j:])
        return merged, count

    return sort_count(list(values))[1]


def kendall_distance(a: list[int], b: list[int]) -> int:
    """Kendall tau distance between two rankings of the same items (``a`` and ``b`` list item
    ids best first): the number of item pairs the two rankings order differently."""
    position = {item: rank for rank, item in enumerate(b)}
    return count_inversions([position[item] for item in a])
