"""Render the staging SQL models for one batch of one mapping: typed sources, joins, dimension
rows. The order lines' statement is lines_sql's, the warehouse writes warehouse_models'.

The model files in ``sql/staging`` and ``sql/warehouse`` hold each statement's shape; this module
fills in the parts that depend on the mapping (column lists, typed values, expressions, joins),
always through ``psycopg.sql`` so names from config are quoted identifiers and values literals.
The mapping's expressions arrive compiled (``Mapping.expression``): compiled once, when the
mapping was checked.
"""

from __future__ import annotations

from collections.abc import Mapping as ReadOnly
from dataclasses import dataclass, field

from psycopg import sql

from etl.ingest import coerce
from etl.ingest.columns import PLAIN_FIELDS
from etl.ingest.mapping import (
    CUSTOMER_FIELDS,
    CUSTOMERS,
    LINES,
    ORDER_LINE_FIELDS,
    PRODUCT_FIELDS,
    PRODUCTS,
    WAREHOUSE_LOOKUPS,
    ColumnSpec,
    Mapping,
    SourceSpec,
    TargetSpec,
    alias_for,
    effective_joins,
)
from etl.paths import model

_SQL_TYPES = {
    "text": "text",
    "integer": "integer",
    "numeric": "numeric",
    "timestamp": "timestamp",
    "date": "date",
}
DIM_FIELDS = {CUSTOMERS: CUSTOMER_FIELDS, PRODUCTS: PRODUCT_FIELDS}
DIM_PREFIX = {CUSTOMERS: "c:", PRODUCTS: "p:"}


@dataclass
class Codes:
    """Rejection codes of one build: code n (1-based) -> (rule, column, reason)."""

    items: list[tuple[str, str | None, str]] = field(default_factory=list)

    def add(self, rule: str, column: str | None, reason: str) -> int:
        key = (rule, column, reason)
        if key in self.items:
            return self.items.index(key) + 1
        self.items.append(key)
        return len(self.items)

    def literal_columns(self) -> sql.Literal:
        return sql.Literal([c for _, c, _ in self.items] or [None])

    def literal_reasons(self) -> sql.Literal:
        return sql.Literal([r for _, _, r in self.items] or [""])

    def rule(self, code: int) -> str:
        return self.items[code - 1][0]

    def reason(self, code: int) -> str:
        return self.items[code - 1][2]


def is_sale(mapping: Mapping | None, line: str) -> sql.Composed:
    """Whether an order line is a sale: THE definition, used to fill fact_order_line.is_sale
    (and by the migration that backfilled it). ``line``: the alias of a relation with the
    canonical quantity, unit_price and is_return (returns already negative). ``mapping``: the
    layout, for a layout option that widens what counts as a sale."""
    a = sql.Identifier(line)
    lines = mapping.lines if mapping is not None else None
    priced = ">= 0" if lines is not None and lines.zero_price_sales else "> 0"
    return sql.SQL(
        "coalesce({a}.quantity > 0 AND {a}.unit_price " + priced + " AND NOT {a}.is_return, false)"
    ).format(a=a)


def raw_table(batch_id: int, source: str) -> sql.Identifier:
    return sql.Identifier("staging", f"raw_{batch_id}_{source}")


def malformed_table(batch_id: int) -> sql.Identifier:
    return sql.Identifier("staging", f"raw_{batch_id}__malformed")


def typed_table(source: str) -> sql.Identifier:
    return sql.Identifier(f"segwise_typed_{source}")


