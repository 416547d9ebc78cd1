"""The run ledger (``segmentation.runs``) and the per-date run lock.

A run holds the row in ``segmentation.run_locks`` for its as-of date from ``start_run`` until it
is published or failed, so two runs of one date never overlap; every lock change also takes a
transaction-level advisory lock on the date, which serialises concurrent starts and publishes.

Is the holder still alive? ``segwise run`` (``pipeline.run_all``) keeps one session open for the
whole run holding a session-level advisory lock keyed by its server pid, recorded as
``owner_pid``: the moment that session ends (process killed, connection lost) the lock is gone,
and the next start of any run marks the run ``abandoned`` and frees its date. A run driven stage
by stage from separate processes (Airflow tasks) has no such session; its lock is taken over
when it sent no heartbeat for ``lock_timeout_minutes``.

What does a run read? ``acquire`` records the warehouse's built batches (the newest id and a
digest of all); ``stage_done`` refuses to record a stage when a load was built into the
warehouse since (``WarehouseChanged``), so every recorded stage of a run read the same data.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from etl.errors import SegwiseError
from etl.paths import read_sql

# Big, customer-level tables: pruned for old dates by retention (the others are per segment).
# The memberships (segmentation.customer_segments) go with them, by ``drop_memberships``.
CUSTOMER_TABLES = (
    "customer_features",
    "customer_category_revenue",
    "segment_history",
)
# A run's rows in these tables are its own; its memberships go by ``drop_memberships``.
RESULT_TABLES = (
    "customer_features",
    "customer_category_revenue",
    "segment_profiles",
    "cluster_models",
    "clv_models",
    "demographic_profiles",
    "channel_profiles",
    "segment_history",
    "segment_migrations",
)

_LOCK_CLASS = 7301  # advisory-lock namespace for segwise run dates
_OWNER_CLASS = 7302  # advisory-lock namespace for the session running a run (key: its pid)


class WarehouseChanged(SegwiseError):
    """A load was built into the warehouse after the run started: its stages would mix data."""


def hold_owner_lock(conn: psycopg.Connection) -> int:
    """Take the session-level lock that says "this session runs a segmentation run"; its pid.

    ``conn`` must stay open (autocommit) for the whole run: closing it, or the process dying,
    releases the lock and lets the next run see this one as abandoned at once."""
    return int(
        conn.execute(
            "SELECT pg_backend_pid() FROM (SELECT pg_advisory_lock(%s, pg_backend_pid())) AS l",
            (_OWNER_CLASS,),
        ).fetchone()[0]
    )


def _owner_alive(conn: psycopg.Connection, pid: int) -> bool:
    return bool(
        conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s AND objid = %s AND objsubid = 2 AND pid = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
            (_OWNER_CLASS, pid, pid),
        ).fetchone()[0]
    )


def built_batches(conn: psycopg.Connection) -> tuple[int, str]:
    """(newest built batch id, digest of every built batch id): what a run reads."""
    cutoff, digest = conn.execute(read_sql("segmentation/built_batches.sql")).fetchone()
    return int(cutoff), str(digest)


def check_same_data(conn: psycopg.Connection, run_id: int) -> None:
    """Refuse when the warehouse no longer holds exactly the batches the run started on.

    Called after a stage's reads, in its transaction: if nothing was built by then, every
    statement of the stage read the run's data (batches only ever become built)."""
    row = conn.execute(
        "SELECT batch_cutoff, batches_digest FROM segmentation.runs WHERE run_id = %s",
        (run_id,),
    ).fetchone()
    if row is None or row[1] is None:
        return  # a run started before revision 0005
    cutoff, digest = built_batches(conn)
    if (cutoff, digest) != (row[0], row[1]):
        newer = [
            r[0]
            for r in conn.execute(
                "SELECT batch_id FROM staging.load_batches WHERE status = 'succeeded' "
                "AND batch_id > %s ORDER BY batch_id LIMIT 5",
                (row[0],),
            )
        ]
        which = f"batch {', '.join(map(str, newer))}" if newer else "a load"
        raise WarehouseChanged(
            f"run {run_id}: {which} was built into the warehouse while the run was working, so "
            "its stages would read different data; nothing of it was published: run it again"
        )


_EPOCH = dt.date(2000, 1, 1)


