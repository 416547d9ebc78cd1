"""example_segments_sync: how a team hooks its own sync onto freshly published segments.

Scheduled on the asset ``segwise_customer_segments``, which ``customer_segmentation`` updates
each time it publishes; so it runs once per published run, never on a clock. Copy this file and
replace ``sync`` with your CRM / reverse-ETL call. Logic in ``etl.orchestration.sync_example``.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from etl.orchestration.assets import segments_asset

SEGMENTS = segments_asset()


@dag(
    dag_id="example_segments_sync",
    schedule=[SEGMENTS],
    catchup=False,
    max_active_runs=1,
    tags=["segwise", "example"],
    description="Example: runs after each published segmentation (asset-scheduled)",
    doc_md=__doc__,
)
def example_segments_sync() -> None:
    @task
    def sync(**context: Any) -> dict[str, Any]:
        """Reads which run was published from the asset event and counts its customers per
        RFM segment in ``mart.customer_segments``: where a real sync would send them."""
        from etl.orchestration.connection import warehouse_url
        from etl.orchestration.sync_example import summarise

        events = context["triggering_asset_events"][SEGMENTS]
        return summarise(warehouse_url(), [dict(e.extra) for e in events])

    sync()


example_segments_sync()
