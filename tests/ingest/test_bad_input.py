"""Bad input gives a clear error naming the file (and line/column where there is one) or a clean
rejection count, and a failed batch leaves the warehouse exactly as it was."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import psycopg
import pytest

from etl import ingest
from etl.errors import SegwiseError
from etl.ingest import LoadError
from tests.ingest.conftest import batch_row, query, raw_tables, snapshot

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def lines(prefix: str, n: int, *, date: str = "12/5/2010 10:00", price: str = "2.50") -> str:
    return "".join(
        f"{prefix}{i},P{i},ITEM {i},{i + 1},{date},{price},1{i:04d},France\n" for i in range(n)
    )


def write(path: Path, text: str, encoding: str = "latin-1") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="module")
def url(warehouse_url, data_dir):
    """A warehouse that already holds a good batch, so 'unchanged' means something."""
    r = ingest.load_paths(
        warehouse_url, [data_dir / "online_retail_small.csv"], layout="online_retail"
    )
    assert r.status == "succeeded" and r.rows_loaded == 9
    return warehouse_url


def failed_batch(url: str, call) -> tuple[LoadError, dict]:
    before = snapshot(url)
    with pytest.raises(LoadError) as info:
        call()
    assert snapshot(url) == before, "a failed batch changed the warehouse"
    assert raw_tables(url) == []
    result = info.value.result
    assert result is not None and result.status == "failed"
    row = batch_row(url, result.batch_id)
    assert row["status"] == "failed" and row["message"]
    assert query(
        url, "SELECT count(*) FROM staging.rejected_rows WHERE batch_id = %s", (result.batch_id,)
    ) == [(0,)]
    return info.value, row


def test_path_that_does_not_exist(url, tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(SegwiseError, match=r"nope\.csv: no such file or directory"):
        ingest.load_paths(url, [missing], layout="online_retail")


def test_zero_byte_file(url, tmp_path):
    empty = write(tmp_path / "empty.csv", "")
    before = snapshot(url)
    with pytest.raises(SegwiseError, match=r"empty\.csv: the file is empty \(0 bytes\)"):
        ingest.load_paths(url, [empty], layout="online_retail")
    assert snapshot(url) == before


def test_header_only_file(url, tmp_path):
    f = write(tmp_path / "header_only.csv", HEADER)
    exc, _ = failed_batch(url, lambda: ingest.load_paths(url, [f], layout="online_retail"))
    assert "header_only.csv: the file has a header but no data rows" in str(exc)


def test_wrong_headers_name_missing_and_found(url, tmp_path):
    f = write(tmp_path / "wrong.csv", "Invoice,Item,Qty,When,Price\nA1,X,1,12/1/2010 8:00,1.0\n")
    with pytest.raises(SegwiseError) as info:
        ingest.load_paths(url, [f], layout="online_retail")
    msg = str(info.value)
    assert "wrong.csv: wrong header" in msg
    assert "StockCode" in msg and "Quantity" in msg and "InvoiceDate" in msg
    assert "found Invoice, Item, Qty, When, Price" in msg


def test_non_utf8_bytes_under_a_utf8_layout(url, tmp_path):
    mapping = write(
        tmp_path / "utf8.yml",
        "extends: online_retail\nname: retail_utf8\nformat: {encoding: utf-8}\n",
        "utf-8",
    )
    text = HEADER + lines("U", 3) + "U9,P9,CAF\u00c9 NOIR,1,12/5/2010 10:00,2.5,10009,France\n"
    f = write(tmp_path / "latin1.csv", text, "latin-1")
    exc, _ = failed_batch(url, lambda: ingest.load_paths(url, [f], mapping=mapping))
    msg = str(exc)
    assert "latin1.csv: not valid utf-8 text at line 5" in msg
    assert "field 3" in msg and "byte offset" in msg and "encoding" in msg


def test_truncated_csv_rejects_the_cut_row_with_its_line(url, tmp_path):
    text = HEADER + lines("T", 5)
    f = write(tmp_path / "cut.csv", text[: text.rindex(",France")][:-12])
    r = ingest.load_paths(url, [f], layout="online_retail")
    assert r.status == "succeeded"
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (5, 4, 1)
    assert r.rule_counts["rejected:malformed_row"] == 1
    ((line, reason, raw, path),) = query(
        url,
        "SELECT line_number, reason, raw_row, file_path FROM staging.rejected_rows "
        "WHERE batch_id = %s",
        (r.batch_id,),
    )
    assert line == 6 and "truncated row" in reason and path.endswith("cut.csv")
    assert raw["text"].startswith("T4,P4")


def test_truncated_gzip_is_an_error(url, tmp_path):
    whole = tmp_path / "whole.csv.gz"
    with gzip.open(whole, "wt", encoding="latin-1") as out:
        out.write(HEADER + lines("G", 20_000))
    data = whole.read_bytes()
    cut = write(tmp_path / "cut.csv.gz", "")
    cut.write_bytes(data[: len(data) // 2])
    exc, _ = failed_batch(url, lambda: ingest.load_paths(url, [cut], layout="online_retail"))
    assert "cut.csv.gz: the compressed file is truncated or corrupt" in str(exc)


def test_unparseable_dates_are_rejected_with_line_and_reason(url, tmp_path):
    text = (
        HEADER + lines("D", 4) + "D8,P8,X,1,31/12/2010 25:61,1.0,10008,France\n"
        "D9,P9,X,1,not a date,1.0,10009,France\n"
        "D10,P10,X,1,2/30/2011 10:00,1.0,10010,France\n"
    )
    f = write(tmp_path / "dates.csv", text)
    r = ingest.load_paths(url, [f], layout="online_retail")
    assert r.status == "succeeded"
    assert (r.rows_loaded, r.rows_rejected) == (4, 3)
    assert r.rule_counts["rejected:invalid_timestamp"] == 3
    rows = query(
        url,
        "SELECT line_number, column_name, reason, raw_row->>'InvoiceDate' "
        "FROM staging.rejected_rows WHERE batch_id = %s ORDER BY 1",
        (r.batch_id,),
    )
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (6, "InvoiceDate", "31/12/2010 25:61"),
        (7, "InvoiceDate", "not a date"),
        (8, "InvoiceDate", "2/30/2011 10:00"),
    ]
    assert "not a date/time in format %m/%d/%Y %H:%M" in rows[0][2]


def test_negative_and_zero_prices_are_rejected(url, tmp_path):
    text = HEADER + lines("N", 3) + lines("M", 1, price="-1.5") + lines("Z", 1, price="0")
    f = write(tmp_path / "prices.csv", text)
    r = ingest.load_paths(url, [f], layout="online_retail")
    assert (r.rows_loaded, r.rows_rejected) == (3, 2)
    assert r.rule_counts["rejected:non_positive_price"] == 2
    assert query(
        url, "SELECT DISTINCT reason FROM staging.rejected_rows WHERE batch_id = %s", (r.batch_id,)
    ) == [("unit_price: zero or negative price",)]


def test_unparseable_numbers_are_rejected(url, tmp_path):
    text = (
        HEADER + lines("Q", 3) + "Q7,P7,X,two,12/5/2010 10:00,1.0,10007,France\n"
        "Q8,P8,X,1,12/5/2010 10:00,1..2,10008,France\n"
    )
    f = write(tmp_path / "numbers.csv", text)
    r = ingest.load_paths(url, [f], layout="online_retail")
    assert (r.rows_loaded, r.rows_rejected) == (3, 2)
    assert r.rule_counts["rejected:invalid_integer"] == 1
    assert r.rule_counts["rejected:invalid_number"] == 1
    # staging saw the bad values, so only those two columns were typed the careful way and
    # the plain-cast typing did not have to be redone
    assert "typing:careful_path:order lines" not in r.rule_counts
    files = batch_row(url, r.batch_id)["files"]
    assert files[0]["careful"] == ["Quantity", "UnitPrice"]


def test_a_plain_cast_that_still_fails_takes_the_careful_path(url, tmp_path):
    """A batch staged without the per-column prediction (an older version, or a value Arrow
    parses and Postgres does not): the typing is redone the careful way, same result."""
    text = (
        HEADER + lines("K", 3) + "K7,P7,X,two,12/5/2010 10:00,1.0,10007,France\n"
        "K8,P8,X,1,12/5/2010 10:00,1..2,10008,France\n"
    )
    f = write(tmp_path / "numbers_old.csv", text)
    staged = ingest.stage_paths(url, [f], layout="online_retail")
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE staging.load_batches SET files = (SELECT jsonb_agg(f - 'careful') "
            "FROM jsonb_array_elements(files) AS f) WHERE batch_id = %s",
            (staged.batch_id,),
        )
    (r,) = ingest.build_warehouse(url, [staged.batch_id])
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("succeeded", 3, 2)
    assert r.rule_counts["typing:careful_path:order lines"] == 1
    assert r.rule_counts["rejected:invalid_integer"] == 1
    assert r.rule_counts["rejected:invalid_number"] == 1


def test_a_batch_of_mostly_garbage_fails_whole(url, tmp_path):
    text = HEADER + lines("B", 2) + lines("C", 5, date="yesterday")
    f = write(tmp_path / "garbage.csv", text)
    exc, row = failed_batch(url, lambda: ingest.load_paths(url, [f], layout="online_retail"))
    assert "5 of 7 order lines rejected" in str(exc)
    assert "garbage.csv line 4" in str(exc)


def test_a_folder_loads_its_data_files_only(url, tmp_path, data_dir):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(data_dir / "online_retail_small.csv", folder / "a.csv")
    (folder / "notes.md").write_text("ignored: not a data file")
    r = ingest.load_paths(url, [folder], layout="online_retail")
    assert r.status == "skipped"  # same content as the module's first batch


def test_a_bad_memory_setting_fails_before_anything_is_staged(url, data_dir, monkeypatch):
    monkeypatch.setenv("SEGWISE_BUILD_WORK_MEM", "lots")
    before = snapshot(url)
    batches = query(url, "SELECT count(*) FROM staging.load_batches")
    with pytest.raises(SegwiseError, match=r"SEGWISE_BUILD_WORK_MEM='lots': a Postgres memory"):
        ingest.load_paths(url, [data_dir / "online_retail_small.csv"], layout="online_retail")
    assert snapshot(url) == before
    assert query(url, "SELECT count(*) FROM staging.load_batches") == batches


def test_the_build_applies_the_configured_memory(url, tmp_path, monkeypatch):
    """The value reaches the build's transaction: one below Postgres's minimum (64kB) fails
    the batch, and the warehouse is unchanged."""
    path = write(tmp_path / "small_mem.csv", HEADER + lines("BADMEM", 3))
    monkeypatch.setenv("SEGWISE_BUILD_WORK_MEM", "1kB")
    err, row = failed_batch(url, lambda: ingest.load_paths(url, [path], layout="online_retail"))
    assert "work_mem" in row["message"]
    monkeypatch.setenv("SEGWISE_BUILD_WORK_MEM", "64MB")
    monkeypatch.setenv("SEGWISE_BUILD_MAINTENANCE_WORK_MEM", "64MB")
    path2 = write(tmp_path / "small_mem2.csv", HEADER + lines("WM", 3))
    r = ingest.load_paths(url, [path2], layout="online_retail")
    assert r.status == "succeeded" and r.rows_loaded == 3
