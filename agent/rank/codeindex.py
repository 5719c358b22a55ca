"""Where each function of a module lives: qualified name, lines, source."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSpan:
    qualname: str
    first_line: int  # the first decorator's line: what a code object reports
    def_line: int
    end_line: int
    source: str  # dedented


def index_functions(source: str) -> dict[str, FunctionSpan]:
    """Every function and method in ``source``, nested ones included, by qualified name.

    Raises ``SyntaxError`` when ``source`` does not parse.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    found: dict[str, FunctionSpan] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = prefix + child.name
                first = min([d.lineno for d in child.decorator_list] + [child.lineno])
                end = child.end_lineno or child.lineno
                text = textwrap.dedent("".join(lines[first - 1 : end]))
                found.setdefault(qualname, FunctionSpan(qualname, first, child.lineno, end, text))
                visit(child, qualname + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            elif not isinstance(child, ast.Lambda):
                visit(child, prefix)

    visit(tree, "")
    return found
