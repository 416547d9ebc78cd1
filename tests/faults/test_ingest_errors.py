"""Item 8 of the reliability work: every error shows the offending value with its file, line
and column; a mapping's problems are listed together."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl import ingest
from etl.errors import ConfigurationError
from etl.ingest import LoadError
from etl.ingest import mapping as mappingmod
from tests.faults.helpers import HEADER, retail_lines, start_segwise
from tests.ingest.conftest import raw_tables, snapshot


def line(order: str, *, desc: str = "WHITE HEART", qty: str = "6", when: str = "12/1/2010 8:26"):
    return f"{order},85123A,{desc},{qty},{when},2.55,17850,United Kingdom\n"


def test_a_rejected_value_is_quoted_with_file_line_and_column(warehouse_url, tmp_path):
    f = tmp_path / "dates.csv"
    f.write_text(HEADER + retail_lines(990000, 5) + line("990010", when="someday"))
    r = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert r.status == "succeeded" and r.rows_rejected == 1
    assert f"(first: {f} line 7, column InvoiceDate: 'someday')" in r.message
    assert "not a date/time in format" in r.message


def test_a_failed_batch_quotes_the_first_bad_value(warehouse_url, tmp_path):
    f = tmp_path / "alldates.csv"
    f.write_text(HEADER + line("990020", when="2010-13-45") + line("990021", when="soon"))
    before = snapshot(warehouse_url)
    with pytest.raises(LoadError) as info:
        ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert snapshot(warehouse_url) == before
    assert f"{f} line 2, column InvoiceDate: '2010-13-45'" in str(info.value)


def test_the_cli_summary_shows_the_first_rejected_value(warehouse_url, tmp_path):
    f = tmp_path / "cli.csv"
    f.write_text(HEADER + retail_lines(990100, 5) + line("990110", qty="lots"))
    proc = start_segwise(warehouse_url, "load", str(f), "--layout", "online_retail", "-q")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert f"Quantity: not an integer (first: {f} line 7, column Quantity: 'lots')" in out


def test_every_mapping_problem_is_listed(tmp_path):
    m = tmp_path / "bad.yml"
    m.write_text(
        "name: bad_one\nformat: {encoding: nope}\nsources:\n  lines:\n    columns:\n"
        "      a: {type: wrong}\n      b: {}\norder_lines:\n  source: lines\n  columns:\n"
        "    order_id: a\n    order_ts: zzz\n    quantity: b\n    unit_price: upper(\n"
    )
    with pytest.raises(ConfigurationError) as info:
        mappingmod.load_mapping_file(m)
    message = str(info.value)
    for part in ("format.encoding", "columns.a.type", "order_ts: unknown column 'zzz'", "upper("):
        assert part in message, message


def _mapping(tmp_path: Path, expression: str) -> Path:
    m = tmp_path / "expr.yml"
    m.write_text(
        f"extends: online_retail\nname: expr_map\norder_lines:\n  columns:\n"
        f"    unit_price: {expression}\n"
    )
    return m


def test_number_of_a_bad_value_rejects_the_line_naming_it(warehouse_url, tmp_path):
    f = tmp_path / "numbers.csv"
    f.write_text(
        HEADER + "".join(line(f"99020{i}", desc="2.50") for i in range(5)) + line("990210")
    )
    r = ingest.load_paths(warehouse_url, [f], mapping=_mapping(tmp_path, "number(Description)"))
    assert r.status == "succeeded" and (r.rows_loaded, r.rows_rejected) == (5, 1)
    assert f"(first: {f} line 7, column Description: 'WHITE HEART')" in r.message


def test_an_expression_failing_in_the_database_names_line_and_value(warehouse_url, tmp_path):
    f = tmp_path / "dated.csv"
    f.write_text(HEADER + line("990300", desc="2011-01-01") + line("990301", desc="HEART"))
    m = _mapping(tmp_path, "year(date(Description))")
    with pytest.raises(LoadError) as info:
        ingest.load_paths(warehouse_url, [f], mapping=m)
    assert f"first in {f} line 3, column Description: 'HEART'" in str(info.value)


def test_a_nul_byte_names_file_and_line(warehouse_url, tmp_path):
    f = tmp_path / "nul.csv"
    f.write_bytes((HEADER + retail_lines(990400, 3) + line("990410", desc="A\x00B")).encode())
    with pytest.raises(LoadError) as info:
        ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert f"{f}: line 5, column Description:" in str(info.value)
    assert "NUL byte" in str(info.value)
    assert raw_tables(warehouse_url) == []


def test_a_huge_field_names_the_line_and_the_setting(warehouse_url, tmp_path, monkeypatch):
    f = tmp_path / "huge.csv"
    f.write_text(HEADER + retail_lines(990500, 3) + line("990510", desc="Z" * 3_000_000))
    with pytest.raises(LoadError) as info:
        ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert "on line 5" in str(info.value) and "SEGWISE_CSV_BLOCK_SIZE" in str(info.value)
    monkeypatch.setenv("SEGWISE_CSV_BLOCK_SIZE", str(8 << 20))
    r = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert r.status == "succeeded" and r.rows_loaded == 4


def test_an_integer_out_of_range_says_so(warehouse_url, tmp_path):
    f = tmp_path / "range.csv"
    f.write_text(HEADER + retail_lines(990600, 5) + line("990610", qty="99999999999"))
    r = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert r.status == "succeeded" and r.rows_rejected == 1
    assert r.rule_counts.get("rejected:integer_out_of_range") == 1
    assert "outside the integer range" in r.message and "'99999999999'" in r.message
