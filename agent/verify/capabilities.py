"""What a candidate's code can reach, compared with what the original's could: the rule.

The *reach* of code is the set of capabilities (:data:`CAPABILITIES`) its syntax tree uses, each
with the subject that used it (``os.environ``, ``subprocess``, ``__class__``). The original's
reach is that of the original target definition, plus, transitively, of every module-level
definition or assignment of the old file it names (and, for a method, every member of its
class it names as an attribute). The candidate's reach is that of the new target, every added
module-level (or class-level) statement, and, transitively, what they name in the new file. A
candidate whose reach holds a (capability, subject) pair that the original's does not is
rejected with the most severe one: ``capability: reads os.environ, which the original does not``.

Names resolve through the file's imports (``import os as o``, ``from os import environ as e``,
star imports, imports inside functions) and Python's scopes; a name that may be a builtin counts
as one. A dotted name is classified by the longest pattern of the table that matches it, so
``os.path`` (harmless) grants neither ``os.environ`` nor ``os.system``; a module re-exported as
an attribute (``logging.os``, ``tempfile._os``, ``enum.bltns``) counts as the module itself;
private parts of a standard-library module (``re._compiler``) count as ``private``. Standard
modules outside :data:`PURE_MODULES` and the table count as ``module``, and so does a
third-party root the old file did not import (project modules, imported relatively or by a
root the old file already imports, are not dangerous by themselves).

Code that runs at import is limited: an added statement may be an import, a definition, a
docstring or an assignment to plain names of a *pure* expression (literals, names, attributes,
operators, displays, comprehensions, and calls of :data:`PURE_CALLS` only, such as
``re.compile(...)`` and ``frozenset(NAME)``). Decorators must be in :data:`DECORATORS` (bare or
called with pure arguments) or ``@prop.setter``; defaults, bases and (unless ``from __future__
import annotations``) annotations must be pure. For the target itself these are also allowed
when the original target has the same. What cannot be analysed counts as a capability: ``getattr``
with a computed name, ``str.format`` on a computed string, a dunder in a string, a class with a
base outside the file that is not in :data:`SAFE_BASES`.

(Over 400 lines on purpose: the table, its allow-lists and the scope-aware resolver are one
rule, and a rule split across modules is a rule someone changes in one place only.)
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Capability:
    """``words`` is the reason, with ``{name}`` for the subject found; ``names`` are dotted
    names (resolved through imports; ``builtins.x`` for a bare builtin) that use it, where
    ``x*`` matches any last part starting with ``x``; ``how`` says what else detects it."""

    key: str
    words: str
    names: tuple[str, ...] = ()
    how: str = ""


# The table, most severe first: a reason names the first capability the candidate adds.
# ``key | words``, then lines of dotted names, or of ``how:`` else it is found.
_TABLE = """
exit          | ends the process ({name})
              | os._exit os.abort sys.exit builtins.exit builtins.quit builtins.SystemExit
              | builtins.KeyboardInterrupt
processes     | runs processes ({name})
              | subprocess os.system os.popen os.exec* os.spawn* os.fork* os.posix_spawn* os.kill*
              | os.startfile os.wait* pty multiprocessing webbrowser pydoc
              | concurrent.futures.ProcessPoolExecutor asyncio.create_subprocess_exec builtins.help
              | asyncio.create_subprocess_shell _posixsubprocess
environment   | reads {name}
              | os.environ os.environb os.getenv os.getenvb os.putenv os.unsetenv posix.environ
native        | loads native code ({name})
              | ctypes cffi _ctypes sys.setdlopenflags
network       | uses the network ({name})
              | socket ssl urllib http ftplib smtplib poplib imaplib nntplib telnetlib xmlrpc
              | socketserver wsgiref select selectors asyncio requests httpx aiohttp urllib3
              | paramiko
interpreter   | changes the interpreter ({name})
              | sys.modules sys.settrace sys.setprofile sys.audit sys.addaudithook sys.path
              | sys.meta_path sys.path_hooks sys.path_importer_cache sys.setrecursionlimit
              | sys.setswitchinterval sys.excepthook sys.displayhook sys.unraisablehook
              | sys.breakpointhook sys.monitoring sys.call_tracing
imports       | imports code dynamically ({name})
              | importlib imp pkgutil runpy zipimport modulefinder site sitecustomize usercustomize
              | builtins.__import__