def typed_select(
    src: SourceSpec,
    raw: sql.Composable,
    codes: Codes,
    rule_prefix: str,
    *,
    fast: bool = False,
    careful: frozenset[str] = frozenset(),
    date_formats: ReadOnly[str, str] | None = None,
    typed_dates: frozenset[str] = frozenset(),
    iso_dates: frozenset[str] = frozenset(),
    extra: list[str] | None = None,
    date_tables: ReadOnly[str, sql.Identifier] | None = None,
) -> sql.Composed:
    """SELECT of a source's raw rows typed, with the rejection code of each row (_reject).
    ``fast``: plain casts for numbers, except the ``careful`` columns (staging saw a value in
    them that a plain cast may refuse). ``date_formats``: date/time column -> the one format
    every value of it has (staging checked them, etl.ingest.date_formats): the column is read
    with that format only, by a plain cast per line on the fast path when the format is one
    a cast reads (ISO without a zone, ``%Y-%m-%d[ %H:%M:%S]``). ``typed_dates``: date/time
    columns every file gave typed (Parquet), always cast, whatever the formats;
    ``iso_dates``: some files gave them typed, so ISO is accepted besides the formats.

    Values arrive trimmed, with blanks as NULL (the readers do that while staging). Other
    date/time columns are parsed once per distinct value and joined back: an order's lines
    share one timestamp, and a hash join is far cheaper than a regular expression per row.
    ``date_tables``: such columns' lookups made beforehand (``date_lookup_tables``), joined
    instead of computed in the statement."""
    # _ctid: where the raw row is, so a rejected row's raw text is fetched by a TID scan
    inner: list[sql.Composable] = [
        sql.SQL("r._file"),
        sql.SQL("r._line"),
        sql.SQL("r.ctid AS _ctid"),
    ]
    outer: list[sql.Composable] = [sql.SQL("t._file"), sql.SQL("t._line"), sql.SQL("t._ctid")]
    lookups: list[sql.Composable] = []
    checks: list[sql.Composable] = []
    for i, col in enumerate(src.columns.values()):
        name = sql.Identifier(col.name)
        rawcol = sql.SQL("r.{}").format(name)
        present = sql.Identifier(f"_p:{col.name}")
        formats = _accepted_formats(col, iso_dates)
        reading = (
            _date_reading(col, fast, date_formats, typed_dates, iso_dates)
            if col.type in ("date", "timestamp")
            else None
        )
        if col.type in ("date", "timestamp") and reading is None:
            value = sql.SQL("({})::{}").format(rawcol, sql.SQL(col.type))
        elif reading is not None:
            alias = sql.Identifier(f"_d{i}")
            made = (date_tables or {}).get(col.name)
            lookup = (
                made
                if made is not None
                else sql.SQL("({})").format(_date_lookup(col, raw, reading))
            )
            lookups.append(
                sql.SQL("LEFT JOIN {lookup} AS {alias} ON {alias}.v = {rawcol}").format(
                    lookup=lookup, alias=alias, rawcol=rawcol
                )
            )
            value: sql.Composable = sql.SQL("{}.p").format(alias)
        else:
            source_value: sql.Composable = rawcol
            if col.decimal == ",":  # 1.234,50 -> 1234.50
                source_value = sql.SQL("replace(replace({}, '.', ''), ',', '.')").format(rawcol)
            value = coerce.typed_value(
                source_value, col.type, list(col.formats), fast=fast and col.name not in careful
            )
        inner.append(sql.SQL("{} AS {}").format(value, name))
        inner.append(sql.SQL("({} IS NOT NULL) AS {}").format(rawcol, present))
        typed = sql.SQL("t.{}").format(name)
        if col.type == "number":  # also after a plain cast: NaN, Infinity and |n| >= 1e15 are out
            typed = sql.SQL("CASE WHEN abs(t.{0}) < 1e15 THEN t.{0} END").format(name)
        outer.append(sql.SQL("{} AS {}").format(typed, name))
        outer.append(sql.SQL("t.{}").format(present))
        if col.required:
            code = codes.add(
                f"{rule_prefix}missing_value", col.name, f"{col.name}: empty, but required"
            )
            checks.append(sql.SQL("WHEN NOT t.{} THEN {}").format(present, sql.Literal(code)))
        if col.type == "integer" and not (fast and col.name not in careful):
            # a whole number that does not fit an integer says so, not "not an integer"
            number = sql.Identifier(f"_n:{col.name}")
            inner.append(sql.SQL("staging.parse_number({}) AS {}").format(rawcol, number))
            code = codes.add(
                f"{rule_prefix}integer_out_of_range",
                col.name,
                f"{col.name}: a whole number outside the integer range -2147483648..2147483647",
            )
            checks.append(
                sql.SQL("WHEN t.{p} AND t.{c} IS NULL AND t.{n} = trunc(t.{n}) THEN {code}").format(
                    p=present, c=name, n=number, code=sql.Literal(code)
                )
            )
        if col.type not in ("text", "id"):
            code = codes.add(
                f"{rule_prefix}invalid_{col.type}",
                col.name,
                f"{col.name}: {coerce.describe(col.type, formats)}",
            )
            checks.append(
                sql.SQL("WHEN t.{} AND {} IS NULL THEN {}").format(
                    present, typed, sql.Literal(code)
                )
            )
    inner += [sql.SQL("r.{}").format(sql.Identifier(n)) for n in extra or []]
    outer += [sql.SQL("t.{}").format(sql.Identifier(n)) for n in extra or []]
    reject = (
        sql.SQL("CASE {} END").format(sql.SQL(" ").join(checks))
        if checks
        else sql.SQL("NULL::integer")
    )
    return model(
        "staging/typed_source.sql",
        inner=sql.SQL(", ").join(inner),
        outer=sql.SQL(", ").join(outer),
        raw=raw,
        lookups=sql.SQL(" ").join(lookups),
        reject=reject,
    )


