"""The script language: what Python a BPMN script, condition or timer expression may use.

A designer's text is parsed with ``ast`` and checked against allow-lists (node types, names, attribute
names, exception classes), then rewritten so that the run time keeps control of everything that could
escape the language or run away with the machine (``script_guards.Guard`` supplies the hooks):

* ``a.b``                     -> ``_ow_attr(a, "b")``: per type, only the methods listed in ``METHODS``;
* ``a * b``, ``+ ** << %``    -> ``_ow_binop("*", a, b)``: the size of the result is checked before it is built;
* ``for x in it``, comprehensions -> ``_ow_iter(it)``; ``while`` bodies and function bodies start with
  ``_ow_tick()``: every loop iteration and call counts against the iteration and time budget;
* f-string fields           -> ``_ow_format(value, conversion, spec)``: no ``format`` tricks, widths bounded;
* comparisons of two variables, dict keys and set members, tuple displays -> checked so that a value
  whose references were shared to look small cannot make one comparison, hash or conversion run long.

Names and attributes starting with ``_`` never pass the check, so a script cannot reach the hooks, and
nothing it writes can name ``__builtins__``, frames, code objects or classes. The check and the rewrite are
one pass: what is checked at deploy is exactly what runs.
"""

from __future__ import annotations

import ast
import textwrap
from functools import lru_cache
from types import CodeType

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "METHODS",
    "SAFE_EXCEPTION_NAMES",
    "ScriptRejected",
    "compile_guarded",
    "dedent_source",
]


