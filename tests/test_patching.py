"""From a model's reply to the new text of the target's file: what is accepted, what is refused
and why, and that nothing but the edit changes."""

from __future__ import annotations

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libcst.metadata import MetadataWrapper, PositionProvider

from agent.domain import Candidate, Metrics, Target, TargetRef
from agent.providers.patching import PatchError, apply_reply
from agent.syntax import find_function, normalized
from agent.verify.scope import check_static

FILE = '''"""Orders and boxes."""

import os
from math import sqrt

LIMIT = 10


def helper(x):
    return x * 2


# Keeps the first of each item, in order.
def dedupe(items):
    out = []
    for item in items:
        if item not in out:  # O(n) each time
            out.append(item)
    return out


@functools.lru_cache(maxsize=None)
def cached(n):
    return n + 1


class Box:
    size = 3

    def grow(self, n):
        total = 0
        for _ in range(n):
            total += self.size
        return total

    @staticmethod
    def shrink(n):
        return n - 1

    class Lid:
        def weight(self):
            return sum([1 for _ in range(10)])


def tail():
    return LIMIT
'''


def fenced(code: str, lang: str = "python") -> str:
    return f"Here is a faster version.\n\n```{lang}\n{code}```\n\nIt avoids the quadratic scan.\n"


def around(source: str, qualname: str) -> tuple[str, str]:
    """The text of ``source`` before the target's first line (its first decorator's) and after
    its last one."""
    module = cst.parse_module(source)
    target = find_function(module, qualname)
    assert target is not None
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    first = positions[target.decorators[0] if target.decorators else target].start.line
    lines = source.splitlines(keepends=True)
    return "".join(lines[: first - 1]), "".join(lines[positions[target].end.line :])


def assert_only_target_changed(new: str, qualname: str, original: str = FILE) -> None:
    before, after = around(original, qualname)
    assert new.startswith(before)
    assert new.endswith(after)


def reason(reply: str, qualname: str = "dedupe", source: str = FILE) -> str:
    with pytest.raises(PatchError) as error:
        apply_reply(reply, source, qualname)
    return str(error.value)


FAST_DEDUPE = "def dedupe(items):\n    return list(dict.fromkeys(items))\n"


# --- whole definitions ----------------------------------------------------------------------


def test_a_function_in_prose_replaces_only_its_definition() -> None:
    new = apply_reply(fenced(FAST_DEDUPE), FILE, "dedupe")
    assert_only_target_changed(new, "dedupe")
    assert "# Keeps the first of each item, in order.\ndef dedupe(items):\n    return list(" in new


def test_imports_helpers_and_constants_come_along() -> None:
    reply = fenced(
        "from collections import OrderedDict\n"
        "import numpy as np\n"
        "\n"
        "# Reused by every call.\n"
        "_EMPTY = ()\n"
        "_SEEN: dict[int, int] = {}\n"
        "\n"
        "def _unique(items):\n"
        "    return list(OrderedDict.fromkeys(items))\n"
        "\n"
        "def dedupe(items):\n"
        "    return _unique(items) if items else list(_EMPTY)\n"
    )
    new = apply_reply(reply, FILE, "dedupe")
    assert new.startswith(
        '"""Orders and boxes."""\n\nimport os\nfrom math import sqrt\n'
        "import numpy as np\nfrom collections import OrderedDict\n\nLIMIT = 10\n"
    )
    assert (
        "    return x * 2\n\n\n"
        "# Reused by every call.\n_EMPTY = ()\n_SEEN: dict[int, int] = {}\n\n\n"
        "def _unique(items):\n    return list(OrderedDict.fromkeys(items))\n\n\n"
        "# Keeps the first of each item, in order.\ndef dedupe(items):\n"
    ) in new
    assert new.endswith(around(FILE, "dedupe")[1])


