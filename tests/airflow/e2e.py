"""What the end-to-end tests check in the warehouse after a DAG run, shared by the modules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from etl import quality
from etl.segment.run_config import METHODS
from tests.airflow.harness import DAG_ID, Deployment
from tests.conftest import create_database, drop_database

# Small demo warehouse: every method has customers enough to segment, runs stay short.
DEMO_ENV = {"SEGWISE_DEMO_CUSTOMERS": "400", "SEGWISE_DEMO_HISTORY_DAYS": "180"}
LABEL_COLUMNS = {
    "rfm": "rfm_segment",
    "tiers": "size_tier",
    "kmeans": "cluster_name",
    "hierarchical": "hierarchical_cluster_name",
    "demographic": "demographic_segment",
    "channel": "channel_segment",
    "lifecycle": "lifecycle_stage",
    "clv": "clv_segment",
}


@contextmanager
def deployment(root: Path, **kwargs) -> Iterator[Deployment]:
    """A started deployment with a throwaway (empty, unmigrated) warehouse; torn down after."""
    warehouse = create_database("segwise_af_wh")
    d = Deployment(root=root, warehouse_url=warehouse, **kwargs)
    try:
        d.setup()
        d.start()
        d.wait_for_dag()
        yield d
    finally:
        try:
            d.stop()
        finally:
            drop_database(warehouse)


def checksums(url: str) -> dict[str, str]:
    """The marts' content minus run ids (a re-run gets a new run id, nothing else changes)."""
    with psycopg.connect(url) as conn:
        segments = conn.execute(
            "SELECT count(*), md5(string_agg((to_jsonb(c) - 'run_id')::text, '|' "
            "ORDER BY customer_id)) FROM mart.customer_segments c"
        ).fetchone()
        profiles = conn.execute(
            "SELECT count(*), md5(string_agg((to_jsonb(p) - 'run_id')::text, '|' "
            "ORDER BY method, segment)) FROM mart.segment_profiles p"
        ).fetchone()
    return {
        "customer_segments": f"{segments[0]}:{segments[1]}",
        "segment_profiles": (f"{profiles[0]}:{profiles[1]}"),
    }


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(
            zip(
                ("runs", "batches", "lines"),
                conn.execute(
                    "SELECT (SELECT count(*) FROM segmentation.runs), "
                    "(SELECT count(*) FROM staging.load_batches), "
                    "(SELECT count(*) FROM warehouse.fact_order_line)"
                ).fetchone(),
                strict=True,
            )
        )


def published_run(url: str, as_of: dt.date) -> dict:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        row = cur.execute(
            "SELECT run_id, trigger, methods, status, params FROM segmentation.runs "
            "WHERE as_of_date = %s AND status = 'published'",
            (as_of,),
        ).fetchone()
    assert row is not None, f"no published segmentation run for {as_of}"
    return row


def assert_segmented(url: str, as_of: dt.date, methods=METHODS) -> dict:
    """Segments and profiles for the as-of date, every customer labelled by every method,
    the quality checks passing on the published run."""
    run = published_run(url, as_of)
    assert run["trigger"] == "airflow"
    assert list(run["methods"]) == list(methods)
    with psycopg.connect(url) as conn:
        n, dates = conn.execute(
            "SELECT count(*), array_agg(DISTINCT as_of_date) FROM mart.customer_segments"
        ).fetchone()
        assert n > 50
        assert dates == [as_of]
        for method in methods:
            column = LABEL_COLUMNS[method]
            missing = conn.execute(
                f"SELECT count(*) FROM mart.customer_segments WHERE {column} IS NULL"  # noqa: S608
            ).fetchone()[0]
            assert missing == 0, f"{missing} customers without a {method} segment"
        profiled = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT method, sum(customers) FROM mart.segment_profiles GROUP BY method"
            )
        }
    assert profiled == {m: n for m in methods}
    checks = quality.assert_quality(url, run["run_id"])
    assert checks and all(c.passed for c in checks)
    return run


def task_states(d: Deployment, run_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ti in d.task_instances(run_id):
        out.setdefault(ti["task_id"], []).append(ti["state"])
    return out


def run_and_wait(d: Deployment, conf: dict, *, timeout: float = 900) -> tuple[str, str]:
    run_id = d.trigger_run(conf)
    return run_id, d.wait_for_run(run_id, timeout=timeout)


def require_success(d: Deployment, run_id: str, state: str) -> None:
    if state != "success":
        pytest.fail(f"DAG run {run_id} ended {state}:\n{d.diagnostics(run_id)}")


def xcom(d: Deployment, run_id: str, task_id: str, map_index: int = -1):
    params = {"map_index": map_index} if map_index >= 0 else {}
    return d.api_json(
        "GET",
        f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
        params=params,
    )["value"]
