"""The body of the example downstream DAG (``dags/example_segments_sync.py``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from etl.db import connect
from etl.errors import SegwiseError

log = logging.getLogger(__name__)


def summarise(url: str, events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The newest event's run and what the marts hold for it (a sync would push these rows)."""
    if not events:
        raise SegwiseError("no asset event: this DAG runs when customer_segmentation publishes")
    latest = events[-1]
    with connect(url) as conn:
        row = conn.execute("SELECT run_id, as_of_date FROM mart.runs WHERE is_latest").fetchone()
        per_segment = dict(
            conn.execute(
                "SELECT coalesce(rfm_segment, '(no rfm)'), count(*) "
                "FROM mart.customer_segments GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
    log.info(
        "asset event for segmentation run %s (as of %s); the marts show run %s (as of %s): %s",
        latest.get("segmentation_run"),
        latest.get("as_of"),
        row[0] if row else None,
        row[1] if row else None,
        per_segment,
    )
    return {
        "event_run": latest.get("segmentation_run"),
        "event_as_of": latest.get("as_of"),
        "marts_run": row[0] if row else None,
        "customers_per_rfm_segment": per_segment,
    }