def test_a_helper_or_import_the_file_has_already_is_not_added_again() -> None:
    reply = fenced(
        "import os\nfrom math import sqrt\n\n"
        "def helper(x):\n    # same code, other layout\n    return (x*2)\n\n" + FAST_DEDUPE
    )
    new = apply_reply(reply, FILE, "dedupe")
    assert_only_target_changed(new, "dedupe")
    assert new.count("import os") == 1 and new.count("def helper") == 1


def test_a_submodule_import_of_an_imported_package_is_no_clash() -> None:
    new = apply_reply(fenced("import os.path\n\n" + FAST_DEDUPE), FILE, "dedupe")
    assert "\nimport os\n" in new and "\nimport os.path\n" in new


def test_a_reply_repeating_the_whole_file_changes_only_the_target() -> None:
    before, after = around(FILE, "dedupe")
    reply = fenced(before + FAST_DEDUPE + after)
    assert apply_reply(reply, FILE, "dedupe") == before + FAST_DEDUPE + after


def test_a_method_given_alone_at_its_class_indentation() -> None:
    reply = fenced("    def grow(self, n):\n        return self.size * n\n", "py")
    new = apply_reply(reply, FILE, "Box.grow")
    assert_only_target_changed(new, "Box.grow")
    assert "    def grow(self, n):\n        return self.size * n\n\n    @staticmethod" in new


def test_a_method_given_inside_its_class_with_the_rest_elided() -> None:
    reply = fenced(
        "class Box:\n"
        "    size = 3\n\n"
        "    # ... other methods unchanged ...\n\n"
        "    def grow(self, n):\n        return self.size * n\n\n"
        "    @staticmethod\n    def shrink(n):\n        return n - 1\n"
        "    ...\n"
    )
    new = apply_reply(reply, FILE, "Box.grow")
    assert_only_target_changed(new, "Box.grow")
    assert "return self.size * n" in new


def test_a_method_of_a_nested_class() -> None:
    for code in (
        "def weight(self):\n    return 10\n",
        "class Lid:\n    def weight(self):\n        return 10\n",
        "class Box:\n    class Lid:\n        def weight(self):\n            return 10\n",
    ):
        new = apply_reply(fenced(code), FILE, "Box.Lid.weight")
        assert_only_target_changed(new, "Box.Lid.weight")
        assert "    class Lid:\n        def weight(self):\n            return 10\n" in new


def test_decorators_are_taken_as_the_reply_gives_them() -> None:
    kept = "@functools.lru_cache(maxsize=None)\ndef cached(n):\n    return n + 2\n"
    new = apply_reply(fenced(kept), FILE, "cached")
    assert_only_target_changed(new, "cached")
    assert "\n\n\n" + kept in new
    dropped = apply_reply(fenced("def cached(n):\n    return n + 2\n"), FILE, "cached")
    assert "lru_cache" not in dropped
    static = "@staticmethod\ndef shrink(n):\n    return n + -1\n"
    new = apply_reply(fenced(static), FILE, "Box.shrink")
    assert "    @staticmethod\n    def shrink(n):\n        return n + -1\n" in new


def test_crlf_in_the_reply() -> None:
    reply = fenced(FAST_DEDUPE).replace("\n", "\r\n")
    new = apply_reply(reply, FILE, "dedupe")
    assert "\r" not in new
    assert_only_target_changed(new, "dedupe")


def test_a_crlf_file_stays_crlf() -> None:
    crlf = FILE.replace("\n", "\r\n")
    new = apply_reply(fenced(FAST_DEDUPE), crlf, "dedupe")
    assert "\n" not in new.replace("\r\n", "")
    assert_only_target_changed(new, "dedupe", crlf)


