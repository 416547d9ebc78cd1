"""Fill the warehouse write models (``sql/warehouse/*.sql``) with their column lists.

The model files hold each statement's shape; the columns come from ``etl.ingest.columns``, so a
column added there reaches every write without editing SQL in several places. The names are
fixed ones of this package (never from config), so they are written plainly, as in the models.
"""

from __future__ import annotations

from psycopg import sql

from etl.ingest.columns import KEY, ORDER_ATTRIBUTES, ORDER_FACT, ORDER_LINE, Column
from etl.ingest.mapping import CUSTOMERS, PRODUCTS
from etl.ingest.sqlgen import DIM_FIELDS
from etl.paths import model


def _name(name: str) -> sql.SQL:
    return sql.SQL(name)


def _join(items: list[sql.Composable]) -> sql.Composable:
    return sql.SQL(", ").join(items)


def _line_value(col: Column, batch_id: sql.Composable) -> sql.Composable:
    """A fact_order_line column's value from the staged line ``l``."""
    if col.staged:
        return sql.SQL("l.{}").format(_name(col.name))
    if col.name == "order_date":
        return sql.SQL("l.order_ts::date")
    if col.name == "batch_id":
        return batch_id
    raise ValueError(f"no value for the unstaged order-line column {col.name}")


def _line_insert(batch_id: sql.Composable) -> dict[str, sql.Composable]:
    return {
        "columns": _join([_name(c.name) for c in ORDER_LINE]),
        "values": _join([_line_value(c, batch_id) for c in ORDER_LINE]),
    }


def fact_lines_first(lines: sql.Identifier, batch_id: sql.Composable) -> sql.Composed:
    """Insert every good line of ``lines`` (the first load into empty facts)."""
    return model(
        "warehouse/fact_order_line_first.sql",
        lines=lines,
        batch_id=batch_id,
        **_line_insert(batch_id),
    )


def fact_lines_upsert(lines: sql.Identifier, batch_id: sql.Composable) -> sql.Composed:
    """Insert the new good lines of ``lines``, rewrite the changed ones; returns (ins, upd)."""
    non_key = [c for c in ORDER_LINE if c.name not in KEY]
    compared = [_name(c.name) for c in non_key if c.staged]
    return model(
        "warehouse/fact_order_line.sql",
        lines=lines,
        batch_id=batch_id,
        assignments=_join(
            [sql.SQL("{} = {}").format(_name(c.name), _line_value(c, batch_id)) for c in non_key]
        ),
        current=_join([sql.SQL("f.{}").format(c) for c in compared]),
        incoming=_join([sql.SQL("l.{}").format(c) for c in compared]),
        **_line_insert(batch_id),
    )


def order_totals(
    totals: sql.Identifier, scope: sql.Composable, batch_id: sql.Composable
) -> sql.Composed:
    """CREATE the temp table ``totals``: one row per order of ``scope``, from all its lines."""
    attributes = [
        sql.SQL('min(l.{0} COLLATE "C") AS {0}').format(_name(n)) for n in ORDER_ATTRIBUTES
    ]
    return model(
        "warehouse/order_totals.sql",
        totals=totals,
        scope=scope,
        batch_id=batch_id,
        order_attributes=_join(attributes),
    )


def fact_order(totals: sql.Identifier) -> sql.Composed:
    """Upsert the order fact from ``totals`` (order_totals)."""
    return model(
        "warehouse/fact_order.sql",
        totals=totals,
        columns=_join([_name(n) for n in ORDER_FACT]),
        updates=_join(
            [sql.SQL("{0} = EXCLUDED.{0}").format(_name(n)) for n in ORDER_FACT if n != "order_id"]
        ),
    )


# dimension -> (table, key, alias of its incoming rows)
_DIMENSIONS = {
    CUSTOMERS: ("warehouse.dim_customer", "customer_id", "c"),
    PRODUCTS: ("warehouse.dim_product", "product_id", "p"),
}


def dim_upsert(kind: str, rows: sql.Composable, batch_id: sql.Composable) -> sql.Composed:
    """Upsert a dimension from ``rows`` (its fields, attributes, _order, _file, _line);
    returns (inserted, updated)."""
    table, key, alias = _DIMENSIONS[kind]
    fields = [_name(n) for n in DIM_FIELDS[kind] if n != key]
    kept = [sql.SQL("coalesce(EXCLUDED.{0}, d.{0})").format(f) for f in fields]
    return model(
        "warehouse/dim_upsert.sql",
        table=_name(table),
        key=_name(key),
        alias=_name(alias),
        rows=rows,
        batch_id=batch_id,
        fields=_join(fields),
        assignments=_join(
            [sql.SQL("{} = {}").format(f, k) for f, k in zip(fields, kept, strict=True)]
        ),
        current=_join([sql.SQL("d.{}").format(f) for f in fields]),
        kept=_join(kept),
    )
