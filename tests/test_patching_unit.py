"""Replies that edit a unit (``apply_reply(..., unit=True)``): several definitions of the
target's class and module in one fenced block, or several SEARCH/REPLACE blocks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.domain import Candidate, Metrics, Target, TargetRef
from agent.providers.patching import PatchError, apply_reply
from agent.syntax import changed_definitions
from agent.verify.scope import Scope, check_static
from tests.test_scope_unit import INDEXED, ORIGINAL

TARGET = "CustomerBook.lookup"

INIT = """def __init__(self, records):
    self.records = list(records)
    self._index = {}
    for name, city in self.records:
        self._index.setdefault(name, city)
"""
ADD = """def add(self, name, city):
    self.records.append((name, city))
    self._index.setdefault(name, city)
"""
LOOKUP = """def lookup(self, name):
    return self._index.get(name)
"""
SLOTS = '__slots__ = ("records", "_index")\n'


def fenced(code: str) -> str:
    return f"An index built once in the constructor.\n\n```python\n{code}```\n"


def member(code: str) -> str:
    return textwrap.indent(code, "    ")


def refusal(reply: str, qualname: str = TARGET) -> str:
    with pytest.raises(PatchError) as error:
        apply_reply(reply, ORIGINAL, qualname, unit=True)
    return str(error.value)


def changed(new: str) -> list[str]:
    return changed_definitions(cst.parse_module(ORIGINAL), cst.parse_module(new))


def test_two_methods_given_alone_replace_their_namesakes() -> None:
    reply = fenced(f"{INIT}\n\n{LOOKUP}")
    new = apply_reply(reply, ORIGINAL, TARGET, unit=True)
    assert changed(new) == ["CustomerBook.__init__", "CustomerBook.lookup"]
    assert "        self._index = {}\n" in new and "        return self._index.get(name)\n" in new
    # without the unit scope, the same reply is refused as it always was
    with pytest.raises(PatchError, match="adds method __init__: new helper methods"):
        apply_reply(reply, ORIGINAL, TARGET)


def test_methods_at_class_indentation_or_the_whole_class() -> None:
    methods = f"{INIT}\n{ADD}\n{LOOKUP}"
    new = apply_reply(fenced(member(methods)), ORIGINAL, TARGET, unit=True)
    assert changed(new) == ["CustomerBook.__init__", "CustomerBook.add", "CustomerBook.lookup"]
    whole = fenced("class CustomerBook:\n" + member(f"{SLOTS}\n{methods}"))
    assert apply_reply(whole, ORIGINAL, TARGET, unit=True) == INDEXED


def test_a_whole_class_keeps_what_it_repeats_and_the_file_s_comments() -> None:
    source = ORIGINAL.replace("    def _count(self):", "    # how many\n    def _count(self):")
    count = "def _count(self):\n    return len(self.records)\n"
    reply = fenced("class CustomerBook:\n" + member(f"{SLOTS}\n{INIT}\n{ADD}\n{LOOKUP}\n{count}"))
    new = apply_reply(reply, source, TARGET, unit=True)
    assert "    # how many\n    def _count(self):\n        return len(self.records)\n" in new


def test_a_new_private_method_goes_after_the_target() -> None:
    scan = "def _scan(self, name):\n    return None\n"
    new = apply_reply(fenced(f"{scan}\n\n{LOOKUP}"), ORIGINAL, TARGET, unit=True)
    expected = "        return self._index.get(name)\n\n" + member(scan) + "\n    def _count"
    assert expected in new


def test_a_private_helper_of_the_module_is_replaced_in_place() -> None:
    reply = fenced(
        "def _split(text):\n    return text.split(_SEPARATOR, -1)\n\n\n"
        "def lookup(self, name):\n"
        "    return next((c for n, c in self.records if n == name), None)\n"
    )
    new = apply_reply(reply, ORIGINAL, TARGET, unit=True)
    assert changed(new) == ["_split", "CustomerBook.lookup"]
    assert new.index("def _split") < new.index("def public_helper")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            fenced(f"{LOOKUP}\n\ndef find(self, name):\n    return self.lookup(name)\n"),
            "adds public member CustomerBook.find: new class members must be private",
        ),
        (
            fenced(f"{LOOKUP}\n\ndef size(self):\n    return len(self.records)\n"),
            "changes the decorators of CustomerBook.size",
        ),
        (
            fenced(f"{ADD}\n\n{ADD}\n\n{LOOKUP}"),
            "the reply defines CustomerBook.add 2 times where the file has 1; cannot tell which",
        ),
        (
            fenced("class CustomerBook:\n" + member(f"{ADD}\n{LOOKUP}") + f"\n\n{ADD}"),
            "the reply defines CustomerBook.add 2 times where the file has 1; cannot tell which",
        ),
        (
            fenced(f"{LOOKUP}\n\n{LOOKUP}"),
            "the reply defines lookup more than once; cannot tell which",
        ),
        (
            fenced(f"{LOOKUP}\n\n{ADD.replace('name, city):', 'name, city, when=None):')}"),
            "changes the signature of CustomerBook.add",
        ),
        (
            fenced(f"{LOOKUP}\n\ndef public_helper(text):\n    return text[:1]\n"),
            "changes 'public_helper', which is not the target",
        ),
        (
            fenced(INIT.replace("        self._index.setdefault", "        ...  # same") + LOOKUP),
            "the reply elides code with a placeholder",
        ),
    ],
)
def test_refusals(reply: str, reason: str) -> None:
    assert reason in refusal(reply)


def test_a_public_signature_that_differs_only_in_annotations_keeps_the_file_s() -> None:
    # A model copying a method often rewrites its annotations; the file's go back, so that
    # the interface stays as it was and the rest of the answer is judged, not refused.
    annotated = ORIGINAL.replace(
        "def add(self, name, city):", "def add(self, name: str, city: str = '') -> None:"
    )
    retyped = ADD.replace("name, city):", "name: 'Name', city: str = ''):")
    new = apply_reply(fenced(f"{INIT}\n\n{retyped}\n\n{LOOKUP}"), annotated, TARGET, unit=True)
    assert "    def add(self, name: str, city: str = '') -> None:\n" in new
    assert "        self._index.setdefault(name, city)\n" in new
    # anything more than annotations is still the scope's to refuse
    moved = retyped.replace("city: str = ''", "city: str = 'x'")
    with pytest.raises(PatchError, match=r"changes the signature of CustomerBook\.add"):
        apply_reply(fenced(f"{INIT}\n\n{moved}\n\n{LOOKUP}"), annotated, TARGET, unit=True)


def test_a_name_both_a_method_and_a_module_function_is_ambiguous() -> None:
    source = ORIGINAL + "\n\ndef add(self, name, city):\n    return None\n"
    with pytest.raises(PatchError) as error:
        apply_reply(fenced(f"{ADD}\n\n{LOOKUP}"), source, TARGET, unit=True)
    assert str(error.value) == (
        "the reply's add could be CustomerBook.add or the module's add; cannot tell which"
    )


def edit(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


def test_search_replace_blocks_compose_with_the_unit_scope() -> None:
    reply = edit(
        "        self.records = list(records)\n",
        "        self.records = list(records)\n        self._index = dict(self.records)\n",
    ) + edit(
        "        for record_name, city in self.records:\n"
        "            if record_name == name:\n"
        "                return city\n"
        "        return None\n",
        "        return self._index.get(name)\n",
    )
    new = apply_reply(reply, ORIGINAL, TARGET, unit=True)
    assert changed(new) == ["CustomerBook.__init__", "CustomerBook.lookup"]
    with pytest.raises(PatchError, match="changes '__init__', which is not the target"):
        apply_reply(reply, ORIGINAL, TARGET)
    public = edit("    def add(self, name, city):\n", "    def add(self, name, town):\n")
    with pytest.raises(PatchError, match=r"changes the signature of CustomerBook\.add"):
        apply_reply(public + reply, ORIGINAL, TARGET, unit=True)


def test_patching_and_the_verifier_judge_the_unit_alike() -> None:
    new = apply_reply(fenced(f"{INIT}\n{ADD}\n{LOOKUP}"), ORIGINAL, TARGET, unit=True)
    ref = TargetRef("m.py", TARGET)
    target = Target(ref, "", 26, Metrics(1, 0.0, 100.0, 1))
    candidate = Candidate("c", ref, "test", {"m.py": new}, "test")
    assert check_static(candidate, target, ORIGINAL, unit=True) is None
    assert check_static(candidate, target, ORIGINAL) == (
        "scope",
        "changes '__init__', which is not the target",
    )


PROPERTY = """class Box:
    def grow(self, n):
        return n

    @property
    def size(self):
        return self._size

    @size.setter
    def size(self, value):
        self._size = value
