"""Running a date again with every method publishes the same marts (run ids aside): what the
DAG's second trigger for a date relies on. The first run reads the order lines and stores the
customer totals, the second reads them; the second finds the clustering models fitted for the
same date and refits them (deterministic) instead of reassigning customers by centroid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from etl import migrate
from etl.segment import pipeline
from etl.segment.run_config import METHODS
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import small_warehouse

AS_OF = dt.date(2024, 6, 30)


@pytest.fixture
def url() -> Iterator[str]:
    url = create_database("segwise_rerun")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=150)
        yield url
    finally:
        drop_database(url)


def _marts(url: str) -> dict[str, tuple]:
    with psycopg.connect(url) as conn:
        return {
            view: conn.execute(
                f"SELECT count(*), md5(string_agg((to_jsonb(v) - 'run_id')::text, '|' "  # noqa: S608
                f"ORDER BY (to_jsonb(v) - 'run_id')::text)) FROM mart.{view} AS v"
            ).fetchone()
            for view in ("customer_segments", "segment_profiles", "channel_profiles")
        }


def test_a_second_run_of_a_date_publishes_identical_marts(url: str) -> None:
    config = {"clustering": {"k": 4}}
    first = pipeline.run_all(url, AS_OF, methods=list(METHODS), trigger="test", config=config)
    before = _marts(url)
    second = pipeline.run_all(url, AS_OF, methods=list(METHODS), trigger="test", config=config)
    assert second != first
    assert _marts(url) == before
    assert before["customer_segments"][0] == 150  # one row per customer, a column per method
    with psycopg.connect(url) as conn:
        sources = conn.execute(
            "SELECT metrics -> 'features' ->> 'source', "
            "metrics -> 'kmeans' ->> 'model', metrics -> 'hierarchical' ->> 'model' "
            "FROM segmentation.runs WHERE run_id = ANY(%s) ORDER BY run_id",
            ([first, second],),
        ).fetchall()
    assert sources[0][0] == "lines, stored as the customer totals"
    assert sources[1][0] == "state"
    assert sources[1][1:] == ("fitted", "fitted")
