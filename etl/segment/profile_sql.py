"""Run one profile model (``sql/segmentation/profile_*.sql``) for a run, replacing its rows.

Shared by ``profiles_demographic`` and ``profiles_channel``: both are a single set-based
INSERT ... SELECT keyed by ``run_id``, so a rebuild is DELETE + INSERT in one transaction
(the caller's when given a connection, else a new one), and a retry never duplicates rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from etl.db import local_settings, transaction
from etl.errors import SegwiseError
from etl.paths import read_sql

Check = Callable[[psycopg.Connection, int], None]
# A template model's statement for (conn, run_id, as_of), for models with {parts}.
Statement = Callable[[psycopg.Connection, int, Any], sql.Composable]
# The final GROUP BY (method, segment, dimension, value) has a few hundred groups, but the
# planner cannot know it (they come out of aggregates) and estimates millions, so it sorts tens
# of millions of wide rows instead of hashing them: 2-3x slower at 100k customers. Steer it to
# hash aggregation for the profile statement only, with room for the per-customer hash tables
# (work_mem is raised to MIN_WORK_MEM only when the caller's setting is lower).
# JIT is off: compiling these many-aggregate statements took 1-3 s each at 381k customers, more
# than it saved (segment_profiles 7.3 -> 5.8 s with it off).
PLANNER_SETTINGS = {"enable_sort": "off", "jit": "off"}
NO_JIT = {"jit": "off"}
# For statements that read one run's rows of tables holding every retained run
# (customer_segments, customer_features, customer_category_revenue): the run's rows are one
# range of the primary key, but the planner costs that range as random reads and scans every
# run's rows instead, a cost that grows with the retained dates (the members table took 10.3 s
# that way at 10M demo lines and three dates, 4.1 s through the key). Only where every table
# read has such a key: the penalty on a scan that cannot be avoided (a temporary table) swamps
# the planner's other costs (the segment profiles then sorted 1.6M rows instead of hashing).
RUN_ROWS = {"jit": "off", "enable_seqscan": "off"}
MIN_WORK_MEM = "64MB"


def replace_profiles(
    conn_or_url: psycopg.Connection | str,
    run_id: int,
    *,
    table: str,
    model: str,
    check: Check | None = None,
    statement: Statement | None = None,
) -> int:
    """DELETE the run's rows of ``segmentation.<table>``, run ``model`` (with %(run_id)s and
    %(as_of)s bound), or ``statement``'s SQL when given; rows written."""
    if isinstance(conn_or_url, psycopg.Connection):
        return _replace(conn_or_url, run_id, table, model, check, statement)
    with transaction(conn_or_url) as conn:
        return _replace(conn, run_id, table, model, check, statement)


def _replace(
    conn: psycopg.Connection,
    run_id: int,
    table: str,
    model: str,
    check: Check | None,
    statement: Statement | None,
) -> int:
    row = conn.execute(
        "SELECT as_of_date, (SELECT count(*) FROM segmentation.customer_features "
        "                    WHERE run_id = %(r)s) "
        "FROM segmentation.runs WHERE run_id = %(r)s",
        {"r": run_id},
    ).fetchone()
    if row is None:
        raise SegwiseError(f"segmentation run {run_id} does not exist")
    as_of, customers = row
    if customers == 0:
        raise SegwiseError(
            f"run {run_id} has no customer features: build_features must finish before profiles"
        )
    if check is not None:
        check(conn, run_id)
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE run_id = %s").format(sql.Identifier("segmentation", table)),
        (run_id,),
    )
    settings = dict(PLANNER_SETTINGS)
    if conn.execute(
        "SELECT pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(%s)", (MIN_WORK_MEM,)
    ).fetchone()[0]:
        settings["work_mem"] = MIN_WORK_MEM
    if statement is not None:
        query = statement(conn, run_id, as_of)
        with local_settings(conn, settings):
            return conn.execute(query).rowcount
    with local_settings(conn, settings):
        cur = conn.execute(read_sql(model), {"run_id": run_id, "as_of": as_of})
    return cur.rowcount
