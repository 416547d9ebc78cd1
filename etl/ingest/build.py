"""Build the warehouse from staged batches: type, validate, reject, upsert. One transaction per
batch, together with its ledger update: a batch is in the warehouse completely or not at all.

This module orders the batches and runs each one's transaction; the steps live beside it:
validate (typing paths, rejected rows), lines (the order lines to the facts), indexes (bulk
index rebuilds), tuning (planner and memory settings), failures (a failed batch's message)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import psycopg
from psycopg import sql

from etl import db
from etl.errors import SegwiseError
from etl.ingest import batch_checks, ledger, sqlgen, tuning, validate, warehouse_models
from etl.ingest.batch import Batch
from etl.ingest.failures import db_message, locate_value
from etl.ingest.ledger import LoadError, LoadResult
from etl.ingest.lines import build_lines
from etl.ingest.mapping import CUSTOMERS, LINES, PRODUCTS, from_document
from etl.ingest.stage import drop_raw_tables
from etl.ingest.tuning import memory_settings
from etl.ingest.validate import RejectedTooMany
from etl.segment import customer_state, time_marts

__all__ = ["RejectedTooMany", "build_batch", "build_warehouse", "memory_settings"]
log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]
BUILD_LOCK = db.WAREHOUSE_BUILD_LOCK  # one warehouse build at a time


def build_warehouse(
    url: str, batch_ids: list[int] | None = None, *, progress: Progress | None = None
) -> list[LoadResult]:
    """Build the given staged batches (all staged-not-built ones when None), oldest first.
    A failed batch is marked failed and the others still run; see each result's status."""
    ledger.ensure_warehouse(url)
    with db.connect(url, autocommit=True) as conn:
        if batch_ids is None:
            rows = conn.execute(
                "SELECT batch_id FROM staging.load_batches "
                "WHERE status = 'staged' ORDER BY batch_id"
            ).fetchall()
            batch_ids = [r[0] for r in rows]
    results = []
    for bid in sorted(batch_ids):
        try:
            results.append(build_batch(url, bid, progress=progress))
        except LoadError as exc:
            results.append(exc.result or ledger.fetch(url, bid))
    return results


def build_batch(url: str, batch_id: int, *, progress: Progress | None = None) -> LoadResult:
    """Build one staged batch, after any older staged batch (batches apply in the order they
    were staged); raises LoadError (batch marked failed) when it cannot. An older batch that
    fails is marked failed and does not stop this one."""
    with db.connect(url, autocommit=True) as conn:
        older = [
            r[0]
            for r in conn.execute(
                "SELECT batch_id FROM staging.load_batches "
                "WHERE status = 'staged' AND batch_id < %s ORDER BY batch_id",
                (batch_id,),
            ).fetchall()
        ]
    for bid in older:
        if progress:
            progress(f"building the older staged batch {bid} first", 0)
        try:
            _build_one(url, bid, progress=progress)
        except LoadError as exc:
            log.warning("older staged batch %s failed: %s", bid, exc)
    return _build_one(url, batch_id, progress=progress)


def _build_one(url: str, batch_id: int, *, progress: Progress | None = None) -> LoadResult:
    memory = memory_settings()
    with db.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT status, mapping, files, layout FROM staging.load_batches WHERE batch_id = %s",
            (batch_id,),
        ).fetchone()
    if row is None:
        raise SegwiseError(f"no batch {batch_id} in the load ledger")
    status, doc, files, layout = row
    if status != "staged":
        if status in ("succeeded", "skipped"):
            return ledger.fetch(url, batch_id)
        raise SegwiseError(f"batch {batch_id} is {status}, not staged: nothing to build")
    batch = Batch(batch_id, from_document(doc, origin=f"batch {batch_id}'s mapping"), files, layout)
    started = time.monotonic()
    try:
        with db.connect(url) as conn:
            tuning.set_session(conn)
            with conn.transaction():
                tuning.set_local(conn, memory)
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (BUILD_LOCK,))
                locked = conn.execute(
                    "SELECT status FROM staging.load_batches WHERE batch_id = %s FOR UPDATE",
                    (batch_id,),
                ).fetchone()
                if locked[0] != "staged":  # built meanwhile by another process
                    return ledger.fetch(url, batch_id)
                _check_staged_rows(conn, batch)
                batch_checks.begin(conn, batch)
                customer_state.begin_build(conn)
                _build(conn, batch, progress)
                time_marts.refresh(conn, [batch_id])  # the time marts' aggregates (0008_time)
                # the per-customer totals a latest-date run reads (0010_customer_state)
                totals = customer_state.refresh_for_batch(conn)
                batch.count("customer_totals_refreshed", totals.get("customers", 0))
                if totals.get("category_and_channel_totals") == "added":
                    batch.count("customer_totals_added_not_recomputed", 1)
                # the run's warehouse checks, on what this batch wrote (0012_quality_per_batch)
                quality = batch_checks.finish(conn, batch, totals_kept=totals["kept"])
                rows_read = batch.rows_read()
                batch.rule_counts["build_seconds"] = round(time.monotonic() - started)
                ledger.set_status(
                    conn,
                    batch_id,
                    "succeeded",
                    message=ledger.success_message(
                        conn,
                        batch_id,
                        rows_read=rows_read,
                        loaded=batch.rows_loaded,
                        duplicate=batch.rows_duplicate,
                        rejected=batch.rows_rejected,
                    ),
                    rows_read=rows_read,
                    rows_loaded=batch.rows_loaded,
                    rows_rejected=batch.rows_rejected,
                    rows_duplicate=batch.rows_duplicate,
                    rule_counts=batch.rule_counts,
                    quality=quality,
                )
                if totals["kept"]:
                    customer_state.mark_current(conn)
    except Exception as exc:
        message = str(exc) if isinstance(exc, SegwiseError) else db_message(exc)
        if isinstance(exc, psycopg.DataError):
            message += locate_value(url, batch_id, files, exc)
        ledger.fail(url, batch_id, message)
        drop_raw_tables(url, batch_id)
        raise LoadError(
            f"batch {batch_id} failed; the warehouse is unchanged: {message}",
            ledger.fetch(url, batch_id),
        ) from exc
    drop_raw_tables(url, batch_id)
    return ledger.fetch(url, batch_id)


