"""A large batch's typing runs in a parallel worker beside the process that writes the typed rows
(etl.ingest.tuning.PARALLEL_TYPING; each layer of the statement kept apart by
staging.layer_fence(), date lookups made into tables first). Test files are far below the size
at which the planner starts a worker, so these tests make workers free (no setup or tuple cost,
no minimum table size) and check that the order lines' typing, as the build renders it, is
planned with a worker for cast (ISO) and parsed (UCI) dates alike, and that a batch typed that
way loads exactly what it loads in one process."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from etl import ingest, migrate
from etl.db import local_settings
from etl.ingest import lines_sql, tuning, validate
from etl.ingest.batch import Batch
from etl.ingest.mapping import LINES, from_document
from tests.conftest import create_database, drop_database
from tests.ingest.conftest import batch_row, query

FREE_WORKERS = {
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_table_scan_size": "0",
}
LINES_READ = 20_000
# lines no format or cast reads: rejected, with the careful date parser and number parse at work
BAD = [
    "C990001,85123A,BAD DATE,6,2/30/2011 8:26,2.55,17850,United Kingdom",
    "990002,85123A,BAD QUANTITY,six,12/1/2010 8:26,2.55,17850,United Kingdom",
    "990003,85123A,ZERO PRICE,6,12/1/2010 8:26,0,17850,United Kingdom",
]


def sample(online_retail_path: Path, path: Path, *, iso: bool) -> Path:
    """The real file's first lines (dates in its own spelling or ISO), then the bad ones."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    with gzip.open(online_retail_path, "rt", encoding="latin-1", newline="") as f:
        reader = csv.reader(f)
        writer.writerow(next(reader))
        for i, row in enumerate(reader):
            if i == LINES_READ:
                break
            if iso:
                row[4] = f"{datetime.strptime(row[4], '%m/%d/%Y %H:%M'):%Y-%m-%d %H:%M:%S}"
            writer.writerow(row)
    path.write_text(out.getvalue() + "\n".join(BAD) + "\n", encoding="latin-1")
    return path


@pytest.fixture
def two_warehouses():
    """A migrated warehouse typed in one process, and one where workers cost nothing."""
    serial, parallel = create_database("segwise_serial"), create_database("segwise_parallel")
    for url in (serial, parallel):
        migrate.upgrade(url)
    with psycopg.connect(parallel, autocommit=True) as conn:
        dbname = conn.info.dbname
        for name, value in FREE_WORKERS.items():
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    sql.Identifier(dbname), sql.Identifier(name), sql.Literal(value)
                )
            )
    yield serial, parallel
    drop_database(serial)
    drop_database(parallel)


def typing_plan(url: str, batch_id: int, *, lookups_first: bool) -> str:
    """EXPLAIN of a staged batch's order-lines typing (fast path) as the build renders it, with
    the date lookups made into tables first or computed inside the statement."""
    row = batch_row(url, batch_id)
    batch = Batch(batch_id, from_document(row["mapping"]), row["files"], row["layout"])
    source = batch.mapping.targets[LINES].source
    with psycopg.connect(url) as conn, validate.date_lookups(conn, batch, source) as tables:
        plan = lines_sql.order_lines(
            batch.mapping,
            batch_id,
            batch.codes,
            sql.Identifier("staging", "lines_plan"),
            fast=True,
            positions=True,
            date_tables=tables if lookups_first else None,
            **batch.typing(source),
        )
        with local_settings(conn, FREE_WORKERS), tuning.parallel_typing(conn):
            rows = conn.execute(sql.SQL("EXPLAIN {}").format(plan.statement)).fetchall()
    return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize("iso", [False, True], ids=["uci_dates", "iso_dates"])
def test_the_typing_is_planned_with_a_worker(
    fresh_warehouse_url, online_retail_path, tmp_path, iso
):
    f = sample(online_retail_path, tmp_path / "lines.csv", iso=iso)
    staged = ingest.stage_paths(fresh_warehouse_url, [f], layout="online_retail")
    assert staged.status == "staged"
    plan = typing_plan(fresh_warehouse_url, staged.batch_id, lookups_first=True)
    # the whole typing below the Gather (a fence such as OFFSET 0 would leave only the scan)
    assert plan.splitlines()[0].startswith("Gather") and "Workers Planned: 1" in plan, plan
    # the dates parsed once per distinct value: inside the statement, the parser (which catches
    # errors, as no worker may) would keep all of the typing in one process
    inline = typing_plan(fresh_warehouse_url, staged.batch_id, lookups_first=False)
    assert "Gather" not in inline, inline


def load_outcome(url: str, path: Path) -> dict[str, object]:
    result = ingest.load_paths(url, [path], layout="online_retail")
    assert result.status == "succeeded", result.message
    return {
        "counts": (
            result.rows_loaded,
            result.rows_rejected,
            {k: n for k, n in result.rule_counts.items() if not k.endswith("_seconds")},
        ),
        "facts": query(
            url,
            "SELECT order_id, line_no, customer_id, order_ts, product_id, quantity, unit_price, "
            "amount, is_return, is_sale, country FROM warehouse.fact_order_line "
            "ORDER BY order_id, line_no",
        ),
        "rejected": query(
            url,
            "SELECT line_number, column_name, reason, raw_row FROM staging.rejected_rows "
            "ORDER BY line_number",
        ),
        "orders": query(url, "SELECT * FROM warehouse.fact_order ORDER BY order_id"),
    }


@pytest.mark.parametrize("iso", [False, True], ids=["uci_dates", "iso_dates"])
def test_a_batch_typed_by_a_worker_loads_what_one_process_loads(
    two_warehouses, online_retail_path, tmp_path, iso
):
    serial, parallel = two_warehouses
    f = sample(online_retail_path, tmp_path / "lines.csv", iso=iso)
    one, many = load_outcome(serial, f), load_outcome(parallel, f)
    assert many["counts"] == one["counts"]
    assert len(one["facts"]) == LINES_READ + len(BAD) - one["counts"][1]
    assert [r[1] for r in one["rejected"] if r[0] > LINES_READ + 1] == [
        "InvoiceDate",
        "Quantity",
        "UnitPrice",
    ]
    for part in ("facts", "rejected", "orders"):
        assert many[part] == one[part], part
