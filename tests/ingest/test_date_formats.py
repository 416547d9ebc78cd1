"""Each date/time column of a batch is read with one format: the first of the layout's formats
that reads every value of it (staging checks them, etl.ingest.date_formats). An Online Retail
II file (ISO dates) under online_retail, whose first format is the UCI one, is cast instead of
parsed value by value; a column that mixes formats still loads, value by value."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest
from psycopg import sql

from etl import ingest
from etl.ingest import coerce, lines_sql
from etl.ingest.batch import Batch
from etl.ingest.date_formats import DateFormatCheck, reads_all
from etl.ingest.mapping import LINES, from_document, load_layout
from tests.ingest.conftest import batch_row, query

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
WHEN = [datetime(2010, 12, 1, 8, 26), datetime(2011, 2, 28, 17, 5), datetime(2012, 2, 29, 9, 0)]


def uci(ts: datetime) -> str:
    return f"{ts.month}/{ts.day}/{ts.year} {ts.hour}:{ts.minute:02d}"


def iso(ts: datetime) -> str:
    return f"{ts:%Y-%m-%d %H:%M:%S}"


def retail(path: Path, first: int, dates: list[str]) -> Path:
    """One two-line invoice per date."""
    rows = [
        f"{first + i},P{k},ITEM {k},{k + 1},{when},2.50,1{i:04d},France\n"
        for i, when in enumerate(dates)
        for k in range(2)
    ]
    path.write_text(HEADER + "".join(rows), encoding="latin-1")
    return path


def typing_sql(url: str, batch_id: int) -> str:
    """The order lines' typing statement of a loaded batch, fast path, as the build renders it
    from what staging recorded in the ledger."""
    row = batch_row(url, batch_id)
    batch = Batch(batch_id, from_document(row["mapping"]), row["files"], row["layout"])
    source = batch.mapping.targets[LINES].source
    plan = lines_sql.order_lines(
        batch.mapping,
        batch_id,
        batch.codes,
        sql.Identifier("staging", "lines_x"),
        fast=True,
        positions=True,
        **batch.typing(source),
    )
    with psycopg.connect(url) as conn:
        return plan.statement.as_string(conn)


def facts(url: str, batch_id: int) -> list[tuple]:
    return query(
        url,
        "SELECT order_id, line_no, order_ts, amount FROM warehouse.fact_order_line "
        "WHERE batch_id = %s ORDER BY order_id, line_no",
        (batch_id,),
    )


def test_iso_dates_under_online_retail_are_cast(warehouse_url, tmp_path):
    """Online Retail II's ISO dates: staging keeps only 'iso' of the layout's three formats,
    the build casts the column (no per-value parse and join), no careful path, same values as
    the UCI spelling of the same lines."""
    f = retail(tmp_path / "online_retail_II.csv", 700000, [iso(t) for t in WHEN])
    r = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("succeeded", 6, 0)
    assert batch_row(warehouse_url, r.batch_id)["files"][0]["date_formats"] == {
        "InvoiceDate": ["iso"]
    }
    assert "typing:careful_path:order lines" not in r.rule_counts
    statement = typing_sql(warehouse_url, r.batch_id)
    assert '(r."InvoiceDate")::timestamp' in statement
    assert 'SELECT DISTINCT "InvoiceDate"' not in statement
    assert [row[2] for row in facts(warehouse_url, r.batch_id)[::2]] == WHEN

    g = retail(tmp_path / "online_retail.csv", 700100, [uci(t) for t in WHEN])
    u = ingest.load_paths(warehouse_url, [g], layout="online_retail")
    assert batch_row(warehouse_url, u.batch_id)["files"][0]["date_formats"] == {
        "InvoiceDate": ["%m/%d/%Y %H:%M"]
    }
    # the UCI format is no plain cast: parsed once per distinct value, with that format only
    statement = typing_sql(warehouse_url, u.batch_id)
    assert 'SELECT DISTINCT "InvoiceDate"' in statement
    assert "MM/DD/YYYY HH24:MI:SS" not in statement
    assert [(o[1:]) for o in facts(warehouse_url, u.batch_id)] == [
        (o[1:]) for o in facts(warehouse_url, r.batch_id)
    ]


def test_a_column_mixing_formats_is_parsed_value_by_value(warehouse_url, tmp_path):
    dates = [uci(WHEN[0]), iso(WHEN[1]), uci(WHEN[2]).replace(" 9:00", " 9:00:00")]
    f = retail(tmp_path / "mixed.csv", 700200, dates)
    r = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("succeeded", 6, 0)
    assert batch_row(warehouse_url, r.batch_id)["files"][0]["date_formats"] == {"InvoiceDate": []}
    assert 'SELECT DISTINCT "InvoiceDate"' in typing_sql(warehouse_url, r.batch_id)
    assert [row[2] for row in facts(warehouse_url, r.batch_id)[::2]] == WHEN


def test_files_of_one_batch_in_different_formats(warehouse_url, tmp_path):
    """The choice is per batch: a format every file's values have, else value by value."""
    folder = tmp_path / "two"
    folder.mkdir()
    retail(folder / "a.csv", 700300, [iso(WHEN[0])])
    retail(folder / "b.csv", 700310, [uci(WHEN[1])])
    r = ingest.load_paths(warehouse_url, [folder], layout="online_retail")
    assert (r.status, r.rows_loaded) == ("succeeded", 4)
    files = batch_row(warehouse_url, r.batch_id)["files"]
    assert [f["date_formats"]["InvoiceDate"] for f in files] == [["iso"], ["%m/%d/%Y %H:%M"]]
    assert 'SELECT DISTINCT "InvoiceDate"' in typing_sql(warehouse_url, r.batch_id)
    assert [row[2] for row in facts(warehouse_url, r.batch_id)[::2]] == WHEN[:2]


