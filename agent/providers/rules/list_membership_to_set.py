"""Membership tests against a list or tuple, repeated in a loop → against a set.

``x in [...]`` compares ``x`` with every element, on every test; a set hashes ``x`` once. The
rule rewrites tests (``in`` / ``not in``) that run in a ``for`` or ``while`` loop, or in a
comprehension, of the target function, when the container is

(a) a list or tuple display of hashable literals (strings, bytes, numbers, ``True``, ``False``,
    ``None``, tuples of those): it becomes a set display, which CPython folds into a frozenset
    constant;
(b) a local bound once, by a top-level statement of the function, to a list or tuple (a display,
    a list comprehension, ``list(...)``, ``tuple(...)``, ``sorted(...)``), or a parameter
    annotated ``list``/``tuple`` (or ``*args``): ``L_set = set(L)`` goes right before the
    outermost loop and the tests in that loop use ``L_set``. Every other use of ``L`` in the
    function must be a membership test, ``len(L)`` or ``for … in L``, so ``L`` never changes or
    escapes. An unannotated parameter may be a string (``in`` is a substring test) or an
    iterator (``in`` consumes it), where a set answers differently, so it never fires;
(c) a module-level ALL_CAPS name bound once, and never rebound, to a display as in (a), which
    (when it is a list, so mutable) is only used by membership tests, ``len`` and iteration
    anywhere in the module: ``_NAME_SET = frozenset(NAME)`` goes right after it.

A display of fewer than five elements is left alone in all three cases: CPython compiles a
constant one into a tuple constant, and a scan of a few items costs what hashing the value
does, so a set cannot win there (and building one per call, in (b), loses).

Assumptions left to the verifier: the value tested is hashable, with a hash that agrees with
``==`` (an unhashable one raises ``TypeError`` against a set where a list answers ``False``);
for (b) the elements are hashable and nobody else mutates a list parameter while the function
runs; for (c) no other module mutates the list.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst
import libcst.matchers as m

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.syntax import (
    LOOPS,
    bound_names,
    fresh_name,
    names_in,
    uses_dynamic_scope,
    variable_uses,
    visible_bindings,
)

_SEQUENCE_ANNOTATIONS = frozenset({"list", "tuple", "List", "Tuple"})
_SEQUENCE_BUILDERS = frozenset({"list", "tuple", "sorted"})
_UNHASHABLE = (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)
_MEMBERSHIP_TEST = m.ComparisonTarget(operator=m.In() | m.NotIn())
MIN_DISPLAY_ITEMS = 5  # fewer, and a scan is as fast as a set


def _few_items(node: cst.BaseExpression) -> bool:
    """A list or tuple display of fewer than ``MIN_DISPLAY_ITEMS`` plain elements."""
    return (
        isinstance(node, (cst.List, cst.Tuple))
        and all(isinstance(e, cst.Element) for e in node.elements)
        and len(node.elements) < MIN_DISPLAY_ITEMS
    )


def _hashable_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString)):
        return True
    if isinstance(node, cst.ConcatenatedString):  # an f-string part is not a constant
        return not m.findall(node, m.FormattedString())
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    if isinstance(node, cst.UnaryOperation):
        return isinstance(node.operator, (cst.Minus, cst.Plus)) and isinstance(
            node.expression, (cst.Integer, cst.Float, cst.Imaginary)
        )
    return isinstance(node, cst.Tuple) and _literal_display(node)


def _literal_display(node: cst.BaseExpression) -> bool:
    """A non-empty list or tuple display of hashable literals (``[]`` would become ``{}``, a
    dict)."""
    return (
        isinstance(node, (cst.List, cst.Tuple))
        and bool(node.elements)
        and all(isinstance(e, cst.Element) and _hashable_literal(e.value) for e in node.elements)
    )


def _as_set(display: cst.List | cst.Tuple) -> cst.Set | None:
    """The same elements between braces, keeping the spacing inside the brackets."""
    if isinstance(display, cst.List):
        opening, closing = display.lbracket.whitespace_after, display.rbracket.whitespace_before
        lpar, rpar = display.lpar, display.rpar
    elif display.lpar:  # a tuple's innermost parentheses are its brackets
        opening, closing = display.lpar[-1].whitespace_after, display.rpar[0].whitespace_before
        lpar, rpar = display.lpar[:-1], display.rpar[1:]
    else:
        return None
    return cst.Set(
        elements=display.elements,
        lbrace=cst.LeftCurlyBrace(whitespace_after=opening),
        rbrace=cst.RightCurlyBrace(whitespace_before=closing),
        lpar=lpar,
        rpar=rpar,
    )


def _read_only_use(ctx: RuleContext, name: cst.Name) -> bool:
    """``x in L``, ``x not in L``, ``len(L)``, ``for x in L``: uses that neither change ``L`` nor
    let it escape."""
    parent = ctx.parents.get(name)
    if isinstance(parent, cst.ComparisonTarget):
        return parent.comparator is name and isinstance(parent.operator, (cst.In, cst.NotIn))
    if isinstance(parent, (cst.For, cst.CompFor)):
        return parent.iter is name
    if isinstance(parent, cst.Arg) and parent.value is name and not parent.star:
        call = ctx.parents[parent]
        return m.matches(call, m.Call(func=m.Name("len"), args=[m.Arg()]))
    return False


def _repeated_tests(ctx: RuleContext) -> Iterator[tuple[cst.ComparisonTarget, cst.CSTNode]]:
    """Membership tests in a loop of the function's own body, each with its outermost loop."""
    for test in m.findall(ctx.function, _MEMBERSHIP_TEST):
        assert isinstance(test, cst.ComparisonTarget)
        if ctx.in_nested_scope(test):
            continue
        loops = [a for a in ctx.ancestors(test) if isinstance(a, LOOPS)]
        if loops:
            yield test, loops[-1]