def test_tabs_in_the_reply_take_the_file_indentation() -> None:
    reply = fenced("def grow(self, n):\n\tif n:\n\t\treturn self.size * n\n\treturn 0\n")
    new = apply_reply(reply, FILE, "Box.grow")
    assert "\t" not in new
    assert "    def grow(self, n):\n        if n:\n            return self.size * n\n" in new
    tabbed = "class Box:\n\tdef grow(self, n):\n\t\treturn 0\n\n\tdef other(self):\n\t\treturn 1\n"
    new = apply_reply(fenced("def grow(self, n):\n    return n\n"), tabbed, "Box.grow")
    assert new == tabbed.replace("return 0", "return n")


def test_other_fences_and_usage_examples_are_prose() -> None:
    reply = (
        "Install nothing:\n```bash\npip list\n```\nCode:\n~~~py\n"
        + FAST_DEDUPE
        + '\nif __name__ == "__main__":\n    print(dedupe([1, 1]))\n~~~\n'
        + "Output:\n```text\n[1]\n```\n"
    )
    new = apply_reply(reply, FILE, "dedupe")
    assert_only_target_changed(new, "dedupe")
    assert "__main__" not in new


def test_a_comment_kept_from_the_original_is_no_placeholder() -> None:
    source = "def f(xs):\n    # ...\n    return [x for x in xs]\n"
    reply = fenced("def f(xs):\n    # ...\n    return list(xs)\n")
    assert apply_reply(reply, source, "f").endswith("return list(xs)\n")


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("", "the reply is empty"),
        ("  \r\n\n", "the reply is empty"),
        ("Use a set instead of a list.", "no python code block in the reply"),
        ("```bash\npip install numpy\n```", "no python code block in the reply"),
        (FAST_DEDUPE, "no python code block in the reply"),
        (fenced(FAST_DEDUPE) + fenced(FAST_DEDUPE), "several code blocks; expected one"),
        ("```python\n" + FAST_DEDUPE, "the reply is truncated: a code block is not closed"),
        (
            fenced("def dedupe(items):\n    return list(dict.fromkeys(items)\n"),
            "the code does not parse: ",
        ),
        (fenced("def unique(items):\n    return items\n"), "no definition of dedupe in the reply"),
        (
            fenced("def helper(x):\n    return x + x\n\n" + FAST_DEDUPE),
            "redefines existing name helper",
        ),
        (fenced("LIMIT = 20\n\n" + FAST_DEDUPE), "redefines existing name LIMIT"),
        (fenced("import numpy as helper\n\n" + FAST_DEDUPE), "redefines existing name helper"),
        (fenced("from numpy import sqrt\n\n" + FAST_DEDUPE), "redefines existing name sqrt"),
        (
            fenced("from numpy import *\n\n" + FAST_DEDUPE),
            "the reply adds a star import from numpy",
        ),
        (
            fenced("print(dedupe([1]))\n" + FAST_DEDUPE),
            "the reply adds a statement that is not an import, helper or constant: print(",
        ),
        (fenced(around(FILE, "dedupe")[0].split("# Keeps")[0] + "\n"), "no definition of dedupe"),
    ],
)
def test_refusals(reply: str, expected: str) -> None:
    assert reason(reply).startswith(expected)


def test_the_parse_error_is_libcst_s_first_line() -> None:
    got = reason(fenced("def dedupe(items:\n    return items\n"))
    assert got.startswith("the code does not parse: parser error: error at ")
    assert "\n" not in got


PLACEHOLDERS = [
    "    # ... rest unchanged",
    "    # ...",
    "    #...existing code...",
    "    # (unchanged)",
    "    # rest of the code",
    "    # Rest of the function stays the same",
    "    # existing code here",
    "    # TODO: remaining logic unchanged",
    "    # implementation omitted for brevity",
    "    # …",
    "    ...",
    "    pass  # TODO",
]


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_placeholders_are_refused_with_their_line(placeholder: str) -> None:
    reply = fenced(f"def dedupe(items):\n    seen = set()\n{placeholder}\n    return items\n")
    # Line 1 is prose, 2 blank, 3 the fence, 4 the def.
    assert reason(reply) == "the reply elides code with a placeholder (line 6)"


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_placeholders_ending_a_body_are_refused(placeholder: str) -> None:
    reply = fenced(
        f"def dedupe(items):\n    if items:\n        items = set(items)\n{placeholder}\n"
    )
    assert reason(reply) == "the reply elides code with a placeholder (line 7)"