def _check_staged_rows(conn: psycopg.Connection, batch: Batch) -> None:
    """Raw tables are UNLOGGED (fast COPY): a server crash empties them. Refuse to build a
    batch whose staged rows are not all there, rather than load a part of it."""
    expected: dict[str, int] = {}
    for f in batch.files:
        expected[f["source"]] = expected.get(f["source"], 0) + int(f.get("rows", 0))
    for source, n in expected.items():
        (found,) = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sqlgen.raw_table(batch.batch_id, source))
        ).fetchone()
        if found != n:
            raise SegwiseError(
                f"batch {batch.batch_id}'s staged {source} rows are incomplete ({found} of {n}; "
                "was the server restarted?): load its files again"
            )


def _build(conn: psycopg.Connection, batch: Batch, progress: Progress | None) -> None:
    """The batch's steps, in the order their results are needed."""
    m = batch.mapping
    lines_target = m.targets.get(LINES)
    lines_source = lines_target.source if lines_target else None
    # 1. Every other source with data: typed once, its rejects kept, then used by joins/dims.
    for src in m.file_sources():
        if src.name != lines_source:
            _typed_source(conn, batch, src.name)
    # 2. Derived sources (a per-layout SQL model over a typed source).
    for src in m.sources.values():
        if src.derived:
            _derived_source(conn, batch, src.name)
    validate.keep_malformed(conn, batch)
    # 3. Dimensions from their own files, before the lines (lines may look them up).
    present = batch.sources_with_files()
    for kind in (CUSTOMERS, PRODUCTS):
        dim = m.targets.get(kind)
        if dim is not None and dim.source != lines_source and dim.source in present:
            _dimension_from_source(conn, batch, kind)
    # 4. Order lines.
    if lines_target is not None and lines_source in present:
        build_lines(conn, batch, progress)
    rejected_total = conn.execute(
        "SELECT count(*) FROM staging.rejected_rows WHERE batch_id = %s", (batch.batch_id,)
    ).fetchone()[0]
    batch.rows_rejected = int(rejected_total)


def _typed_source(conn: psycopg.Connection, batch: Batch, name: str) -> None:
    """A source other than the order lines' typed into a temp table; its rejected rows kept."""
    src = batch.mapping.sources[name]
    table = sqlgen.typed_table(name)

    with validate.date_lookups(conn, batch, name) as date_tables:

        def statement(fast: bool) -> sql.Composed:
            typed = sqlgen.typed_select(
                src,
                sqlgen.raw_table(batch.batch_id, name),
                batch.codes,
                f"{name}.",
                fast=fast,
                date_tables=date_tables,
                **batch.typing(name),
            )
            return sqlgen.model("staging/source_table.sql", table=table, typed=typed)

        validate.typed(conn, batch, statement, name)
    conn.execute(sql.SQL("ANALYZE {}").format(table))
    validate.reject_rows(conn, batch, table, name)


def _derived_source(conn: psycopg.Connection, batch: Batch, name: str) -> None:
    m = batch.mapping
    src = m.sources[name]
    params = {k: sql.Literal(v) for k, v in m.params.items()}
    conn.execute(
        sqlgen.model(
            f"staging/{src.model}.sql",
            output=sqlgen.typed_table(name),
            input=sqlgen.typed_table(src.input),
            **params,
        )
    )


def _dimension_from_source(conn: psycopg.Connection, batch: Batch, kind: str) -> None:
    inserted, updated = conn.execute(
        warehouse_models.dim_upsert(
            kind, sqlgen.dim_rows_from_source(batch.mapping, kind), sql.Literal(batch.batch_id)
        )
    ).fetchone()
    batch.count(f"{kind}_inserted", inserted)
    batch.count(f"{kind}_updated", updated)
