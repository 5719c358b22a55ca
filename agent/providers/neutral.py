"""The ``neutral`` provider: a measurement probe, not an optimizer.

For each target it proposes exactly one candidate: the target's own code with a ``pass``
statement added as the first statement of its body (after the docstring). The candidate
parses differently and is a real edit of the target, but behaves exactly as the original:
it can never be faster, and it must never be rejected for its behaviour.

What it measures is *judgeability*: whether Evolver can judge a change of a hot function of
real code at all (compare its behaviour with the original's and time it). A neutral candidate
rejected before timing, or at the behaviour stage, shows a target whose real changes could
not be judged either. ``evals/realrepos`` runs it on real libraries.

Where it can, the ``pass`` joins the first statement's line (``pass; x = 1``), so that no
line of the file moves: line numbers are visible to code (tracebacks, warnings), and the
probe should change nothing a program can observe.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from agent.domain import Candidate, Target
from agent.providers.base import ProposalRequest, candidate_id

SUMMARY = "neutral probe: the original with a `pass` added (behaves identically)"


class NeutralProvider:
    """One behaviour-preserving rewording per target, in the first round only."""

    name = "neutral"

    def propose(self, request: ProposalRequest) -> list[Candidate]:
        if request.history or request.limit < 1:  # one probe per target, once
            return []
        new_source = neutral_rewrite(request.file_source, request.target)
        if new_source is None:
            return []
        target = request.target
        ident = candidate_id(target, new_source)
        return [Candidate(ident, target.ref, self.name, {target.ref.path: new_source}, SUMMARY)]


def neutral_rewrite(source: str, target: Target) -> str | None:
    """``source`` with a ``pass`` at the start of the target's body; ``None`` when the target
    is not found in it."""
    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
    except cst.ParserSyntaxError:
        return None
    finder = _DefinitionFinder(target.ref.qualname.split("."), target.lineno)
    wrapper.visit(finder)
    chosen = finder.chosen()
    if chosen is None:
        return None
    rewritten = wrapper.module.deep_replace(chosen, _with_pass(chosen))
    assert isinstance(rewritten, cst.Module)
    return rewritten.code


class _DefinitionFinder(cst.CSTVisitor):
    """Finds the function at ``path`` (classes, then the function); of several definitions
    under one name (a property's getter and setter), the one at ``lineno``, else the last,
    which is the one Python binds."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, path: Sequence[str], lineno: int) -> None:
        self.path = list(path)
        self.lineno = lineno
        self.scope: list[str] = []
        self.found: list[tuple[int, int, cst.FunctionDef]] = []  # (def line, first line, node)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.scope.append(node.name.value)
        return True

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scope.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if [*self.scope, node.name.value] == self.path:
            start = self.get_metadata(PositionProvider, node).start.line
            first = min([start, *(self._line(d) for d in node.decorators)])
            self.found.append((start, first, node))
        return False  # functions nested in functions are not targets

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def chosen(self) -> cst.FunctionDef | None:
        at_line = [node for start, first, node in self.found if self.lineno in (start, first)]
        if at_line:
            return at_line[0]
        return self.found[-1][2] if self.found else None


def _with_pass(function: cst.FunctionDef) -> cst.FunctionDef:
    body = function.body
    if isinstance(body, cst.SimpleStatementSuite):  # def f(x): return x
        small = list(body.body)
        at = 1 if small and _is_string(small[0]) else 0
        return function.with_changes(
            body=body.with_changes(body=[*small[:at], cst.Pass(), *small[at:]])
        )
    assert isinstance(body, cst.IndentedBlock)
    statements = list(body.body)
    at = 1 if statements and _is_docstring(statements[0]) else 0
    if at < len(statements) and isinstance(statements[at], cst.SimpleStatementLine):
        line = statements[at]
        assert isinstance(line, cst.SimpleStatementLine)
        statements[at] = line.with_changes(body=[cst.Pass(), *line.body])
    else:  # a compound statement (or nothing) follows: a line of its own
        statements.insert(at, cst.SimpleStatementLine([cst.Pass()]))
    return function.with_changes(body=body.with_changes(body=statements))


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) > 0
        and _is_string(statement.body[0])
    )


def _is_string(small: cst.BaseSmallStatement) -> bool:
    return isinstance(small, cst.Expr) and isinstance(
        small.value, (cst.SimpleString, cst.ConcatenatedString)
    )
