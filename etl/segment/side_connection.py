"""A stage's second connection: statements that run side by side with the stage's own.

A backend uses one core. A stage with two long independent statements (the features stage's
copy of the category totals and its customer features; the profiles stage's channel profiles
and the rest) takes about half the time when the second runs on another connection, in a
thread. The side's work is one transaction: it commits when the stage's block ends without an
error, just before the stage's own transaction commits, and is rolled back (its statement
cancelled) when the block or the side's work fails. A crash between the two commits leaves a
stage that never finished: a retry deletes what the side wrote, and failing the run deletes
its rows (``runs.fail``).

The side must not write a row the stage's transaction has changed without committing (it
would wait for the stage, which waits for it): give it its own table, or its own rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import TypeVar

import psycopg

from etl.db import connect

T = TypeVar("T")
Submit = Callable[[Callable[[psycopg.Connection], T]], Callable[[], T]]


@contextmanager
def side_connection(
    url: str, prepare: Callable[[psycopg.Connection], object] | None = None
) -> Iterator[Submit]:
    """Yields ``submit(work)``: ``work(side_conn)`` starts in the side's thread (in the order
    submitted) and ``submit`` returns a function that waits for it and gives its result. No
    connection is opened unless something is submitted. ``prepare(side_conn)`` runs first (the
    run's settings)."""
    pool: ThreadPoolExecutor | None = None
    side: psycopg.Connection | None = None
    futures: list[Future] = []

    def submit(work: Callable[[psycopg.Connection], T]) -> Callable[[], T]:
        nonlocal pool, side
        if side is None:
            side = connect(url)
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segwise-side")
            if prepare is not None:
                futures.append(pool.submit(prepare, side))
        assert pool is not None
        future = pool.submit(work, side)
        futures.append(future)
        return future.result

    try:
        yield submit
        for future in futures:
            future.result()
    except BaseException:
        if side is not None:
            side.cancel_safe()
        _close(pool, side, commit=False)
        raise
    _close(pool, side, commit=True)


def _close(
    pool: ThreadPoolExecutor | None, side: psycopg.Connection | None, *, commit: bool
) -> None:
    if pool is not None:
        pool.shutdown(wait=True)
    if side is None:
        return
    try:
        if commit:
            side.commit()
        else:
            with suppress(psycopg.Error):  # the error that brought us here is the one to raise
                side.rollback()
    finally:
        side.close()
