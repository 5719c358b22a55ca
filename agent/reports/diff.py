"""A unified diff (git style) as rows for the HTML report: line numbers on both sides, and the
code highlighted as what it is (Python for ``.py``), each hunk's old and new side lexed whole
so that a construct spanning lines (a docstring) keeps its colour."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import DiffLexer, TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

# Pygments styles for the code in diffs: one for light pages, one for dark ones.
LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"


@dataclass(frozen=True)
class DiffRow:
    kind: str  # file, meta, hunk, add, del, ctx, note
    old: int | None
    new: int | None
    html: Markup


@dataclass(frozen=True)
class Diff:
    rows: tuple[DiffRow, ...] = ()
    fallback: Markup | None = None  # not a diff we could read: highlighted as text instead
    added: int = 0
    removed: int = 0


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")


def _formatter() -> HtmlFormatter:
    return HtmlFormatter(nowrap=True, noclasses=False)


def _lexer_for(path: str | None) -> Lexer:
    # Keep leading and trailing blank lines: the lines of a hunk must map one to one.
    options = {"stripnl": False, "ensurenl": True}
    if path:
        try:
            return get_lexer_for_filename(path, **options)
        except ClassNotFound:
            pass
    return TextLexer(**options)


def _highlight_lines(lines: list[str], lexer: Lexer) -> list[Markup]:
    """Each line's HTML, lexed together so that a construct spanning lines keeps its colour."""
    if not lines:
        return []
    html = highlight("\n".join(lines) + "\n", lexer, _formatter())
    # HtmlFormatter closes its spans at every line end, so the output splits cleanly by line.
    out = html.split("\n")
    if out and out[-1] == "":
        out.pop()
    if len(out) != len(lines):
        return [Markup(escape(line)) for line in lines]
    return [Markup(line) for line in out]


def render_diff(patch: str) -> Diff:
    """A unified diff (git style) as rows: the code on both sides highlighted as what it is
    (Python for ``.py``), each hunk's old and new side lexed as a whole."""
    lines = patch.splitlines()
    rows: list[DiffRow] = []
    added = removed = 0
    old_path: str | None = None
    lexer = _lexer_for(None)
    i = 0
    hunks = 0
    while i < len(lines):
        line = lines[i]
        match = _HUNK.match(line)
        if match is None:
            if line.startswith("--- "):
                old_path = _diff_path(line[4:])
            elif line.startswith("+++ "):
                new_path = _diff_path(line[4:])
                shown = new_path or old_path or "?"
                if old_path and new_path and old_path != new_path:
                    shown = f"{old_path} → {new_path}"
                elif new_path is None:
                    shown = f"{old_path} (deleted)"
                rows.append(DiffRow("file", None, None, Markup(escape(shown))))
                lexer = _lexer_for(new_path or old_path)
            elif not line.startswith(("diff --git ", "index ")):
                rows.append(DiffRow("meta", None, None, Markup(escape(line))))
            i += 1
            continue
        hunks += 1
        old_no, new_no = int(match[1]), int(match[3])
        old_left = int(match[2]) if match[2] is not None else 1
        new_left = int(match[4]) if match[4] is not None else 1
        rows.append(DiffRow("hunk", None, None, Markup(escape(line))))
        i += 1
        body: list[tuple[str, str]] = []
        while i < len(lines) and (old_left > 0 or new_left > 0 or lines[i].startswith("\\")):
            text = lines[i]
            sign = text[:1] or " "  # some tools strip the space of an empty context line
            if sign == "\\":
                body.append(("\\", text))
            elif sign == "+":
                new_left -= 1
                body.append((sign, text[1:]))
            elif sign == "-":
                old_left -= 1
                body.append((sign, text[1:]))
            elif sign == " ":
                old_left, new_left = old_left - 1, new_left - 1
                body.append((sign, text[1:]))
            else:
                break
            i += 1
        old_html = iter(_highlight_lines([t for s, t in body if s in " -"], lexer))
        new_html = iter(_highlight_lines([t for s, t in body if s in " +"], lexer))
        for sign, text in body:
            if sign == "\\":
                rows.append(DiffRow("note", None, None, Markup(escape(text))))
            elif sign == "-":
                rows.append(DiffRow("del", old_no, None, next(old_html)))
                old_no += 1
                removed += 1
            elif sign == "+":
                rows.append(DiffRow("add", None, new_no, next(new_html)))
                new_no += 1
                added += 1
            else:
                next(old_html)
                rows.append(DiffRow("ctx", old_no, new_no, next(new_html)))
                old_no, new_no = old_no + 1, new_no + 1
    if hunks == 0:
        return Diff(fallback=Markup(highlight(patch, DiffLexer(), HtmlFormatter())))
    return Diff(rows=tuple(rows), added=added, removed=removed)


def _diff_path(text: str) -> str | None:
    path = text.split("\t")[0].strip()
    if path == "/dev/null":
        return None
    return path[2:] if path.startswith(("a/", "b/")) else path


@lru_cache(maxsize=1)
def pygments_css() -> Markup:
    """Token colours for the light style, and the dark style's under prefers-color-scheme."""
    light = HtmlFormatter(style=LIGHT_STYLE).get_token_style_defs(".highlight")
    dark = HtmlFormatter(style=DARK_STYLE).get_token_style_defs(".highlight")
    css = "\n".join(light)
    css += "\n@media screen and (prefers-color-scheme: dark) {\n" + "\n".join(dark) + "\n}\n"
    # Lexing a hunk that starts mid-construct can yield error tokens: no red boxes for those.
    css += ".highlight .err { border: none; background: none; }\n"
    return Markup(css)
