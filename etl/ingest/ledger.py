"""The load ledger (``staging.load_batches``): one row per batch, written outside the batch's own
transaction so that a failure is recorded even though the batch's work is rolled back.

A batch is ``running`` only while its loader lives: ``open_batch`` takes an advisory lock for
the batch on a session of its own, in the transaction that inserts the row, and holds it until
the row leaves ``running``. A ``running`` row whose lock nobody holds belongs to a loader that
died (kill -9, a lost connection): ``mark_abandoned`` marks it ``abandoned`` at once, and every
load and build calls it first. No timer is involved."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from etl import db
from etl.errors import SegwiseError


@dataclass
class LoadResult:
    """Outcome of one batch. Counts are order lines except ``rows_read``/``rows_rejected``,
    which cover every file of the batch (docs/ingest.md, "Counts")."""

    batch_id: int | None
    status: str  # 'staged' | 'succeeded' | 'skipped' | 'failed' | 'abandoned'
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    rule_counts: dict[str, int] = field(default_factory=dict)
    message: str = ""
    layout: str = ""
    source_uri: str = ""


class LoadError(SegwiseError):
    """A batch failed; nothing of it reached the warehouse. ``result`` is its ledger entry."""

    def __init__(self, message: str, result: LoadResult | None = None) -> None:
        super().__init__(message)
        self.result = result


LOAD_LOCK = 0x5E6_1002  # advisory lock class: (LOAD_LOCK, batch id) held while it is running
_LOCK_KEY = "(%s::bigint %% 2147483647)::int"
_DEAD = f"""
    status = 'running' AND NOT EXISTS (
        SELECT 1 FROM pg_locks AS l
        WHERE l.locktype = 'advisory' AND l.database = (
                  SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = {LOAD_LOCK} AND l.objid = (b.batch_id % 2147483647)::int
          AND l.objsubid = 2 AND l.granted)
"""  # noqa: S608 - fixed SQL


def mark_abandoned(conn) -> list[int]:
    """Mark ``running`` batches whose loader is gone as ``abandoned``; returns their ids."""
    rows = conn.execute(
        "UPDATE staging.load_batches AS b SET status = 'abandoned', "  # noqa: S608 - fixed SQL
        "finished_at = clock_timestamp(), message = 'abandoned: the loading process ended "
        "without finishing this batch (killed or disconnected); nothing of it was loaded, "
        "load the files again' WHERE " + _DEAD + " RETURNING batch_id"
    ).fetchall()
    return [int(r[0]) for r in rows]


def ensure_warehouse(url: str) -> None:
    """A clear error instead of a traceback when the database is unreachable or unmigrated;
    also marks batches of dead loaders abandoned."""
    try:
        with db.connect(url, autocommit=True) as conn:
            found = conn.execute("SELECT to_regclass('staging.load_batches')").fetchone()[0]
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise SegwiseError(f"cannot connect to the warehouse {db.redact(url)}: {reason}") from None
    if found is None:
        raise SegwiseError(
            f"the warehouse {db.redact(url)} has no load ledger: run `segwise db upgrade` first"
        )
    with db.connect(url, autocommit=True) as conn:
        mark_abandoned(conn)


def open_batch(
    url: str,
    *,
    source_kind: str,
    layout: str,
    source_uri: str,
    content_sha256: str | None,
    bytes_: int | None,
    files: list[dict[str, Any]],
    mapping_doc: dict[str, Any],
    watermark_from: str | None = None,
) -> tuple[int, psycopg.Connection]:
    """Insert a ``running`` row; returns its id and the session that holds its lock (close it
    once the row has left ``running``)."""
    holder = db.connect(url, autocommit=True)
    with holder.transaction():
        row = holder.execute(
            """
            INSERT INTO staging.load_batches
                (source_kind, layout, source_uri, content_sha256, bytes, files, mapping,
                 watermark_from, status)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'running')
            RETURNING batch_id
            """,
            (
                source_kind,
                layout,
                source_uri,
                content_sha256,
                bytes_,
                Jsonb(files),
                Jsonb(mapping_doc),
                watermark_from,
            ),
        ).fetchone()
        holder.execute(f"SELECT pg_advisory_lock({LOAD_LOCK}, {_LOCK_KEY})", (row[0],))
    return int(row[0]), holder


def already_loaded(url: str, layout: str, content_sha256: str) -> tuple[int, str, Any] | None:
    """The staged or succeeded batch with the same content and layout, if any."""
    with db.connect(url, autocommit=True) as conn:
        return conn.execute(
            """
            SELECT batch_id, status, coalesce(finished_at, started_at)
            FROM staging.load_batches
            WHERE layout = %s AND content_sha256 = %s AND status IN ('staged', 'succeeded')
            ORDER BY batch_id LIMIT 1
            """,
            (layout, content_sha256),
        ).fetchone()


def record_skip(
    url: str,
    *,
    source_kind: str,
    layout: str,
    source_uri: str,
    content_sha256: str | None,
    files: list[dict[str, Any]],
    message: str,
) -> int:
    with db.connect(url, autocommit=True) as conn:
        row = conn.execute(
            """
            INSERT INTO staging.load_batches
                (source_kind, layout, source_uri, content_sha256, files, status, message,
                 finished_at)
            VALUES (%s, %s, %s, %s, %s, 'skipped', %s, clock_timestamp())
            RETURNING batch_id
            """,
            (source_kind, layout, source_uri, content_sha256, Jsonb(files), message),
        ).fetchone()
    return int(row[0])


def set_status(
    conn,
    batch_id: int,
    status: str,
    *,
    message: str | None = None,
    finished: bool = True,
    **counts: Any,
) -> None:
    """Update a batch row on ``conn`` (inside the caller's transaction when it has one)."""
    sets = ["status = %(status)s", "message = coalesce(%(message)s, message)"]
    params: dict[str, Any] = {"status": status, "message": message, "batch_id": batch_id}
    for k, v in counts.items():
        if k in ("rule_counts", "files", "quality"):
            sets.append(f"{k} = %({k})s")
            params[k] = None if v is None else Jsonb(v)
        elif k in ("rows_read", "rows_loaded", "rows_rejected", "rows_duplicate", "watermark_to"):
            sets.append(f"{k} = %({k})s")
            params[k] = v
        else:
            raise ValueError(k)
    if finished:  # when it finished, not when its transaction began
        sets.append("finished_at = clock_timestamp()")
    conn.execute(
        "UPDATE staging.load_batches SET "  # noqa: S608 - fixed column names only
        + ", ".join(sets)
        + " WHERE batch_id = %(batch_id)s",
        params,
    )


def first_rejections(conn, batch_id: int, limit: int = 3) -> list[tuple[int, str]]:
    """(count, text) per rejection reason, most frequent first; the text quotes the first
    offending value with its file, line and column: 12x InvoiceDate: not a date/time in format
    iso (first: a.csv line 7, column InvoiceDate: 'someday')."""
    rows = conn.execute(
        """
        SELECT n, reason, file_path, line_number, column_name,
               coalesce(raw_row ->> column_name, raw_row ->> 'text')
        FROM (
            SELECT r.*, count(*) OVER (PARTITION BY reason) AS n,
                   row_number() OVER (PARTITION BY reason ORDER BY file_path, line_number) AS k
            FROM staging.rejected_rows AS r WHERE batch_id = %s
        ) AS x
        WHERE k = 1 ORDER BY n DESC, reason LIMIT %s
        """,
        (batch_id, limit),
    ).fetchall()
    out = []
    for n, reason, path, line, column, value in rows:
        where = f"{path} line {line}" + (f", column {column}" if column else "")
        shown = repr(value[:80]) if value is not None else "(empty)"
        out.append((int(n), f"{reason} (first: {where}: {shown})"))
    return out


def fail(url: str, batch_id: int, message: str) -> None:
    with db.connect(url, autocommit=True) as conn:
        set_status(conn, batch_id, "failed", message=message[:4000])


def fetch(url: str, batch_id: int) -> LoadResult:
    with db.connect(url, autocommit=True) as conn:
        row = conn.execute(
            """
            SELECT batch_id, status, rows_read, rows_loaded, rows_rejected, rows_duplicate,
                   rule_counts, coalesce(message, ''), layout, source_uri
            FROM staging.load_batches WHERE batch_id = %s
            """,
            (batch_id,),
        ).fetchone()
    if row is None:
        raise SegwiseError(f"no batch {batch_id} in the load ledger")
    rc = row[6] if isinstance(row[6], dict) else json.loads(row[6] or "{}")
    return LoadResult(
        int(row[0]),
        row[1],
        int(row[2]),
        int(row[3]),
        int(row[4]),
        int(row[5]),
        rc,
        row[7],
        row[8],
        row[9],
    )


def success_message(
    conn, batch_id: int, *, rows_read: int, loaded: int, duplicate: int, rejected: int
) -> str:
    """The ledger message of a built batch: its counts and its first rejection."""
    first = first_rejections(conn, batch_id, 1) if rejected else []
    return (
        f"{rows_read} rows read, {loaded} order lines loaded, "
        f"{duplicate} already in the warehouse, {rejected} rejected"
        + (f"; {first[0][1]}" if first else "")
    )
