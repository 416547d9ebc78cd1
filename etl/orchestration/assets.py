"""The Airflow Asset the DAG updates when it publishes, shared by producer and consumer DAGs.

The URI follows the Postgres provider's form (host:port/database/schema/table); ``warehouse`` is
the Airflow connection id, not a host name: the asset names what changed, not where to connect.
"""

from __future__ import annotations

from typing import Any

SEGMENTS_ASSET_NAME = "segwise_customer_segments"
SEGMENTS_ASSET_URI = "postgres://warehouse:5432/segwise/mart/customer_segments"


def segments_asset() -> Any:
    """``mart.customer_segments`` as an ``airflow.sdk.Asset`` (Airflow imported only here)."""
    from airflow.sdk import Asset  # noqa: PLC0415

    return Asset(name=SEGMENTS_ASSET_NAME, uri=SEGMENTS_ASSET_URI, group="segwise")
