"""Item 1 of the reliability work: a broken quote never makes rows vanish behind a successful
load, `rows read` is what an independent CSV parser counts, and a quarantined row is whole."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from etl import ingest
from etl.ingest import LoadError
from tests.ingest.conftest import query, raw_tables, snapshot

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
STRAY = '9899999,85123A,"UNTERMINATED,6,12/1/2010 8:26,2.55,17850,United Kingdom\n'


def good(first: int, n: int) -> str:
    return "".join(
        f"{first + i},85123A,WHITE HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
        for i in range(n)
    )


def fails_unchanged(url: str, path: Path, layout: str = "online_retail", **kw) -> str:
    before = snapshot(url)
    with pytest.raises(LoadError) as info:
        ingest.load_paths(url, [path], layout=layout, **kw)
    assert snapshot(url) == before, "a failed load changed the warehouse"
    assert raw_tables(url) == []
    assert info.value.result is not None and info.value.result.status == "failed"
    return str(info.value)


def test_stray_quote_fails_naming_the_line(warehouse_url, tmp_path):
    f = tmp_path / "stray.csv"
    f.write_text(HEADER + good(600000, 50_000) + STRAY + good(700000, 3_000))
    message = fails_unchanged(warehouse_url, f)
    assert 'stray.csv: line 50002: a quoted field opens with " and is not closed' in message
    assert "UNTERMINATED" in message


def test_stray_quote_early_in_a_big_file_names_the_line(warehouse_url, tmp_path):
    # over one reader block (1 MB) after the quote: Arrow's own error is "out of sync"
    f = tmp_path / "early.csv"
    f.write_text(HEADER + good(600000, 10) + STRAY + good(700000, 30_000))
    message = fails_unchanged(warehouse_url, f)
    assert "early.csv: line 12: a quoted field opens" in message
    assert "out of sync" not in message


def test_stray_quote_when_values_may_span_lines(warehouse_url, tmp_path):
    mapping = tmp_path / "multi.yml"
    mapping.write_text("extends: online_retail\nname: multi\nformat: {newlines_in_values: true}\n")
    f = tmp_path / "multi.csv"
    f.write_text(HEADER + good(600000, 10) + STRAY + good(700000, 30_000))
    message = fails_unchanged(warehouse_url, f, layout=None, mapping=mapping)
    assert "multi.csv: line 12: a quoted field opens" in message


def test_a_quote_closed_lines_later_is_refused(warehouse_url, tmp_path):
    # the quote opens in the last field and a later line closes it: the record has the right
    # number of fields, and would swallow the lines in between
    f = tmp_path / "late.csv"
    f.write_text(
        HEADER
        + good(600000, 5)
        + '9899998,85123A,X,6,12/1/2010 8:26,2.55,17850,"United Kingdom\n'
        + good(700000, 5)
        + '9899997,85123A,X,6,12/1/2010 8:26,2.55,17850,France"\n'
        + good(800000, 5)
    )
    message = fails_unchanged(warehouse_url, f)
    assert "late.csv: line 7: a quoted field opens" in message


def test_rows_read_is_what_the_csv_module_counts(warehouse_url, tmp_path):
    f = tmp_path / "tricky.csv"
    f.write_text(
        HEADER
        + good(810000, 20)
        + '810100,22633,"HAND WARMER, UNION JACK",6,12/1/2010 8:28,1.85,17850,United Kingdom\n'
        + '810101,22632,"SAY ""HELLO""",6,12/1/2010 8:28,1.85,17850,United Kingdom\n'
        + '810102,22634,12" PIZZA PLATE,6,12/1/2010 8:28,1.85,17850,United Kingdom\n'
        + "810103,22635,TOO,MANY,FIELDS,6,12/1/2010 8:28,1.85,17850,United Kingdom\n"
        + "810104,22636,TRUNCATED,6\n"
        + "\n"
        + good(820000, 20)
    )
    with f.open(newline="") as fh:
        records = [r for r in csv.reader(fh) if r][1:]  # blank lines are not records
    r = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert r.status == "succeeded"
    assert r.rows_read == len(records) == 45
    assert r.rows_loaded + r.rows_rejected + r.rows_duplicate == r.rows_read
    assert r.rows_loaded == 43


def test_a_quarantined_row_is_stored_whole(warehouse_url, tmp_path):
    long_row = "830001,22637," + "Y" * 5000 + ",EXTRA,6,12/1/2010 8:28,1.85,17850,France"
    f = tmp_path / "long.csv"
    f.write_text(HEADER + good(830100, 5) + long_row + "\n")
    r = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert r.status == "succeeded" and r.rows_rejected == 1
    [(text,)] = query(
        warehouse_url,
        "SELECT raw_row->>'text' FROM staging.rejected_rows WHERE batch_id = %s",
        (r.batch_id,),
    )
    assert text == long_row
