"""Runs nobody triggers: the scheduler starts a scheduled run on its own, and a backfill.

Schedule from SEGWISE_SCHEDULE (a midnight cron), start date in the past, catch-up off: on
unpause Airflow 3 creates the latest due run (today's) without any trigger. A daily cron rather
than a minutely one, so that no further scheduled runs appear during the test and the backfill's
runs (which Airflow does not count against max_active_runs) run alone.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from tests.airflow import e2e
from tests.airflow.harness import DAG_ID

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

SCHEDULE = "0 0 * * *"


@pytest.fixture(scope="module")
def airflow_deployment(tmp_path_factory):
    today = dt.datetime.now(dt.UTC).date()
    with e2e.deployment(
        tmp_path_factory.mktemp("airflow_scheduled"),
        extra_env={
            **e2e.DEMO_ENV,
            "SEGWISE_SCHEDULE": SCHEDULE,
            "SEGWISE_START_DATE": (today - dt.timedelta(days=7)).isoformat(),
            "SEGWISE_CATCHUP": "false",
        },
    ) as d:
        yield d


def wait_for_runs(d, run_type: str, n: int, timeout: float = 900) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        runs = [r for r in d.dag_runs() if r["run_type"] == run_type]
        if len(runs) >= n and all(r["state"] in ("success", "failed") for r in runs):
            return runs
        assert time.monotonic() < deadline, f"{run_type} runs: {runs}\n{d.diagnostics()}"
        time.sleep(2)


def test_scheduler_starts_a_scheduled_run_on_its_own(airflow_deployment) -> None:
    d = airflow_deployment
    dag = d.api_json("GET", f"/dags/{DAG_ID}")
    assert dag["timetable_summary"] == SCHEDULE  # from SEGWISE_SCHEDULE
    assert d.dag_runs() == []
    d.unpause()  # no trigger from here on
    (run,) = wait_for_runs(d, "scheduled", 1)
    e2e.require_success(d, run["dag_run_id"], run["state"])
    assert run["conf"] in ({}, None)
    logical = dt.datetime.fromisoformat(run["logical_date"])
    assert logical.time() == dt.time(0, 0)
    # as_of defaults to the run's data-interval end date
    e2e.assert_segmented(d.warehouse_url, logical.date())
    after = d.api_json("GET", f"/dags/{DAG_ID}")
    assert after["next_dagrun_logical_date"].startswith(
        (logical.date() + dt.timedelta(days=1)).isoformat()
    )


def test_backfill_runs_each_date(airflow_deployment) -> None:
    d = airflow_deployment
    (scheduled,) = [r for r in d.dag_runs() if r["run_type"] == "scheduled"]
    today = dt.datetime.fromisoformat(scheduled["logical_date"]).date()
    first, last = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    d.api_json(
        "POST",
        "/backfills",
        json={
            "dag_id": DAG_ID,
            "from_date": f"{first.isoformat()}T00:00:00Z",
            "to_date": f"{last.isoformat()}T00:00:00Z",
            "max_active_runs": 1,
        },
    )
    runs = wait_for_runs(d, "backfill", 2)
    for run in runs:
        e2e.require_success(d, run["dag_run_id"], run["state"])
    dates = sorted(dt.datetime.fromisoformat(r["logical_date"]).date() for r in runs)
    assert dates == [first, last]
    for day in dates:
        run = e2e.published_run(d.warehouse_url, day)
        assert run["trigger"] == "airflow"
    # the marts still show the latest date
    e2e.assert_segmented(d.warehouse_url, today)
