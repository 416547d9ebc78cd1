"""A stage's side connection: its work commits only with the stage's block, runs while the
block does, and any error on either side leaves nothing of it."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from etl.segment.side_connection import side_connection


@pytest.fixture
def table_url(empty_database_url: str) -> str:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE side_rows (n int PRIMARY KEY)")
    return empty_database_url


def _rows(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT n FROM side_rows ORDER BY n")]


def _insert(n: int):
    def work(side: psycopg.Connection) -> int:
        return side.execute("INSERT INTO side_rows VALUES (%s)", (n,)).rowcount

    return work


def test_side_work_commits_when_the_block_ends_and_not_before(table_url: str) -> None:
    prepared: list[str] = []
    with side_connection(table_url, lambda side: prepared.append("yes")) as alongside:
        first = alongside(_insert(1))
        second = alongside(_insert(2))
        assert (first(), second()) == (1, 1)
        assert _rows(table_url) == []  # written, not committed while the block runs
    assert _rows(table_url) == [1, 2]
    assert prepared == ["yes"]


def test_side_runs_while_the_block_works(table_url: str) -> None:
    started = threading.Event()

    def slow(side: psycopg.Connection) -> float:
        started.set()
        side.execute("SELECT pg_sleep(0.5)")
        return time.monotonic()

    with side_connection(table_url) as alongside:
        done_at = alongside(slow)
        assert started.wait(5)
        block_done = time.monotonic()  # the block went on before the side finished
        assert done_at() > block_done


def test_an_error_in_the_block_rolls_the_side_back(table_url: str) -> None:
    with pytest.raises(RuntimeError, match="stage failed"):
        with side_connection(table_url) as alongside:
            alongside(_insert(1))()
            raise RuntimeError("stage failed")
    assert _rows(table_url) == []


def test_an_error_on_the_side_is_raised_and_nothing_commits(table_url: str) -> None:
    def broken(side: psycopg.Connection) -> None:
        side.execute("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(psycopg.errors.UndefinedTable):
        with side_connection(table_url) as alongside:
            alongside(_insert(1))
            alongside(broken)  # not waited for by the block: raised at its end
    assert _rows(table_url) == []


def test_no_connection_is_opened_when_nothing_is_submitted(table_url: str) -> None:
    def backends() -> int:
        with psycopg.connect(table_url) as conn:
            return conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            ).fetchone()[0]

    before = backends()
    with side_connection(table_url):
        assert backends() == before
