"""Data-quality checks on a real run: all pass on consistent data, and every break is reported;
the checks that reconcile every order line read the build-time record while nothing is
unverified, and scan otherwise or when asked to."""

from __future__ import annotations

import datetime as dt
import time

import psycopg
import pytest

from etl import quality
from etl.quality_record import BUILD_RECORD, FULL_SCAN, KEPT_TOTALS
from etl.segment import pipeline
from tests.airflow import small_warehouse

AS_OF = dt.date(2026, 6, 30)
METHODS = ["rfm", "tiers", "kmeans"]
SCANNING = ("ledger_vs_facts", "lines_vs_orders", "facts_vs_features")
RECORDED = {
    "ledger_vs_facts": BUILD_RECORD,
    "lines_vs_orders": BUILD_RECORD,
    "facts_vs_features": KEPT_TOTALS,
}


@pytest.fixture
def finished_run(fresh_warehouse_url: str) -> tuple[str, int]:
    """A run whose stages all finished but which is not published (where the DAG checks)."""
    small_warehouse.seed(fresh_warehouse_url, end=AS_OF)
    run_id = pipeline.run_all(
        fresh_warehouse_url, AS_OF, methods=METHODS, trigger="test", publish_result=False
    )
    return fresh_warehouse_url, run_id


def test_consistent_run_passes_every_check(finished_run) -> None:
    url, run_id = finished_run
    results = quality.assert_quality(url, run_id)
    assert {r.check for r in results} == set(quality.CHECKS)
    subjects = {r.subject for r in results}
    for method in METHODS:
        assert f"customers with a {method} segment" in subjects
        assert f"customers in {method} profiles" in subjects
    assert "net revenue" in subjects
    assert all(r.passed for r in results)


def test_every_broken_layer_is_reported_at_once(finished_run) -> None:
    url, run_id = finished_run
    with psycopg.connect(url) as conn:
        # a customer loses their rfm segment
        conn.execute(
            "DELETE FROM segmentation.memberships WHERE ctid = (SELECT ctid FROM "
            "segmentation.memberships WHERE run_id = %s AND method = 'rfm' LIMIT 1)",
            (run_id,),
        )
        # a feature row's revenue drifts from the facts
        conn.execute(
            "UPDATE segmentation.customer_features SET monetary = monetary + 1 WHERE ctid = "
            "(SELECT ctid FROM segmentation.customer_features WHERE run_id = %s LIMIT 1)",
            (run_id,),
        )
        # a line of a failed batch is left in the facts, without its order row
        failed = conn.execute(
            "INSERT INTO staging.load_batches (source_kind, layout, source_uri, status) "
            "VALUES ('file', 'segwise', 'test://broken', 'failed') RETURNING batch_id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO warehouse.fact_order_line (order_id, line_no, order_ts, order_date, "
            "quantity, unit_price, gross_amount, amount, batch_id) "
            "VALUES ('X1', 1, '2020-01-01', '2020-01-01', 1, 5, 5, 5, %s)",
            (failed,),
        )
        # one method's profile table is empty
        conn.execute(
            "DELETE FROM segmentation.segment_profiles WHERE run_id = %s AND method = 'tiers'",
            (run_id,),
        )
    with pytest.raises(quality.QualityError) as err:
        quality.assert_quality(url, run_id)
    failed_checks = {(r.check, r.subject) for r in err.value.results if not r.passed}
    assert failed_checks >= {
        (
            "ledger_vs_facts",
            "order lines from batches not marked succeeded in staging.load_batches",
        ),
        ("ledger_vs_facts", "order lines loaded (ledger) vs in warehouse.fact_order_line"),
        ("lines_vs_orders", "orders"),
        ("facts_vs_features", "net revenue"),
        ("segments_cover_customers", "customers with a rfm segment"),
        ("segment_tables_not_empty", "segment_profiles rows for tiers"),
    }
    message = str(err.value)
    assert "it was not published" in message
    for check, subject in failed_checks:
        assert f"{check}: {subject}" in message


def test_segments_of_other_customers_or_methods_are_reported(finished_run) -> None:
    """Counts alone would pass: the kmeans segment moves to a customer outside the run (as many
    rows as customers), and a method the run did not compute shows rows."""
    url, run_id = finished_run
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE segmentation.memberships SET customer_id = 'not-a-customer' WHERE ctid = "
            "(SELECT ctid FROM segmentation.memberships WHERE run_id = %s AND method = 'kmeans' "
            "LIMIT 1)",
            (run_id,),
        )
        conn.execute(
            "INSERT INTO segmentation.run_methods (run_id, method, source_run_id) "
            "VALUES (%s, 'channel', %s)",
            (run_id, run_id),
        )
        conn.execute(
            "INSERT INTO segmentation.memberships (run_id, method, customer_id, segment_id, "
            "segment, scores) SELECT run_id, 'channel', customer_id, 1, 'x', '{}' "
            "FROM segmentation.customer_features WHERE run_id = %s LIMIT 2",
            (run_id,),
        )
    results = {
        r.subject: r
        for r in quality.run_checks(url, run_id)
        if r.check == "segments_cover_customers"
    }
    kmeans = results["customers with a kmeans segment"]
    assert not kmeans.passed
    assert kmeans.expected in kmeans.actual
    assert "not the customers of the run" in kmeans.actual
    assert results["customers with a rfm segment"].passed
    other = results["segment rows of a method the run did not compute"]
    assert (other.actual, other.passed) == ("2", False)


def test_unknown_run_is_a_clear_error(fresh_warehouse_url: str) -> None:
    with pytest.raises(quality.SegwiseError, match="run 424242 does not exist"):
        quality.run_checks(fresh_warehouse_url, 424242)


