"""Data-quality checks on a real run: all pass on consistent data, and every break is reported."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from etl import quality
from etl.segment import pipeline
from tests.airflow import small_warehouse

AS_OF = dt.date(2026, 6, 30)
METHODS = ["rfm", "tiers", "kmeans"]


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
            "DELETE FROM segmentation.customer_segments WHERE ctid = (SELECT ctid FROM "
            "segmentation.customer_segments WHERE run_id = %s AND method = 'rfm' LIMIT 1)",
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


def test_unknown_run_is_a_clear_error(fresh_warehouse_url: str) -> None:
    with pytest.raises(quality.SegwiseError, match="run 424242 does not exist"):
        quality.run_checks(fresh_warehouse_url, 424242)
