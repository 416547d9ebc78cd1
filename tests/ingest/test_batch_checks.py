"""Build-time data-quality checks (etl.ingest.batch_checks) on real Postgres: a built batch
records the checks it passed; a batch whose facts would disagree fails at build, rolled back,
with the failed check in the ledger. The faults are made the way a build can really meet them:
a trigger on a warehouse table that changes or drops what the build writes."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from etl import ingest, migrate
from etl.ingest import LoadError, batch_checks
from etl.paths import read_sql
from etl.segment import pipeline
from tests.conftest import create_database, drop_database
from tests.ingest.conftest import batch_row, query, raw_tables, snapshot
from tests.segment.warehouse_data import SEGWISE_FILES, insert_orders, small_warehouse

BUILD_CHECKS = {"ledger_vs_facts", "lines_vs_orders"}


@pytest.fixture
def url() -> Iterator[str]:
    url = create_database("segwise_batch_checks")
    try:
        migrate.upgrade(url)
        yield url
    finally:
        drop_database(url)


def _load(url: str, lines: list[tuple]) -> ingest.LoadResult:
    """The lines (order_id, line_no, customer_id, ts, product_id, quantity, unit_price) as one
    segwise-layout batch, through the real loader; raises LoadError when the build fails."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "order_lines.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(SEGWISE_FILES["order_lines"])
            for order_id, line_no, cust, ts, product, qty, price in lines:
                out.writerow([order_id, line_no, cust, ts, product, qty, price, "false", "web", ""])
        return ingest.load_paths(url, [Path(tmp)], layout="segwise")


def _failed(url: str, lines: list[tuple]) -> dict[str, object]:
    """Load lines whose build must fail: nothing of it in the warehouse; its ledger row."""
    before = snapshot(url)
    with pytest.raises(LoadError) as info:
        _load(url, lines)
    assert snapshot(url) == before, "a batch that failed its checks changed the warehouse"
    assert raw_tables(url) == []
    row = batch_row(url, info.value.result.batch_id)
    assert row["status"] == "failed" and row["quality"] is None
    assert "\n" not in row["message"]
    return row


def _triggered(url: str, table: str, body: str) -> None:
    """A BEFORE ROW trigger on ``table`` running ``body`` (plpgsql) for every written row."""
    with psycopg.connect(url) as conn:
        conn.execute(
            f"CREATE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS $f$ "  # noqa: S608
            f"BEGIN {body} END $f$"
        )
        conn.execute(
            f"CREATE TRIGGER test_fault BEFORE INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION test_fault()"
        )