def _sources(results: list[quality.CheckResult]) -> dict[str, str]:
    """check -> where its figures came from (one source per check), for the scanning checks."""
    found: dict[str, set[str]] = {}
    for r in results:
        found.setdefault(r.check, set()).add(r.source)
    assert all(len(s) == 1 for s in found.values()), found
    return {check: found[check].pop() for check in SCANNING}


def _line_reads(url: str) -> int:
    """Scans of warehouse.fact_order_line so far (sequential and index), read once every other
    segwise session of the database has ended: a server process flushes its counts when it
    exits, before it leaves pg_stat_activity."""
    with psycopg.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + 60
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND application_name = 'segwise'"
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "segwise sessions still open after 60 s"
            time.sleep(0.02)
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute(
            "SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
            "WHERE relid = 'warehouse.fact_order_line'::regclass"
        ).fetchone()[0]


def _one(url: str, query: str, *args: object) -> object:
    with psycopg.connect(url) as conn:
        return conn.execute(query, args or None).fetchone()[0]


def test_checked_batches_are_not_scanned_and_full_mode_scans(finished_run) -> None:
    url, run_id = finished_run
    # the run's own checks scanned its features once (it had just stored the customer totals)
    # and recorded the totals as verified against the lines
    assert _one(url, "SELECT lines_checked FROM warehouse.customer_state_status") is True
    before = _line_reads(url)
    results = quality.run_checks(url, run_id)
    assert _line_reads(url) == before, "the checks read the order lines"
    assert _sources(results) == RECORDED
    assert all(r.passed for r in results)
    assert "(from the build checks)" in str(results[1])
    # asked for, the full reconciliation reads every line
    full = quality.run_checks(url, run_id, full=True)
    assert _sources(full) == dict.fromkeys(SCANNING, FULL_SCAN)
    assert all(r.passed for r in full)
    assert {(r.check, r.subject) for r in full} == {(r.check, r.subject) for r in results}
    assert _line_reads(url) > before


def test_quality_full_setting_makes_a_run_scan(finished_run) -> None:
    url, _ = finished_run
    run_id = pipeline.run_all(
        url, AS_OF, methods=["rfm"], trigger="test", params={"quality": "full"},
        publish_result=False,
    )  # fmt: skip
    query = "SELECT params ->> 'quality' FROM segmentation.runs WHERE run_id = %s"
    assert _one(url, query, run_id) == "full"
    assert _sources(quality.run_checks(url, run_id)) == dict.fromkeys(SCANNING, FULL_SCAN)


def test_batches_without_a_build_record_are_scanned_then_recorded(finished_run) -> None:
    url, run_id = finished_run
    with psycopg.connect(url) as conn:  # as a warehouse loaded before revision 0012 has them
        conn.execute("UPDATE staging.load_batches SET quality = NULL")
    first = quality.run_checks(url, run_id)
    assert _sources(first) == dict.fromkeys(SCANNING, FULL_SCAN)
    assert all(r.passed for r in first)
    assert _one(
        url, "SELECT array_agg(DISTINCT quality ->> 'checked_by') FROM staging.load_batches"
    ) == [f"full scan (run {run_id})"]
    before = _line_reads(url)
    assert _sources(quality.run_checks(url, run_id)) == RECORDED
    assert _line_reads(url) == before


def test_a_write_outside_a_build_is_scanned_until_a_scan_passes(finished_run) -> None:
    url, run_id = finished_run
    with psycopg.connect(url) as conn:  # a hand-made fix that in the end changes nothing
        conn.execute(
            "UPDATE warehouse.fact_order_line SET amount = amount WHERE ctid = "
            "(SELECT ctid FROM warehouse.fact_order_line LIMIT 1)"
        )
        assert conn.execute(
            "SELECT table_name, operation FROM staging.unchecked_writes"
        ).fetchall() == [("warehouse.fact_order_line", "UPDATE")]
    first = quality.run_checks(url, run_id)
    assert _sources(first) == dict.fromkeys(SCANNING, FULL_SCAN)
    assert all(r.passed for r in first)
    assert _one(url, "SELECT count(*) FROM staging.unchecked_writes") == 0
    # the write may have changed the kept totals after the run read them: they are checked
    # against the lines by the next run before it trusts them again
    assert _one(url, "SELECT lines_checked FROM warehouse.customer_state_status") is False
    second = quality.run_checks(url, run_id)
    assert _sources(second) == {**RECORDED, "facts_vs_features": FULL_SCAN}
    assert _sources(quality.run_checks(url, run_id)) == RECORDED


def test_a_ledger_row_changed_outside_a_build_is_scanned(finished_run) -> None:
    url, run_id = finished_run
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE staging.load_batches SET rows_loaded = rows_loaded - 1 "
            "WHERE batch_id = (SELECT min(batch_id) FROM staging.load_batches)"
        )
    results = quality.run_checks(url, run_id)
    assert {(r.check, r.subject, r.source) for r in results if not r.passed} == {
        (
            "ledger_vs_facts",
            "order lines loaded (ledger) vs in warehouse.fact_order_line",
            FULL_SCAN,
        )
    }


def test_a_backfill_checks_its_features_against_the_lines(finished_run) -> None:
    """Features computed from the lines (an earlier date) have no kept totals to lean on."""
    url, _ = finished_run
    backfill = AS_OF - dt.timedelta(days=30)
    run_id = pipeline.run_all(url, backfill, methods=["rfm"], trigger="test", publish_result=False)
    results = quality.run_checks(url, run_id)
    assert _sources(results) == {**RECORDED, "facts_vs_features": FULL_SCAN}
    assert all(r.passed for r in results)
