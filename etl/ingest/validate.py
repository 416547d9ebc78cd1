"""Typing a batch's rows and keeping the ones that fail: the fast and careful typing paths,
rejected rows stored with their raw rows, malformed rows, and the rejection limit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from etl.ingest import ledger, sqlgen, tuning
from etl.ingest.batch import Batch
from etl.ingest.ledger import LoadError
from etl.ingest.mapping import LINES

log = logging.getLogger(__name__)


class RejectedTooMany(LoadError):
    pass


def typed(
    conn: psycopg.Connection, batch: Batch, statement: Callable[[bool], sql.Composed], label: str
) -> bool:
    """Run a typing statement on the fast path (plain casts); if any value needs judging, roll
    back to a savepoint and run the careful path. Returns True when the fast path did it. Either
    may parse in a parallel worker (tuning.PARALLEL_TYPING); the careful path's date parser,
    which catches errors, keeps a statement using it in one process."""
    with tuning.parallel_typing(conn):
        try:
            with conn.transaction():
                conn.execute(statement(True))
            return True
        except psycopg.DataError as exc:
            log.info("%s: %s: using the careful typing path", label, exc.diag.message_primary)
            batch.count(f"typing:careful_path:{label}", 1)
            conn.execute(statement(False))
            return False


@contextmanager
def date_lookups(
    conn: psycopg.Connection, batch: Batch, source: str
) -> Iterator[dict[str, sql.Identifier]]:
    """The source's date/time columns that are parsed once per distinct value, parsed into
    tables before its typing statement (sqlgen.date_lookup_tables), so that the statement
    may run in parallel workers; yields column -> table for ``typed_select(date_tables=)``.
    The tables are made inside the build's transaction and dropped after the typing."""
    made = sqlgen.date_lookup_tables(
        batch.mapping.sources[source], batch.batch_id, **batch.typing(source)
    )
    for table, create in made.values():
        conn.execute(create)
        conn.execute(sql.SQL("ANALYZE {}").format(table))
    yield {column: table for column, (table, _) in made.items()}
    for table, _ in made.values():
        conn.execute(sql.SQL("DROP TABLE {}").format(table))


def keep_rejected(
    conn: psycopg.Connection, batch: Batch, typed: sql.Identifier, raw: sql.Identifier
) -> sql.Identifier:
    """Store a source's rejected rows with their raw rows. The rejected ones are picked out
    first by CREATE TABLE AS (parallel workers may scan a large typed table); returns that
    temp table (_file, _line, _ctid, _reject), valid until the next call."""
    rejected = sql.Identifier("segwise_rejected")
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(rejected))
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {} ON COMMIT DROP AS "
            "SELECT _file, _line, _ctid, _reject FROM {} WHERE _reject IS NOT NULL"
        ).format(rejected, typed)
    )
    conn.execute(
        sqlgen.model(
            "staging/rejected_rows.sql",
            batch_id=sql.Literal(batch.batch_id),
            files=batch.file_paths(),
            columns=batch.codes.literal_columns(),
            reasons=batch.codes.literal_reasons(),
            rejected=rejected,
            raw=raw,
        )
    )
    return rejected


def reject_rows(
    conn: psycopg.Connection, batch: Batch, codes_table: sql.Identifier, source: str
) -> int:
    """Keep a typed source's rejected rows and count them by rule; returns how many."""
    rejected = keep_rejected(conn, batch, codes_table, sqlgen.raw_table(batch.batch_id, source))
    rows = conn.execute(
        sql.SQL("SELECT _reject, count(*) FROM {} GROUP BY 1").format(rejected)
    ).fetchall()
    total = 0
    for code, n in rows:
        batch.count(f"rejected:{batch.codes.rule(code)}", n)
        total += n
    return total


def keep_malformed(conn: psycopg.Connection, batch: Batch) -> None:
    """Store the rows staging could not split into fields, counted per source."""
    n = conn.execute(
        sqlgen.model(
            "staging/malformed_rows.sql",
            batch_id=sql.Literal(batch.batch_id),
            files=batch.file_paths(),
            malformed=sqlgen.malformed_table(batch.batch_id),
        )
    ).rowcount
    if n:
        by_source: dict[str, int] = {}
        for f in batch.files:
            if f.get("malformed"):
                by_source[f["source"]] = by_source.get(f["source"], 0) + f["malformed"]
        lines_target = batch.mapping.targets.get(LINES)
        for source, k in by_source.items():
            prefix = "" if lines_target and lines_target.source == source else f"{source}."
            batch.count(f"rejected:{prefix}malformed_row", k)


def check_rejected_fraction(conn: psycopg.Connection, batch: Batch, bad: int, read: int) -> None:
    """Fail the batch when more of its order lines are bad than the mapping allows."""
    if read and bad / read > batch.mapping.max_rejected_fraction:
        examples = "; ".join(
            f"{n}x {text}" for n, text in ledger.first_rejections(conn, batch.batch_id)
        )
        raise RejectedTooMany(
            f"{bad} of {read} order lines rejected, more than max_rejected_fraction "
            f"{batch.mapping.max_rejected_fraction:g} allows: {examples or 'malformed rows'}; "
            "is the layout right for these files?"
        )