def _accepted_formats(col: ColumnSpec, iso_dates: frozenset[str]) -> list[coerce.DateFormat]:
    """A date/time column's formats, ISO added where some files gave the column typed."""
    formats = list(col.formats)
    if col.name in iso_dates and not any(f.pg_format is None for f in formats):
        formats.append(coerce.compile_format("iso"))
    return formats


def _date_reading(
    col: ColumnSpec,
    fast: bool,
    date_formats: ReadOnly[str, str] | None,
    typed_dates: frozenset[str],
    iso_dates: frozenset[str],
) -> list[coerce.DateFormat] | None:
    """How a date/time column is typed: None for a plain cast per line (typed by every file,
    or on the fast path when its one format is one a cast reads), else the formats its
    distinct values are parsed with (its one format, when every value has it)."""
    one = next((f for f in col.formats if f.text == (date_formats or {}).get(col.name)), None)
    if col.name in typed_dates or (fast and one is not None and one.casts):
        return None
    return [one] if one is not None else _accepted_formats(col, iso_dates)


def _date_lookup(
    col: ColumnSpec, raw: sql.Composable, formats: list[coerce.DateFormat]
) -> sql.Composed:
    """SELECT v, p: a date/time column's distinct raw values, each parsed once."""
    return sql.SQL(
        "SELECT d.v, {parsed} AS p FROM (SELECT DISTINCT {col} AS v FROM {raw}) AS d"
    ).format(
        parsed=coerce.typed_value(sql.SQL("d.v"), col.type, formats),
        col=sql.Identifier(col.name),
        raw=raw,
    )


def date_lookup_tables(
    src: SourceSpec,
    batch_id: int,
    *,
    date_formats: ReadOnly[str, str] | None = None,
    typed_dates: frozenset[str] = frozenset(),
    iso_dates: frozenset[str] = frozenset(),
    **_typing: object,
) -> dict[str, tuple[sql.Identifier, sql.Composed]]:
    """The source's date/time columns that the fast path parses through a lookup: column ->
    (an UNLOGGED table, the CREATE TABLE AS that fills it). Made before the typing statement,
    which then joins a plain table: the parser catches errors (a subtransaction), which no
    parallel worker may run, so a lookup inside the statement would keep all of it in one
    process. The careful path reads these columns the same way (same formats)."""
    raw = raw_table(batch_id, src.name)
    out: dict[str, tuple[sql.Identifier, sql.Composed]] = {}
    for i, col in enumerate(src.columns.values()):
        if col.type not in ("date", "timestamp"):
            continue
        reading = _date_reading(col, True, date_formats, typed_dates, iso_dates)
        if reading is not None:
            table = sql.Identifier("staging", f"dates_{batch_id}_{src.name}_{i}")
            create = sql.SQL("CREATE UNLOGGED TABLE {} AS {}").format(
                table, _date_lookup(col, raw, reading)
            )
            out[col.name] = (table, create)
    return out