def lock_date(conn: psycopg.Connection, as_of: dt.date) -> None:
    """Transaction-level advisory lock on one as-of date (released at commit/rollback)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, (as_of - _EPOCH).days))


def get_run(conn: psycopg.Connection, run_id: int, *, for_update: bool = False) -> dict[str, Any]:
    query = (
        "SELECT run_id, as_of_date, trigger, methods, params, status, stages_done, row_counts, "
        "timings, metrics, message FROM segmentation.runs WHERE run_id = %s"
    )
    if for_update:
        query += " FOR UPDATE"
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        row = cur.execute(query, (run_id,)).fetchone()
    if row is None:
        raise SegwiseError(f"segmentation run {run_id} does not exist")
    return row


def require_running(run: Mapping[str, Any], stage: str) -> None:
    if run["status"] != "running":
        raise SegwiseError(
            f"run {run['run_id']} is {run['status']}; stage {stage} needs a running run "
            f"(start a new one with `segwise run --as-of {run['as_of_date']}`)"
        )


def acquire(
    conn: psycopg.Connection,
    as_of: dt.date,
    *,
    trigger: str,
    methods: list[str],
    params: Mapping[str, Any],
    lock_timeout_minutes: float,
    owner_pid: int | None = None,
) -> int:
    """Insert the run and take the date's lock in the caller's transaction, or refuse.

    ``owner_pid``: the session holding ``hold_owner_lock`` for this run (None: heartbeat only).
    """
    lock_date(conn, as_of)
    reap_abandoned(conn)
    holder = conn.execute(
        "SELECT l.run_id, r.status, r.heartbeat_at, "
        "       now() - r.heartbeat_at > make_interval(mins => %s::int) AS stale, r.owner_pid "
        "FROM segmentation.run_locks l JOIN segmentation.runs r USING (run_id) "
        "WHERE l.as_of_date = %s",
        (int(lock_timeout_minutes), as_of),
    ).fetchone()
    if holder is not None:
        holder_id, status, heartbeat, stale, holder_pid = holder
        if status == "running" and holder_pid is not None:
            raise SegwiseError(
                f"run {holder_id} for as-of date {as_of} is still in progress (its session, "
                f"server pid {holder_pid}, is alive); wait for it to finish or stop it "
                f"(Ctrl-C, or SELECT pg_cancel_backend({holder_pid}))"
            )
        if status == "running" and not stale:
            raise SegwiseError(
                f"run {holder_id} for as-of date {as_of} is still in progress (last heartbeat "
                f"{heartbeat:%Y-%m-%d %H:%M:%S %Z}); wait for it to finish, or after "
                f"lock_timeout_minutes={lock_timeout_minutes:g} without a heartbeat it can be "
                "taken over (docs/reliability.md)"
            )
        if status == "running":
            _mark_failed(
                conn,
                holder_id,
                f"abandoned: no heartbeat since {heartbeat:%Y-%m-%d %H:%M:%S}",
                status="abandoned",
            )
        conn.execute("DELETE FROM segmentation.run_locks WHERE as_of_date = %s", (as_of,))
    cutoff, digest = built_batches(conn)
    row = conn.execute(
        "INSERT INTO segmentation.runs (as_of_date, trigger, methods, params, batch_cutoff, "
        "batches_digest, owner_pid) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING run_id",
        (as_of, trigger, methods, Jsonb(params), cutoff, digest, owner_pid),
    ).fetchone()
    assert row is not None
    run_id = int(row[0])
    conn.execute(
        "INSERT INTO segmentation.run_locks (as_of_date, run_id) VALUES (%s, %s)", (as_of, run_id)
    )
    return run_id


def reap_abandoned(conn: psycopg.Connection) -> list[int]:
    """Mark ``abandoned`` every running run whose owning session has ended; their ids.

    Their partial rows are deleted and their dates freed; published results are untouched."""
    dead = [
        (run_id, pid)
        for run_id, pid in conn.execute(
            "SELECT run_id, owner_pid FROM segmentation.runs "
            "WHERE status = 'running' AND owner_pid IS NOT NULL ORDER BY run_id"
        )
        if not _owner_alive(conn, pid)
    ]
    for run_id, pid in dead:
        _mark_failed(
            conn,
            run_id,
            f"abandoned: the session running it (server pid {pid}) ended before it finished "
            "(process killed or connection lost)",
            status="abandoned",
        )
        conn.execute("DELETE FROM segmentation.run_locks WHERE run_id = %s", (run_id,))
    return [run_id for run_id, _ in dead]


def holds_lock(conn: psycopg.Connection, run_id: int, as_of: dt.date) -> bool:
    row = conn.execute(
        "SELECT run_id FROM segmentation.run_locks WHERE as_of_date = %s", (as_of,)
    ).fetchone()
    return row is not None and int(row[0]) == run_id


def stage_begin(conn: psycopg.Connection, run_id: int, stage: str) -> None:
    conn.execute(
        "UPDATE segmentation.runs SET stage = %s, heartbeat_at = now() WHERE run_id = %s",
        (stage, run_id),
    )


def stage_done(
    conn: psycopg.Connection,
    run_id: int,
    stage: str,
    *,
    seconds: float,
    rows: Mapping[str, int] | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> None:
    """Record a finished stage in the stage's own transaction (so a retry starts clean), after
    checking that the stage read the run's data (``check_same_data``)."""
    check_same_data(conn, run_id)
    cur = conn.execute(
        "UPDATE segmentation.runs SET "
        "  stages_done = array_append(array_remove(stages_done, %(stage)s), %(stage)s), "
        "  timings = timings || jsonb_build_object(%(stage)s, round(%(secs)s::numeric, 3)), "
        "  row_counts = row_counts || %(rows)s, metrics = metrics || %(metrics)s, "
        "  stage = NULL, heartbeat_at = now() "
        "WHERE run_id = %(run_id)s AND status = %(status)s",
        {
            "status": "published" if stage == "publish" else "running",
            "stage": stage,
            "secs": seconds,
            "rows": Jsonb(dict(rows or {})),
            "metrics": Jsonb(json.loads(json.dumps(dict(metrics or {}), default=float))),
            "run_id": run_id,
        },
    )
    if cur.rowcount != 1:
        raise SegwiseError(
            f"run {run_id} stopped being running during stage {stage} (failed or taken over); "
            "its results were not recorded"
        )