@pytest.mark.parametrize(
    "comment",
    [
        "# keep the order unchanged",
        "# the body is unchanged if empty",
        "# rest of the items are new",
        "# original implementation used a list",
        "# other code paths return early",
    ],
)
def test_real_comments_are_no_placeholders(comment: str) -> None:
    reply = fenced(f"def dedupe(items):\n    {comment}\n    return [*dict.fromkeys(items)]\n")
    assert "dict.fromkeys" in apply_reply(reply, FILE, "dedupe")


def test_a_placeholder_in_a_new_helper_is_refused() -> None:
    reply = fenced("def _fast(items):\n    # ... as before\n    return items\n\n" + FAST_DEDUPE)
    assert reason(reply) == "the reply elides code with a placeholder (line 5)"


def test_a_method_target_takes_no_new_methods() -> None:
    in_class = fenced(
        "class Box:\n    def grow(self, n):\n        return self._times(n)\n\n"
        "    def _times(self, n):\n        return self.size * n\n"
    )
    assert reason(in_class, "Box.grow") == (
        "adds method _times to class Box: new class members are not supported,"
        " only module-level helpers"
    )
    attribute = fenced("class Box:\n    _cache = {}\n\n    def grow(self, n):\n        return n\n")
    assert reason(attribute, "Box.grow").startswith("adds _cache = {} to class Box")
    changed = fenced(
        "class Box:\n    def grow(self, n):\n        return n\n\n"
        "    @staticmethod\n    def shrink(n):\n        return n - 2\n"
    )
    assert reason(changed, "Box.grow") == "redefines existing name Box.shrink"
    alone = fenced(
        "def _times(self, n):\n    return self.size * n\n\n"
        "def grow(self, n):\n    return _times(self, n)\n"
    )
    assert reason(alone, "Box.grow").startswith("adds method _times: new helper methods")


def test_a_module_level_helper_for_a_method_is_fine() -> None:
    reply = fenced("def _times(size, n):\n    return size * n\n\ndef grow(self, n):\n")
    reply = reply.replace(
        "def grow(self, n):\n", "def grow(self, n):\n    return _times(self.size, n)\n"
    )
    new = apply_reply(reply, FILE, "Box.grow")
    assert "    return x * 2\n\n\n# Keeps" in new  # nothing lands between helper and dedupe
    assert "def _times(size, n):\n    return size * n\n\n\nclass Box:" in new


def test_a_reply_that_changes_nothing() -> None:
    before, after = around(FILE, "dedupe")
    original = FILE[len(before) : len(FILE) - len(after)]
    assert reason(fenced(original)) == "the reply changes nothing"
    reformatted = original.replace("out = []", "out = [ ]  # collected")
    assert reason(fenced(reformatted)) == "the reply changes nothing"


def test_a_target_defined_twice_is_refused() -> None:
    source = (
        "class A:\n    @property\n    def v(self):\n        return self._v\n\n"
        "    @v.setter\n    def v(self, x):\n        self._v = x\n"
    )
    reply = fenced("@v.setter\ndef v(self, x):\n    self._v = int(x)\n")
    assert (
        reason(reply, "A.v", source)
        == "A.v is defined more than once in the file; cannot tell which"
    )


def test_a_target_missing_from_the_file() -> None:
    assert reason(fenced(FAST_DEDUPE), "nowhere") == "nowhere is not defined in the target's file"


# --- SEARCH/REPLACE -------------------------------------------------------------------------