def _is_sequence_annotation(annotation: cst.Annotation | None) -> bool:
    if annotation is None:
        return False
    node = annotation.annotation
    if isinstance(node, cst.Subscript):  # list[str]
        node = node.value
    if isinstance(node, cst.Attribute):  # typing.List
        node = node.attr
    return isinstance(node, cst.Name) and node.value in _SEQUENCE_ANNOTATIONS


def _builds_sequence(value: cst.BaseExpression, shadowed: set[str]) -> bool:
    """Whether ``value`` evaluates to a fresh list or tuple (with no obviously unhashable
    element)."""
    if isinstance(value, (cst.List, cst.Tuple)):
        unhashable = any(isinstance(e.value, _UNHASHABLE) for e in value.elements)
        return not unhashable and not _few_items(value)
    if isinstance(value, cst.ListComp):
        return True
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
        return value.func.value in _SEQUENCE_BUILDERS - shadowed
    return False


def _local_binding(
    function: cst.FunctionDef, name: str, shadowed: set[str]
) -> tuple[cst.Name, int] | None:
    """The ``Name`` node binding ``name`` to a list or tuple for the whole function, and the
    index of the first top-level statement that sees that binding."""
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value == name:
            return (param.name, 0) if _is_sequence_annotation(param.annotation) else None
    if isinstance(params.star_arg, cst.Param) and params.star_arg.name.value == name:
        return params.star_arg.name, 0  # *args is always a tuple
    if not isinstance(function.body, cst.IndentedBlock):
        return None
    for index, statement in enumerate(function.body.body):
        if m.matches(statement, m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name(name))])])):
            assert isinstance(statement, cst.SimpleStatementLine)
            assign = statement.body[0]
            assert isinstance(assign, cst.Assign) and isinstance(assign.targets[0].target, cst.Name)
            if _builds_sequence(assign.value, shadowed):
                return assign.targets[0].target, index + 1
            return None
    return None


def _top_level_index(ctx: RuleContext, node: cst.CSTNode) -> int:
    """The index, in the function body, of the top-level statement holding ``node``."""
    body = ctx.function.body
    while ctx.parents[node] is not body:
        node = ctx.parents[node]
    assert isinstance(body, cst.IndentedBlock)
    return next(i for i, statement in enumerate(body.body) if statement is node)


def _block_statement(ctx: RuleContext, node: cst.CSTNode) -> cst.CSTNode | None:
    """The statement of the function holding ``node`` that sits directly in an indented block
    (``node`` itself when it is one): a statement can go right before it."""
    for parent in ctx.ancestors(node):
        if isinstance(parent, cst.IndentedBlock):
            return node
        node = parent
    return None


def _module_constant(
    ctx: RuleContext, name: str, shadowed: set[str]
) -> cst.SimpleStatementLine | None:
    """The module-level ``NAME = [...]`` that (c) can pair with a frozenset, if any."""
    if not name.isupper() or {"frozenset", "len"} & shadowed:
        return None
    module = ctx.module
    definitions = [s for s in module.body if {name, "*"} & bound_names(s)]
    if len(definitions) != 1 or not m.matches(
        definitions[0], m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name(name))])])
    ):
        return None
    definition = definitions[0]
    assert isinstance(definition, cst.SimpleStatementLine)
    assign = definition.body[0]
    assert isinstance(assign, cst.Assign)
    if not _literal_display(assign.value) or _few_items(assign.value):
        return None
    if isinstance(assign.value, cst.List):  # mutable: every use in the module must only read
        target = assign.targets[0].target
        for use in variable_uses(module, name):
            if use is not target and not _read_only_use(ctx, use):
                return None
    return definition


def _existing_frozenset(
    module: cst.Module, definition: cst.SimpleStatementLine, name: str
) -> str | None:
    """The name of a ``_NAME_SET = frozenset(NAME)`` right after ``definition`` (added when the
    rule rewrote another function), if nothing else in the module binds it."""
    body = list(module.body)
    index = body.index(definition)
    following = body[index + 1 : index + 2]
    if not following:
        return None
    target = m.AssignTarget(m.SaveMatchedNode(m.Name(), "set"))
    frozen = m.Call(m.Name("frozenset"), [m.Arg(m.Name(name))])
    found = m.extract(following[0], m.SimpleStatementLine([m.Assign([target], frozen)]))
    if found and isinstance(found["set"], cst.Name):
        set_name = found["set"].value
        if [s for s in body if set_name in bound_names(s)] == following:
            return set_name
    return None