def cast(expr: sql.Composable, type_: str) -> sql.Composable:
    return sql.SQL("({})::{}").format(expr, sql.SQL(_SQL_TYPES[type_]))


def null_of(type_: str) -> sql.Composable:
    return sql.SQL("NULL::{}").format(sql.SQL(_SQL_TYPES[type_]))


def relation(mapping: Mapping, name: str, keys: list[str]) -> sql.Composable:
    """What a join reads: a warehouse dimension, a derived table, or a typed source's good
    rows with one row per key (the last one in file order)."""
    if name in WAREHOUSE_LOOKUPS:
        schema, table = name.split(".")
        return sql.Identifier(schema, table)
    src = mapping.sources[name]
    if src.derived:
        return typed_table(name)
    key_list = sql.SQL(", ").join(sql.SQL("({})::text").format(sql.Identifier(k)) for k in keys)
    return sql.SQL(
        "(SELECT DISTINCT ON ({keys}) * FROM {t} WHERE _reject IS NULL "
        "ORDER BY {keys}, _file DESC, _line DESC)"
    ).format(keys=key_list, t=typed_table(name))


def joins_sql(mapping: Mapping, target: TargetSpec) -> sql.Composable:
    parts = []
    joins = effective_joins(mapping, target)
    for i, j in enumerate(joins):
        conds = []
        for left, right in j.on:
            conds.append(
                sql.SQL("({})::text = {}.{}::text").format(
                    mapping.join_condition(target.kind, i, left),
                    sql.Identifier(alias_for(j.source)),
                    sql.Identifier(right),
                )
            )
        parts.append(
            sql.SQL("LEFT JOIN {} AS {} ON {}").format(
                relation(mapping, j.source, [r for _, r in j.on]),
                sql.Identifier(alias_for(j.source)),
                sql.SQL(" AND ").join(conds),
            )
        )
    return sql.SQL("\n        ").join(parts)


def mapped_dim_fields(dim: TargetSpec) -> list[str]:
    """The dimension fields the mapping gives a value (attributes when it has any)."""
    names = [n for n in DIM_FIELDS[dim.kind] if n in dim.columns]
    return names + (["attributes"] if dim.attributes else [])


def shared_line_fields(mapping: Mapping, kind: str) -> frozenset[str]:
    """A dimension's fields, read from the lines, that compile to the same SQL as the line
    field of the same name (online_retail: customer_id and country, product_id). The lines
    table carries such a value once and the dimension reads the line column: a narrower
    table to write and scan."""
    lines, dim = mapping.targets[LINES], mapping.targets[kind]
    shared = set()
    for name in mapped_dim_fields(dim):
        type_ = DIM_FIELDS[kind].get(name)
        if name not in PLAIN_FIELDS or name not in lines.columns or name not in dim.columns:
            continue
        if type_ != ORDER_LINE_FIELDS[name]:
            continue
        ours = cast(mapping.expression(kind, "columns", name), type_)
        theirs = cast(mapping.expression(LINES, "columns", name), type_)
        if ours == theirs:
            shared.add(name)
    return frozenset(shared)


