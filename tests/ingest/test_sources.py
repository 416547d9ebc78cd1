"""Sources and entry points besides load_paths: the stage/build split the DAG uses, the inbox
folder, a source database with a watermark, and the `segwise load` / `segwise layouts` CLI."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from etl import ingest
from etl.cli import main
from etl.errors import SegwiseError
from tests.conftest import create_database, drop_database
from tests.ingest.conftest import batch_row, query, raw_tables, snapshot

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def test_stage_then_build(fresh_warehouse_url, data_dir):
    url = fresh_warehouse_url
    staged = ingest.stage_paths(url, [data_dir / "segwise"], layout="segwise")
    assert staged.status == "staged" and staged.rows_read == 14
    assert snapshot(url)["lines"][0] == 0  # nothing in the warehouse yet
    assert len(raw_tables(url)) == 4  # three sources + malformed rows
    again = ingest.stage_paths(url, [data_dir / "segwise"], layout="segwise")
    # staged, unbuilt content is that batch, to be finished, not a new one nor a skip
    assert (again.status, again.batch_id) == ("staged", staged.batch_id)
    built = ingest.build_warehouse(url)
    assert [(r.batch_id, r.status) for r in built] == [(staged.batch_id, "succeeded")]
    assert built[0].rows_loaded == 6 and raw_tables(url) == []
    assert ingest.build_warehouse(url) == []  # nothing left to build


def test_build_carries_on_after_a_failed_batch(fresh_warehouse_url, data_dir, tmp_path):
    url = fresh_warehouse_url
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "B1,P,X,1,someday,1.0,1,France\n")
    first = ingest.stage_paths(url, [bad], layout="online_retail")
    second = ingest.stage_paths(url, [data_dir / "online_retail_small.csv"], layout="online_retail")
    results = ingest.build_warehouse(url, [first.batch_id, second.batch_id])
    assert [r.status for r in results] == ["failed", "succeeded"]
    assert "1 of 1 order lines rejected" in results[0].message
    assert snapshot(url)["lines"][0] == 9
    assert raw_tables(url) == []


def test_inbox_loads_each_unit_once(fresh_warehouse_url, data_dir, tmp_path):
    url = fresh_warehouse_url
    inbox = tmp_path / "inbox"
    (inbox / "2024-02-02").mkdir(parents=True)
    for f in (data_dir / "segwise_day").iterdir():
        shutil.copy(f, inbox / "2024-02-02" / f.name)
    for name in ("customers.csv", "products.csv"):
        shutil.copy(data_dir / "segwise" / name, inbox / name)
    (inbox / "notes.md").write_text("not data")
    (inbox / ".products.csv.part").write_text("a file still being written")

    first = ingest.load_inbox(url, inbox, layout="segwise")
    assert [r.status for r in first] == ["succeeded"] * 3
    # dimension files first, then the folder with order lines
    assert [batch_row(url, r.batch_id)["source_uri"].split("/")[-1] for r in first] == [
        "customers.csv",
        "products.csv",
        "order_lines_2024-02-02.csv",
    ]
    assert ingest.load_inbox(url, inbox, layout="segwise") == []  # nothing new

    shutil.copy(inbox / "products.csv", inbox / "products_copy.csv")
    (inbox / "order_lines_broken.csv").write_text("order_id,line_no\nX,1\n")
    third = ingest.load_inbox(url, inbox, layout="segwise")
    assert sorted(r.status for r in third) == ["failed", "skipped"]
    failed = next(r for r in third if r.status == "failed")
    assert "order_lines_broken.csv: wrong header" in failed.message
    with pytest.raises(SegwiseError, match="no such folder"):
        ingest.load_inbox(url, tmp_path / "missing", layout="segwise")


@pytest.fixture
def source_db():
    url = create_database("segwise_source")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE TABLE sales (
                id serial PRIMARY KEY, "InvoiceNo" text, "StockCode" text, "Description" text,
                "Quantity" integer, "InvoiceDate" timestamp, "UnitPrice" numeric(10, 2),
                "CustomerID" integer, "Country" text)
            """
        )
    yield url
    drop_database(url)