def _assign_call(target: str, function: str, argument: str) -> cst.SimpleStatementLine:
    """``target = function(argument)``."""
    call = cst.Call(cst.Name(function), [cst.Arg(cst.Name(argument))])
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(target))], call)])


def _plan_local(
    ctx: RuleContext,
    name: str,
    tests: list[tuple[cst.ComparisonTarget, cst.CSTNode]],
    shadowed: set[str],
    taken: set[str],
    edit: _Edit,
) -> bool:
    """Case (b): record the edits for local ``name``; ``False`` when it does not apply."""
    # The new local would show in ``locals()`` and the like.
    if {"set", "len"} & shadowed or uses_dynamic_scope(ctx.function):
        return False
    binding = _local_binding(ctx.function, name, shadowed)
    if binding is None:
        return False
    bound_by, first_index = binding
    for use in variable_uses(ctx.function, name):
        if use is not bound_by and not _read_only_use(ctx, use):
            return False
    anchors: dict[cst.CSTNode, int] = {}  # statement to put the set before → top-level index
    for _, loop in tests:
        anchor = _block_statement(ctx, loop)
        if anchor is None:
            return False
        anchors[anchor] = _top_level_index(ctx, anchor)
        if anchors[anchor] < first_index:
            return False  # the loop may run before ``name`` is bound
    # A set built before a top-level statement serves every later top-level statement too.
    body = ctx.function.body
    covered = min((i for a, i in anchors.items() if ctx.parents[a] is body), default=None)
    set_name = fresh_name(taken, f"{name}_set")
    statement = _assign_call(set_name, "set", name)
    for anchor, index in anchors.items():
        if covered is None or index <= covered:
            edit.inserts.setdefault(anchor, []).append(statement)
    for test, _ in tests:
        edit.comparators[test.comparator] = cst.Name(set_name)
    return True


class _Edit(cst.CSTTransformer):
    """Swaps membership containers, and puts statements before given statements (by identity
    with the original tree)."""

    def __init__(self) -> None:
        self.comparators: dict[cst.CSTNode, cst.BaseExpression] = {}
        self.inserts: dict[cst.CSTNode, list[cst.SimpleStatementLine]] = {}

    def leave_ComparisonTarget(
        self, original: cst.ComparisonTarget, updated: cst.ComparisonTarget
    ) -> cst.ComparisonTarget:
        new = self.comparators.get(original.comparator)
        return updated if new is None else updated.with_changes(comparator=new)

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body: list[cst.BaseStatement] = []
        for old, new in zip(original.body, updated.body, strict=True):
            extra = self.inserts.get(old)
            if extra and isinstance(new, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                # The comments and blank lines above the loop now go above the new statement.
                body.append(extra[0].with_changes(leading_lines=new.leading_lines))
                body.extend(extra[1:])
                new = new.with_changes(leading_lines=())
            body.append(new)
        return updated.with_changes(body=body)


class ListMembershipToSet(FunctionRule):
    name = "list_membership_to_set"
    strategy = "data-structure"
    summary = (
        "`x in [a, b]` / `x in L` inside a loop → `x in {a, b}` / `x in L_set`, "
        "the set built once before the loop"
    )

    def candidate(self, function: cst.FunctionDef) -> bool:
        return bool(m.findall(function, _MEMBERSHIP_TEST))

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        edit = _Edit()
        by_name: dict[str, list[tuple[cst.ComparisonTarget, cst.CSTNode]]] = {}
        for test, loop in _repeated_tests(ctx):
            comparator = test.comparator
            if isinstance(comparator, (cst.List, cst.Tuple)) and _literal_display(comparator):
                if _few_items(comparator):
                    continue
                as_set = _as_set(comparator)
                if as_set is not None:
                    edit.comparators[comparator] = as_set
            elif isinstance(comparator, cst.Name):
                by_name.setdefault(comparator.value, []).append((test, loop))

        # Only now look at the whole module: names that may not be the builtins, names taken.
        shadowed = visible_bindings(ctx.module, ctx.function) if by_name else {"*"}
        taken = names_in(ctx.module) if by_name else set()
        if "*" not in shadowed:  # a star import may rebind any builtin
            for name, tests in by_name.items():
                if _plan_local(ctx, name, tests, shadowed, taken, edit):
                    continue
                definition = _module_constant(ctx, name, shadowed)
                if definition is None:
                    continue
                set_name = _existing_frozenset(ctx.module, definition, name)
                if set_name is None:
                    set_name = fresh_name(taken, f"_{name}_SET")
                    frozen = _assign_call(set_name, "frozenset", name)
                    ctx.add_statements([frozen], after=definition)
                for test, _ in tests:
                    edit.comparators[test.comparator] = cst.Name(set_name)

        if not edit.comparators:
            return None
        return ctx.function.visit(edit)  # type: ignore[return-value]