def edit(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


def test_search_replace_in_a_fence_with_prose() -> None:
    reply = "A set makes this linear:\n\n```python\n" + edit(
        "    out = []\n    for item in items:\n        if item not in out:  # O(n) each time\n"
        "            out.append(item)\n    return out\n",
        "    return list(dict.fromkeys(items))\n",
    )
    reply += "```\n"
    new = apply_reply(reply, FILE, "dedupe")
    assert_only_target_changed(new, "dedupe")
    assert "def dedupe(items):\n    return list(dict.fromkeys(items))\n\n\n@functools" in new


def test_search_replace_blocks_apply_in_order() -> None:
    reply = edit("        total = 0\n", "        total = 0  # start\n") + edit(
        "        total = 0  # start\n", "        total = n * 0\n"
    )
    assert "        total = n * 0\n" in apply_reply(reply, FILE, "Box.grow")


def test_search_replace_with_an_indentation_offset_reindents_the_replacement() -> None:
    dedented = edit(
        "for _ in range(n):\n    total += self.size\n",
        "if n > 0:\n    total = self.size * n\n",
    )
    new = apply_reply(dedented, FILE, "Box.grow")
    assert "        total = 0\n        if n > 0:\n            total = self.size * n\n" in new
    over = edit(
        "                return sum([1 for _ in range(10)])\n",
        "                return 10\n",
    )
    assert "        def weight(self):\n            return 10\n" in apply_reply(over, FILE, "Box")


def test_search_replace_in_a_crlf_file_with_a_crlf_reply() -> None:
    crlf = FILE.replace("\n", "\r\n")
    reply = edit("        for item in items:\n", "        for item in list(items):\n")
    new = apply_reply(reply.replace("\n", "\r\n"), crlf, "dedupe")
    assert new == crlf.replace("for item in items:", "for item in list(items):")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (edit("    return sorted(x)\n", "    return x\n"), "block 1 matches nowhere in the file"),
        (edit("        return total\n", "        return total  # same\n"), "changes nothing"),
        (edit("\n", "x = 1\n"), "SEARCH/REPLACE block 1 has an empty SEARCH part"),
        (
            "<<<<<<< SEARCH\n    out = []\n=======\n    out = set()\n",
            "the reply is truncated: a SEARCH/REPLACE block is not closed",
        ),
        (
            edit("    out = []\n    for item in items:\n", "    # ... rest unchanged\n"),
            "the reply elides code with a placeholder (line 5)",
        ),
        (edit("    return out\n", "    return out)\n"), "the patched file does not parse: "),
    ],
)
def test_search_replace_refusals(reply: str, expected: str) -> None:
    assert expected in reason(reply)


def test_search_replace_matching_twice() -> None:
    source = "def f():\n    x = 1\n\n\ndef g():\n    x = 1\n"
    twice = "SEARCH/REPLACE block 2 matches 2 places in the file; expected one"
    reply = edit("def f():\n", "def f():  # first\n") + edit("    x = 1\n", "    x = 2\n")
    assert reason(reply, "f", source) == twice
    # With an offset too (once no exact match is found).
    source = source.replace("def g():\n    x", "def g():\n        x")
    assert reason(reply.replace("    x", "x"), "f", source) == twice


# --- one scope rule: patching refuses what the verifier refuses, with the same reason ------


def verified(new: str, qualname: str) -> tuple[str, str] | None:
    """The verifier's static verdict on ``new`` as the target's file."""
    ref = TargetRef("m.py", qualname)
    target = Target(ref, "", 1, Metrics(1, 0.0, 100.0, 1))
    return check_static(Candidate("c", ref, "test", {"m.py": new}, "test"), target, FILE)


NO_MEMBERS = ": new class members are not supported, only module-level helpers"