def _insert(url: str, rows: list[tuple]) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            'INSERT INTO sales ("InvoiceNo", "StockCode", "Description", "Quantity", '
            '"InvoiceDate", "UnitPrice", "CustomerID", "Country") '
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )


def test_source_database_incremental_by_watermark(fresh_warehouse_url, source_db):
    url = fresh_warehouse_url
    _insert(
        source_db,
        [
            ("900001", "A", "Mug", 2, "2011-01-05 10:00", 3.50, 12001, "France"),
            ("900001", "B", "Plate", 1, "2011-01-05 10:00", 7.25, 12001, "France"),
            ("C900002", "A", "Mug", -1, "2011-01-06 11:00", 3.50, 12001, "France"),
            ("900003", "C", "Free gift", 1, "2011-01-07 12:00", 0, None, "France"),
        ],
    )
    # the password is never stored: the ledger keeps a redacted URL
    src = source_db.replace("postgres@", "postgres:s3cret@")
    query_text = (
        'SELECT id, "InvoiceNo", "StockCode", "Description", "Quantity", '
        '"InvoiceDate", "UnitPrice", "CustomerID", "Country" FROM sales'
    )
    first = ingest.load_query(url, src, query_text, watermark_column="id", layout="online_retail")
    assert first.status == "succeeded"
    assert (first.rows_read, first.rows_loaded, first.rows_rejected) == (4, 3, 1)
    row = batch_row(url, first.batch_id)
    assert row["source_kind"] == "database" and row["watermark_to"] == "int:4"
    assert "s3cret" not in row["source_uri"] and "***" in row["source_uri"]
    assert query(
        url,
        "SELECT order_id, line_no, customer_id, amount, is_return FROM "
        "warehouse.fact_order_line ORDER BY 1, 2",
    ) == [
        ("900001", 1, "12001", 7, False),
        ("900001", 2, "12001", 7.25, False),
        ("C900002", 1, "12001", -3.5, True),
    ]

    nothing = ingest.load_query(url, src, query_text, watermark_column="id", layout="online_retail")
    assert nothing.status == "skipped" and "no rows newer than watermark int:4" in nothing.message

    _insert(source_db, [("900004", "D", "Bowl", 3, "2011-01-08 09:30", 4.00, 12002, "Spain")])
    second = ingest.load_query(url, src, query_text, watermark_column="id", layout="online_retail")
    assert (second.status, second.rows_read, second.rows_loaded) == ("succeeded", 1, 1)
    assert batch_row(url, second.batch_id)["watermark_from"] == "int:4"
    assert query(url, "SELECT count(*) FROM warehouse.fact_order_line") == [(4,)]


def test_source_database_errors_are_clear(fresh_warehouse_url, source_db):
    with pytest.raises(SegwiseError, match="watermark column 'nope' is not among"):
        ingest.load_query(
            fresh_warehouse_url,
            source_db,
            "SELECT * FROM sales",
            watermark_column="nope",
            layout="online_retail",
        )
    with pytest.raises(SegwiseError, match="needs files for|also needs files"):
        ingest.load_query(
            fresh_warehouse_url,
            source_db,
            "SELECT * FROM sales",
            watermark_column="id",
            layout="instacart",
        )
    with pytest.raises(SegwiseError, match="source database"):
        ingest.load_query(
            fresh_warehouse_url,
            source_db,
            "SELECT * FROM missing_table",
            watermark_column="id",
            layout="online_retail",
        )


def test_cli_load_shows_progress_and_a_summary(fresh_warehouse_url, data_dir, capsys):
    path = str(data_dir / "online_retail_small.csv")
    args = ["load", path, "--layout", "online_retail", "--database-url", fresh_warehouse_url]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "succeeded" in out and "lines loaded" in out and "rejected:non_positive_price" in out
    assert "rows/s" in err
    assert main(args) == 0
    assert "identical content already loaded" in capsys.readouterr().out