dynamic-code  | runs dynamic code ({name})
              | builtins.exec builtins.eval builtins.compile builtins.breakpoint code codeop pdb bdb
              | timeit cProfile profile trace doctest types.FunctionType types.CodeType
              | types.LambdaType types.MethodType types.ModuleType typing.get_type_hints
              | typing.ForwardRef
pickle        | pickles objects ({name})
              | pickle _pickle marshal shelve copyreg dill cloudpickle joblib
              | multiprocessing.reduction
namespaces    | reads namespaces ({name})
              | builtins.globals builtins.locals builtins.vars
frames        | inspects frames ({name})
              | inspect traceback sys._getframe sys._current_frames sys.exc_info sys.exception
              | sys.last_traceback sys.last_value
              | how: a frame attribute (f_globals, tb_frame, gi_frame...) read or in a string
setattr       | sets attributes by name ({name})
              | builtins.setattr builtins.delattr
getattr       | reads attributes by computed name ({name})
              | operator.attrgetter operator.methodcaller string.Formatter
              | how: getattr with a computed name or held as a value; format/format_map on what is
              | how: not a string literal; a literal with a format field reading an attribute
dunder-assign | assigns {name}
              | how: a dunder assigned (__module__, __qualname__...) other than __slots__,
              | how: __match_args__, __all__, __doc__
dunder-def    | defines {name}
              | how: a def of a dunder outside SAFE_DUNDERS (__reduce__...)
patch         | patches {name}
              | how: an attribute of a module, a builtin or a module-level definition assigned or
              | how: deleted
dunder        | uses {name}
              | how: a dunder outside SAFE_DUNDERS: a name, an attribute, in a string
subclass      | subclasses {name}
              | how: a class whose base is a builtin type but object, an import outside SAFE_BASES,
              | how: or an expression
dynamic-class | creates classes at run time ({name})
              | types.new_class dataclasses.make_dataclass
              | how: type() with 3 arguments or held as a value; class keywords (metaclass=...)
import-time   | runs code at import ({name})
              | how: what added statements, decorators, defaults, bases and annotations run beyond
              | how: the pure rules above
global        | rebinds the global {name}
              | how: a global statement
hooks         | installs hooks ({name})
              | atexit signal faulthandler weakref threading.excepthook threading.settrace
              | threading.setprofile gc.callbacks
threads       | starts threads ({name})
              | threading _thread concurrent sched
files         | touches files ({name})
              | builtins.open io shutil tempfile pathlib glob fileinput filecmp mmap fcntl sqlite3
              | dbm gzip bz2 lzma zipfile tarfile codecs.open linecache contextlib.chdir
              | logging.FileHandler logging.basicConfig os.open os.read os.write os.remove os.unlink
              | os.rename os.renames os.replace os.mkdir os.makedirs os.rmdir os.removedirs
              | os.listdir os.scandir os.walk os.fwalk os.stat os.lstat os.chmod os.chown os.lchown
              | os.link os.symlink os.readlink os.truncate os.chdir os.fchdir os.chroot os.mkfifo
              | os.mknod os.utime os.access os.pipe os.dup os.dup2 os.close os.fdopen os.sendfile
              | os.fsync os.lseek os.umask os.statvfs os.getcwd os.getcwdb
terminal      | uses the terminal ({name})
              | builtins.input sys.stdin sys.stdout sys.stderr getpass sys.__stdin__ sys.__stdout__
              | sys.__stderr__ tty termios curses readline
memory        | inspects memory ({name})
              | gc tracemalloc resource sys.getrefcount
builtins      | reaches the builtins module ({name})
              | builtins __builtin__
private       | uses the private {name}
              | how: a top-level module starting with _, or a private part of a standard-library
              | how: module
module        | uses {name}
              | os sys time sysconfig
              | how: a standard module outside PURE_MODULES, or a third-party root the old file
              | how: lacks
paths         | uses {name}
              | os.path os.fspath os.PathLike os.sep os.altsep os.extsep os.pathsep os.linesep
              | os.curdir os.pardir os.devnull os.name os.fsencode os.fsdecode
