"""The mapping file's expression language, compiled to SQL.

Mappings compute canonical fields ("amount", "is_return", ...) from source columns. Config must
never carry raw SQL, so expressions are parsed with Python's ``ast`` and only a small, explicit
subset is translated; every name becomes a quoted identifier and every constant a literal.

Syntax (SQL conventions for quoting):
- ``Quantity`` or ``"Customer ID"``: a column; ``orders.user_id``/``"orders.user_id"``: a column
  of a joined source. ``'C'``: a text literal. ``1``, ``0.5``: numbers. ``true``/``false``/``null``.
- ``+ - * / %`` (division by zero gives null, which rejects the row rather than failing the batch),
  comparisons ``== != < <= > >=``, ``and or not``, ``x in ('a', 'b')``, ``a if cond else b``.
- Functions: see ``FUNCTIONS``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

from psycopg import sql

from etl.errors import ConfigurationError

# name -> (min args, max args or None, SQL template builder)
_Builder = Callable[[list[sql.Composable]], sql.Composable]


def _fn(name: str) -> _Builder:
    return lambda args: sql.SQL("{}({})").format(sql.SQL(name), sql.SQL(", ").join(args))


def _text_fn(name: str) -> _Builder:
    return lambda args: sql.SQL("{}({})").format(
        sql.SQL(name), sql.SQL(", ").join(sql.SQL("({})::text").format(a) for a in args)
    )


FUNCTIONS: dict[str, tuple[int, int | None, _Builder]] = {
    "coalesce": (1, None, _fn("coalesce")),
    "nullif": (2, 2, _fn("nullif")),
    "abs": (1, 1, _fn("abs")),
    "round": (
        1,
        2,
        lambda a: sql.SQL("round(({})::numeric{})").format(
            a[0], sql.SQL(", ({})::int").format(a[1]) if len(a) > 1 else sql.SQL("")
        ),
    ),
    "floor": (1, 1, _fn("floor")),
    "ceil": (1, 1, _fn("ceil")),
    "least": (1, None, _fn("least")),
    "greatest": (1, None, _fn("greatest")),
    "lower": (1, 1, _text_fn("lower")),
    "upper": (1, 1, _text_fn("upper")),
    "trim": (1, 1, _text_fn("btrim")),
    "length": (1, 1, _text_fn("length")),
    "concat": (1, None, _text_fn("concat")),
    "startswith": (2, 2, _text_fn("starts_with")),
    "endswith": (
        2,
        2,
        lambda a: sql.SQL("(right(({0})::text, length(({1})::text)) = ({1})::text)").format(
            a[0], a[1]
        ),
    ),
    "contains": (2, 2, lambda a: sql.SQL("(strpos(({})::text, ({})::text) > 0)").format(*a)),
    "substr": (
        2,
        3,
        lambda a: sql.SQL("substr(({})::text, ({})::int{})").format(
            a[0], a[1], sql.SQL(", ({})::int").format(a[2]) if len(a) > 2 else sql.SQL("")
        ),
    ),
    "replace": (3, 3, _text_fn("replace")),
    "text": (1, 1, lambda a: sql.SQL("({})::text").format(a[0])),
    # NULL (the line is rejected, with its value) rather than a failed batch for "abc"
    "number": (1, 1, lambda a: sql.SQL("staging.parse_number(({})::text)").format(a[0])),
    "date": (1, 1, lambda a: sql.SQL("({})::date").format(a[0])),
    "year": (1, 1, lambda a: sql.SQL("extract(year FROM {})::int").format(a[0])),
    "month": (1, 1, lambda a: sql.SQL("extract(month FROM {})::int").format(a[0])),
    "days": (1, 1, lambda a: sql.SQL("make_interval(days => ({})::int)").format(a[0])),
    "hours": (1, 1, lambda a: sql.SQL("make_interval(hours => ({})::int)").format(a[0])),
    "is_null": (1, 1, lambda a: sql.SQL("(({}) IS NULL)").format(a[0])),
    "not_null": (1, 1, lambda a: sql.SQL("(({}) IS NOT NULL)").format(a[0])),
}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Mod: "%"}
_CMPOPS = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_KEYWORDS = {"true": True, "false": False, "null": None, "none": None}


@dataclass(frozen=True)
class ColumnRef:
    """A resolved column: which relation alias and which column in it."""

    alias: str
    column: str


Resolver = Callable[[str | None, str], ColumnRef]


class ExpressionError(ConfigurationError):
    pass


def columns_in(text: str) -> list[tuple[str | None, str]]:
    """The (source or None, column) names an expression refers to, in order."""
    tree, source = _parse(text)
    refs: list[tuple[str | None, str]] = []
    _Compiler(source, lambda q, c: refs.append((q, c)) or ColumnRef("x", c)).compile(tree)
    return refs


def compile_expression(text: str, resolve: Resolver, *, where: str = "") -> sql.Composable:
    """SQL for one expression; ``resolve(qualifier, name)`` maps names to relation columns."""
    tree, source = _parse(text, where=where)
    try:
        return _Compiler(source, resolve).compile(tree)
    except ExpressionError as exc:
        raise ExpressionError(f"{where}{exc}") from None


def _parse(text: str, *, where: str = "") -> tuple[ast.expr, str]:
    if isinstance(text, bool) or text is None:
        text = {True: "true", False: "false", None: "null"}[text]
    text = str(text).strip()
    if not text:
        raise ExpressionError(f"{where}empty expression")
    if len(text) > 2000:
        raise ExpressionError(f"{where}expression longer than 2000 characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{where}cannot parse {text!r}: {exc.msg}") from None
    return tree.body, text


class _Compiler:
    def __init__(self, source: str, resolve: Resolver) -> None:
        self.source = source
        self.resolve = resolve
        self.lines = source.splitlines() or [source]

    def _quote_char(self, node: ast.Constant) -> str:
        line = self.lines[node.lineno - 1]
        # ast offsets are UTF-8 byte offsets
        return line.encode()[node.col_offset : node.col_offset + 1].decode(errors="replace")

    def compile(self, node: ast.AST) -> sql.Composable:  # noqa: C901 - one dispatch table
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, str):
                if self._quote_char(node) == '"':
                    return self._column(None, value)
                return sql.SQL("{}::text").format(sql.Literal(value))
            if isinstance(value, bool):
                return sql.SQL("true" if value else "false")
            if value is None:
                return sql.SQL("NULL")
            if isinstance(value, int | float):
                return sql.SQL("{}::numeric").format(sql.Literal(str(value)))
            raise ExpressionError(f"unsupported constant {value!r}")
        if isinstance(node, ast.Name):
            if node.id.lower() in _KEYWORDS:
                return self.compile(ast.Constant(_KEYWORDS[node.id.lower()]))
            return self._column(None, node.id)
        if isinstance(node, ast.Attribute):
            if not isinstance(node.value, ast.Name):
                raise ExpressionError("only source.column may use a dot")
            return self._column(node.value.id, node.attr)
        if isinstance(node, ast.BinOp):
            left, right = self.compile(node.left), self.compile(node.right)
            if isinstance(node.op, ast.Div):
                return sql.SQL("(({}) / NULLIF(({}), 0))").format(left, right)
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise ExpressionError(f"operator {type(node.op).__name__} is not supported")
            if op == "%":
                return sql.SQL("(({}) % NULLIF(({}), 0))").format(left, right)
            return sql.SQL("(({}) {} ({}))").format(left, sql.SQL(op), right)
        if isinstance(node, ast.UnaryOp):
            operand = self.compile(node.operand)
            if isinstance(node.op, ast.USub):
                return sql.SQL("(-({}))").format(operand)
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(node.op, ast.Not):
                return sql.SQL("(NOT ({}))").format(operand)
            raise ExpressionError("unsupported unary operator")
        if isinstance(node, ast.BoolOp):
            joiner = " AND " if isinstance(node.op, ast.And) else " OR "
            parts = [sql.SQL("({})").format(self.compile(v)) for v in node.values]
            return sql.SQL("({})").format(sql.SQL(joiner).join(parts))
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.IfExp):
            return sql.SQL("(CASE WHEN ({}) THEN ({}) ELSE ({}) END)").format(
                self.compile(node.test), self.compile(node.body), self.compile(node.orelse)
            )
        if isinstance(node, ast.Call):
            return self._call(node)
        raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")

    def _column(self, qualifier: str | None, name: str) -> sql.Composable:
        if qualifier is None and "." in name:
            qualifier, name = name.split(".", 1)
        ref = self.resolve(qualifier, name)
        return sql.Identifier(ref.alias, ref.column)

    def _compare(self, node: ast.Compare) -> sql.Composable:
        parts = []
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(right, ast.Tuple | ast.List | ast.Set) or not right.elts:
                    raise ExpressionError("'in' needs a non-empty list: x in ('a', 'b')")
                items = sql.SQL(", ").join(self.compile(e) for e in right.elts)
                word = "IN" if isinstance(op, ast.In) else "NOT IN"
                parts.append(
                    sql.SQL("(({}) {} ({}))").format(self.compile(left), sql.SQL(word), items)
                )
            else:
                sym = _CMPOPS.get(type(op))
                if sym is None:
                    raise ExpressionError(f"comparison {type(op).__name__} is not supported")
                parts.append(
                    sql.SQL("(({}) {} ({}))").format(
                        self.compile(left), sql.SQL(sym), self.compile(right)
                    )
                )
            left = right
        return sql.SQL("({})").format(sql.SQL(" AND ").join(parts))

    def _call(self, node: ast.Call) -> sql.Composable:
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("only plain function calls are allowed")
        name = node.func.id.lower()
        if name not in FUNCTIONS:
            raise ExpressionError(
                f"unknown function {node.func.id}(): use one of {', '.join(sorted(FUNCTIONS))}"
            )
        if node.keywords:
            raise ExpressionError(f"{name}() takes no keyword arguments")
        lo, hi, build = FUNCTIONS[name]
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else f"{lo}..{hi if hi is not None else 'n'}"
            raise ExpressionError(f"{name}() takes {want} arguments, got {n}")
        return build([self.compile(a) for a in node.args])


_IDENT_OK = re.compile(r"^[^\x00]{1,50}$")


def valid_column_name(name: str) -> bool:
    return bool(_IDENT_OK.match(name)) and not name.startswith("_")