def _checks(url: str, sql_file: str) -> dict[str, tuple[str, str, bool]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(read_sql(sql_file)).fetchall()
    return {subject: (expected, actual, passed) for subject, expected, actual, passed in rows}


def test_a_built_batch_records_the_checks_it_passed(url: str) -> None:
    result = _load(url, [("A1", 1, "C1", "2024-01-02 10:00", "P1", 2, 5.0)])
    quality = batch_row(url, result.batch_id)["quality"]
    assert quality["checked_by"] == "build"
    assert quality["lines"] == result.rows_loaded == 1
    assert set(quality["checks"]) == BUILD_CHECKS  # no kept totals yet: nothing to check there
    recorded = {
        r["subject"]: (r["expected"], r["actual"]) for r in quality["checks"]["lines_vs_orders"]
    }
    assert recorded["orders"] == ("1", "1") and recorded["net revenue"] == ("10.0", "10.0")
    assert query(url, "SELECT count(*) FROM staging.unchecked_writes") == [(0,)]


def test_duplicates_rewritten_by_a_later_batch_take_its_id(url: str) -> None:
    """A later batch that repeats a line unchanged leaves it with its batch; one that changes
    it rewrites it in place under its own id: the line count grows only by what is new."""
    first = _load(
        url,
        [
            ("A1", 1, "C1", "2024-01-02 10:00", "P1", 2, 5.0),
            ("A1", 2, "C1", "2024-01-02 10:00", "P2", 1, 3.0),
            ("B1", 1, "C2", "2024-01-03 10:00", "P1", 1, 5.0),
        ],
    )
    second = _load(
        url,
        [
            ("A1", 1, "C1", "2024-01-02 10:00", "P1", 2, 6.0),  # changed: rewritten
            ("A1", 2, "C1", "2024-01-02 10:00", "P2", 1, 3.0),  # unchanged duplicate
            ("C1", 1, "C3", "2024-01-04 10:00", "P3", 1, 7.0),  # new
        ],
    )
    assert (second.rows_loaded, second.rows_duplicate) == (1, 2)
    ledger = {
        r["subject"]: (r["expected"], r["actual"])
        for r in batch_row(url, second.batch_id)["quality"]["checks"]["ledger_vs_facts"]
    }
    assert ledger["order lines carrying the batch id (inserted + rewritten)"] == ("2", "2")
    assert ledger["good order lines of the batch in warehouse.fact_order_line"] == ("3", "3")
    rewritten = "order lines rewritten in warehouse.fact_order_line (reported vs updated)"
    assert ledger[rewritten] == ("1", "1")
    assert query(
        url, "SELECT batch_id, count(*) FROM warehouse.fact_order_line GROUP BY 1 ORDER BY 1"
    ) == [(first.batch_id, 2), (second.batch_id, 2)]
    # the record and a full scan tell the same
    full = _checks(url, "quality/ledger_vs_facts.sql")
    recorded = _checks(url, "quality/ledger_vs_facts_from_builds.sql")
    assert full == recorded
    assert full["order lines loaded (ledger) vs in warehouse.fact_order_line"] == ("4", "4", True)
    assert all(passed for _, _, passed in _checks(url, "quality/lines_vs_orders.sql").values())
    assert all(
        passed for _, _, passed in _checks(url, "quality/lines_vs_orders_from_builds.sql").values()
    )


def _broken_write_message(url: str, table: str, body: str, order_id: str) -> str:
    """A trigger on ``table`` running ``body`` for every written row, then a batch of two
    orders, OK1 and ``order_id`` (the one the trigger breaks), that must fail; its message."""
    _triggered(url, table, body)
    row = _failed(
        url,
        [
            ("OK1", 1, "C1", "2024-01-05 10:00", "P1", 1, 5.0),
            (order_id, 1, "C2", "2024-01-05 11:00", "P1", 1, 5.0),
        ],
    )
    return str(row["message"])


def _bad_order_row_message(url: str) -> str:
    """A first batch, then one whose order BAD1 gets a broken order-fact write (its net revenue
    off by 1); the failed batch's ledger message."""
    _load(url, [("A1", 1, "C1", "2024-01-02 10:00", "P1", 2, 5.0)])
    return _broken_write_message(
        url,
        "warehouse.fact_order",
        "IF NEW.order_id = 'BAD1' THEN NEW.net_amount := NEW.net_amount + 1; END IF; RETURN NEW;",
        "BAD1",
    )


def test_an_order_row_that_disagrees_with_its_lines_fails_the_build(url: str) -> None:
    message = _bad_order_row_message(url)
    assert "data-quality check failed at build" in message
    assert "lines_vs_orders: net revenue: expected 10.0, got 11.0" in message
    assert "lines_vs_orders: orders whose row differs from their lines: expected 0, got 1" in (
        message
    )
    assert "load the files again" in message


def test_a_batch_writing_most_lines_is_checked_over_the_whole_tables(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first load (most of the lines) is reconciled by one scan of each table instead of a
    probe per order; the same fault still fails the build, with the whole tables' figures."""
    monkeypatch.setattr(batch_checks, "WHOLE_TABLE_MIN_LINES", 0)
    message = _bad_order_row_message(url)
    # the whole tables: A1 (10.0) + OK1 (5.0) + BAD1 (5.0) = 20.0, BAD1's row says 1 more
    assert "lines_vs_orders: net revenue: expected 20.0, got 21.0" in message
    assert "orders whose row differs" not in message  # the per-order form did not run


def test_a_line_lost_on_its_way_to_the_facts_fails_the_build(url: str) -> None:
    """The insert reports one line fewer (the loader would have counted it a duplicate): the
    ledger would say succeeded with a line missing."""
    message = _broken_write_message(
        url,
        "warehouse.fact_order_line",
        "IF NEW.order_id = 'LOST1' THEN RETURN NULL; END IF; RETURN NEW;",
        "LOST1",
    )
    assert (
        "ledger_vs_facts: good order lines of the batch in warehouse.fact_order_line: "
        "expected 2, got 1" in message
    )


def test_a_first_load_whose_line_keys_change_on_the_way_fails_the_build(url: str) -> None:
    """A first load compares the staged keys and the facts' by their count and the sum of
    their hashes (no join): a line written under another line number keeps every count right,
    and is still caught, then counted exactly by the join for the message."""
    message = _broken_write_message(
        url,
        "warehouse.fact_order_line",
        "IF NEW.order_id = 'MOVED1' THEN NEW.line_no := NEW.line_no + 10; END IF; RETURN NEW;",
        "MOVED1",
    )
    assert (
        "ledger_vs_facts: good order lines of the batch in warehouse.fact_order_line: "
        "expected 2, got 1" in message
    )
    assert "order lines added" not in message  # the counts of written lines were right


def test_a_first_load_and_a_later_batch_record_the_same_line_checks(url: str) -> None:
    """The first load's hash comparison and a later batch's join record the same subjects."""
    first = _load(url, [("A1", 1, "C1", "2024-01-02 10:00", "P1", 2, 5.0)])
    later = _load(url, [("A2", 1, "C1", "2024-01-03 10:00", "P1", 1, 5.0)])
    for result in (first, later):
        ledger = {
            c["subject"]: (c["expected"], c["actual"])
            for c in batch_row(url, result.batch_id)["quality"]["checks"]["ledger_vs_facts"]
        }
        assert ledger["good order lines of the batch in warehouse.fact_order_line"] == ("1", "1")
        assert ledger["order lines carrying the batch id (inserted + rewritten)"] == ("1", "1")


def test_kept_totals_that_disagree_with_the_lines_fail_the_build(url: str) -> None:
    """Once a run stored the customer totals, a build keeps them for the customers its batch
    touched and checks those against their lines."""
    small_warehouse(url, customers=30)
    as_of = dt.date(2024, 6, 30)
    pipeline.run_all(url, as_of, methods="rfm", trigger="test")  # stores the totals
    good = insert_orders(url, [("D1", "C001", "2024-06-30 09:00", "P1", 1, 10.0, False)])
    assert "customer_totals_vs_lines" in batch_row(url, good.batch_id)["quality"]["checks"]
    _triggered(
        url,
        "warehouse.customer_order_totals",
        "IF NEW.customer_id = 'C002' THEN NEW.gross_revenue := NEW.gross_revenue + 1; END IF; "
        "RETURN NEW;",
    )
    row = _failed(url, [("D2", 1, "C002", "2024-06-30 10:00", "P1", 1, 10.0)])
    message = str(row["message"])
    assert "customer_totals_vs_lines: gross revenue" in message
    assert "customer_totals_vs_lines: customers whose kept totals differ from their lines" in (
        message
    )


def test_a_batch_resamples_the_line_statistics_only_when_it_wrote_a_tenth_of_them(
    url: str,
) -> None:
    def lines(order: str, n: int) -> list[tuple]:
        return [(order, i, "C1", "2024-01-02 10:00", "P1", 1, 2.0) for i in range(1, n + 1)]

    def sampled() -> float:
        return query(
            url, "SELECT reltuples FROM pg_class WHERE oid = 'warehouse.fact_order_line'::regclass"
        )[0][0]

    seen = []
    for order, n in (("A1", 20), ("A2", 10), ("A3", 1), ("A4", 10)):
        _load(url, lines(order, n))
        seen.append(sampled())
    # 10 lines into 20 (and 10 into 31) re-sample; 1 line into 30 leaves the statistics
    assert seen[1:] == [30, 30, 41]


def test_the_first_batch_after_a_first_load_takes_the_line_statistics(url: str) -> None:
    """A first load takes no statistics of the order lines, yet leaves them a row count (its
    rebuilt primary key sets one; here a VACUUM does). The next batch, however small, takes
    them: with a row count but no statistics, the planner hashed every order line to find the
    few a day's batch rewrites, and later runs would plan as blindly."""

    def statistics() -> int:
        return query(
            url,
            "SELECT count(*) FROM pg_stats "
            "WHERE schemaname = 'warehouse' AND tablename = 'fact_order_line'",
        )[0][0]

    _load(url, [("B1", i, "C1", "2024-01-02 10:00", "P1", 1, 2.0) for i in range(1, 41)])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM warehouse.fact_order_line")
    assert statistics() == 0
    assert query(
        url, "SELECT reltuples FROM pg_class WHERE oid = 'warehouse.fact_order_line'::regclass"
    ) == [(40,)]
    _load(url, [("B2", 1, "C2", "2024-01-03 10:00", "P1", 1, 2.0)])
    assert statistics() > 0