"""


def test_a_property_s_getter_and_setter_are_replaced_in_order() -> None:
    getter = "@property\ndef size(self):\n    return self._size + 0\n"
    setter = "@size.setter\ndef size(self, value):\n    self._size = int(value)\n"
    grow = "def grow(self, n):\n    return n + 0\n"
    new = apply_reply(fenced(f"{grow}\n{getter}\n{setter}"), PROPERTY, "Box.grow", unit=True)
    assert "        return self._size + 0\n" in new and "self._size = int(value)" in new
    with pytest.raises(PatchError, match=r"Box\.size once where the file has 2; cannot tell which"):
        apply_reply(fenced(f"{grow}\n{setter}"), PROPERTY, "Box.grow", unit=True)
    static = setter.replace("@size.setter", "@size.deleter")
    with pytest.raises(PatchError, match=r"changes the decorators of Box\.size"):
        apply_reply(fenced(f"{grow}\n{getter}\n{static}"), PROPERTY, "Box.grow", unit=True)


FRAGMENTS = [
    "```python",
    "```",
    "<<<<<<< SEARCH",
    "=======",
    ">>>>>>> REPLACE",
    "class CustomerBook:",
    "def lookup(self, name):",
    "    def lookup(self, name):",
    "def __init__(self, records):",
    "def _split(text):",
    "def add(self, name, city):",
    "    self._index = {}",
    "        return self._index.get(name)",
    "    return None",
    "    __slots__ = ()",
    "_SEPARATOR = ';'",
    "    # ...",
    "Prose here.",
    "",
    "(((",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_any_unit_reply_gives_a_parsing_file_in_scope_or_a_patch_error(lines: list[str]) -> None:
    try:
        new = apply_reply("\n".join(lines), ORIGINAL, TARGET, unit=True)
    except PatchError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert (
            Scope(TARGET, unit=True).refusal(cst.parse_module(ORIGINAL), cst.parse_module(new))
            is None
        )


BOOK = Path(__file__).parents[1] / "evals/tasks/customer-name-lookup/repo/crm/book.py"

INDEX_IN_THE_CONSTRUCTOR = """An index built once, kept by add.

