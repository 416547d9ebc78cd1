"""A `segwise run` that is interrupted, killed or loses its connection: the server-side work
stops, the run is marked failed (or found abandoned at once), its date is free, and the user sees
one line. Each test holds a lock the run's features stage needs, so the run is caught mid-query."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from etl import migrate
from etl.segment import pipeline
from tests.conftest import create_database, drop_database
from tests.faults.conftest import popen_segwise
from tests.segment.warehouse_data import small_warehouse

AS_OF = "2024-06-30"
PATIENCE = 120  # seconds a condition may take to come true (a deadline, not a speed check)


@pytest.fixture
def url() -> Iterator[str]:
    url = create_database("segwise_runkill")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=20)
        yield url
    finally:
        drop_database(url)


def _rows(url: str, query: str, *args: object) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, args).fetchall()


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {PATIENCE} s: {what}")
        time.sleep(0.2)


def _segwise_backends(url: str, *, waiting: bool = False) -> list[tuple]:
    """The sessions of segwise processes on the test database (only those waiting for a lock)."""
    return _rows(
        url,
        "SELECT pid, state, wait_event_type FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = 'segwise' "
        "AND pid <> pg_backend_pid() "
        "AND (NOT %s OR (state = 'active' AND wait_event_type = 'Lock'))",
        waiting,
    )


@contextmanager
def _features_blocked(url: str) -> Iterator[psycopg.Connection]:
    """The features stage reads the product dimension; failing a run does not."""
    with psycopg.connect(url) as blocker:
        blocker.execute("LOCK TABLE warehouse.dim_product IN ACCESS EXCLUSIVE MODE")
        yield blocker
        blocker.rollback()


def _start_blocked_run(url: str):
    proc = popen_segwise("run", "--as-of", AS_OF, "--methods", "rfm", "--database-url", url)
    _until(lambda: _segwise_backends(url, waiting=True), "the run waits in its features stage")
    return proc


def _runs(url: str) -> list[tuple]:
    return _rows(url, "SELECT run_id, status, message FROM segmentation.runs ORDER BY run_id")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_cancels_the_server_work_and_fails_the_run(url, sig):
    with _features_blocked(url):
        proc = _start_blocked_run(url)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=PATIENCE)
        # the statement was cancelled before the process exited: nothing waits any more,
        # although the lock it waited for is still held
        assert _segwise_backends(url, waiting=True) == []
    assert proc.returncode == 130, err
    assert err.splitlines()[-1].startswith("segwise: interrupted"), err
    assert "Traceback" not in err and out == ""
    [(_run_id, status, message)] = _runs(url)
    assert status == "failed" and "cancelled" in message
    assert _rows(url, "SELECT count(*) FROM segmentation.run_locks") == [(0,)]


def test_killed_run_is_abandoned_at_once_and_its_server_work_stops(url):
    with _features_blocked(url):
        proc = _start_blocked_run(url)
        proc.kill()
        proc.wait(timeout=PATIENCE)
        # the server notices the client is gone and ends the statement it was waiting in
        _until(lambda: _segwise_backends(url) == [], "the killed client's sessions end")
        [(killed, status, _message)] = _runs(url)
        assert status == "running"  # nobody could record anything yet
        # the next run of the date starts at once (no 120-minute heartbeat timeout)
        fresh = pipeline.start_run(url, AS_OF, methods="rfm", trigger="test")
    runs_now = {r[0]: r[1:] for r in _runs(url)}
    assert runs_now[killed][0] == "abandoned" and "session" in runs_now[killed][1]
    assert runs_now[fresh][0] == "running"
    pipeline.fail_run(url, fresh, "test done")


def test_live_run_still_blocks_its_date(url):
    with _features_blocked(url):
        proc = _start_blocked_run(url)
        try:
            with pytest.raises(Exception, match="still in progress"):
                pipeline.start_run(url, AS_OF, methods="rfm", trigger="test")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=PATIENCE)


def test_lost_connection_during_run_is_one_line_and_exit_2(url):
    with _features_blocked(url):
        proc = _start_blocked_run(url)
        _rows(
            url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'segwise' "
            "AND pid <> pg_backend_pid()",
        )
        out, err = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 2, err
    lines = [line for line in err.splitlines() if "features for" not in line]
    assert lines[-1].startswith("segwise: error: lost the connection to the database"), err
    assert "Traceback" not in err
    [(_run_id, status, _message)] = _runs(url)
    assert status in ("failed", "abandoned")
    # the date is free for the next run
    run_id = pipeline.start_run(url, AS_OF, methods="rfm", trigger="test")
    pipeline.fail_run(url, run_id, "test done")
