"""Render the statement that stages one batch's order lines in the canonical model
(``sql/staging/order_lines.sql``), layer by layer:

- x: the typed base source joined to its lookups, the canonical fields from the mapping's
  expressions, one flag per return rule, the dimension fields read from the lines;
- y: return lines made negative, the amounts' defaults, the first failed check (a code);
- final: line numbers and ``is_sale``.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from etl.ingest.columns import PLAIN_FIELDS, REQUIRED_FIELDS, SIGNED_FIELDS
from etl.ingest.expr import columns_in
from etl.ingest.mapping import (
    CUSTOMERS,
    LINES,
    ORDER_LINE_FIELDS,
    PRODUCTS,
    Mapping,
    TargetSpec,
    alias_for,
    make_resolver,
)
from etl.ingest.sqlgen import (
    DIM_PREFIX,
    Codes,
    cast,
    dim_columns,
    is_sale,
    joins_sql,
    mapped_dim_fields,
    null_of,
    raw_table,
    shared_line_fields,
    typed_select,
)
from etl.paths import model


@dataclass
class LinesPlan:
    statement: sql.Composed
    line_numbers: str  # 'column' (the mapping's), 'position' (staged _pos), 'window' (SQL)
    return_rules: list[str]
    dims_from_lines: list[str]


def _x(name: str) -> sql.Composable:
    return sql.SQL("x.{}").format(sql.Identifier(name))


def order_lines(
    mapping: Mapping,
    batch_id: int,
    codes: Codes,
    table: sql.Identifier,
    *,
    fast: bool = False,
    careful: frozenset[str] = frozenset(),
    date_formats: dict[str, str] | None = None,
    typed_dates: frozenset[str] = frozenset(),
    iso_dates: frozenset[str] = frozenset(),
    positions: bool = False,
    date_tables: dict[str, sql.Identifier] | None = None,
) -> LinesPlan:
    """CREATE the batch's canonical order lines (with _reject codes). Rejected lines' raw rows
    are read back from the raw table by their ctid when they are kept: carrying every
    line's whole raw row through the typing cost ~15% of it. ``positions``: the raw table has
    staged line positions (_pos). ``date_tables``: see sqlgen.typed_select."""
    target = mapping.targets[LINES]
    src = mapping.sources[target.source]
    base_alias = sql.Identifier(alias_for(target.source))
    extra = ["_pos"] if positions else []
    base = typed_select(
        src,
        raw_table(batch_id, src.name),
        codes,
        "",
        fast=fast,
        careful=careful,
        date_formats=date_formats,
        typed_dates=typed_dates,
        iso_dates=iso_dates,
        extra=extra,
        date_tables=date_tables,
    )
    rules, flags = _return_flags(mapping)
    dims = [
        k
        for k in (CUSTOMERS, PRODUCTS)
        if k in mapping.targets and mapping.targets[k].source == src.name
    ]
    dim_fields = _dim_fields(mapping, dims)

    x_cols = [sql.SQL("{}.{}").format(base_alias, sql.Identifier(n)) for n in extra]
    x_cols += _canonical_values(mapping)
    x_cols += flags
    for kind in dims:
        x_cols += dim_columns(
            mapping,
            mapping.targets[kind],
            DIM_PREFIX[kind],
            mapped_only=True,
            skip=shared_line_fields(mapping, kind),
        )

    y_cols = [_x(n) for n in PLAIN_FIELDS]
    y_cols += _signed_values(target, rules)
    y_cols.append(sql.SQL("x.line_no AS _line_no"))
    y_cols += [_x(n) for n in extra]
    y_cols += [_x(f"r:{r}") for r in rules]
    y_cols += [_x(n) for n in dim_fields]
    out_names = [*PLAIN_FIELDS, "is_return", *SIGNED_FIELDS, *(f"r:{r}" for r in rules)]
    out_names += dim_fields

    checks = _checks(mapping, codes)
    mode, line_no = _line_numbers(target, positions)
    final = [sql.SQL("y._file"), sql.SQL("y._line"), sql.SQL("y._ctid")]
    final += [sql.SQL("y.{}").format(sql.Identifier(n)) for n in out_names]
    final += [
        sql.SQL("{} AS is_sale").format(is_sale(mapping, "y")),
        sql.SQL("{} AS line_no").format(line_no),
        sql.SQL("y._pre_reject AS _reject"),
    ]
    statement = model(
        "staging/order_lines.sql",
        table=table,
        final_columns=sql.SQL(",\n       ").join(final),
        y_columns=sql.SQL(",\n           ").join(y_cols),
        pre_reject=sql.SQL("CASE {} END").format(sql.SQL(" ").join(checks)),
        base_alias=base_alias,
        x_columns=sql.SQL(",\n               ").join(x_cols),
        base=base,
        joins=joins_sql(mapping, target),
    )
    return LinesPlan(statement, mode, rules, dims)


def _canonical_values(mapping: Mapping) -> list[sql.Composable]:
    """x: every canonical field, from its expression, a default, or NULL."""
    mapped = mapping.targets[LINES].columns

    def value_of(name: str, type_: str) -> sql.Composable:
        return cast(mapping.expression(LINES, "columns", name), type_)

    items: list[sql.Composable] = []
    for name, type_ in ORDER_LINE_FIELDS.items():
        if name in mapped:
            value = value_of(name, type_)
        elif name == "unit_price" and "amount" in mapped:  # none on a zero-quantity line
            value = sql.SQL("(abs({}) / NULLIF(abs({}), 0))").format(
                value_of("amount", type_), value_of("quantity", type_)
            )
        elif name == "discount_amount":
            value = sql.SQL("0::numeric")
        else:
            value = null_of(type_)
        items.append(sql.SQL("{} AS {}").format(value, sql.Identifier(name)))
    return items


def _return_flags(mapping: Mapping) -> tuple[list[str], list[sql.Composable]]:
    """x: one flag "r:<rule>" per return rule of the mapping, plus one that always applies (a
    negative quantity) unless the mapping defines it."""
    target = mapping.targets[LINES]
    rules = list(target.returns)
    flags = [
        sql.SQL("coalesce(({})::boolean, false) AS {}").format(
            mapping.expression(LINES, "returns", rule), sql.Identifier(f"r:{rule}")
        )
        for rule in rules
    ]
    if "negative_quantity" not in rules:
        rules.append("negative_quantity")
        flags.append(
            sql.SQL("coalesce(({})::numeric < 0, false) AS {}").format(
                mapping.expression(LINES, "columns", "quantity"),
                sql.Identifier("r:negative_quantity"),
            )
        )
    return rules, flags


def _dim_fields(mapping: Mapping, dims: list[str]) -> list[str]:
    """The prefixed dimension fields the lines carry. Only the ones the mapping fills:
    dim_rows_from_lines reads no others, and carrying constant NULL columns through every
    layer and into the table costs time; none that the line itself carries (shared)."""
    names = []
    for kind in dims:
        shared = shared_line_fields(mapping, kind)
        names += [
            DIM_PREFIX[kind] + n
            for n in mapped_dim_fields(mapping.targets[kind])
            if n not in shared
        ]
    return names


def _signed_values(target: TargetSpec, rules: list[str]) -> list[sql.Composable]:
    """y: is_return and the signed fields. Sale lines keep the values as computed. Return
    lines are made negative from magnitudes, so a return's discount still reduces what is
    refunded: amount = -(|q| * price - |d|)."""
    ret = sql.SQL("coalesce({}, false)").format(sql.SQL(" OR ").join([_x(f"r:{r}") for r in rules]))
    mapped_gross = "gross_amount" in target.columns
    mapped_amount = "amount" in target.columns
    # with the amount given, a zero-quantity line may have no unit price: its gross is 0
    price = sql.SQL("coalesce(x.unit_price, 0)" if mapped_amount else "x.unit_price")
    gross = (
        sql.SQL("x.gross_amount") if mapped_gross else sql.SQL("(x.quantity * {})").format(price)
    )
    gross_ret = (
        sql.SQL("-abs(x.gross_amount)")
        if mapped_gross
        else sql.SQL("-(abs(x.quantity) * {})").format(price)
    )
    special = {
        "gross_amount": (gross, gross_ret),
        "amount": (
            sql.SQL("x.amount")
            if mapped_amount
            else sql.SQL("({} - x.discount_amount)").format(gross),
            sql.SQL("-abs(x.amount)")
            if mapped_amount
            else sql.SQL("({} + abs(x.discount_amount))").format(gross_ret),
        ),
    }
    items = [sql.SQL("{} AS is_return").format(ret)]
    for name in SIGNED_FIELDS:
        plain = sql.SQL(f"x.{name}")  # a fixed name of columns.py
        sale, returned = special.get(name, (plain, sql.SQL("-abs({})").format(plain)))
        items.append(
            sql.SQL("CASE WHEN {r} THEN {rv} ELSE {v} END AS {n}").format(
                r=ret, rv=returned, v=sale, n=sql.SQL(name)
            )
        )
    return items


def _checks(mapping: Mapping, codes: Codes) -> list[sql.Composable]:
    """y: the checks a line must pass, in order, each ``WHEN <failed> THEN <code>``."""
    target = mapping.targets[LINES]
    mapped = target.columns
    checks = [sql.SQL("WHEN x._source_reject IS NOT NULL THEN x._source_reject")]

    def need(cond: str, rule: str, column: str, reason: str) -> None:
        code = codes.add(rule, column, reason)
        checks.append(sql.SQL("WHEN {} THEN {}").format(sql.SQL(cond), sql.Literal(code)))

    def unmatched(text: str) -> str:
        resolve = make_resolver(mapping, target)
        joined = sorted(
            {resolve(q, c).alias for q, c in columns_in(text)} - {alias_for(target.source)}
        )
        return f" (no matching row in {', '.join(joined)}?)" if joined else ""

    price_text = mapped.get("unit_price") or mapped["amount"]  # the price is amount / quantity
    # a line whose amount is given needs no unit price when its quantity is zero (it is kept,
    # counted as kept:zero_quantity)
    priced = " AND x.quantity <> 0" if "amount" in mapped else ""
    for name in REQUIRED_FIELDS:
        text = price_text if name == "unit_price" else mapped[name]
        need(
            f"x.{name} IS NULL" + (priced if name == "unit_price" else ""),
            f"missing_{name}",
            _column_of(text, name),
            f"{name}: empty or not computable from {text!r}{unmatched(text)}",
        )
    if target.zero_price_sales:  # the mapping keeps free lines as sales
        need(
            "x.unit_price < 0" + priced,
            "negative_price",
            _column_of(price_text, "unit_price"),
            "unit_price: negative price",
        )
    else:
        need(
            "x.unit_price <= 0" + priced,
            "non_positive_price",
            _column_of(price_text, "unit_price"),
            "unit_price: zero or negative price",
        )
    for name in ("gross_amount", "discount_amount", "amount"):
        if name in mapped:
            text = mapped[name]
            need(
                f"x.{name} IS NULL",
                f"missing_{name}",
                name,
                f"{name}: not computable from {text!r}{unmatched(text)}",
            )
    if "line_no" in mapped:
        need(
            "x.line_no IS NULL",
            "missing_line_no",
            "line_no",
            f"line_no: empty or not computable from {mapped['line_no']!r}",
        )
    return checks


def _line_numbers(target: TargetSpec, positions: bool) -> tuple[str, sql.Composable]:
    """final: where line numbers come from (LinesPlan.line_numbers) and their SQL."""
    if "line_no" in target.columns:
        return "column", sql.SQL("y._line_no")
    if positions:
        return "position", sql.SQL("y._pos")
    return "window", sql.SQL(
        'row_number() OVER (PARTITION BY y.order_id COLLATE "C" ORDER BY y._file, y._line)::integer'
    )


def _column_of(expression: str, target: str) -> str:
    """The source column a target is computed from, when it reads one column; else the target
    (rejected_rows.column_name: the raw value shown for a rejection is that column's)."""
    refs = columns_in(expression)
    if len({r[1] for r in refs}) == 1:  # number(Description): the value to show is Description's
        return refs[0][1]
    return target