```python
class CustomerBook:
    def __init__(self, records: list[tuple[int, str]]) -> None:
        self.records = list(records)
        self._names: dict[int, str] = {}
        for customer_id, name in self.records:
            self._names.setdefault(customer_id, name)

    def add(self, customer_id: int, name: str) -> None:
        self.records.append((customer_id, name))
        self._names.setdefault(customer_id, name)

    def names_for(self, customer_ids: list[int], missing: str = "?") -> list[str]:
        names = self._names
        return [names.get(wanted, missing) for wanted in customer_ids]
```
"""


def test_the_issue_s_index_in_the_constructor_on_the_eval_task() -> None:
    source = BOOK.read_text()
    with pytest.raises(PatchError, match=r"redefines existing name CustomerBook\.__init__"):
        apply_reply(INDEX_IN_THE_CONSTRUCTOR, source, "CustomerBook.names_for")
    new = apply_reply(INDEX_IN_THE_CONSTRUCTOR, source, "CustomerBook.names_for", unit=True)
    assert changed_definitions(cst.parse_module(source), cst.parse_module(new)) == [
        "CustomerBook.__init__",
        "CustomerBook.add",
        "CustomerBook.names_for",
    ]
    assert '    """Customer records' in new  # the class's docstring, left out of the reply, stays