def test_a_bad_date_in_an_iso_column_is_rejected_as_before(warehouse_url, tmp_path):
    """30 February passes the ISO pattern but is no day: not 'iso' for the whole column, so
    the column is parsed value by value and that line rejected, quoted with file, line,
    column and value (and no careful retyping of the whole statement)."""
    f = retail(tmp_path / "bad.csv", 700400, [iso(WHEN[0]), "2011-02-30 10:00:00", iso(WHEN[1])])
    r = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("succeeded", 4, 2)
    assert batch_row(warehouse_url, r.batch_id)["files"][0]["date_formats"] == {"InvoiceDate": []}
    assert "typing:careful_path:order lines" not in r.rule_counts
    assert r.rule_counts["rejected:invalid_timestamp"] == 2
    assert f"(first: {f} line 4, column InvoiceDate: '2011-02-30 10:00:00')" in r.message
    assert "not a date/time in format %m/%d/%Y %H:%M or %m/%d/%Y %H:%M:%S or iso" in r.message


def test_each_date_column_gets_its_own_format(fresh_warehouse_url, tmp_path):
    """Two date columns of one source with the same formats, written differently: each is
    read with its own. A format listed first that does not read every value of a column is
    passed over for the whole column: 01/13/2023 is no day/month, so that column is
    month/day and 02/03/2023 in it is 3 February."""
    mapping = tmp_path / "two_dates.yml"
    mapping.write_text(
        """
name: two_dates
sources:
  lines:
    columns:
      order:    {required: true}
      customer: {}
      ordered:  {type: timestamp, formats: ["%d/%m/%Y", "%m/%d/%Y", "iso"], required: true}
      joined:   {type: date, formats: ["%d/%m/%Y", "%m/%d/%Y", "iso"]}
      qty:      {type: number}
      price:    {type: number}
order_lines:
  source: lines
  columns: {order_id: order, customer_id: customer, order_ts: ordered, quantity: qty,
            unit_price: price}
customers:
  source: lines
  columns: {customer_id: customer, signup_date: joined}
"""
    )
    data = tmp_path / "lines.csv"
    data.write_text(
        "order,customer,ordered,joined,qty,price\n"
        "A1,C1,2024-03-02T10:00:00,02/03/2023,1,5\n"
        "A2,C2,2024-03-05 11:30,01/13/2023,2,5\n"
        "A3,C3,2024-02-29,,1,5\n"
    )
    url = fresh_warehouse_url
    r = ingest.load_paths(url, [data], mapping=mapping)
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("succeeded", 3, 0)
    assert batch_row(url, r.batch_id)["files"][0]["date_formats"] == {
        "ordered": ["iso"],
        "joined": ["%m/%d/%Y"],
    }
    statement = typing_sql(url, r.batch_id)
    assert '(r."ordered")::timestamp' in statement
    assert 'SELECT DISTINCT "joined"' in statement
    assert query(url, "SELECT order_id, order_ts FROM warehouse.fact_order_line ORDER BY 1") == [
        ("A1", datetime(2024, 3, 2, 10, 0)),
        ("A2", datetime(2024, 3, 5, 11, 30)),
        ("A3", datetime(2024, 2, 29)),
    ]
    assert query(url, "SELECT customer_id, signup_date FROM warehouse.dim_customer ORDER BY 1") == [
        ("C1", date(2023, 2, 3)),
        ("C2", date(2023, 1, 13)),
        ("C3", None),
    ]
    assert query(url, "SELECT sum(amount) FROM warehouse.fact_order_line") == [(D("20"),)]


@pytest.mark.parametrize(
    ("fmt", "values", "reads"),
    [
        ("%m/%d/%Y %H:%M", ["12/1/2010 8:26", "2/29/2012 8:26", "1/31/2011 10:00"], True),
        ("%m/%d/%Y %H:%M", ["12/1/2010 8:26", "2/29/2011 8:26"], False),  # not a leap year
        ("%m/%d/%Y %H:%M", ["4/31/2012 8:26"], False),
        ("%m/%d/%Y %H:%M", ["12/1/2010 8:26:00"], False),  # to_timestamp would ignore the :00
        ("%m/%d/%Y %H:%M:%S", ["12/1/2010 8:26:00"], True),
        (
            "iso",
            ["2010-12-01 08:26:00", "2012-02-29", "2011-01-31T10:00", "2011-01-30 10:00:00.5"],
            True,
        ),
        ("iso", ["2010-12-01 08:26:00+02"], False),  # a zone: converted to UTC, not cast
        ("iso", ["2011-02-29 08:26:00"], False),
        ("%d %b %Y", ["29 Feb 2012", "31 DEC 2011"], True),
        ("%d %b %Y", ["30 feb 2012"], False),
        ("%d %B %Y", ["31 April 2011"], False),
        ("%d.%m.%y", ["29.02.00", "29.02.68"], True),  # 2000, 2068
        ("%d.%m.%y", ["29.02.70"], False),  # 1970
        ("%Y-%m-%d %H:%M:%S", ["2024-01-05 10:00:00", "2024-1-5 8:00:00"], True),
    ],
)
def test_which_values_a_format_reads(fmt, values, reads):
    assert reads_all(coerce.compile_format(fmt), pa.array(values)) is reads


def test_candidates_narrow_chunk_by_chunk():
    check = DateFormatCheck(load_layout("online_retail").sources["lines"])
    first = pa.record_batch({"InvoiceDate": pa.array(["2010-12-01 08:26:00", None])})
    check(first)
    assert check.result() == {"InvoiceDate": ["iso"]}
    check(pa.record_batch({"InvoiceDate": pa.array(["12/1/2010 8:26"])}))
    assert check.result() == {"InvoiceDate": []}
