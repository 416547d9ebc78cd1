"""A run with fewer methods than the date's published run keeps the other methods' published
results (carried forward into the new run); `--replace` drops them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from etl import migrate
from etl.cli import main
from etl.paths import read_sql
from etl.segment import pipeline
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import small_warehouse

AS_OF = dt.date(2024, 6, 30)
ALL_THREE = "rfm,tiers,channel"


@pytest.fixture
def url() -> Iterator[str]:
    url = create_database("segwise_runmeth")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=25)
        yield url
    finally:
        drop_database(url)


def _one(url: str, query: str, *args: object) -> object:
    with psycopg.connect(url) as conn:
        return conn.execute(query, args).fetchone()[0]


def _labelled(url: str) -> dict[str, int]:
    """Customers in mart.customer_segments with a label per method column."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(rfm_segment), count(size_tier), count(channel_segment) "
            "FROM mart.customer_segments"
        ).fetchone()
    return dict(zip(["customers", "rfm", "tiers", "channel"], row, strict=True))


def test_run_with_two_methods_keeps_the_third(url):
    first = pipeline.run_all(url, AS_OF, methods=ALL_THREE, trigger="test")
    before = _labelled(url)
    assert before == {"customers": 25, "rfm": 25, "tiers": 25, "channel": 25}
    channel_rows = _one(url, "SELECT count(*) FROM mart.channel_profiles")

    second = pipeline.run_all(url, AS_OF, methods="rfm,tiers", trigger="ui")
    assert _labelled(url) == before
    assert _one(url, "SELECT DISTINCT run_id FROM mart.customer_segments") == second
    assert _one(url, "SELECT count(*) FROM mart.channel_profiles") == channel_rows
    assert _one(url, "SELECT methods FROM mart.runs WHERE run_id = %s", second) == [
        "rfm",
        "tiers",
        "channel",
    ]
    assert _one(
        url, "SELECT metrics -> 'carried_forward' FROM segmentation.runs WHERE run_id = %s", second
    ) == {"channel": first}
    assert _one(url, "SELECT status FROM segmentation.runs WHERE run_id = %s", first) == (
        "superseded"
    )


def test_cli_keeps_by_default_and_replace_drops(url, capsys):
    args = ["--as-of", AS_OF.isoformat(), "--database-url", url]
    assert main(["run", "--methods", ALL_THREE, *args]) == 0
    capsys.readouterr()

    assert main(["run", "--methods", "rfm", *args]) == 0
    out = capsys.readouterr().out
    assert "kept the published results of tiers (from run 1), channel (from run 1)" in out
    assert _labelled(url) == {"customers": 25, "rfm": 25, "tiers": 25, "channel": 25}

    assert main(["run", "--methods", "rfm", "--replace", *args]) == 0
    assert "kept" not in capsys.readouterr().out
    assert _labelled(url) == {"customers": 25, "rfm": 25, "tiers": 0, "channel": 0}
    assert _one(url, "SELECT count(*) FROM mart.channel_profiles") == 0


def _history_rows(conn: psycopg.Connection, run_id: int) -> dict[str, list[tuple]]:
    return {
        name: conn.execute(
            sql.SQL("SELECT * FROM {} WHERE run_id = %s ORDER BY 1, 2, 3, 4, 5").format(
                sql.Identifier("segmentation", name)
            ),
            (run_id,),
        ).fetchall()
        for name in pipeline.HISTORY_TABLES
    }


def _history(url: str, run_id: int) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return _history_rows(conn, run_id)


def _recomputed_history(url: str, run_id: int, previous_run_id: int) -> dict[str, list[tuple]]:
    """The run's history and migrations computed afresh for all its methods (then rolled back)."""
    with psycopg.connect(url) as conn:
        methods = conn.execute(
            "SELECT methods FROM segmentation.runs WHERE run_id = %s", (run_id,)
        ).fetchone()[0]
        p = {"run_id": run_id, "previous_run_id": previous_run_id, "methods": methods}
        for name in pipeline.HISTORY_TABLES:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE run_id = %s").format(
                    sql.Identifier("segmentation", name)
                ),
                (run_id,),
            )
        for name in pipeline.HISTORY_TABLES:
            conn.execute(read_sql(f"segmentation/{name}.sql"), p)
        out = _history_rows(conn, run_id)
        conn.rollback()
    return out


def test_carried_methods_keep_their_history_when_the_previous_date_is_the_same(url):
    """An rfm-only rerun of a date: the other methods' segment history and migration rows are
    those their run computed against the same previous date (moved, not computed again), and
    equal to a fresh computation; once another date is published in between, they are computed
    again against it."""
    # the toy orders fall in January-March 2024: customers arrive and move in between
    earlier, between = dt.date(2024, 2, 15), dt.date(2024, 3, 15)
    before = pipeline.run_all(url, earlier, methods=ALL_THREE, trigger="test")
    first = pipeline.run_all(url, AS_OF, methods=ALL_THREE, trigger="test")
    second = pipeline.run_all(url, AS_OF, methods="rfm", trigger="test")
    carried = _one(
        url,
        "SELECT metrics -> 'history_carried_from' FROM segmentation.runs WHERE run_id = %s",
        second,
    )
    assert carried == {"tiers": first, "channel": first}
    kept = _history(url, second)
    assert {r[1] for r in kept["segment_migrations"]} == {"rfm", "tiers", "channel"}
    assert kept["segment_history"], "no customer changed segment: nothing is tested"
    assert kept == _recomputed_history(url, second, before)

    newer = pipeline.run_all(url, between, methods=ALL_THREE, trigger="test")
    third = pipeline.run_all(url, AS_OF, methods="tiers", trigger="test")
    assert (
        _one(
            url,
            "SELECT metrics -> 'history_carried_from' FROM segmentation.runs WHERE run_id = %s",
            third,
        )
        is None
    )
    again = _history(url, third)
    assert {r[2] for r in again["segment_migrations"]} == {newer}  # previous_run_id
    assert again == _recomputed_history(url, third, newer)
