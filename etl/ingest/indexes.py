"""Index maintenance of the fact tables during a big write: dropped before it and rebuilt after
(one sort each) inside the batch's transaction, instead of maintained row by row."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from etl.ingest.batch import Batch

log = logging.getLogger(__name__)
BULK_MIN_LINES = 50_000  # smaller writes maintain the indexes as they go


@contextmanager
def bulk_rebuild(
    conn: psycopg.Connection, incoming: int, initial: bool, batch: Batch
) -> Iterator[None]:
    """Big writes skip row-by-row index maintenance: the indexes are dropped and rebuilt (one
    sort each) inside the batch's transaction; readers wait for the commit.
    - first load (the facts are empty): also the order lines' primary key (lines are plainly
      inserted; the order fact keeps its key, it is ~20x smaller and is upserted);
    - a batch at least as big as the facts already there: the secondary indexes."""
    existing = 0
    if not initial:
        existing = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM warehouse.fact_order_line LIMIT %s) AS s",
            (incoming + 1,),
        ).fetchone()[0]
    if incoming < BULK_MIN_LINES or (not initial and existing > incoming):
        yield
        return
    tables = ("'warehouse.fact_order_line'::regclass", "'warehouse.fact_order'::regclass")
    indexes = conn.execute(
        f"""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index AS i
        WHERE i.indrelid IN ({", ".join(tables)}) AND NOT i.indisprimary AND NOT i.indisunique
        """  # noqa: S608 - fixed names
    ).fetchall()
    keys = []
    if initial:
        keys = conn.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint AS c
            WHERE c.conrelid = 'warehouse.fact_order_line'::regclass AND c.contype = 'p'
              AND NOT EXISTS (SELECT 1 FROM pg_constraint AS f WHERE f.confrelid = c.conrelid)
            """  # noqa: S608 - fixed names
        ).fetchall()
    for name, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))
    for table, name, _ in keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.SQL(table), sql.Identifier(name)
            )
        )
    batch.count("bulk_mode_indexes_rebuilt", len(indexes) + len(keys))
    yield
    started = time.monotonic()
    for table, name, definition in keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.SQL(table), sql.Identifier(name), sql.SQL(definition)
            )
        )
    for _, definition in indexes:
        conn.execute(definition)
    log.debug("build step rebuild indexes: %.2f s", time.monotonic() - started)