class ScriptRejected(ValueError):
    """A script or expression uses something the script language does not allow (``line N: what``)."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        super().__init__(f"line {lineno}: {message}" if lineno else message)
        self.lineno = lineno
        self.reason = message


_STR_METHODS = frozenset(
    [
        "capitalize",
        "casefold",
        "center",
        "count",
        "endswith",
        "find",
        "index",
        "isalnum",
        "isalpha",
        "isdecimal",
        "isdigit",
        "islower",
        "isnumeric",
        "isspace",
        "istitle",
        "isupper",
        "join",
        "ljust",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "replace",
        "rfind",
        "rindex",
        "rjust",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "zfill",
    ]
)
_LIST_METHODS = frozenset(
    ["append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort"]
)
_DICT_METHODS = frozenset(["clear", "copy", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"])
_SET_METHODS = frozenset(
    [
        "add",
        "clear",
        "copy",
        "difference",
        "discard",
        "intersection",
        "isdisjoint",
        "issubset",
        "issuperset",
        "pop",
        "remove",
        "symmetric_difference",
        "union",
        "update",
    ]
)
_FROZENSET_METHODS = frozenset(
    ["copy", "difference", "intersection", "isdisjoint", "issubset", "issuperset", "symmetric_difference", "union"]
)

# The only attributes a script can read, by the exact type of the object: methods of the data types that
# task data is made of. Anything else (frames, code, classes, generators, functions, modules) has none.
METHODS: dict[type, frozenset[str]] = {
    str: _STR_METHODS,
    list: _LIST_METHODS,
    dict: _DICT_METHODS,
    set: _SET_METHODS,
    frozenset: _FROZENSET_METHODS,
    tuple: frozenset({"count", "index"}),
}
ALLOWED_ATTRIBUTES: frozenset[str] = frozenset().union(*METHODS.values())

SAFE_EXCEPTION_NAMES = ("ArithmeticError", "IndexError", "KeyError", "TypeError", "ValueError", "ZeroDivisionError")

_ALLOWED_NODES: frozenset[type[ast.AST]] = frozenset(
    {
        # roots and statements
        ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.Delete, ast.Pass, ast.If,
        ast.For, ast.While, ast.Break, ast.Continue, ast.FunctionDef, ast.Return, ast.Try, ast.ExceptHandler,
        ast.Raise, ast.Assert,
        # expressions
        ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Lambda, ast.IfExp, ast.Dict, ast.Set, ast.ListComp, ast.SetComp,
        ast.DictComp, ast.GeneratorExp, ast.Compare, ast.Call, ast.Constant, ast.Attribute, ast.Subscript,
        ast.Starred, ast.Name, ast.List, ast.Tuple, ast.Slice, ast.JoinedStr, ast.FormattedValue,
        ast.comprehension, ast.arguments, ast.arg, ast.keyword,
        # contexts and operators
        ast.Load, ast.Store, ast.Del, ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv,
        ast.Mod, ast.Pow, ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd, ast.Invert, ast.Not,
        ast.UAdd, ast.USub, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In,
        ast.NotIn,
    }
)  # fmt: skip

_WHY_NOT: dict[type[ast.AST], str] = {
    ast.Import: "no imports",
    ast.ImportFrom: "no imports",
    ast.Global: "no global variables",
    ast.Nonlocal: "no nonlocal variables",
    ast.ClassDef: "no classes",
    ast.AsyncFunctionDef: "no async code",
    ast.Await: "no async code",
    ast.Yield: "no generator functions",
    ast.YieldFrom: "no generator functions",
    ast.With: "no with statements",
    ast.NamedExpr: "no := assignments",
    ast.MatMult: "no @ operator",
}

# Operators whose result can be far larger than their operands: the guard predicts the size first.
_GUARDED_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Mult: "*",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.Mod: "%",
}
_COMPARE_NAMES: dict[type[ast.cmpop], str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip


def _hook(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _tick() -> ast.stmt:
    return ast.Expr(value=_hook("_ow_tick"))


def _allowed_name(name: str) -> bool:
    return name == "_" or not name.startswith("_")


class _Rewriter(ast.NodeTransformer):
    """Checks every node against the allow-lists and rewrites the tree onto the guard's hooks."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        kind = type(node)
        if kind not in _ALLOWED_NODES:
            why = _WHY_NOT.get(kind, "not part of the script language")
            raise ScriptRejected(f"'{kind.__name__}' is not allowed: {why}", _line(node))
        return super().generic_visit(node)

    # -- names -------------------------------------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> ast.AST:
        if not _allowed_name(node.id):
            raise ScriptRejected(f"name '{node.id}' is not allowed (names may not start with '_')", node.lineno)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        if not _allowed_name(node.arg):
            raise ScriptRejected(f"parameter '{node.arg}' is not allowed (names may not start with '_')", node.lineno)
        if node.annotation is not None:
            raise ScriptRejected("annotations are not allowed", node.lineno)
        return node

    def visit_keyword(self, node: ast.keyword) -> ast.AST:
        if node.arg is not None and not _allowed_name(node.arg):
            raise ScriptRejected(f"keyword '{node.arg}' is not allowed (names may not start with '_')", _line(node))
        return self.generic_visit(node)

    # -- attributes --------------------------------------------------------------------------------
    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if not isinstance(node.ctx, ast.Load):
            raise ScriptRejected(f"attribute '{node.attr}' cannot be assigned or deleted", node.lineno)
        value = self.visit(node.value)  # the innermost attribute is reported first
        if node.attr not in ALLOWED_ATTRIBUTES:
            raise ScriptRejected(
                f"attribute '{node.attr}' is not allowed (only methods of str, list, dict, set and tuple)",
                node.lineno,
            )
        return ast.copy_location(_hook("_ow_attr", value, ast.Constant(node.attr)), node)

    # -- operators that build values ----------------------------------------------------------------
    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        op = _GUARDED_BINOPS.get(type(node.op))
        if op is None:
            return node
        return ast.copy_location(_hook("_ow_binop", ast.Constant(op), node.left, node.right), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        op = _GUARDED_BINOPS.get(type(node.op))
        if isinstance(node.target, ast.Attribute):
            raise ScriptRejected(f"attribute '{node.target.attr}' cannot be assigned or deleted", node.lineno)
        if op is None:
            self.generic_visit(node)
            return node
        # x += y  ->  x = _ow_binop("+", x, y): the target is read once more, as Python does for names.
        load = _as_load(node.target)
        value = ast.BinOp(left=load, op=node.op, right=node.value)
        ast.copy_location(value, node)
        assign = ast.Assign(targets=[node.target], value=value)
        ast.copy_location(assign, node)
        rewritten: ast.AST = self.visit(assign)
        return rewritten

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load) or all(isinstance(e, ast.Constant) for e in node.elts):
            return node
        return ast.copy_location(_hook("_ow_tuple", *node.elts), node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.slice, ast.Constant | ast.Slice):
            node.slice = ast.copy_location(_hook("_ow_key", node.slice), node.slice)
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        node.keys = [k if k is None or isinstance(k, ast.Constant) else _hook("_ow_key", k) for k in node.keys]
        return node

    def visit_Set(self, node: ast.Set) -> ast.AST:
        self.generic_visit(node)
        node.elts = [e if isinstance(e, ast.Constant | ast.Starred) else _hook("_ow_key", e) for e in node.elts]
        return node

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:
        self.generic_visit(node)
        node.elt = _hook("_ow_key", node.elt)
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:
        self.generic_visit(node)
        node.key = _hook("_ow_key", node.key)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        operands = [node.left, *node.comparators]
        if len(operands) == 2 and any(isinstance(o, ast.Constant) for o in operands):
            return node  # against a literal: bounded by the literal, and the most common condition
        ops = ast.Tuple(elts=[ast.Constant(_COMPARE_NAMES[type(op)]) for op in node.ops], ctx=ast.Load())
        return ast.copy_location(_hook("_ow_compare", ops, *operands), node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        values: list[ast.expr] = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                value = self.visit(part.value)
                spec = self.visit(part.format_spec) if part.format_spec is not None else ast.Constant(None)
                call = _hook("_ow_format", value, ast.Constant(part.conversion), spec)
                values.append(ast.copy_location(ast.FormattedValue(value=call, conversion=-1, format_spec=None), part))
            else:
                values.append(self.visit(part))
        node.values = values
        return node

    # -- loops and calls count against the budget ------------------------------------------------------
    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        node.iter = ast.copy_location(_hook("_ow_iter", node.iter), node.iter)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        if node.is_async:
            raise ScriptRejected("async comprehensions are not allowed", _line(node.target))
        self.generic_visit(node)
        node.iter = ast.copy_location(_hook("_ow_iter", node.iter), node.iter)
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        self.generic_visit(node)
        node.body = [ast.copy_location(_tick(), node), *node.body]
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        if node.decorator_list:
            raise ScriptRejected("decorators are not allowed", node.lineno)
        if node.returns is not None:
            raise ScriptRejected("annotations are not allowed", node.lineno)
        if not _allowed_name(node.name):
            raise ScriptRejected(f"name '{node.name}' is not allowed (names may not start with '_')", node.lineno)
        self.generic_visit(node)
        node.body = [ast.copy_location(_tick(), node), *node.body]
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        self.generic_visit(node)
        # lambda x: body  ->  lambda x: (_ow_tick(), body)[1]
        pair = ast.Tuple(elts=[_hook("_ow_tick"), node.body], ctx=ast.Load())
        node.body = ast.copy_location(ast.Subscript(value=pair, slice=ast.Constant(1), ctx=ast.Load()), node.body)
        return node

    # -- exceptions: only the harmless builtin ones can be caught ---------------------------------------
    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        names = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
        for name in names:
            if not isinstance(name, ast.Name) or name.id not in SAFE_EXCEPTION_NAMES:
                raise ScriptRejected(
                    "an except clause must name one of " + ", ".join(SAFE_EXCEPTION_NAMES), node.lineno
                )
        if node.name is not None and not _allowed_name(node.name):
            raise ScriptRejected(f"name '{node.name}' is not allowed (names may not start with '_')", node.lineno)
        return self.generic_visit(node)


def _as_load(target: ast.expr) -> ast.expr:
    if isinstance(target, ast.Name):
        return ast.copy_location(ast.Name(id=target.id, ctx=ast.Load()), target)
    if isinstance(target, ast.Subscript):
        return ast.copy_location(ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load()), target)
    raise ScriptRejected("this augmented assignment target is not allowed", _line(target))


def _line(node: ast.AST) -> int | None:
    return getattr(node, "lineno", None)


def dedent_source(source: str, mode: str) -> str:
    """The text as it runs: a script loses the indentation XML gives it (its lines keep their numbers), an
    expression its surrounding blanks."""
    return textwrap.dedent(source) if mode == "exec" else source.strip()


@lru_cache(maxsize=4096)
def compile_guarded(source: str, mode: str) -> CodeType:
    """Check ``source`` (mode ``exec`` for scripts, ``eval`` for expressions) and compile the guarded code."""
    try:
        tree = ast.parse(dedent_source(source, mode), mode=mode)
    except SyntaxError as err:
        raise ScriptRejected(f"not valid Python: {err.msg}", err.lineno) from None
    except (ValueError, MemoryError, RecursionError):
        raise ScriptRejected("cannot be parsed") from None
    try:
        guarded = ast.fix_missing_locations(_Rewriter().visit(tree))
    except RecursionError:
        raise ScriptRejected("nested too deeply") from None
    # "<string>" is the name SpiffWorkflow looks for to report the failing line of a script.
    code: CodeType = compile(guarded, "<string>", mode)
    return code
