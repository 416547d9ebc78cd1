"""End to end under a real scheduler (LocalExecutor): API server, scheduler and DAG processor as
processes, metadata on Postgres, the DAG triggered through the REST API v2 with conf.

The tests share one deployment and run in file order: a first run on an empty warehouse, a
second trigger for the same date, a cleared-and-rerun run, bad parameters, a failing quality
check. Each later test relies on the published results of the first.
"""

from __future__ import annotations

import datetime as dt
import time

import psycopg
import pytest

from etl.segment.run_config import METHODS
from tests.airflow import e2e
from tests.airflow.harness import DAG_ID

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

AS_OF = dt.date(2026, 10, 31)
CONF = {"as_of": AS_OF.isoformat(), "source": "demo", "methods": list(METHODS), "n_clusters": 4}
STATE: dict[str, object] = {}


@pytest.fixture(scope="module")
def airflow_deployment(tmp_path_factory):
    with e2e.deployment(
        tmp_path_factory.mktemp("airflow_local"),
        extra_env={**e2e.DEMO_ENV, "SEGWISE_SCHEDULE": "none"},
    ) as d:
        d.unpause()
        yield d


@pytest.fixture(scope="module")
def warehouse(airflow_deployment) -> str:
    return airflow_deployment.warehouse_url


def test_manual_run_segments_an_empty_warehouse(airflow_deployment, warehouse) -> None:
    d = airflow_deployment
    run_id, state = e2e.run_and_wait(d, CONF)
    e2e.require_success(d, run_id, state)
    run = e2e.assert_segmented(warehouse, AS_OF)
    assert run["params"]["clustering"]["k"] == 4  # the form's n_clusters reached the run

    states = e2e.task_states(d, run_id)
    assert states.pop("cleanup_if_failed") == ["skipped"]
    assert states.pop("segment") == ["success"] * len(METHODS)  # one mapped task per method
    assert all(s == ["success"] for s in states.values()), states
    mapped = [ti for ti in d.task_instances(run_id) if ti["task_id"] == "segment"]
    assert sorted(ti["rendered_map_index"] for ti in mapped) == sorted(METHODS)

    checks = e2e.xcom(d, run_id, "quality_checks")
    assert checks and all(c["passed"] for c in checks), checks
    assert e2e.xcom(d, run_id, "validate_params")["as_of"] == AS_OF.isoformat()
    STATE["first"] = e2e.checksums(warehouse)
    STATE["counts"] = e2e.counts(warehouse)
    STATE["seg_run"] = run["run_id"]


def test_second_trigger_for_the_same_date_leaves_identical_tables(
    airflow_deployment, warehouse
) -> None:
    d = airflow_deployment
    run_id, state = e2e.run_and_wait(d, CONF)
    e2e.require_success(d, run_id, state)
    assert e2e.checksums(warehouse) == STATE["first"]
    run = e2e.assert_segmented(warehouse, AS_OF)
    assert run["run_id"] != STATE["seg_run"]
    after = e2e.counts(warehouse)
    assert after["lines"] == STATE["counts"]["lines"]  # the day's feed was already loaded
    loaded = e2e.xcom(d, run_id, "extract_load")
    assert [b["status"] for b in loaded["batches"]] == ["skipped"]
    with psycopg.connect(warehouse) as conn:
        status = conn.execute(
            "SELECT status FROM segmentation.runs WHERE run_id = %s", (STATE["seg_run"],)
        ).fetchone()[0]
    assert status == "superseded"
    STATE["second_airflow_run"] = run_id


