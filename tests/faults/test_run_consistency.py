"""A load built while a run works never gives a published run whose stages read different data,
and `segwise run` runs the DAG's data-quality checks before it publishes."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from etl import migrate
from etl.errors import SegwiseError
from etl.quality import QualityError
from etl.segment import pipeline, runs
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import insert_orders, small_warehouse

AS_OF = "2024-06-30"
LATE_ORDER = [("LATE1", "C001", "2024-03-01 10:00", "P1", 5, 100.0, False, "web", "north")]


@pytest.fixture
def url() -> Iterator[str]:
    url = create_database("segwise_runload")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=30)
        yield url
    finally:
        drop_database(url)


def _one(url: str, query: str, *args: object) -> object:
    with psycopg.connect(url) as conn:
        return conn.execute(query, args).fetchone()[0]


def test_load_during_run_restarts_it_and_the_published_run_reads_one_warehouse(url):
    said: list[str] = []

    def progress(message: str) -> None:
        said.append(message)
        if "features for" in message and not any("LATE" in s for s in said):
            said.append("LATE order loaded")
            insert_orders(url, LATE_ORDER)  # a load committing between two stages

    run_id = pipeline.run_all(url, AS_OF, methods="rfm,channel", progress=progress)
    assert any("was built into the warehouse while the run was working" in s for s in said)
    first = _one(url, "SELECT min(run_id) FROM segmentation.runs")
    assert first != run_id
    assert _one(url, "SELECT status FROM segmentation.runs WHERE run_id = %s", first) == "failed"

    features = _one(
        url, "SELECT sum(monetary) FROM segmentation.customer_features WHERE run_id = %s", run_id
    )
    channels = _one(
        url,
        "SELECT sum(revenue) FROM segmentation.channel_profiles WHERE run_id = %s "
        "AND method = 'all' AND dimension = 'channel'",
        run_id,
    )
    facts = _one(
        url,
        "SELECT sum(amount) FROM warehouse.fact_order_line WHERE customer_id IN "
        "(SELECT customer_id FROM warehouse.fact_order WHERE n_sale_lines > 0)",
    )
    assert features == channels == facts
    assert (
        _one(
            url,
            "SELECT count(*) FROM segmentation.customer_features "
            "WHERE run_id = %s AND monetary >= 500",
            run_id,
        )
        >= 1
    )  # the late order is in
    newest = _one(url, "SELECT max(batch_id) FROM staging.load_batches")
    assert _one(url, "SELECT batch_cutoff FROM segmentation.runs WHERE run_id = %s", run_id) == (
        newest
    )
    assert _one(url, "SELECT status FROM segmentation.runs WHERE run_id = %s", run_id) == (
        "published"
    )


def test_stage_by_stage_run_refuses_a_stage_after_a_load(url):
    """The DAG's way: separate stages; a load between them fails the next stage."""
    run_id = pipeline.start_run(url, AS_OF, methods="rfm,channel", trigger="test")
    pipeline.build_features(url, run_id)
    insert_orders(url, LATE_ORDER)
    with pytest.raises(runs.WarehouseChanged, match="run it again"):
        pipeline.run_method(url, run_id, "channel")
    assert (
        _one(url, "SELECT count(*) FROM segmentation.customer_segments WHERE run_id = %s", run_id)
        == 0
    )
    pipeline.fail_run(url, run_id, "test")


def test_quality_check_catches_a_load_after_the_last_stage(url):
    run_id = pipeline.start_run(url, AS_OF, methods="rfm", trigger="test")
    pipeline.build_features(url, run_id)
    pipeline.run_method(url, run_id, "rfm")
    pipeline.build_profiles(url, run_id)
    insert_orders(url, LATE_ORDER)
    with pytest.raises(runs.WarehouseChanged, match="run_read_one_warehouse"):
        pipeline.check_quality(url, run_id)
    with pytest.raises(runs.WarehouseChanged):
        pipeline.publish(url, run_id)
    assert _one(url, "SELECT count(*) FROM mart.customer_segments") == 0


def test_segwise_run_runs_the_quality_checks_before_publishing(url):
    published = pipeline.run_all(url, AS_OF, methods="rfm", trigger="test")
    # an order line from a batch the ledger never marked succeeded: the ledger check fails
    with psycopg.connect(url) as conn:
        failed_batch = conn.execute(
            "INSERT INTO staging.load_batches (source_kind, layout, source_uri, status) "
            "VALUES ('file', 'segwise', 'x', 'failed') RETURNING batch_id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO warehouse.fact_order_line (order_id, line_no, customer_id, order_ts, "
            "order_date, product_id, quantity, unit_price, gross_amount, amount, batch_id) "
            "VALUES ('ORPHAN', 1, 'C002', '2024-02-01', '2024-02-01', 'P1', 1, 1, 1, 1, %s)",
            (failed_batch,),
        )
    with pytest.raises(QualityError, match="ledger_vs_facts"):
        pipeline.run_all(url, AS_OF, methods="rfm", trigger="test")
    latest = _one(url, "SELECT max(run_id) FROM segmentation.runs")
    assert _one(url, "SELECT status FROM segmentation.runs WHERE run_id = %s", latest) == "failed"
    assert _one(url, "SELECT DISTINCT run_id FROM mart.customer_segments") == published


def test_dag_and_cli_share_the_checks():
    """The DAG's quality task and `segwise run` call the same function."""
    import inspect

    from etl.orchestration import tasks

    assert "pipeline.check_quality" in inspect.getsource(tasks.quality_checks)
    assert "check_quality(url, run_id)" in inspect.getsource(pipeline._run_once)
    with pytest.raises(SegwiseError):
        pipeline.check_quality("postgresql://postgres@127.0.0.1:5432/segwise_no_such_db", 1)