def dim_columns(
    mapping: Mapping,
    dim: TargetSpec,
    prefix: str = "",
    *,
    mapped_only: bool = False,
    skip: frozenset[str] = frozenset(),
) -> list[sql.Composable]:
    """The dimension's fields (and attributes jsonb) as SELECT items, optionally prefixed.
    ``mapped_only``: leave out the fields that would be constant NULLs (or '{}'); ``skip``:
    fields to leave out (the lines already carry them, see shared_line_fields)."""
    fields = DIM_FIELDS[dim.kind]
    items = []
    for name, type_ in fields.items():
        if (mapped_only and name not in dim.columns) or name in skip:
            continue
        if name in dim.columns:
            value = cast(mapping.expression(dim.kind, "columns", name), type_)
        else:
            value = null_of(type_)
        items.append(sql.SQL("{} AS {}").format(value, sql.Identifier(prefix + name)))
    if dim.attributes:
        pairs = []
        for k in dim.attributes:
            pairs.append(sql.Literal(k))
            pairs.append(mapping.expression(dim.kind, "attributes", k))
        attrs = sql.SQL("jsonb_strip_nulls(jsonb_build_object({}))").format(
            sql.SQL(", ").join(pairs)
        )
    elif mapped_only:
        return items
    else:
        attrs = sql.SQL("'{}'::jsonb")
    items.append(sql.SQL("{} AS {}").format(attrs, sql.Identifier(prefix + "attributes")))
    return items


def dims_cover_line_keys(mapping: Mapping) -> bool:
    """Both dimensions are read from the order lines with the lines' own key expressions, so
    every customer and product id of the lines is already in them."""
    lines = mapping.targets.get(LINES)
    if lines is None:
        return True
    for kind, key in ((CUSTOMERS, "customer_id"), (PRODUCTS, "product_id")):
        dim = mapping.targets.get(kind)
        if key not in lines.columns:
            continue
        if dim is None or dim.source != lines.source:
            return False
        if dim.columns.get(key, "").strip() != lines.columns[key].strip():
            return False
    return True


def dim_rows_from_lines(mapping: Mapping, kind: str, lines: sql.Identifier) -> sql.Composed:
    """A dimension's rows read from the order lines: one per distinct set of mapped values (a
    hash aggregate shrinks the lines to a few rows per key before the dimension's sort),
    ordered by the latest line that carried them."""
    prefix = DIM_PREFIX[kind]
    dim = mapping.targets[kind]
    mapped = mapped_dim_fields(dim)
    shared = shared_line_fields(mapping, kind)

    def column(n: str) -> sql.Identifier:
        return sql.Identifier(n if n in shared else prefix + n)

    cols = []
    for n, type_ in [*DIM_FIELDS[kind].items(), ("attributes", "jsonb")]:
        if n in mapped:
            cols.append(sql.SQL("{} AS {}").format(column(n), sql.Identifier(n)))
        elif n == "attributes":
            cols.append(sql.SQL("'{}'::jsonb AS attributes"))
        else:
            cols.append(
                sql.SQL("NULL::{} AS {}").format(sql.SQL(_SQL_TYPES[type_]), sql.Identifier(n))
            )
    keys = sql.SQL(", ").join(column(n) for n in mapped)
    return sql.SQL(
        "SELECT {cols}, max(order_ts) AS _order, max(_file) AS _file, max(_line) AS _line "
        "FROM {lines} WHERE _reject IS NULL GROUP BY {keys}"
    ).format(cols=sql.SQL(", ").join(cols), lines=lines, keys=keys)


def dim_rows_from_source(mapping: Mapping, kind: str) -> sql.Composed:
    dim = mapping.targets[kind]
    alias = sql.Identifier(alias_for(dim.source))
    return sql.SQL(
        "SELECT {cols}, 0 AS _order, {a}._file, {a}._line FROM {t} AS {a} {joins} "
        "WHERE {a}._reject IS NULL"
    ).format(
        cols=sql.SQL(", ").join(dim_columns(mapping, dim)),
        a=alias,
        t=typed_table(dim.source),
        joins=joins_sql(mapping, dim),
    )