def test_clearing_a_finished_run_reruns_it_to_the_same_tables(
    airflow_deployment, warehouse
) -> None:
    d = airflow_deployment
    run_id = STATE["second_airflow_run"]
    before = d.dag_run(run_id)
    cleared = d.api_json(
        "POST",
        f"/dags/{DAG_ID}/clearTaskInstances",
        # dry_run defaults to true in the API: without it nothing is cleared
        json={"dag_run_id": run_id, "only_failed": False, "dry_run": False},
    )
    assert cleared["total_entries"] == 11 + len(METHODS)
    deadline = time.monotonic() + 600
    while True:
        run = d.dag_run(run_id)
        rerun = run["end_date"] and run["end_date"] != before["end_date"]
        if run["state"] in ("success", "failed") and rerun:
            break
        assert time.monotonic() < deadline, d.diagnostics(run_id)
        time.sleep(2)
    e2e.require_success(d, run_id, run["state"])
    assert e2e.checksums(warehouse) == STATE["first"]
    e2e.assert_segmented(warehouse, AS_OF)


@pytest.mark.parametrize(
    ("conf", "needle"),
    [
        ({"n_clusters": 1}, "n_clusters"),
        ({"methods": ["rfm", "astrology"]}, "astrology"),
        ({"as_of": "31/10/2026"}, "as_of"),
        ({"source": "ftp"}, "source"),
    ],
)
def test_form_rejects_bad_values_before_a_run_exists(airflow_deployment, conf, needle) -> None:
    d = airflow_deployment
    runs_before = len(d.dag_runs())
    resp = d.trigger(conf)
    assert resp.status_code == 400, resp.text
    assert needle in resp.json()["detail"]
    assert len(d.dag_runs()) == runs_before


def test_bad_parameter_fails_the_first_task_and_changes_nothing(
    airflow_deployment, warehouse
) -> None:
    """Conf the form's schema lets through (an unknown key, a layout the demo cannot use) is
    caught by the first task, before anything touches the warehouse."""
    d = airflow_deployment
    before = (e2e.checksums(warehouse), e2e.counts(warehouse))
    run_id, state = e2e.run_and_wait(
        d, {"as_of": AS_OF.isoformat(), "methdos": ["rfm"], "layout": "online_retail"}
    )
    assert state == "failed"
    states = e2e.task_states(d, run_id)
    assert states.pop("validate_params") == ["failed"]
    assert states.pop("cleanup_if_failed") == ["failed"]  # the run's verdict; no segmentation run
    assert all(s == ["upstream_failed"] for s in states.values()), states
    (ti,) = [t for t in d.task_instances(run_id) if t["task_id"] == "validate_params"]
    log = d.task_log(run_id, ti)
    assert "invalid run parameters (nothing was written)" in log
    assert "unknown parameter(s) 'methdos'" in log
    assert "always uses the 'segwise' layout" in log
    assert (e2e.checksums(warehouse), e2e.counts(warehouse)) == before


def test_failed_quality_check_keeps_the_previous_results_visible(
    airflow_deployment, warehouse
) -> None:
    d = airflow_deployment
    before = e2e.checksums(warehouse)
    with psycopg.connect(warehouse) as conn:
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
        run_id, state = e2e.run_and_wait(d, CONF)
        assert state == "failed"
        states = e2e.task_states(d, run_id)
        assert states["quality_checks"] == ["failed"]
        assert states["publish"] == ["upstream_failed"]
        assert states["cleanup_if_failed"] == ["failed"]
        (ti,) = [t for t in d.task_instances(run_id) if t["task_id"] == "quality_checks"]
        assert "order lines from batches not marked succeeded" in d.task_log(run_id, ti)
        with psycopg.connect(warehouse) as conn:
            status, message = conn.execute(
                "SELECT status, message FROM segmentation.runs ORDER BY run_id DESC LIMIT 1"
            ).fetchone()
            locks = conn.execute("SELECT count(*) FROM segmentation.run_locks").fetchone()[0]
        assert status == "failed"
        assert "quality_checks" in message and run_id in message
        assert locks == 0
        assert e2e.checksums(warehouse) == before
    finally:
        with psycopg.connect(warehouse) as conn:
            conn.execute("DELETE FROM warehouse.fact_order_line WHERE order_id = 'TEST-ORPHAN'")
            conn.execute("DELETE FROM staging.load_batches WHERE batch_id = %s", (bad_batch,))
