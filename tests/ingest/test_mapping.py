"""Mapping files: the expression language, validation that names the bad key, and a shop's own
export (several files joined by keys, its own column names, date format, delimiter, encoding,
decimal commas, computed discount and cost, returns from a status column)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import psycopg
import pytest
from psycopg import sql

from etl import ingest
from etl.errors import ConfigurationError
from etl.ingest import mapping as mappingmod
from etl.ingest.expr import ColumnRef, ExpressionError, compile_expression
from tests.ingest.conftest import query

D = Decimal


def _resolve(qualifier, name):
    if name not in ("Quantity", "Unit Price", "status", "code") or qualifier not in (None, "t"):
        raise ExpressionError(f"unknown column {name!r}")
    return ColumnRef("t", name)


def evaluate(url: str, text: str, row: dict):
    """Run a compiled expression against one row in Postgres."""
    expr = compile_expression(text, _resolve)
    cols = sql.SQL(", ").join(
        sql.SQL("{}::{} AS {}").format(sql.Literal(v), sql.SQL(t), sql.Identifier(k))
        for k, (v, t) in row.items()
    )
    with psycopg.connect(url) as conn:
        return conn.execute(
            sql.SQL("SELECT {} FROM (SELECT {}) AS t").format(expr, cols)
        ).fetchone()[0]


ROW = {
    "Quantity": ("3", "numeric"),
    "Unit Price": ("2.50", "numeric"),
    "status": ("RETOURE", "text"),
    "code": ("C123", "text"),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Quantity * "Unit Price"', D("7.50")),
        ('round(Quantity * "Unit Price" * (1 - 0.2), 2)', D("6.00")),
        ("Quantity / 0", None),  # division by zero rejects the row instead of failing the batch
        ("startswith(code, 'C') and Quantity > 0", True),
        ("status in ('RETOURE', 'RETURN')", True),
        ("'yes' if status == 'RETOURE' else 'no'", "yes"),
        ("coalesce(null, Quantity)", D("3")),
        ("concat(code, '-', Quantity)", "C123-3"),
        ("-Quantity + 1", D("-2")),
        ("replace(code, 'C', 'X')", "X123"),
    ],
)
def test_expressions(database_url, text, expected):
    assert evaluate(database_url, text, ROW) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "unknown function __import__()"),
        ("Quantity.real.imag", "only source.column"),
        ("[x for x in code]", "ListComp is not allowed"),
        ("code[0]", "Subscript is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("Quantity ** 2", "operator Pow is not supported"),
        ('"x\'); DROP TABLE warehouse.fact_order; --"', "unknown column"),
        ("round(Quantity, digits=2)", "takes no keyword arguments"),
        ("nullif(Quantity)", "nullif() takes 2 arguments, got 1"),
        ("1 +", "cannot parse"),
    ],
)
def test_unsafe_or_wrong_expressions_are_refused(text, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_expression(text, _resolve)


def test_a_column_name_is_always_a_quoted_identifier(database_url):
    expr = compile_expression('"Unit Price" * 2', _resolve)
    with psycopg.connect(database_url) as conn:
        assert expr.as_string(conn) == '(("t"."Unit Price") * (\'2\'::numeric))'


def test_mapping_errors_name_every_bad_key(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        """
name: Bad Name
colour: blue
sources:
  lines:
    columns:
      id: {type: money}
      ts: {type: timestamp, formats: ["%d/%q/%Y"]}
order_lines:
  source: lines
  join: [{source: nowhere, on: {id: id}}]
  columns:
    order_id: id
    order_ts: ts
    quantity: 1
    unit_price: price * 2
    colour: id
