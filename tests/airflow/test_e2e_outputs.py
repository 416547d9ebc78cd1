"""What a published run leaves, under a real scheduler (LocalExecutor): the report in reports/,
the segment lists + manifest in exports/, the asset event and the example downstream DAG it
schedules; and a failing data-quality gate mailing a local SMTP sink through Airflow's notifier.

Tests share one deployment and run in file order (two published dates, then a failing gate).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import time
from pathlib import Path

import psycopg
import pytest

from tests.airflow import e2e
from tests.airflow.harness import DAG_ID
from tests.airflow.smtp_sink import SmtpSink

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

SYNC_DAG = "example_segments_sync"
METHODS = ["rfm", "tiers"]
FIRST, SECOND = dt.date(2026, 10, 30), dt.date(2026, 10, 31)
STATE: dict[str, object] = {}


@pytest.fixture(scope="module")
def smtp_sink():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def airflow_deployment(tmp_path_factory, smtp_sink):
    env = {
        **e2e.DEMO_ENV,
        "SEGWISE_SCHEDULE": "none",
        "SEGWISE_ALERT_EMAIL": "marketing-ops@example.com",
        "SEGWISE_ALERT_EMAIL_FROM": "segwise@example.com",
        "AIRFLOW_CONN_SMTP_DEFAULT": smtp_sink.connection_uri,
    }
    with e2e.deployment(tmp_path_factory.mktemp("airflow_outputs"), extra_env=env) as d:
        d.wait_for_dag(SYNC_DAG)
        d.unpause()
        d.unpause(SYNC_DAG)
        yield d


def _asset_events(d) -> list[dict]:
    params = {"source_dag_id": DAG_ID, "limit": 100}
    return d.api_json("GET", "/assets/events", params=params)["asset_events"]


def _wait_for_sync_runs(d, count: int, timeout: float = 300) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        runs = d.dag_runs(SYNC_DAG)
        done = [r for r in runs if r["state"] in ("success", "failed")]
        if len(done) >= count:
            return sorted(done, key=lambda r: r["run_after"])
        assert time.monotonic() < deadline, f"{SYNC_DAG} ran {len(done)} times:\n{d.diagnostics()}"
        time.sleep(2)


def _mart_rfm_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "SELECT rfm_segment, count(*) FROM mart.customer_segments GROUP BY 1"
            ).fetchall()
        )


def _check_folder(d, url: str, as_of: dt.date, seg_run: int) -> dict:
    name = f"{as_of.isoformat()}-run{seg_run}"
    report = Path(d.env["SEGWISE_REPORTS_DIR"]) / f"segwise-report-{name}.html"
    assert report.is_file() and "<html" in report.read_text()[:500].lower()
    folder = Path(d.env["SEGWISE_EXPORTS_DIR"]) / name
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["run_id"] == seg_run and manifest["as_of"] == as_of.isoformat()
    assert manifest["methods"] == METHODS
    for f in manifest["files"]:
        data = (folder / f["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
        with (folder / f["file"]).open(newline="") as fh:
            assert sum(1 for _ in csv.DictReader(fh)) == f["rows"]
    rfm = [f for f in manifest["files"] if f["method"] == "rfm" and not f["change"]]
    members = {f["segment"]: f["rows"] for f in rfm}
    assert members == _mart_rfm_counts(url)  # the export's rows are the mart's
    return manifest


def test_published_run_writes_report_and_exports_and_emits_the_asset(airflow_deployment):
    d = airflow_deployment
    url = d.warehouse_url
    run_id, state = e2e.run_and_wait(d, {"as_of": FIRST.isoformat(), "methods": METHODS})
    e2e.require_success(d, run_id, state)
    states = e2e.task_states(d, run_id)
    assert states["cleanup_if_failed"] == ["skipped"]
    assert states["write_outputs"] == ["success"] and states["watch_data"] == ["success"]
    seg_run = e2e.published_run(url, FIRST)["run_id"]

    manifest = _check_folder(d, url, FIRST, seg_run)
    assert manifest["previous_run_id"] is None
    assert {f["change"] for f in manifest["files"]} == {None}  # nothing to compare with yet
    outputs = e2e.xcom(d, run_id, "write_outputs")
    assert outputs["manifest"].endswith(f"{FIRST.isoformat()}-run{seg_run}/manifest.json")
    (ti,) = [t for t in d.task_instances(run_id) if t["task_id"] == "write_outputs"]
    assert outputs["report"] in d.task_log(run_id, ti)  # the run's log says where

    (event,) = _asset_events(d)
    assert event["extra"]["segmentation_run"] == seg_run
    assert event["extra"]["shown_in_marts"] is True
    (sync,) = _wait_for_sync_runs(d, 1)
    assert sync["state"] == "success", d.diagnostics(sync["dag_run_id"])
    result = d.api_json(
        "GET",
        f"/dags/{SYNC_DAG}/dagRuns/{sync['dag_run_id']}/taskInstances/sync/xcomEntries/return_value",
    )["value"]
    assert result["event_run"] == seg_run and result["marts_run"] == seg_run
    assert result["customers_per_rfm_segment"] == _mart_rfm_counts(url)
    STATE["first_seg_run"] = seg_run


def test_next_date_exports_entered_and_left_lists(airflow_deployment):
    d = airflow_deployment
    url = d.warehouse_url
    run_id, state = e2e.run_and_wait(d, {"as_of": SECOND.isoformat(), "methods": METHODS})
    e2e.require_success(d, run_id, state)
    seg_run = e2e.published_run(url, SECOND)["run_id"]
    manifest = _check_folder(d, url, SECOND, seg_run)
    assert manifest["previous_run_id"] == STATE["first_seg_run"]
    files = {(f["method"], f["segment"], f["change"]): f["rows"] for f in manifest["files"]}
    with psycopg.connect(url) as conn:
        stayed = dict(
            conn.execute(
                "SELECT c.segment, count(*) FROM segmentation.customer_segments c "
                "JOIN segmentation.customer_segments p ON p.customer_id = c.customer_id "
                "AND p.method = c.method AND p.segment = c.segment "
                "WHERE c.run_id = %s AND p.run_id = %s AND c.method = 'rfm' GROUP BY 1",
                (seg_run, STATE["first_seg_run"]),
            ).fetchall()
        )
    for segment, size in _mart_rfm_counts(url).items():
        entered = files.get(("rfm", segment, "entered"), 0)
        assert entered + stayed.get(segment, 0) == size, segment
    assert len(_asset_events(d)) == 2
    assert len(_wait_for_sync_runs(d, 2)) == 2


def test_failed_quality_gate_mails_the_alert_address(airflow_deployment, smtp_sink):
    d = airflow_deployment
    url = d.warehouse_url
    with psycopg.connect(url) as conn:
        bad_batch = conn.execute(
            "INSERT INTO staging.load_batches (source_kind, layout, source_uri, status) "
            "VALUES ('file', 'segwise', 'test://half-written', 'failed') RETURNING batch_id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO warehouse.fact_order_line (order_id, line_no, order_ts, order_date, "
            "quantity, unit_price, gross_amount, amount, batch_id) "
            "VALUES ('TEST-ORPHAN', 1, '2026-10-01', '2026-10-01', 1, 5, 5, 5, %s)",
            (bad_batch,),
        )
    try:
        run_id, state = e2e.run_and_wait(d, {"as_of": SECOND.isoformat(), "methods": METHODS})
        assert state == "failed"
        assert e2e.task_states(d, run_id)["quality_checks"] == ["failed"]
        gate = smtp_sink.wait_for(f"data-quality gate failed: {DAG_ID} {run_id}", timeout=120)
        assert gate["to"] == "marketing-ops@example.com"
        assert gate["from"] == "segwise@example.com"
        assert "order lines from batches not marked succeeded" in gate.get_body().get_content()
        smtp_sink.wait_for(f"run failed: {DAG_ID} {run_id}", timeout=120)  # the DAG's callback
        assert len(_asset_events(d)) == 2  # nothing published, no asset event
    finally:
        with psycopg.connect(url) as conn:
            conn.execute("DELETE FROM warehouse.fact_order_line WHERE order_id = 'TEST-ORPHAN'")
            conn.execute("DELETE FROM staging.load_batches WHERE batch_id = %s", (bad_batch,))