"""


def _parse_table(table: str) -> tuple[Capability, ...]:
    rows: list[list[str]] = []  # key, words, names, how
    for line in table.strip().splitlines():
        key, rest = (part.strip() for part in line.split("|", 1))
        if key:
            rows.append([key, rest, "", ""])
        else:
            column = 3 if rest.startswith("how:") else 2
            rows[-1][column] += " " + rest.removeprefix("how:").strip()
    return tuple(Capability(k, w, tuple(n.split()), h.strip()) for k, w, n, h in rows)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CAPABILITIES = _parse_table(_TABLE)
CAPS = {c.key: c for c in CAPABILITIES}
_SEVERITY = {c.key: i for i, c in enumerate(CAPABILITIES)}
PURE_MODULES = _words(
    "__future__ abc array ast base64 binascii bisect calendar cmath collections colorsys "
    "contextlib copy csv dataclasses datetime decimal difflib enum errno fnmatch fractions "
    "functools graphlib "
    "hashlib heapq hmac html itertools json keyword math numbers operator pprint queue random re "
    "reprlib secrets statistics string stringprep struct textwrap types typing unicodedata zlib "
    "zoneinfo"
)
# Dotted names that are harmless although a pattern of the table covers them.
_HARMLESS = _words(
    "io.StringIO io.BytesIO pathlib.PurePath pathlib.PurePosixPath pathlib.PureWindowsPath "
    "sys.maxsize sys.maxunicode sys.float_info sys.int_info sys.hash_info sys.version_info "
    "sys.byteorder sys.getsizeof sys.intern sys.getrecursionlimit datetime.time"
)
# Stdlib attributes holding a module under another name (found by enumerating the stdlib).
_ALIASES = {"bltns": "builtins", "reducer": "multiprocessing", "_pyprofile": "profile"}
# Modules that count as themselves when another module holds them (``logging.os``, ``_sys``).
_REEXPORTED = _words(
    "os sys subprocess builtins socket ctypes pickle marshal importlib inspect shutil tempfile "
    "threading multiprocessing atexit gc urllib pathlib tracemalloc posix webbrowser shelve "
    "copyreg runpy pkgutil traceback faulthandler pty time signal io"
)
# Names that stay dangerous when another module re-exports them.
_TAILS = {n.split(".")[1]: n for n in _words("os.environ os.getenv os.putenv os.unsetenv os._exit")}
SAFE_DUNDERS = frozenset(f"__{n}__" for n in _words(
    "name doc init post_init len iter next reversed contains getitem setitem delitem missing eq "
    "ne lt le gt ge hash repr str bool enter exit call slots all version debug main add sub mul "
    "truediv floordiv mod pow neg pos abs and or xor invert lshift rshift radd rsub rmul iadd isub "
    "imul"))  # fmt: skip
# What one variable is read from by its name (``os.environ["HOME"]``, ``os.getenv("HOME")``):
# such a read is the use of that variable only; any other use of these is the whole environment.
_ENVIRONMENT_READERS = _words("os.environ posix.environ os.getenv")
_ENVIRONMENT_GETTERS = _words("os.getenv")
_WHOLE_ENVIRONMENT = _words("os.environ posix.environ os.getenv os.environb os.getenvb")
_ASSIGNABLE_DUNDERS = _words("__slots__ __match_args__ __all__ __doc__")
_FRAME_ATTRS = _words(
    "f_globals f_locals f_back f_builtins f_code f_trace tb_frame tb_next gi_frame cr_frame "
    "ag_frame gi_code cr_code"
)
SAFE_BASES = _words("typing.Generic typing.Protocol abc.ABC enum.Enum")
PURE_CALLS = _words(
    "re.compile re.escape collections.deque collections.OrderedDict collections.Counter "
    "collections.defaultdict collections.namedtuple typing.TypeVar typing.NewType "
    "types.MappingProxyType types.SimpleNamespace decimal.Decimal fractions.Fraction "
    "operator.itemgetter struct.Struct functools.partial array.array dataclasses.field "
    "string.Template datetime.timedelta datetime.date datetime.datetime datetime.timezone "
    "builtins.dict.fromkeys builtins.str.maketrans builtins.bytes.maketrans"
) | {f"builtins.{n}" for n in _words(
    "frozenset set tuple list dict int float str bytes complex bool range slice object len ord "
    "chr enumerate zip sorted reversed min max sum abs round divmod pow")}  # fmt: skip
DECORATORS = _words(
    "functools.cache functools.lru_cache functools.cached_property functools.total_ordering "
    "functools.wraps functools.singledispatch builtins.staticmethod builtins.classmethod "
    "builtins.property dataclasses.dataclass typing.overload typing.final abc.abstractmethod"
)

_EXACT: dict[str, Capability] = {n: c for c in reversed(CAPABILITIES) for n in c.names}
_PREFIXES = tuple((n[:-1], c) for c in CAPABILITIES for n in c.names if n.endswith("*"))
_STDLIB = frozenset(sys.stdlib_module_names)
_DUNDER_RE = re.compile(r"__[A-Za-z]\w*?__")
_FRAME_RE = re.compile(r"\b(?:" + "|".join(sorted(_FRAME_ATTRS)) + r")\b")
_FIELD_RE = re.compile(r"\{[^{}!:]*\.")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_PURE_NODES = (
    ast.Constant, ast.Name, ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Set,
    ast.Dict, ast.Starred, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
    ast.JoinedStr, ast.FormattedValue, ast.Lambda, ast.arguments, ast.arg, ast.keyword,
    ast.comprehension, ast.Call, ast.expr_context, ast.operator, ast.unaryop, ast.boolop,
    ast.cmpop, *_COMPREHENSIONS,
)  # fmt: skip

Use = tuple[str, str]  # (capability key, subject)


def check_capabilities(original_source: str, candidate_source: str, qualname: str) -> str | None:
    """``None`` when the candidate reaches nothing the original does not, else the reason."""
    path = qualname.split(".")
    old_tree, new_tree = ast.parse(original_source), ast.parse(candidate_source)
    old = _File(old_tree, frozenset())
    granted = frozenset({p[0] for ps in old.imports.values() for p in ps} - _STDLIB)
    old.granted, new = granted, _File(new_tree, granted)
    new_targets = _targets(new_tree.body, path)
    if not new_targets:
        return f"capability: {qualname} cannot be found to be analysed"
    before = _reach(old, _targets(old_tree.body, path))
    after = _reach(
        new,
        new_targets
        + _additions(
            _Source(original_source.splitlines(True)),
            _Source(candidate_source.splitlines(True)),
            old_tree.body,
            new_tree.body,
            path,
        ),
    )
    whole = any(key == "environment" and subject in _WHOLE_ENVIRONMENT for key, subject in before)
    added = [use for use in after if use not in before and not (whole and use[0] == "environment")]
    if not added:
        return None
    key, subject = min(added, key=lambda use: (_SEVERITY[use[0]], after[use]))
    return f"capability: {CAPS[key].words.format(name=subject)}, which the original does not"


class _File:
    """A parsed file: its module-level imports, star imports and bindings."""

    def __init__(self, tree: ast.Module, granted: frozenset[str]) -> None:
        self.granted = granted
        self.imports: dict[str, list[tuple[str, ...]]] = {}
        self.stars: list[tuple[str, ...]] = []
        self.bindings: dict[str, list[ast.AST]] = {}
        self.lazy_annotations = False
        for statement in tree.body:
            for node in _own_nodes([statement]):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    for name, parts in _import_bindings(node):
                        if name == "*":
                            self.stars.append(parts)
                        else:
                            self.imports.setdefault(name, []).append(parts)
                        self.lazy_annotations |= parts == ("__future__", "annotations")
                elif (bound := _bound_name(node)) is not None:
                    self.bindings.setdefault(bound, []).append(statement)

    def dotted(self, expr: ast.expr, shadow: frozenset[str] = frozenset()) -> str | None:
        """The one dotted name a name or attribute chain surely is, else ``None``."""
        root, attrs = _chain(expr)
        if not isinstance(root, ast.Name) or root.id in shadow or root.id in self.bindings:
            return None
        imports = self.imports.get(root.id, [])
        if len(imports) > 1 or (not imports and self.stars):
            return None
        parts = imports[0] if imports else ("builtins", root.id)
        return ".".join((*parts, *attrs))


@dataclass
class _Scope:
    kind: str  # function, class or comprehension
    bound: set[str] = field(default_factory=set)
    imports: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)


def _scope(kind: str, nodes: Sequence[ast.AST]) -> _Scope:
    scope = _Scope(kind)
    for node in _own_nodes(nodes):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for name, parts in _import_bindings(node):
                scope.imports.setdefault(name, []).append(parts)
        elif isinstance(node, ast.Global):
            scope.declared_global.update(node.names)
        elif (bound := _bound_name(node)) is not None:
            scope.bound.add(bound)
    scope.bound -= scope.declared_global
    return scope


class _Scanner(ast.NodeVisitor):
    """Collects the uses of one piece of code, following module-level names it reads."""

    def __init__(self, file: _File, members: dict[str, list[ast.AST]]) -> None:
        self.file, self.members = file, members
        self.uses: dict[Use, int] = {}
        self.scopes: list[_Scope] = []
        self.pending: list[ast.AST] = []
        self.seen: set[int] = set()
        self.in_annotation = False

    def use(self, key: str, subject: str) -> None:
        self.uses.setdefault((key, subject), len(self.uses))

    def follow(self, statements: Sequence[ast.AST]) -> None:
        for statement in statements:
            if id(statement) not in self.seen:
                self.seen.add(id(statement))
                self.pending.append(statement)

    def drain(self) -> None:
        while self.pending:
            self.visit(self.pending.pop(0))

    def lookup(self, name: str) -> list[tuple[str, tuple[str, ...]]]:
        """What ``name`` may denote here: ``import``/``module``/``builtin``, or ``local``."""
        found: list[tuple[str, tuple[str, ...]]] = []
        for depth, scope in enumerate(reversed(self.scopes)):
            if name in scope.declared_global:
                break
            if scope.kind == "class" and depth:
                continue  # a class body is not visible from the scopes nested in it
            found += [("import", parts) for parts in scope.imports.get(name, ())]
            if scope.kind != "class" and (name in scope.bound or name in scope.imports):
                return found or [("local", ())]
        found += [("import", parts) for parts in self.file.imports.get(name, ())]
        if name in self.file.bindings:
            found.append(("module", (name,)))
        found += [("import", (*star, name)) for star in self.file.stars]
        return [*found, ("builtin", (name,))]

    def reach_path(self, parts: tuple[str, ...]) -> None:
        for key, subject in _path_uses(parts, self.file.granted):
            self.use(key, subject)

    def reach_name(self, name: str, attrs: tuple[str, ...], ctx: ast.expr_context) -> None:
        store = not isinstance(ctx, ast.Load)
        if _is_dunder(name) and not attrs and store and name not in _ASSIGNABLE_DUNDERS:
            self.use("dunder-assign", name)
        elif _is_dunder(name) and name not in SAFE_DUNDERS:
            self.use("dunder", name)
        if store and not attrs:
            return
        for kind, parts in self.lookup(name):
            if kind == "import":
                self.reach_path((*parts, *attrs))
            elif kind == "module":
                self.follow(self.file.bindings[name])
            elif kind == "builtin":
                capability = _EXACT.get(f"builtins.{name}")
                if capability is not None and capability.key != "builtins":
                    self.use(capability.key, name)
                if name == "getattr" or (name == "type" and not self.in_annotation):
                    self.use("getattr" if name == "getattr" else "dynamic-class", name)
            if store and kind != "local":
                self.use("patch", ".".join((*parts, *attrs)))

    def visit_Name(self, node: ast.Name) -> None:
        self.reach_name(node.id, (), node.ctx)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        base, attrs = _chain(node)
        literal = isinstance(base, ast.Constant) and isinstance(base.value, str)
        for i, attr in enumerate(attrs):
            last_stored = i == len(attrs) - 1 and not isinstance(node.ctx, ast.Load)
            if _is_dunder(attr) and last_stored and attr not in _ASSIGNABLE_DUNDERS:
                self.use("dunder-assign", attr)
            elif _is_dunder(attr) and attr not in SAFE_DUNDERS:
                self.use("dunder", attr)
            if attr in _FRAME_ATTRS:
                self.use("frames", attr)
            if attr in ("format", "format_map") and not (i == 0 and literal):
                self.use("getattr", f"str.{attr}")
            self.follow(self.members.get(attr, ()))
        if isinstance(base, ast.Name):
            self.reach_name(base.id, tuple(attrs), node.ctx)
        else:
            self.visit(base)

    def surely(self, expr: ast.expr) -> str | None:
        """The one imported dotted name ``expr`` is here, else ``None``."""
        root, attrs = _chain(expr)
        if not isinstance(root, ast.Name):
            return None
        found = [parts for kind, parts in self.lookup(root.id) if kind != "builtin"]
        if len(found) != 1 or self.lookup(root.id)[0][0] != "import":
            return None
        return ".".join((*found[0], *attrs))

    def read_variable(self, holder: ast.expr, name: ast.expr | None) -> bool:
        """Note ``os.environ.get("NAME")``-like reads as reads of that one variable; False
        when this is not one (then the whole environment counts)."""
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            return False
        if self.surely(holder) not in _ENVIRONMENT_READERS:
            return False
        self.use("environment", f"the environment variable {name.value}")
        return True

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if not (isinstance(node.ctx, ast.Load) and self.read_variable(node.value, node.slice)):
            self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        if (
            len(node.ops) == 1
            and isinstance(node.ops[0], (ast.In, ast.NotIn))
            and self.read_variable(node.comparators[0], node.left)
        ):
            return
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func, args = node.func, list(node.args)
        first = args[0] if args else None
        holder = func.value if isinstance(func, ast.Attribute) and func.attr == "get" else None
        if (holder is not None and self.read_variable(holder, first)) or (
            self.surely(func) in _ENVIRONMENT_GETTERS and self.read_variable(func, first)
        ):
            self.visit_all([*args[1:], *(k.value for k in node.keywords)])
            return
        if not (
            isinstance(func, ast.Name)
            and func.id in ("getattr", "type")
            and self.lookup(func.id) == [("builtin", (func.id,))]
        ):
            self.generic_visit(node)
            return
        if func.id == "type" and len(args) + len(node.keywords) > 1:
            self.use("dynamic-class", "type()")
        elif func.id == "getattr":
            name = args[1] if len(args) > 1 else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                self.visit(ast.Attribute(value=args[0], attr=name.value, ctx=ast.Load()))
                args = args[2:]
            else:
                self.use("getattr", "getattr")
        for child in [*args, *node.keywords]:
            self.visit(child)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            for dunder in _DUNDER_RE.findall(node.value):
                if dunder not in SAFE_DUNDERS:
                    self.use("dunder", dunder)
            for frame_attr in _FRAME_RE.findall(node.value):
                self.use("frames", frame_attr)
            if _FIELD_RE.search(node.value):
                self.use("getattr", "a format field")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name not in ("os", "sys"):  # their uses are classified one by one
                self.reach_path(tuple(alias.name.split(".")))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for _, parts in _import_bindings(node):
            self.reach_path(parts)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            self.use("global", name)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if _is_dunder(node.name) and node.name not in SAFE_DUNDERS:
            self.use("dunder-def", node.name)
        self.visit_all(node.decorator_list)
        self.visit_arguments_outside(node.args, node.returns)
        self.scopes.append(_scope("function", [node.args, *node.body]))
        self.visit_all(node.body)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit_arguments_outside(node.args, None)
        self.scopes.append(_scope("function", [node.args, node.body]))
        self.visit(node.body)
        self.scopes.pop()

    def visit_arguments_outside(self, args: ast.arguments, returns: ast.expr | None) -> None:
        """Defaults and annotations run in the enclosing scope."""
        self.visit_all([*args.defaults, *(d for d in args.kw_defaults if d is not None)])
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        self.in_annotation = True
        self.visit_all([a.annotation for a in every if a is not None and a.annotation])
        self.visit_all([returns] if returns is not None else [])
        self.in_annotation = False

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.visit_all(node.decorator_list)
        for base in node.bases:
            self.check_base(base)
        for keyword in node.keywords:
            self.use("dynamic-class", f"{keyword.arg}=")
            self.visit(keyword.value)
        self.scopes.append(_scope("class", node.body))
        self.visit_all(node.body)
        self.scopes.pop()

    def check_base(self, base: ast.expr) -> None:
        root, attrs = _chain(base.value if isinstance(base, ast.Subscript) else base)
        if not isinstance(root, ast.Name):
            self.use("subclass", _short(base))
        else:
            for kind, parts in self.lookup(root.id):
                dotted = ".".join((*parts, *attrs))
                builtin = isinstance(getattr(builtins, root.id, None), type) and not attrs
                if kind == "builtin" and builtin and root.id != "object":
                    self.use("subclass", root.id)
                elif kind == "import" and dotted not in SAFE_BASES:
                    self.use("subclass", dotted)
        self.visit(base)

    def visit_comprehension_scope(self, node: ast.AST, parts: list[ast.expr]) -> None:
        generators: list[ast.comprehension] = getattr(node, "generators")  # noqa: B009
        self.visit(generators[0].iter)
        targets = {n.id for g in generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        self.scopes.append(_Scope("comprehension", targets))
        for i, generator in enumerate(generators):
            self.visit_all([generator.target, *([generator.iter] if i else []), *generator.ifs])
        self.visit_all(parts)
        self.scopes.pop()

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self.visit_comprehension_scope(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self.visit_comprehension_scope(node, [node.key, node.value])

    def visit_all(self, nodes: Sequence[ast.AST]) -> None:
        for node in nodes:
            self.visit(node)


def _reach(file: _File, parts: list[tuple[ast.stmt, ast.ClassDef | None]]) -> dict[Use, int]:
    """The uses of the target and the added statements (each with the class holding it), and
    of the code they name."""
    owner = next((o for _, o in parts[:1] if o is not None), None)
    members: dict[str, list[ast.AST]] = {}
    for statement in owner.body if owner else []:
        for node in _own_nodes([statement]):
            if (name := _bound_name(node)) is not None:
                members.setdefault(name, []).append(statement)
    scanner = _Scanner(file, members)
    for statement, holder in parts:
        scanner.follow([statement])
        shadow = frozenset(_scope("class", holder.body).bound) if holder else frozenset()
        for why in _import_time(statement, file, shadow):
            scanner.use("import-time", why)
    scanner.drain()
    return scanner.uses


def _import_time(statement: ast.stmt, file: _File, shadow: frozenset[str]) -> Iterator[str]:
    """What of ``statement`` runs when its module (or class) is first executed, beyond the
    pure rules; ``shadow`` holds the names a class body binds."""
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.Pass)):
        return
    if isinstance(statement, ast.Expr):
        yield from _impure(statement.value, file, shadow)
    elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        for decorator in statement.decorator_list:
            if not _allowed_decorator(decorator, file, shadow):
                yield f"decorator @{_short(decorator)}"
        if isinstance(statement, ast.ClassDef):
            exprs = [*statement.bases, *(k.value for k in statement.keywords)]
        else:
            args = statement.args
            exprs = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
            if not file.lazy_annotations:
                every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
                exprs += [a.annotation for a in every if a is not None and a.annotation]
                exprs += [statement.returns] if statement.returns else []
        for expr in exprs:
            yield from _impure(expr, file, shadow)
        if isinstance(statement, ast.ClassDef):
            inner = shadow | _scope("class", statement.body).bound
            for child in statement.body:
                yield from _import_time(child, file, frozenset(inner))
    elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        for target in targets:
            if not all(isinstance(n, (ast.Name, ast.Tuple, ast.List, ast.Store))
                       for n in ast.walk(target)):  # fmt: skip
                yield f"assigns {_short(target)}"
        lazy = file.lazy_annotations or not isinstance(statement, ast.AnnAssign)
        values = [statement.value, None if lazy else getattr(statement, "annotation", None)]
        for value in values:
            yield from _impure(value, file, shadow) if value is not None else ()
    else:
        yield f"{type(statement).__name__.lower()} statement"


def _impure(node: ast.AST, file: _File, shadow: frozenset[str]) -> Iterator[str]:
    """The first thing under ``node`` that would run code beyond the pure constructors."""
    if isinstance(node, ast.Call) and file.dotted(node.func, shadow) not in PURE_CALLS:
        yield f"calls {_short(node.func)}()"
    elif not isinstance(node, _PURE_NODES):
        yield _short(node)
    else:
        for child in ast.iter_child_nodes(node):
            for why in _impure(child, file, shadow):
                yield why
                return


def _allowed_decorator(decorator: ast.expr, file: _File, shadow: frozenset[str]) -> bool:
    if isinstance(decorator, ast.Call):
        arguments = [*decorator.args, *(k.value for k in decorator.keywords)]
        return file.dotted(decorator.func, shadow) in DECORATORS and not any(
            next(_impure(a, file, shadow), None) for a in arguments
        )
    if (
        isinstance(decorator, ast.Attribute)
        and isinstance(decorator.value, ast.Name)
        and decorator.attr in ("setter", "getter", "deleter")
    ):  # ``@x.setter`` of a property ``x`` the class defines
        return decorator.value.id in shadow and decorator.value.id not in file.imports
    return file.dotted(decorator, shadow) in DECORATORS


def _path_uses(parts: tuple[str, ...], granted: frozenset[str]) -> list[Use]:
    """The uses of a dotted name that an import gives (``os.environ``, ``.utils.os``)."""
    root = parts[0]
    if root in ("builtins", "__builtin__"):
        return [("builtins", root)]
    found: list[Use] = []
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        if name in _HARMLESS:
            return []
        capability = _EXACT.get(name) or next(
            (c for p, c in _PREFIXES if n > 1 and name.startswith(p) and n == p.count(".") + 1),
            None,
        )
        if capability is not None:
            found.append((capability.key, name))
            break
    else:
        stdlib = root in _STDLIB
        if root.startswith("_") and root != "__future__":
            found.append(("private", root))
        elif (
            not root.startswith(".")
            and root not in PURE_MODULES
            and (stdlib or root not in granted)
        ):
            found.append(("module", root))
    for i, part in enumerate(parts[1:], 1):
        if root in _STDLIB and part.startswith("_") and not _is_dunder(part):
            found.append(("private", ".".join(parts[: i + 1])))
        module = _ALIASES.get(part) or (
            part.lstrip("_") if part.lstrip("_") in _REEXPORTED else None
        )
        if module is not None:
            found += _path_uses((module, *parts[i + 1 :]), granted)
        elif part in _TAILS and ".".join(parts[: i + 1]) != _TAILS[part]:
            found += _path_uses(tuple(_TAILS[part].split(".")), granted)
    return found


def _additions(old: _Source, new: _Source, old_body: list[ast.stmt], new_body: list[ast.stmt],
               path: list[str], owner: ast.ClassDef | None = None
               ) -> list[tuple[ast.stmt, ast.ClassDef | None]]:  # fmt: skip
    """The statements of each block on the way to the target that the old file lacks."""
    old_texts = Counter(old.text(s) for s in old_body)
    added: list[tuple[ast.stmt, ast.ClassDef | None]] = []
    for statement in new_body:
        if getattr(statement, "name", None) == path[0]:
            continue
        text = new.text(statement)
        if old_texts[text]:
            old_texts[text] -= 1
        else:
            added.append((statement, owner))
    if len(path) > 1:
        olds = [s for s in old_body if isinstance(s, ast.ClassDef) and s.name == path[0]]
        for new_class in (s for s in new_body if isinstance(s, ast.ClassDef)):
            if new_class.name == path[0]:
                inner = olds[0].body if olds else []
                added += _additions(old, new, inner, new_class.body, path[1:], new_class)
    return added


@dataclass
class _Source:
    lines: list[str]

    def text(self, node: ast.stmt) -> tuple[int, int, str]:
        """What identifies a statement's source: its columns and lines, decorators included."""
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
        chunk = "".join(self.lines[start - 1 : node.end_lineno])
        return node.col_offset, node.end_col_offset or 0, chunk