def test_cli_errors_exit_2_with_the_file_named(fresh_warehouse_url, tmp_path, capsys):
    missing = tmp_path / "missing.csv"
    assert (
        main(
            [
                "load",
                str(missing),
                "--layout",
                "online_retail",
                "--database-url",
                fresh_warehouse_url,
            ]
        )
        == 2
    )
    assert f"{missing}: no such file or directory" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # --layout or --mapping is required
        main(["load", str(missing), "--database-url", fresh_warehouse_url])


def test_cli_stage_only(fresh_warehouse_url, data_dir, capsys):
    assert (
        main(
            [
                "load",
                str(data_dir / "food_delivery"),
                "--layout",
                "food_delivery",
                "--stage-only",
                "-q",
                "--database-url",
                fresh_warehouse_url,
            ]
        )
        == 0
    )
    assert "staged" in capsys.readouterr().out
    assert [r.status for r in ingest.build_warehouse(fresh_warehouse_url)] == ["succeeded"]


def test_cli_layouts(capsys):
    assert main(["layouts"]) == 0
    out = capsys.readouterr().out
    for name in ("segwise", "online_retail", "food_delivery", "instacart", "atliq"):
        assert f"\n{name} " in f"\n{out}"
    assert main(["layouts", "instacart"]) == 0
    assert "anchor_date" in capsys.readouterr().out
    assert main(["layouts", "nope"]) == 2


def test_environment_database_url(fresh_warehouse_url, data_dir, monkeypatch, capsys):
    monkeypatch.setenv("SEGWISE_DATABASE_URL", fresh_warehouse_url)
    assert main(["load", str(data_dir / "atliq"), "--layout", "atliq", "-q"]) == 0
    assert "succeeded" in capsys.readouterr().out
    assert query(fresh_warehouse_url, "SELECT count(*) FROM warehouse.fact_order_line") == [(3,)]


def test_staged_rows_lost_in_a_crash_fail_the_build(fresh_warehouse_url, data_dir):
    url = fresh_warehouse_url
    staged = ingest.stage_paths(url, [data_dir / "online_retail_small.csv"], layout="online_retail")
    # UNLOGGED raw tables come back empty after a server crash
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE staging.raw_{staged.batch_id}_lines")
    (result,) = ingest.build_warehouse(url)
    assert result.status == "failed"
    assert "staged lines rows are incomplete (0 of 10" in result.message
    assert snapshot(url)["lines"][0] == 0


def test_the_same_content_staged_concurrently_is_skipped(
    fresh_warehouse_url, data_dir, monkeypatch
):
    from etl.ingest import ledger

    url = fresh_warehouse_url
    first = ingest.stage_paths(url, [data_dir / "atliq"], layout="atliq")
    # the second load does not see the first one in time: the ledger's unique index does
    monkeypatch.setattr(ledger, "already_loaded", lambda *a: None)
    second = ingest.stage_paths(url, [data_dir / "atliq"], layout="atliq")
    assert (first.status, second.status) == ("staged", "skipped")
    assert "staged concurrently" in second.message
    assert len(raw_tables(url)) == 7  # the first batch's six sources + malformed rows


def test_unmigrated_or_unreachable_warehouse(empty_database_url, data_dir, capsys):
    path = str(data_dir / "online_retail_small.csv")
    assert (
        main(["load", path, "--layout", "online_retail", "--database-url", empty_database_url]) == 2
    )
    assert "run `segwise db upgrade` first" in capsys.readouterr().err
    nowhere = "postgresql://postgres:secret@127.0.0.1:1/segwise"
    assert main(["load", path, "--layout", "online_retail", "--database-url", nowhere]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to the warehouse" in err and "secret" not in err
