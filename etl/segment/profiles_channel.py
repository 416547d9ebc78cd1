"""Channel profiles: revenue contribution and gross margin per channel, platform, market,
region and country, overall and crossed with every method's segments of a run.

Entry point (called by ``etl.segment.pipeline.build_profiles``)::

    build(conn_or_url, run_id) -> int   # rows written to segmentation.channel_profiles

Order lines never leave Postgres. The per-customer rows (one per customer and value) are the
warehouse's kept totals for a run of the latest date (``etl.segment.customer_state``), else the
same model computed up to the run's as-of date; ``sql/segmentation/profile_channel.sql`` then
adds them up per segment. Gross margin uses ``fact_order_line.amount`` (after discounts) minus
``cost_amount`` on sale lines that have a cost, so it is NULL for layouts without cost data.
The per-customer ``channel`` labels come from the core pipeline (``segments_channel.sql``: main
channel and platform from the customer features).
"""

from __future__ import annotations

import datetime as dt

import psycopg
from psycopg import sql

from etl.paths import model
from etl.segment import customer_state as state
from etl.segment import profile_members
from etl.segment.profile_sql import replace_profiles

MODEL = "segmentation/profile_channel.sql"
TABLE = "channel_profiles"
DIMENSIONS = ("channel", "platform", "market", "region", "country")


def build(conn_or_url: psycopg.Connection | str, run_id: int) -> int:
    """Replace the run's channel profiles; returns the rows written."""
    return replace_profiles(conn_or_url, run_id, table=TABLE, model=MODEL, statement=_statement)


def _statement(conn: psycopg.Connection, run_id: int, as_of: dt.date) -> sql.Composed:
    if _reads_state(conn, run_id, as_of):
        source: sql.Composable = state.CHANNEL_TOTALS
    else:
        source = state.temp_table(
            conn,
            "segwise_channel_totals",
            state.channel_totals(state.orders_up_to(as_of), as_of),
        )
    members, methods = profile_members.ensure(conn, run_id)
    sizes = profile_members.grouping(methods)
    return model(
        MODEL,
        channel_totals=source,
        members=members,
        run_id=sql.Literal(run_id),
        size_sets=sizes["sets"],
        first_method=sql.Literal(methods[0] if methods else None),
        **profile_members.grouping(methods, ("c.dimension", "c.value"), whole=not methods),
    )


def _reads_state(conn: psycopg.Connection, run_id: int, as_of: dt.date) -> bool:
    use = conn.execute(
        "SELECT coalesce((params ->> 'customer_state')::boolean, true) "
        "FROM segmentation.runs WHERE run_id = %s",
        (run_id,),
    ).fetchone()
    return bool(use and use[0]) and state.usable_for(conn, as_of)
