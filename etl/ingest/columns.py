"""The order line's columns, defined once: each one's name, SQL type and role.

Everything else that lists order-line columns derives its list from ``ORDER_LINE`` here: the
canonical fields a mapping may fill (``mapping.ORDER_LINE_FIELDS``), the staged lines table
(``lines_sql.order_lines``), the warehouse writes (``warehouse_models``, filling
``sql/warehouse/fact_order_line*.sql``, ``order_totals.sql`` and ``fact_order.sql``) and the
demo's order-line file (``etl.demo.writer``). Migrations keep their literal DDL;
tests/ingest/test_columns.py checks that the migrated ``warehouse.fact_order_line`` has exactly
these columns.
"""

from __future__ import annotations

from dataclasses import dataclass

# Roles: what the loader does with a column.
ORDER = "order"  # the order's id: with line_no, the line's key
LINE_NUMBER = "line_number"  # the line within its order (mapped, staged position or counted)
VALUE = "value"  # mapped, kept as given
SIGNED = "signed"  # mapped quantity or money: made negative on a return line
ORDER_ATTRIBUTE = "order_attribute"  # mapped, describes the whole order (one per order fact)
DERIVED = "derived"  # computed by the loader, never mapped
LINEAGE = "lineage"  # the batch that wrote the line
MAPPED_ROLES = (ORDER, LINE_NUMBER, VALUE, SIGNED, ORDER_ATTRIBUTE)


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    role: str
    not_null: bool = False  # in warehouse.fact_order_line
    required: bool = False  # a mapping must give it (unit_price: or the line amount)
    in_file: bool = False  # a column of the canonical segwise order-line file
    staged: bool = True  # the batch's staged lines carry it (else the warehouse write fills it)

    @property
    def mapped(self) -> bool:
        return self.role in MAPPED_ROLES


# In the order the warehouse writes name them.
ORDER_LINE: tuple[Column, ...] = (
    Column("order_id", "text", ORDER, not_null=True, required=True, in_file=True),
    Column("line_no", "integer", LINE_NUMBER, not_null=True, in_file=True),
    Column("customer_id", "text", VALUE, in_file=True),
    Column("order_ts", "timestamp", VALUE, not_null=True, required=True, in_file=True),
    Column("order_date", "date", DERIVED, not_null=True, staged=False),  # order_ts::date
    Column("product_id", "text", VALUE, in_file=True),
    Column("quantity", "numeric", SIGNED, not_null=True, required=True, in_file=True),
    Column("unit_price", "numeric", VALUE, required=True, in_file=True),
    Column("gross_amount", "numeric", SIGNED, not_null=True),
    Column("discount_amount", "numeric", SIGNED, not_null=True, in_file=True),
    Column("amount", "numeric", SIGNED, not_null=True),
    Column("cost_amount", "numeric", SIGNED),
    # in the file: the source's return flag; in the warehouse: any return rule matched
    Column("is_return", "boolean", DERIVED, not_null=True, in_file=True),
    Column("is_sale", "boolean", DERIVED),  # sqlgen.is_sale
    Column("channel", "text", ORDER_ATTRIBUTE, in_file=True),
    Column("platform", "text", ORDER_ATTRIBUTE, in_file=True),
    Column("market", "text", ORDER_ATTRIBUTE, in_file=True),
    Column("country", "text", ORDER_ATTRIBUTE, in_file=True),
    Column("region", "text", ORDER_ATTRIBUTE, in_file=True),
    Column("store_id", "text", ORDER_ATTRIBUTE, in_file=True),
    Column("batch_id", "bigint", LINEAGE, not_null=True, staged=False),
)
KEY = ("order_id", "line_no")


def names(*roles: str) -> tuple[str, ...]:
    """The order-line columns with one of ``roles`` (all of them when none), in order."""
    return tuple(c.name for c in ORDER_LINE if not roles or c.role in roles)


# canonical field -> SQL type: what a mapping's order_lines.columns may fill
MAPPED_FIELDS: dict[str, str] = {c.name: c.sql_type for c in ORDER_LINE if c.mapped}
REQUIRED_FIELDS = tuple(c.name for c in ORDER_LINE if c.required)
# mapped fields the staged lines carry unchanged (returns change the signed ones)
PLAIN_FIELDS = names(ORDER, VALUE, ORDER_ATTRIBUTE)
SIGNED_FIELDS = names(SIGNED)
ORDER_ATTRIBUTES = names(ORDER_ATTRIBUTE)
FILE_COLUMNS = tuple(c.name for c in ORDER_LINE if c.in_file)

# warehouse.fact_order, in the order order_totals.sql computes them: the order's measures over
# its lines, then the order attributes its lines share.
ORDER_FACT = (
    "order_id",
    "customer_id",
    "order_ts",
    "order_date",
    "n_lines",
    "n_sale_lines",
    "quantity",
    "gross_amount",
    "discount_amount",
    "sales_amount",
    "return_amount",
    "net_amount",
    "cost_amount",
    "is_return",
    *ORDER_ATTRIBUTES,
    "batch_id",
)