def _targets(body: list[ast.stmt], path: list[str], owner: ast.ClassDef | None = None
             ) -> list[tuple[ast.stmt, ast.ClassDef | None]]:  # fmt: skip
    """Every definition ``path`` may name (a getter and a setter are both the target), with
    the class that holds it."""
    found: list[tuple[ast.stmt, ast.ClassDef | None]] = []
    for statement in body:
        if getattr(statement, "name", None) != path[0]:
            continue
        if len(path) == 1 and isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append((statement, owner))
        elif len(path) > 1 and isinstance(statement, ast.ClassDef):
            found += _targets(statement.body, path[1:], statement)
    return found


def _own_nodes(nodes: Sequence[ast.AST]) -> Iterator[ast.AST]:
    """The nodes of one scope: nested definitions yield themselves (their name is bound
    here), not their insides; comprehensions have their own scope."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (*_SCOPES, *_COMPREHENSIONS)):
            stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _bound_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        return node.id
    if isinstance(node, ast.arg):
        return node.arg
    if isinstance(node, (*_SCOPES[:3], ast.MatchAs, ast.MatchStar, ast.ExceptHandler)):
        return getattr(node, "name", None)
    return node.rest if isinstance(node, ast.MatchMapping) else None


def _import_bindings(node: ast.Import | ast.ImportFrom) -> list[tuple[str, tuple[str, ...]]]:
    """``(bound name, dotted parts)`` for each alias; ``("*", module)`` for a star import."""
    if isinstance(node, ast.Import):
        return [
            (a.asname or a.name.split(".")[0], tuple(a.name.split(".")[: None if a.asname else 1]))
            for a in node.names
        ]
    level = ("." * node.level,) if node.level else ()
    base = level + (tuple(node.module.split(".")) if node.module else ())
    return [(a.asname or a.name, base if a.name == "*" else (*base, a.name)) for a in node.names]


def _chain(node: ast.expr) -> tuple[ast.expr, list[str]]:
    """``a.b.c`` → ``(a, ["b", "c"])``."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return node, attrs[::-1]


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _short(node: ast.AST) -> str:
    text = (ast.unparse(node).splitlines() or ["?"])[0]
    return text if len(text) <= 40 else text[:37] + "..."
