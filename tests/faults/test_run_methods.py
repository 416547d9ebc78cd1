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
from etl.segment import pipeline
from etl.segment.runs import method_sources as sources
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
        for name in pipeline.HISTORY_TABLES:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE run_id = %s").format(
                    sql.Identifier("segmentation", name)
                ),
                (run_id,),
            )
        pipeline.write_history(conn, run_id, previous_run_id, methods)
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


def _shown(conn: psycopg.Connection, run_id: int) -> list[tuple]:
    return conn.execute(
        "SELECT method, customer_id, segment_id, segment, scores "
        "FROM segmentation.customer_segments WHERE run_id = %s ORDER BY 1, 2",
        (run_id,),
    ).fetchall()


def _stored(conn: psycopg.Connection) -> set[tuple]:
    """(computing run, method) of every stored membership row."""
    return set(conn.execute("SELECT DISTINCT run_id, method FROM segmentation.memberships"))


def test_kept_memberships_are_shown_by_reference_until_no_run_shows_them(url):
    """Keeping a method points the new run at the memberships of the run that computed them
    (through a chain of reruns), they are the same rows, a superseded run's rows stay exactly
    while a run shows them, retention deletes them, and a downgrade copies them back."""
    first = pipeline.run_all(url, AS_OF, methods=ALL_THREE, trigger="test")
    with psycopg.connect(url) as conn:
        computed = _shown(conn, first)
    second = pipeline.run_all(url, AS_OF, methods="rfm", trigger="test")
    with psycopg.connect(url) as conn:
        assert sources(conn, second) == {"rfm": second, "tiers": first, "channel": first}
        kept = [r for r in _shown(conn, second) if r[0] != "rfm"]
        assert kept == [r for r in computed if r[0] != "rfm"] and len(kept) == 2 * 25
    third = pipeline.run_all(url, AS_OF, methods="tiers", trigger="test")
    with psycopg.connect(url) as conn:
        assert sources(conn, third) == {"rfm": second, "tiers": third, "channel": first}
        assert sources(conn, first) == sources(conn, second) == {}  # both superseded
        # first's rfm and tiers, shown by no run any more, are gone; its channel is third's
        assert _stored(conn) == {(first, "channel"), (second, "rfm"), (third, "tiers")}
        shown = _shown(conn, third)
        assert [r for r in shown if r[0] == "channel"] == [r for r in computed if r[0] == "channel"]
        assert {r[0] for r in shown} == {"rfm", "tiers", "channel"}
        assert len(shown) == 3 * 25
        mart = conn.execute(
            "SELECT count(*), count(DISTINCT run_id) FROM mart.customer_segments "
            "WHERE channel_segment IS NOT NULL AND rfm_segment IS NOT NULL"
        ).fetchone()
        assert mart == (25, 1)

    migrate.downgrade(url, "0013_parallel_typing")
    with psycopg.connect(url) as conn:
        assert _shown(conn, third) == shown  # one table again, every run's rows its own
        assert set(conn.execute("SELECT DISTINCT run_id FROM segmentation.customer_segments")) == {
            (third,)
        }
    migrate.upgrade(url)
    with psycopg.connect(url) as conn:
        assert _shown(conn, third) == shown
        assert sources(conn, third) == {"rfm": third, "tiers": third, "channel": third}

    later = pipeline.run_all(
        url,
        AS_OF + dt.timedelta(days=31),
        methods="rfm",
        config={"keep_customer_rows_for_dates": 1},
        trigger="test",
    )
    with psycopg.connect(url) as conn:
        assert _stored(conn) == {(later, "rfm")}
        assert _shown(conn, third) == []