"""
    )
    with pytest.raises(ConfigurationError) as info:
        mappingmod.load_mapping_file(bad)
    msg = str(info.value)
    for expected in (
        "unknown top-level keys ['colour']",
        "name: lower-case letters",
        "sources.lines.columns.id.type: 'money' is not one of",
        "%q is not supported",
        "order_lines.join[0].source: 'nowhere' is not a source",
        "order_lines.columns.colour: not a canonical field",
    ):
        assert expected in msg


def test_mapping_with_an_unknown_column_in_an_expression(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "name: m\nsources: {lines: {columns: {id: {}, ts: {type: timestamp}}}}\n"
        "order_lines: {source: lines, columns: {order_id: id, order_ts: ts, quantity: 1,"
        " unit_price: prise}}\n"
    )
    with pytest.raises(
        ConfigurationError,
        match=r"order_lines.columns.unit_price: unknown "
        r"column 'prise'; available: id, ts",
    ):
        mappingmod.load_mapping_file(bad)


def test_layout_and_mapping_are_exclusive(database_url, data_dir):
    with pytest.raises(ConfigurationError, match="exactly one"):
        ingest.load_paths(database_url, [data_dir / "food_delivery"])
    with pytest.raises(ConfigurationError, match="unknown layout 'nope'"):
        ingest.load_paths(database_url, [data_dir / "food_delivery"], layout="nope")


def test_a_shops_own_export(fresh_warehouse_url, data_dir):
    url = fresh_warehouse_url
    folder = data_dir / "mapping_shop"
    r = ingest.load_paths(url, [folder], mapping=folder / "shop.yml")
    assert r.status == "succeeded"
    assert r.layout.startswith("mapping:example_shop@")
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (5 + 3 + 3, 4, 1)
    assert r.rule_counts["return:returned"] == 1
    rows = query(
        url,
        "SELECT order_id, line_no, customer_id, order_ts, quantity, unit_price, gross_amount, "
        "discount_amount, amount, cost_amount, is_return, channel "
        "FROM warehouse.fact_order_line ORDER BY order_id, line_no",
    )
    assert rows[0] == (
        "A-1",
        1,
        "K1",
        datetime(2024, 1, 5, 14, 30),
        D("2"),
        D("19.90"),
        D("39.80"),
        D("3.98"),
        D("35.82"),
        D("16.80"),
        False,
        "online",
    )
    # returned by its status: negative although the file says quantity 1
    assert rows[2][4:] == (
        D("-1"),
        D("19.90"),
        D("-19.90"),
        D("0.00"),
        D("-19.90"),
        D("-8.40"),
        True,
        "filiale",
    )
    # "1.234,50" with a decimal comma
    assert rows[3][5] == D("1234.50") and rows[3][8] == D("1172.77")
    ((line, column, raw),) = query(
        url, "SELECT line_number, column_name, raw_row->>'Preis' FROM staging.rejected_rows"
    )
    assert (line, column, raw) == (6, "Preis", "abc")
    assert query(
        url, "SELECT customer_id, gender, city, country FROM warehouse.dim_customer ORDER BY 1"
    ) == [
        ("K1", "female", "München", "Deutschland"),
        ("K2", "male", "Zürich", "Schweiz"),
        ("K3", None, "Wien", "Österreich"),
    ]
    assert query(url, "SELECT unit_cost FROM warehouse.dim_product WHERE product_id = 'X3'") == [
        (D("700.00"),)
    ]


def test_a_changed_mapping_is_a_different_layout_in_the_ledger(
    fresh_warehouse_url, data_dir, tmp_path
):
    folder = data_dir / "mapping_shop"
    first = ingest.load_paths(fresh_warehouse_url, [folder], mapping=folder / "shop.yml")
    same = ingest.load_paths(fresh_warehouse_url, [folder], mapping=folder / "shop.yml")
    assert same.status == "skipped"
    changed = tmp_path / "shop.yml"
    changed.write_text((folder / "shop.yml").read_text().replace("lower(Kanal)", "upper(Kanal)"))
    again = ingest.load_paths(fresh_warehouse_url, [folder], mapping=changed)
    assert again.layout != first.layout and again.status == "succeeded"
    # same lines, now different channel values: duplicates, updated in place
    assert (again.rows_loaded, again.rows_duplicate) == (0, 4)
    assert again.rule_counts["duplicate:updated"] == 4


@pytest.mark.parametrize(
    ("fmt", "value", "expected"),
    [
        ("%m/%d/%Y %H:%M", "12/1/2010 8:26", datetime(2010, 12, 1, 8, 26)),
        ("%m/%d/%Y %H:%M", "2/29/2011 8:26", None),  # not a leap year
        ("%m/%d/%Y %H:%M", "2/29/2012 8:26", datetime(2012, 2, 29, 8, 26)),
        ("%m/%d/%Y %H:%M", "0/1/2010 8:26", None),
        ("%m/%d/%Y %H:%M", "12/1/2010 24:00", None),
        ("%d.%m.%Y", "31.12.2024", datetime(2024, 12, 31)),
        ("%d %b %Y %I:%M %p", "05 Jan 2024 02:30 PM", datetime(2024, 1, 5, 14, 30)),
        ("%Y%m%d", "20240105", datetime(2024, 1, 5)),
        ("%Y-%m-%d %H:%M:%S.%f", "2024-01-05 10:00:00.25", datetime(2024, 1, 5, 10, 0, 0, 250000)),
        ("iso", "2024-01-05T10:00:00+02:00", datetime(2024, 1, 5, 8, 0)),
        ("iso", "2024-01-05 10:00:00 UTC", datetime(2024, 1, 5, 10, 0)),
        ("iso", "2024-01-05", datetime(2024, 1, 5)),
        ("iso", "2024-02-30", None),
        ("iso", "2024-01-05 25:00", None),
    ],
)
def test_date_formats(database_url, fmt, value, expected):
    from etl.ingest import coerce

    expr = coerce.typed_value(sql.SQL("d.v"), "timestamp", [coerce.compile_format(fmt)])
    with psycopg.connect(database_url) as conn:
        conn.execute("SET TimeZone = 'UTC'")  # as the build does
        got = conn.execute(
            sql.SQL("SELECT {} FROM (SELECT %s::text AS v) AS d").format(expr), (value,)
        ).fetchone()[0]
    assert got == expected


def test_headerless_tab_separated_files_with_line_breaks_in_values(fresh_warehouse_url, tmp_path):
    data = tmp_path / "export.tsv"
    data.write_text(
        'O1\t1\t2024-03-01 10:00:00\t2\t4.50\t"two\nlines"\n'
        "O1\t2\t2024-03-01 10:00:00\t1\t3.00\tplain\n"
        "O2\t1\t2024-03-02 11:00:00\t1\t-1\tbad price\n"
    )
    mapping = tmp_path / "tsv.yml"
    mapping.write_text(
        """
name: headerless
format: {delimiter: "\\t", header: false, newlines_in_values: true}
sources:
  lines:
    columns:
      column_1: {required: true}
      column_2: {type: integer}
      column_3: {type: timestamp, formats: ["%Y-%m-%d %H:%M:%S"]}
      column_4: {type: number}
      column_5: {type: number}
      column_6: {}
order_lines:
  source: lines
  columns: {order_id: column_1, line_no: column_2, order_ts: column_3, quantity: column_4,
            unit_price: column_5, channel: column_6}
"""
    )
    r = ingest.load_paths(fresh_warehouse_url, [data], mapping=mapping)
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (3, 2, 1)
    assert query(
        fresh_warehouse_url,
        "SELECT order_id, line_no, amount, channel FROM warehouse.fact_order_line ORDER BY 1, 2",
    ) == [("O1", 1, D("9.00"), "two\nlines"), ("O1", 2, D("3.00"), "plain")]
    # without a header the first record is line 1; a quoted line break makes one record
    assert query(fresh_warehouse_url, "SELECT line_number FROM staging.rejected_rows") == [(3,)]
