"""The load ledger (``staging.load_batches``): one row per batch, written outside the batch's own
transaction so that a failure is recorded even though the batch's work is rolled back."""

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
    status: str  # 'staged' | 'succeeded' | 'skipped' | 'failed'
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


def ensure_warehouse(url: str) -> None:
    """A clear error instead of a traceback when the database is unreachable or unmigrated."""
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
) -> int:
    with db.connect(url, autocommit=True) as conn:
        row = conn.execute(
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
    return int(row[0])


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
            VALUES (%s, %s, %s, %s, %s, 'skipped', %s, now())
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
        if k in ("rule_counts", "files"):
            sets.append(f"{k} = %({k})s")
            params[k] = Jsonb(v)
        elif k in ("rows_read", "rows_loaded", "rows_rejected", "rows_duplicate", "watermark_to"):
            sets.append(f"{k} = %({k})s")
            params[k] = v
        else:
            raise ValueError(k)
    if finished:
        sets.append("finished_at = now()")
    conn.execute(
        "UPDATE staging.load_batches SET "  # noqa: S608 - fixed column names only
        + ", ".join(sets)
        + " WHERE batch_id = %(batch_id)s",
        params,
    )


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