@pytest.mark.parametrize(
    ("qualname", "search", "replace", "expected"),
    [
        ("dedupe", "def dedupe(items):\n", "_SEEN = ()\n\n\ndef dedupe(items):\n", None),
        ("dedupe", "from math import sqrt\n", "from math import floor, sqrt\n", None),
        ("Box.grow", "        return total\n", "        return total + 0\n", None),
        ("dedupe", "import os\n", "import os\nfrom os import *\n", "the reply adds a star import"),
        ("dedupe", "    return x * 2\n", "    return x + x\n", "changes 'helper', which is not"),
        ("dedupe", "LIMIT = 10\n", "LIMIT = 10\nLIMIT = 11\n", "redefines existing name LIMIT"),
        ("dedupe", "LIMIT = 10\n", "LIMIT = 10\nos.sep = '/'\n", "the reply adds a statement"),
        ("dedupe", "LIMIT = 10\n", "LIMIT = 10\nlen = 3\n", "shadows the builtin or special"),
        (
            "Box.grow",
            "    @staticmethod\n",
            "    def _twice(self):\n        return 2\n\n    @staticmethod\n",
            "adds method _twice to class Box" + NO_MEMBERS,
        ),
    ],
)
def test_patching_and_the_verifier_apply_one_rule(
    qualname: str, search: str, replace: str, expected: str | None
) -> None:
    new = FILE.replace(search, replace, 1)  # the file the reply asks for, built by hand
    assert new != FILE
    if expected is None:
        assert apply_reply(edit(search, replace), FILE, qualname) == new
        assert verified(new, qualname) is None
    else:
        refused = reason(edit(search, replace), qualname)
        assert refused.startswith(expected)
        assert verified(new, qualname) == ("scope", refused)


def test_a_whole_definition_reply_is_judged_as_the_verifier_judges_its_file() -> None:
    reply = fenced(
        "import heapq\nfrom collections import OrderedDict\n\n_EMPTY = ()\n\n\n"
        "def _unique(items):\n    return list(OrderedDict.fromkeys(items))\n\n\n"
        "def dedupe(items):\n    return _unique(items) if items else list(_EMPTY)\n"
    )
    assert verified(apply_reply(reply, FILE, "dedupe"), "dedupe") is None
    # A reply with its own version of a helper: the helper goes in beside the file's, which is
    # a redefinition, refused alike by both.
    assert reason(fenced("def helper(x):\n    return x + x\n\n" + FAST_DEDUPE)) == (
        "redefines existing name helper"
    )
    built = FILE.replace("# Keeps", "def helper(x):\n    return x + x\n\n\n# Keeps")
    assert verified(built.replace("    out = []\n", FAST_DEDUPE[19:]), "dedupe") == (
        "scope",
        "redefines existing name helper",
    )


# --- normalized, and no crash on anything ---------------------------------------------------


def test_normalized_ignores_formatting_and_comments_only() -> None:
    a = "def f(x):\n    return (x+1)  # add\n"
    b = "def f( x ):\n\n    # one more\n    return x + 1\n"
    assert normalized(a) == normalized(b)
    assert normalized(normalized(a)) == normalized(a)
    assert normalized(a) != normalized("def f(x):\n    return x + 2\n")
    assert normalized("def f(:\n") == "def f(:\n"


FRAGMENTS = [
    "```python",
    "```",
    "~~~",
    "<<<<<<< SEARCH",
    "=======",
    ">>>>>>> REPLACE",
    "def dedupe(items):",
    "def grow(self, n):",
    "class Box:",
    "    return list(items)",
    "        return n",
    "    out = []",
    "    # ...",
    "import os",
    "from x import *",
    "LIMIT = 3",
    "Prose here.",
    "",
    "\t",
    "    ...",
    "(((",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12), st.sampled_from(["dedupe", "Box.grow"]))
def test_any_reply_gives_a_parsing_file_or_a_patch_error(lines: list[str], qualname: str) -> None:
    try:
        new = apply_reply("\n".join(lines), FILE, qualname)
    except PatchError as error:
        assert str(error) and "\n" not in str(error)
    else:
        cst.parse_module(new)
