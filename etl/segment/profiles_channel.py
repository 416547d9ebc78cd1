"""Channel profiles: revenue contribution and gross margin per channel, platform, market,
region and country, overall and crossed with every method's segments of a run.

Entry point (called by ``etl.segment.pipeline.build_profiles``)::

    build(conn_or_url, run_id) -> int   # rows written to segmentation.channel_profiles

Order lines never leave Postgres: ``sql/segmentation/profile_channel.sql`` reduces the run's
customers' lines (up to the as-of date) to one row per customer and value in one pass, then joins
the segments. Gross margin uses ``fact_order_line.amount`` (after discounts) minus
``cost_amount`` on sale lines that have a cost, so it is NULL for layouts without cost data.
The per-customer ``channel`` labels come from the core pipeline (``segments_channel.sql``: main
channel and platform from the customer features).
"""

from __future__ import annotations

import psycopg

from etl.segment.profile_sql import replace_profiles

MODEL = "segmentation/profile_channel.sql"
TABLE = "channel_profiles"
DIMENSIONS = ("channel", "platform", "market", "region", "country")


def build(conn_or_url: psycopg.Connection | str, run_id: int) -> int:
    """Replace the run's channel profiles; returns the rows written."""
    return replace_profiles(conn_or_url, run_id, table=TABLE, model=MODEL)
