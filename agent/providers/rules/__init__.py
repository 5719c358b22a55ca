"""The built-in offline provider's catalogue: one module per rule, registered here.

Order matters only for the combined candidate, where each rule runs on the previous one's
output: rules that change data structures come before those that polish loops.
"""

from __future__ import annotations

from agent.providers.rules import (
    any_all_generator,
    append_to_comprehension,
    dedupe_with_dict,
    deque_for_queue,
    dict_keys_membership,
    hoist_attribute_lookup,
    hoist_regex,
    list_membership_to_set,
    memoize_recursive,
    range_list_to_range,
    readlines_iterate,
    sorted_index_to_min_max,
    string_concat_join,
    sum_list_to_generator,
)
from agent.providers.rules.base import Rule

RULES: tuple[Rule, ...] = (
    memoize_recursive.MemoizeRecursive(),
    dedupe_with_dict.DedupeWithDict(),
    deque_for_queue.DequeForQueue(),
    list_membership_to_set.ListMembershipToSet(),
    dict_keys_membership.DictKeysMembership(),
    sorted_index_to_min_max.SortedIndexToMinMax(),
    any_all_generator.AnyAllGenerator(),
    hoist_regex.HoistRegex(),
    string_concat_join.StringConcatJoin(),
    append_to_comprehension.AppendToComprehension(),
    hoist_attribute_lookup.HoistAttributeLookup(),
)

MEMORY_RULES: tuple[Rule, ...] = (
    readlines_iterate.ReadlinesIterate(),
    range_list_to_range.RangeListToRange(),
    sum_list_to_generator.SumListToGenerator(),
)

__all__ = ["MEMORY_RULES", "RULES", "Rule"]
