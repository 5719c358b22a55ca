"""The HTML report: rendered from a real run's JSON report, and looked at in headless Chromium.

The browser test drives the system's Chromium through Playwright (no browser download); where
there is none it is skipped. The rendering tests need no browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from agent.providers.strategies import by_name
from agent.reports.diff import render_diff
from agent.reports.html import render_html, write_html
from agent.reports.model import Report, ReportError
from tests.conftest import evolver, init_repo

# Three slow functions the offline rules provider knows: `k in d.keys()` (dict_keys_membership,
# about 2× faster), an order-preserving dedupe (dedupe_with_dict, far faster on the lists of
# ints the real calls pass: committed, its failure on unhashable items only a probe's risk;
# hoist_attribute_lookup times at about 1×, rejected for speed), and a string built with `+=`
# that stays out of the two targets tried, so that the profile holds more hotspots than there
# are targets.
PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": '''
        def count_known(d, keys):
            """How many of ``keys`` are in ``d``."""
            total = 0
            for k in keys:
                if k in d.keys():
                    total += 1
            return total


        def unique_in_order(items):
            out = []
            for x in items:
                if x not in out:
                    out.append(x)
            return out


        def render(words):
            s = ""
            for w in words:
                s += w
            return s
    ''',
    "tests/test_core.py": """
        from pkg.core import count_known, render, unique_in_order


        def test_count_known():
            d = {i: i for i in range(1000)}
            assert count_known(d, list(range(0, 300000, 3))) == 334
            assert count_known({}, []) == 0


        def test_unique_in_order():
            assert unique_in_order([i % 1500 for i in range(6000)]) == list(range(1500))
            assert unique_in_order([]) == []


        def test_render():
            assert render(["ab"] * 20000) == "ab" * 20000
            assert render([]) == ""
    """,
}

CHROMIUM_ARGS = [
    "--no-sandbox",  # as root Chromium refuses to start with its own sandbox
    "--disable-gpu",
    # The machine has no network: nothing may try to reach one, or the page waits on it.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

SVG_NS = "http://www.w3.org/2000/svg"

# The pygments token classes Python code gets (keyword, name, string, number, operator, …).
TOKEN_SPAN = "td.code span[class]"


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The JSON report of a real `evolver run` (about 35 s on 2 cores). A short timing budget:
    what is timed here is shown, not tested, and the candidate at about 1× would otherwise
    take the whole default budget to be found not faster."""
    root = tmp_path_factory.mktemp("real")
    repo = init_repo(root / "repo", PROJECT)
    out = root / "report.json"
    done = evolver(
        "run",
        str(repo),
        "--json",
        str(out),
        "--no-confirm",
        "--max-targets",
        "2",
        "--candidates",
        "2",
        "--rounds",
        "1",
        "--jobs",
        "2",
        "--timing-budget",
        "3",
        "--branch",
        "evolver/html",
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    committed = [c for c in report["candidates"] if c["committed"]]
    assert committed, report["candidates"]  # the dedupe is far faster, decided in any budget
    return report


def timed(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in report["candidates"] if c["speedup"] is not None]


@pytest.mark.pipeline
def test_real_report_has_the_fields_the_page_shows(real_report: dict[str, Any]) -> None:
    """The page reads these from the report; a run must write them (none is faked here). The
    report model reads it back exactly, keys in the same order."""
    assert json.dumps(Report.from_json(real_report).to_json()) == json.dumps(real_report)
    assert Report.from_json(real_report).absent <= {"objective"}  # a time-only run says none
    assert isinstance(real_report["run_id"], int)
    assert real_report["started"] and real_report["finished"]
    assert "model" in real_report
    assert len(real_report["hotspots"]) >= 3  # render is profiled though not tried
    for candidate in real_report["candidates"]:
        assert {"patch", "evidence", "risk", "strategy"} <= candidate.keys()
        # Rules candidates are labelled by their rules' strategies: "builtins+data-structure".
        assert all(by_name(part) for part in candidate["strategy"].split("+")), candidate
        if candidate["committed"]:
            assert candidate["patch"].startswith("--- a/pkg/core.py")
            assert candidate["evidence"] and candidate["risk"]["level"] in ("low", "medium", "high")


@pytest.mark.pipeline
def test_real_report_renders(real_report: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write_html(real_report, path)
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "http://" not in html.replace(SVG_NS, "")
    assert "https://" not in html and "@import" not in html and "url(" not in html
    assert html.count('class="bar ') == len(timed(real_report))
    assert rows(html) == len(real_report["candidates"])
    assert real_report["base_commit"][:10] in html and "evolver/html" in html
    for hotspot in real_report["hotspots"]:
        assert hotspot["target"].partition("::")[2] in html
    for candidate in real_report["candidates"]:
        assert escaped(candidate["reason"]) in html
        if candidate["committed"]:
            for sentence in candidate["evidence"].values():
                assert escaped(sentence) in html


def rows(html: str) -> int:
    """Candidate rows in the page's tables."""
    return len(re.findall(r'<tr id="[^"]*" class="candidate[ "]', html))


def escaped(text: str) -> str:
    return str(escape(text))


# ---------------------------------------------------------------------------------------------
# In the browser


def chromium_path() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        why = "no Chromium on this machine (scripts/bootstrap installs it as root)"
        if os.environ.get("CI"):  # where the report's rendering must be shown, not skipped
            pytest.fail(why)
        pytest.skip(why)
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Visit:
    """A page opened from a file, with what it asked for and what it complained about."""

    def __init__(self, browser: Any, path: Path, color_scheme: str = "light") -> None:
        self.url = path.as_uri()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(
            viewport={"width": 1200, "height": 900}, color_scheme=color_scheme
        )
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # Anything but the file itself is refused, so a stray reference fails fast (and is
        # recorded above) instead of waiting on a network this machine does not have.
        self.context.route(
            "**/*",
            lambda route: route.continue_() if route.request.url == self.url else route.abort(),
        )
        self.page.goto(self.url, wait_until="load")


@contextmanager
def visit(browser: Any, path: Path, color_scheme: str = "light") -> Iterator[Visit]:
    opened = Visit(browser, path, color_scheme)
    try:
        yield opened
    finally:
        opened.context.close()


def assert_self_contained(opened: Visit) -> None:
    assert opened.requests == [opened.url]
    assert opened.errors == []


def assert_highlighted_diff(opened: Visit) -> None:
    page = opened.page
    spans = page.locator(f".diff {TOKEN_SPAN}")
    assert spans.count() > 0, "no highlighted token in the diff"
    body_colour = page.evaluate("getComputedStyle(document.body).color")
    keywords = page.locator(".diff td.code span.k")  # `def`, `for`, `if`, `return`
    assert keywords.count() > 0
    for colour in keywords.evaluate_all("spans => spans.map(s => getComputedStyle(s).color)"):
        assert colour != body_colour
    added = page.locator(".change.committed .diff tr.d-add").first
    assert added.is_visible()
    assert added.evaluate("row => getComputedStyle(row.cells[0]).backgroundColor") != (
        page.evaluate(
            "getComputedStyle(document.querySelector('.diff tr.d-ctx td')).backgroundColor"
        )
    )


def save_screenshot(opened: Visit, tmp_path: Path, name: str) -> Path:
    """Into tmp_path, and also into $EVOLVER_ARTIFACTS when it is set, for CI to keep."""
    path = tmp_path / name
    opened.page.screenshot(path=str(path), full_page=True)
    artifacts = os.environ.get("EVOLVER_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(artifacts) / name)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 30_000, "a blank page would be a few kilobytes"
    return path


@pytest.mark.pipeline
def test_real_report_in_chromium(browser: Any, real_report: dict[str, Any], tmp_path: Path) -> None:
    started = time.monotonic()
    path = tmp_path / "report.html"
    write_html(real_report, path)
    with visit(browser, path) as opened:
        page = opened.page

        chart = page.locator("svg.chart")
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 50
        bars = page.locator("svg.chart .bar")
        assert bars.count() == len(timed(real_report)) > 0
        for i in range(bars.count()):
            bar_box = bars.nth(i).bounding_box()
            assert bar_box is not None and bar_box["width"] > 0 and bar_box["height"] > 0
            assert bars.nth(i).locator("title").text_content()
        committed_timed = [c for c in timed(real_report) if c["committed"]]
        assert page.locator("svg.chart .bar.committed").count() == len(committed_timed)

        assert page.locator("table.profile tbody tr").count() == len(real_report["hotspots"])
        assert page.locator("table.candidates tbody tr").count() == len(real_report["candidates"])
        assert page.locator("table.candidates").count() == len(
            {c["target"] for c in real_report["candidates"]}
        )
        assert_highlighted_diff(opened)
        assert page.locator("ul.evidence li").count() == sum(
            len(c["evidence"]) for c in real_report["candidates"] if c["committed"]
        )
        shown = page.locator("table.candidates td.strategy").all_inner_texts()
        assert sorted(" ".join(text.split()) for text in shown) == sorted(
            c["strategy"].replace("+", " ") for c in real_report["candidates"]
        )

        save_screenshot(opened, tmp_path, "report.png")
        assert_self_contained(opened)
    assert time.monotonic() - started < 40


def test_dark_scheme_and_every_optional_field_in_chromium(browser: Any, tmp_path: Path) -> None:
    """A report with a confirmation, notes, flaky tests, a model and a high risk, in dark mode:
    the diff's colours still stand out from the text there."""
    path = tmp_path / "full.html"
    write_html(full_report(), path)
    with visit(browser, path, color_scheme="dark") as opened:
        page = opened.page
        assert page.locator(".confirmation").is_visible()
        assert "1.87×" in page.locator(".confirmation").inner_text()
        assert page.locator("ul.notes li").count() == 1
        assert page.locator("ul.flaky li").count() == 1
        assert page.locator(".badge.high").count() == 1
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background != "rgb(255, 255, 255)"  # dark, not the light page
        assert_highlighted_diff(opened)
        # 0.5×: the slower candidate's bar grows to the left of the 1× line.
        one = page.locator("svg.chart line.one").bounding_box()
        slower = page.locator("svg.chart .bar.rejected").bounding_box()
        assert one is not None and slower is not None
        assert slower["x"] + slower["width"] <= one["x"] + 1
        save_screenshot(opened, tmp_path, "report-dark.png")
        assert_self_contained(opened)


def test_each_candidate_shows_its_strategy_in_chromium(browser: Any, tmp_path: Path) -> None:
    """One strategy, two joined by rules, and none (a report from before they were recorded):
    each in its row's own cell, visible, and named again by the committed change."""
    path = tmp_path / "strategies.html"
    write_html(full_report(), path)
    with visit(browser, path) as opened:
        page = opened.page
        headers = page.locator("table.candidates thead th").all_inner_texts()
        assert headers[1].strip().lower() == "strategy"
        cells = page.locator("table.candidates tbody tr td.strategy")
        assert cells.count() == 3
        assert [cells.nth(i).locator(".badge.strategy").all_inner_texts() for i in range(3)] == [
            ["caching"],
            ["builtins", "data-structure"],
            [],
        ]
        assert cells.nth(2).inner_text().strip() == "–"
        for badge in page.locator(".badge.strategy").all():
            assert badge.is_visible()
            box = badge.bounding_box()
            assert box is not None and box["width"] > 20 and box["height"] > 8
        # Beside its candidate: on the same row, to the right of the summary.
        first = page.locator("table.candidates tbody tr").first
        summary_box = first.locator("td").nth(0).bounding_box()
        strategy_box = first.locator("td.strategy").bounding_box()
        assert summary_box is not None and strategy_box is not None
        assert strategy_box["x"] >= summary_box["x"] + summary_box["width"] - 1
        assert abs(strategy_box["y"] - summary_box["y"]) < 2
        # The added column still leaves the table within the page's width (no sideways scroll).
        wrap = page.locator("#targets .table-wrap").first
        assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth")
        assert "(caching)" in page.locator(".change.committed h4").inner_text()
        assert "builtins + data-structure" in page.locator("details.change summary").inner_text()
        tooltips = page.locator("svg.chart .bar title").all_text_contents()
        assert any("(caching)" in t for t in tooltips)
        assert_self_contained(opened)


# ---------------------------------------------------------------------------------------------
# Without a browser


def v1_report(**changes: Any) -> dict[str, Any]:
    """A report as `report_json` wrote it before the optional fields existed."""
    report: dict[str, Any] = {
        "version": 1,
        "repo": "/src/shop",
        "base_commit": "0123456789abcdef0123456789abcdef01234567",
        "branch": "evolver/20250101-000000",
        "provider": "rules",
        "targets": [
            {
                "target": "shop/cart.py::total",
                "share": 0.41,
                "complexity": 4,
                "own_time": 1.2,
                "cum_time": 1.5,
                "calls": 300,
                "halstead_effort": 120.0,
                "maintainability": 61.0,
                "line": 10,
            }
        ],
        "candidates": [
            candidate("shop/cart.py::total", "any_all_generator", speedup=3.1, committed=True),
            candidate("shop/cart.py::total", "hoist_attribute_lookup", speedup=1.01),
            candidate("shop/cart.py::total", "dedupe_with_dict", speedup=None),
        ],
        "accepted": 1,
        "committed": 1,
        "notes": [],
        "usage": {"requests": 0},
        "flaky_tests": [],
        "confirmation": None,
        "sandbox": ["network: none"],
    }
    return report | changes


def candidate(
    target: str, summary: str, speedup: float | None, committed: bool = False, **extra: Any
) -> dict[str, Any]:
    accepted = committed or bool(extra.pop("accepted", False))
    return {
        "id": f"id-{summary}"[:10],
        "target": target,
        "provider": "rules",
        "summary": summary,
        "verdict": "accepted" if accepted else "rejected",
        "stage": "speed" if speedup is not None else "equivalence",
        "reason": "same outcomes" if accepted else "not proven faster",
        "speedup": speedup,
        "ci": [speedup * 0.97, speedup * 1.02] if speedup is not None else None,
        "first_call_speedup": speedup,
        "committed": committed,
        "commit": "fedcba98765432100000" if committed else None,
        "provenance": {},
        **extra,
    }


PATCH = "\n".join(
    [
        "--- a/shop/cart.py",
        "+++ b/shop/cart.py",
        "@@ -10,7 +10,7 @@",
        " def total(items):",
        '     """Sum of the prices,',
        '     in cents."""',
        "-    return sum([i.price for i in items])",
        "+    return sum(i.price for i in items)",
        " ",
        " ",
        " def empty():",
        "",
    ]
)


def full_report() -> dict[str, Any]:
    """Every optional field a newer run writes, with values meant to exercise the page."""
    report = v1_report(
        run_id=12,
        started="2025-03-04T05:06:07Z",
        finished="2025-03-04T05:09:08+00:00",
        model="gpt-4o-mini",
        hotspots=[
            {
                "target": "shop/cart.py::total",
                "share": 0.41,
                "own_time": 1.2,
                "cum_time": 1.5,
                "calls": 300,
            },
            {
                "target": "shop/tax.py::rate",
                "share": 0.2,
                "own_time": 0.5,
                "cum_time": 0.6,
                "calls": 9000,
            },
        ],
        notes=["shop/tax.py::rate: rules proposed nothing"],
        flaky_tests=["tests/test_clock.py::test_now"],
        confirmation={
            "what": "pytest-benchmark benchmarks",
            "method": "benchmarks",
            "runs": 3,
            "base_seconds": 2.5,
            "result_seconds": 1.3,
            "wall_speedup": 1.92,
            "speedup": 1.87,
            "benchmarks": {"test_total": 2.1, "test_empty": 1.0},
        },
        usage={"requests": 3, "input_tokens": 1200, "output_tokens": 300, "cost_usd": 0.0021},
    )
    report["candidates"] = [
        candidate(
            "shop/cart.py::total",
            "any_all_generator",
            speedup=3.1,
            committed=True,
            patch=PATCH,
            evidence={"differential": "same outcomes on 14 recorded calls", "tests": "all pass"},
            risk={"level": "high", "reasons": ["changes what an iterator argument sees"]},
            strategy="caching",
        ),
        candidate(
            "shop/cart.py::total",
            "hoist_attribute_lookup",
            speedup=0.5,
            patch=PATCH,
            strategy="builtins+data-structure",
        ),
        candidate("shop/cart.py::total", "dedupe_with_dict", speedup=None, patch=None),
    ]
    return report


def test_a_report_without_the_newer_fields_renders() -> None:
    html = render_html(v1_report())
    assert html.count('class="bar ') == 2
    assert html.count('class="bar committed') == 1
    assert rows(html) == 3
    assert "total" in html and "0123456789" in html and "41.0%" in html
    assert "Evolver · shop" in html  # the title, without a run id
    assert "<dt>run</dt>" not in html and "Whole result" not in html
    assert 'class="diff' not in html  # no patch, no diff, and no empty block for one
    assert html.count('<td class="strategy"><span class="muted">–</span></td>') == 3
    assert 'class="badge strategy"' not in html


def test_an_empty_report_renders_and_what_is_no_report_is_refused() -> None:
    html = render_html({"version": 1})
    assert "No profile in this report" in html and "No target was tried" in html
    assert render_html(Report()) == html
    with pytest.raises(ReportError, match="no version"):
        render_html({})
    with pytest.raises(ReportError, match=r"candidates\[0\]\.verdict: expected 'accepted' or"):
        render_html(v1_report(candidates=[{"verdict": "<script>"}]))


def test_hostile_text_is_escaped() -> None:
    attack = "<script>alert('x')</script>"
    target = f"pkg/{attack}.py::f<img src=x onerror=alert(2)>"
    report = v1_report(
        repo=f"/tmp/{attack}",
        branch=attack,
        provider=attack,
        model=attack,
        started=attack,
        notes=[attack],
        flaky_tests=[attack],
        sandbox=[attack],
        hotspots=[{"target": target, "share": 0.5, "own_time": 1, "cum_time": 1, "calls": 1}],
        confirmation={"what": attack, "method": attack, "speedup": 2.0, "benchmarks": {attack: 2}},
        usage={"requests": attack},
    )
    report["candidates"] = [
        candidate(
            target,
            attack,
            speedup=2.0,
            committed=True,
            reason=attack,
            stage=attack,
            patch=f"--- a/{attack}\n+++ b/{attack}\n@@ -1 +1 @@\n-x = 1\n+x = '{attack}'\n",
            evidence={attack: attack},
            risk={"level": attack, "reasons": [attack]},
            strategy=f"caching+{attack}",
            changes={attack: f"@@ -1 +1 @@\n-x = 1\n+x = '{attack}'\n"},
        )
    ]
    html = render_html(report, title=attack)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert '<span class="badge strategy">&lt;script&gt;' in html  # each part of the label
    # In the chart's tooltip and label too (inline SVG is parsed as markup like the rest).
    tooltip = re.search(r"<title>([^<]*)</title></rect>", html)
    assert tooltip is not None and "&lt;script&gt;" in tooltip.group(1)


def test_a_change_beyond_its_target_shows_each_definition_with_its_own_diff() -> None:
    report = v1_report()
    changes = {
        "Book.lookup": "--- a/m.py::Book.lookup\n+++ b/m.py::Book.lookup\n@@ -1 +1 @@\n-a\n+b\n",
        "Book.__init__": "--- a/m.py::Book.__init__\n+++ b/m.py::Book.__init__\n@@ -1 +1,2 @@\n"
        " x\n+y\n",
    }
    report["candidates"] = [candidate("m.py::Book.lookup", "index", speedup=3.0, committed=True,
                                      patch="--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-a\n+b\n",
                                      changes=changes)]  # fmt: skip
    html = render_html(report)
    assert "Changes 2 definitions, each on its own:" in html
    assert html.index(">Book.lookup</h5>") < html.index(">Book.__init__</h5>")
    plain = render_html(v1_report())
    assert "each on its own" not in plain


def test_no_timed_candidate_renders_without_a_chart() -> None:
    report = v1_report()
    report["candidates"] = [
        candidate("shop/cart.py::total", "dedupe_with_dict", speedup=None),
        candidate("shop/cart.py::total", "any_all_generator", speedup=None),
    ]
    report["accepted"] = report["committed"] = 0
    report["branch"] = None
    html = render_html(report)
    assert "<svg" not in html
    assert "No candidate reached timing" in html
    assert "none: nothing committed" in html
    assert rows(html) == 2


def test_chart_axis_is_logarithmic_with_1_2_5_ticks() -> None:
    report = v1_report()
    report["candidates"] = [
        candidate("shop/cart.py::total", "memoize_recursive", speedup=620.0, committed=True),
        candidate("shop/cart.py::total", "deque_for_queue", speedup=0.8),
    ]
    html = render_html(report)
    ticks = {
        label: float(x)
        for x, label in re.findall(r'class="tick-label" x="([\d.]+)"[^>]*>([^<]*)<', html)
    }
    assert min(ticks, key=ticks.__getitem__) == "0.5×"
    assert max(ticks, key=ticks.__getitem__) == "1000×"
    assert {"1×", "2×", "5×", "10×", "100×"} <= ticks.keys()
    one, ten, hundred = ticks["1×"], ticks["10×"], ticks["100×"]
    assert ten - one == pytest.approx(hundred - ten, abs=0.05)  # equal steps per decade


def test_diff_lines_keep_their_numbers_and_multiline_strings() -> None:
    diff = render_diff(PATCH)
    assert (diff.added, diff.removed) == (1, 1)
    kinds = [(row.kind, row.old, row.new) for row in diff.rows]
    assert kinds[:3] == [("file", None, None), ("hunk", None, None), ("ctx", 10, 10)]
    assert ("del", 13, None) in kinds and ("add", None, 13) in kinds
    assert kinds[-1] == ("ctx", 16, 16)
    # The docstring's second line is still a string: each side of a hunk is lexed whole.
    second = next(row for row in diff.rows if row.old == 12)
    assert 'class="sd"' in second.html or 'class="s2"' in second.html


def test_text_that_is_not_a_diff_is_shown_highlighted_as_a_diff() -> None:
    diff = render_diff("+ added\n- removed\n")
    assert diff.rows == () and diff.fallback is not None and "gi" in diff.fallback


# ---------------------------------------------------------------------------------------------
# With memory in the objective (`--objective memory` or `both`)


def memory_figures(original: int, candidate: int, ratio: float) -> dict[str, Any]:
    return {
        "original": original,
        "candidate": candidate,
        "ratio": ratio,
        "ci": [round(ratio * 0.97, 4), round(ratio * 1.03, 4)],
        "confidence": 0.99,
        "processes": 5,
        "retained": [4096, 0],
        "rss": [60_000_000, 52_000_000],
    }


def memory_report() -> dict[str, Any]:
    """``full_report`` as a run with ``--objective both`` writes it: a memory profile of each
    target, the committed candidate leaner, the slower one also larger (rejected at memory), the
    third never measured."""
    report = full_report()
    report["objective"] = "both"
    profile = {"calls": 300, "peak": 3_355_443, "allocated": 900_000_000, "alive": 1024}
    report["targets"][0]["memory"] = profile
    report["hotspots"][0]["memory"] = profile
    report["hotspots"][1]["memory"] = {"calls": 9000, "peak": 2048, "allocated": 10**6, "alive": 0}
    committed, larger, _ = report["candidates"]
    committed["memory"] = memory_figures(3_355_443, 1_048_576, 3.2)
    committed["evidence"]["memory"] = (
        "peak memory 3.2 MiB → 1.0 MiB (3.20× less, 99% interval 3.10–3.30× less) on 14 "
        "recorded calls"
    )
    larger["memory"] = memory_figures(3_355_443, 6_710_886, 0.5)
    larger.update(stage="memory", reason="uses more memory")
    return report


def test_a_memory_report_shows_memory_columns_and_a_second_chart() -> None:
    report = memory_report()
    assert Report.from_json(report).to_json() == report  # only keys the format has
    html = render_html(report)
    assert html.count("<svg") == 2
    assert 'id="memory-chart-title"' in html and 'id="chart-title"' in html
    memory = html.split('<section class="card" id="memory">', 1)[1].split("</section>", 1)[0]
    assert memory.count('class="bar ') == 2  # the two measured candidates, not the third
    assert memory.count('class="bar committed') == 1
    assert "3.20×  [3.10–3.30]" in memory and "0.50×  [0.48–0.52]" in memory
    assert "peak memory 3.2 MiB → 1.0 MiB, 3.20× less, 99% interval 3.10–3.30×" in memory
    assert "less memory: original peak over candidate peak" in memory
    assert '<a href="#memory">Memory</a>' in html
    # The candidates' table: peak before → after, and the ratio with its interval.
    assert '<th class="num">peak memory</th><th class="num">memory · 99% CI</th>' in html
    assert "3.2\u00a0MiB → 1.0\u00a0MiB" in html and "3.2\u00a0MiB → 6.4\u00a0MiB" in html
    assert '<span class="speedup">3.20× less</span><div class="detail ci">3.10–3.30×</div>' in html
    assert '<span class="speedup">2.00× more</span>' in html
    assert rows(html) == 3
    # The targets' memory profile: a column of the profile, and each target's heading.
    assert '<th class="num">peak</th>' in html
    assert html.count('class="num peak-memory"') == 2
    assert "peak 3.2\u00a0MiB in one call" in html
    assert "<dt>objective</dt><dd>time and memory" in html
    assert "<b>Memory:</b> peak memory 3.2 MiB" in html  # the evidence, with the others


def test_a_time_only_report_has_no_memory_parts() -> None:
    for report in (v1_report(), full_report()):
        html = render_html(report)
        assert html.count("<svg") == 1
        for part in ('id="memory"', "memory-chart", "peak memory", "peak-memory", "objective"):
            assert part not in html


def test_a_memory_run_where_nothing_was_measured_says_so() -> None:
    report = v1_report(objective="memory")
    html = render_html(report)
    assert html.count("<svg") == 1  # the speedups only
    assert "No candidate reached the memory measurement" in html
    assert "<dt>objective</dt><dd>memory: leaner" in html
    assert html.count('<td class="num peak"><span class="muted">–</span></td>') == 3
    assert html.count('<td class="num peak-memory">–</td>') == 1  # no memory profile


def test_the_memory_chart_in_chromium(browser: Any, tmp_path: Path) -> None:
    """Both charts drawn, the memory bars on the same kind of axis, the wider table still
    within the page."""
    path = tmp_path / "memory.html"
    write_html(memory_report(), path)
    with visit(browser, path) as opened:
        page = opened.page
        charts = page.locator("svg.chart")
        assert charts.count() == 2
        memory = page.locator("#memory svg.chart")
        assert memory.is_visible()
        box = memory.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 50
        bars = memory.locator(".bar")
        assert bars.count() == 2
        tooltips = bars.locator("title").all_text_contents()
        assert any("3.20× less" in t for t in tooltips)
        one = memory.locator("line.one").bounding_box()
        leaner = memory.locator(".bar.committed").bounding_box()
        larger = memory.locator(".bar.rejected").bounding_box()
        assert one is not None and leaner is not None and larger is not None
        assert leaner["x"] >= one["x"] - 1  # less memory: right of the 1× line
        assert larger["x"] + larger["width"] <= one["x"] + 1  # more: left of it
        labels = memory.locator(".tick-label").all_text_contents()
        assert {"0.5×", "1×", "2×"} <= set(labels)
        headers = [
            h.strip().lower() for h in page.locator("table.candidates thead th").all_inner_texts()
        ]
        assert "peak memory" in headers and any(h.startswith("memory") for h in headers)
        wrap = page.locator("#targets .table-wrap").first
        assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth")
        save_screenshot(opened, tmp_path, "report-memory.png")
        assert_self_contained(opened)