def delete_results(conn: psycopg.Connection, run_ids: list[int]) -> None:
    if not run_ids:
        return
    drop_memberships(conn, run_ids)
    for table in RESULT_TABLES:
        conn.execute(
            psycopg.sql.SQL("DELETE FROM {} WHERE run_id = ANY(%s)").format(
                psycopg.sql.Identifier("segmentation", table)
            ),
            (run_ids,),
        )


def register_method(conn: psycopg.Connection, run_id: int, method: str) -> None:
    """The run shows its own memberships of ``method`` (written to segmentation.memberships)."""
    conn.execute(
        "INSERT INTO segmentation.run_methods (run_id, method, source_run_id) "
        "VALUES (%(r)s, %(m)s, %(r)s) "
        "ON CONFLICT (run_id, method) DO UPDATE SET source_run_id = excluded.source_run_id",
        {"r": run_id, "m": method},
    )


def keep_methods(conn: psycopg.Connection, run_id: int, source: int, methods: list[str]) -> None:
    """``run_id`` shows the memberships ``source`` shows for ``methods``: a reference to the run
    that computed them, not a copy (a published run's memberships never change)."""
    conn.execute(
        "INSERT INTO segmentation.run_methods (run_id, method, source_run_id) "
        "SELECT %s, method, source_run_id FROM segmentation.run_methods "
        "WHERE run_id = %s AND method = ANY(%s) "
        "ON CONFLICT (run_id, method) DO UPDATE SET source_run_id = excluded.source_run_id",
        (run_id, source, methods),
    )


def method_sources(conn: psycopg.Connection, run_id: int) -> dict[str, int]:
    """{method: the run whose memberships ``run_id`` shows for it}."""
    return dict(
        conn.execute(
            "SELECT method, source_run_id FROM segmentation.run_methods WHERE run_id = %s",
            (run_id,),
        ).fetchall()
    )


def drop_memberships(conn: psycopg.Connection, run_ids: list[int]) -> None:
    """The runs no longer show memberships; those no other run shows are deleted (a superseded
    run's rows stay while the run that kept them still shows them)."""
    conn.execute(
        read_sql("segmentation/drop_memberships.sql"), {"run_ids": [int(r) for r in run_ids]}
    )


def _mark_failed(
    conn: psycopg.Connection, run_id: int, message: str, *, status: str = "failed"
) -> None:
    conn.execute(
        "UPDATE segmentation.runs SET status = %s, message = %s, finished_at = now(), "
        "stage = NULL WHERE run_id = %s",
        (status, message[:4000], run_id),
    )
    delete_results(conn, [run_id])


def fail(conn: psycopg.Connection, run_id: int, message: str) -> None:
    """Mark failed, drop its partial rows, release its lock; published rows are untouched."""
    run = get_run(conn, run_id, for_update=True)
    lock_date(conn, run["as_of_date"])
    if run["status"] in ("published", "superseded"):
        raise SegwiseError(f"run {run_id} is {run['status']} and cannot be marked failed")
    if run["status"] == "abandoned":
        return  # already failed, rows deleted and lock released by the run that found it
    _mark_failed(conn, run_id, message)
    conn.execute(
        "DELETE FROM segmentation.run_locks WHERE as_of_date = %s AND run_id = %s",
        (run["as_of_date"], run_id),
    )


def prune_customer_rows(conn: psycopg.Connection, keep_dates: int | None) -> list[int]:
    """Drop customer-level rows of published runs older than the ``keep_dates`` newest dates.

    Per-segment results stay, so trends over time survive; the pruned runs are marked in
    ``metrics.customer_rows_pruned``. Returns the pruned run ids.
    """
    if keep_dates is None:
        return []
    old = [
        r[0]
        for r in conn.execute(
            "SELECT run_id FROM segmentation.runs WHERE status = 'published' "
            "AND NOT coalesce((metrics ->> 'customer_rows_pruned')::boolean, false) "
            "ORDER BY as_of_date DESC, run_id DESC OFFSET %s",
            (keep_dates,),
        )
    ]
    if not old:
        return []
    drop_memberships(conn, old)
    for table in CUSTOMER_TABLES:
        conn.execute(
            psycopg.sql.SQL("DELETE FROM {} WHERE run_id = ANY(%s)").format(
                psycopg.sql.Identifier("segmentation", table)
            ),
            (old,),
        )
    conn.execute(
        "UPDATE segmentation.runs SET metrics = metrics || '{\"customer_rows_pruned\": true}' "
        "WHERE run_id = ANY(%s)",
        (old,),
    )
    return old
