"""The canonical order-line columns (etl/ingest/columns.py) agree with the migrated warehouse, the
canonical segwise layout and the demo's order-line file."""

from __future__ import annotations

from etl.ingest import columns
from etl.ingest.mapping import LINES, ORDER_LINE_FIELDS, load_layout
from tests.ingest.conftest import query

# information_schema.columns.data_type of each SQL type columns.py uses
_DATA_TYPES = {
    "text": "text",
    "integer": "integer",
    "bigint": "bigint",
    "numeric": "numeric",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp without time zone",
}


def _table_columns(url: str, table: str) -> list[tuple[str, str, bool]]:
    return [
        (name, data_type, nullable == "NO")
        for name, data_type, nullable in query(
            url,
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'warehouse' AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
    ]


def test_migrations_create_the_canonical_order_line(warehouse_url):
    """The migrations' literal DDL and columns.ORDER_LINE describe the same table: names,
    types and NOT NULLs (the migrations may order the columns differently)."""
    migrated = sorted(_table_columns(warehouse_url, "fact_order_line"))
    canonical = sorted((c.name, _DATA_TYPES[c.sql_type], c.not_null) for c in columns.ORDER_LINE)
    assert migrated == canonical


def test_migrations_create_the_canonical_order_fact(warehouse_url):
    """order_totals.sql computes the order fact's columns in columns.ORDER_FACT's order."""
    migrated = [name for name, _, _ in _table_columns(warehouse_url, "fact_order")]
    assert migrated == list(columns.ORDER_FACT)
    assert set(columns.ORDER_ATTRIBUTES) <= set(migrated)


def test_mapped_fields_are_the_mapped_columns():
    assert list(ORDER_LINE_FIELDS) == [c.name for c in columns.ORDER_LINE if c.mapped]
    assert {c.role for c in columns.ORDER_LINE} <= {
        *columns.MAPPED_ROLES,
        columns.DERIVED,
        columns.LINEAGE,
    }
    assert set(columns.KEY) <= set(ORDER_LINE_FIELDS)
    # every column the warehouse write does not take from the staged lines is one it computes
    assert [c.name for c in columns.ORDER_LINE if not c.staged] == ["order_date", "batch_id"]


def test_segwise_layout_reads_the_canonical_file():
    """The canonical layout reads the file the demo writes (etl.demo.writer.ORDER_LINE_COLUMNS)
    column for column, and maps every canonical field it reads."""
    layout = load_layout("segwise")
    source = layout.sources[layout.targets[LINES].source]
    assert tuple(source.columns) == columns.FILE_COLUMNS
    mapped = layout.targets[LINES].columns
    assert [n for n in columns.FILE_COLUMNS if n in ORDER_LINE_FIELDS] == [
        n for n in ORDER_LINE_FIELDS if n in mapped and n in columns.FILE_COLUMNS
    ]


def test_demo_writes_the_canonical_file():
    from etl.demo.writer import ORDER_LINE_COLUMNS

    assert ORDER_LINE_COLUMNS == columns.FILE_COLUMNS
