"""Planner and memory settings of a warehouse build, in one place: what the session, the build's
transaction and its larger statements are given, and why."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from etl import db
from etl import environment as settings

TEMP_BUFFERS = "512MB"  # the build's temp tables (rejected rows, totals, dimension rows)
LOCAL_SETTINGS = (
    "SET LOCAL TimeZone = 'UTC'",
    # JIT-compiled expressions and tuple deforming pay off on the big statements (~10% of the
    # typing at 1M lines); optimisation and inlining cost more than they save here.
    "SET LOCAL jit = on",
    "SET LOCAL jit_optimize_above_cost = 1e12",
    "SET LOCAL jit_inline_above_cost = 1e12",
)
# Row estimates for the statements after the typing (hash, not sort, aggregates): the keys are
# enough, and a 9,000-row sample (statistics target 30) is as good for that as the default 30,000.
LINE_STATISTICS_TARGET = "30"
LINE_STATISTICS_COLUMNS = ("_reject", "order_id", "line_no", "customer_id", "product_id")
# The dimensions' rows are aggregated from the lines by CREATE TABLE AS, which may run in
# parallel workers, where the upsert (an INSERT) would read them all in one process. The planner
# overestimates the keys from its sample (an id repeats over many lines, most sampled ids are
# seen once) and so the cost of gathering the partial groups; the parallel plan is the faster
# one (0.2 s against 0.3 s per dimension at 1M lines).
PARALLEL_AGGREGATE = {"parallel_tuple_cost": "0.001"}
# The typing statements (CREATE TABLE AS over the staged rows) parse in a parallel worker while
# the leader writes the typed rows: the leader's writing is the limit, so one worker is enough
# (at 1M lines on 2 cores: 1.4 s with one worker, 1.9 s with two, 2.7 s in one process). The
# planner charges every passed row as if a large result came back to the client; the rows go to
# a table in the leader, so that cost is lowered as for the aggregates above. Small batches stay
# in one process (the raw table is below min_parallel_table_scan_size).
PARALLEL_TYPING = {"parallel_tuple_cost": "0.001", "max_parallel_workers_per_gather": "1"}


def memory_settings() -> dict[str, str]:
    """The build's work_mem and maintenance_work_mem, from the environment or the defaults;
    checked before the batch is touched, so a typo fails nothing."""
    return {
        "work_mem": settings.memory_setting(settings.BUILD_WORK_MEM_ENV, "256MB"),
        "maintenance_work_mem": settings.memory_setting(
            settings.BUILD_MAINTENANCE_WORK_MEM_ENV, "512MB"
        ),
    }


def set_session(conn: psycopg.Connection) -> None:
    """Before the build's transaction (temp_buffers cannot change once temp tables are used)."""
    conn.execute(sql.SQL("SET temp_buffers = {}").format(sql.Literal(TEMP_BUFFERS)))


def set_local(conn: psycopg.Connection, memory: dict[str, str]) -> None:
    """Inside the build's transaction: its time zone, JIT and memory."""
    for stmt in LOCAL_SETTINGS:
        conn.execute(stmt)
    for name, value in memory.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))


def analyze_lines(conn: psycopg.Connection, table: sql.Identifier) -> None:
    """Statistics on the staged lines' keys, from a small sample."""
    with db.local_settings(conn, {"default_statistics_target": LINE_STATISTICS_TARGET}):
        conn.execute(
            sql.SQL("ANALYZE {} ({})").format(
                table, sql.SQL(", ").join(sql.Identifier(c) for c in LINE_STATISTICS_COLUMNS)
            )
        )


@contextmanager
def parallel_aggregate(conn: psycopg.Connection) -> Iterator[None]:
    with db.local_settings(conn, PARALLEL_AGGREGATE):
        yield


@contextmanager
def parallel_typing(conn: psycopg.Connection) -> Iterator[None]:
    with db.local_settings(conn, PARALLEL_TYPING):
        yield
