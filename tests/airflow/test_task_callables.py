"""The DAG's task bodies without a scheduler: the segmentation part of a run, failure marking,
and the guarantee that two runs for the same date never interleave their writes.

The DAG adds ``max_active_runs=1`` on top; this is the database-level half of the guarantee,
which also holds between the DAG and a `segwise run` on the command line, or two Airflow
deployments on one warehouse.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import psycopg
import pytest

from etl.errors import SegwiseError
from etl.orchestration import tasks
from etl.orchestration.dag_settings import SourceSettings
from tests.airflow import small_warehouse

AS_OF = dt.date(2026, 6, 30)
PARAMS = {
    "as_of": AS_OF.isoformat(),
    "source": "demo",
    "layout": None,
    "methods": ["rfm", "tiers", "kmeans"],
    "n_clusters": 3,
}


@pytest.fixture
def settings(tmp_path: Path) -> SourceSettings:
    return SourceSettings.from_env({"SEGWISE_INBOX": str(tmp_path)})


@pytest.fixture
def warehouse(fresh_warehouse_url: str) -> str:
    small_warehouse.seed(fresh_warehouse_url, end=AS_OF)
    return fresh_warehouse_url


def segmentation_part(url: str, settings: SourceSettings, params=PARAMS) -> int:
    """features -> one task per method -> profiles -> quality_checks -> publish."""
    run_id = tasks.features(url, params, airflow_run_id="test", settings=settings)
    for method in params["methods"]:
        tasks.segment(url, run_id, method)
    tasks.profiles(url, run_id)
    checks = tasks.quality_checks(url, run_id)
    assert checks and all(c["passed"] for c in checks)
    tasks.publish(url, run_id)
    return run_id


def snapshot(url: str) -> dict:
    with psycopg.connect(url) as conn:
        runs = conn.execute(
            "SELECT run_id, status FROM segmentation.runs ORDER BY run_id"
        ).fetchall()
        per_run = conn.execute(
            "SELECT run_id, count(*) FROM segmentation.customer_segments GROUP BY run_id"
        ).fetchall()
        mart = conn.execute(
            "SELECT md5(string_agg(t::text, '|' ORDER BY customer_id)) FROM "
            "(SELECT customer_id, as_of_date, rfm_segment, orders_tier, revenue_tier, "
            "cluster_id, cluster_name FROM mart.customer_segments) t"
        ).fetchone()[0]
        locks = conn.execute("SELECT count(*) FROM segmentation.run_locks").fetchone()[0]
    return {"runs": runs, "per_run": dict(per_run), "mart": mart, "locks": locks}


def test_run_publishes_with_form_settings(warehouse: str, settings: SourceSettings) -> None:
    run_id = segmentation_part(warehouse, settings)
    with psycopg.connect(warehouse) as conn:
        status, trigger, k = conn.execute(
            "SELECT r.status, r.trigger, m.k FROM segmentation.runs r "
            "JOIN segmentation.cluster_models m USING (run_id) WHERE run_id = %s",
            (run_id,),
        ).fetchone()
        as_of = conn.execute("SELECT DISTINCT as_of_date FROM mart.customer_segments").fetchall()
    assert (status, trigger, k) == ("published", "airflow", 3)  # n_clusters reached the run
    assert as_of == [(AS_OF,)]


def test_second_run_for_a_date_is_refused_while_the_first_is_in_progress(
    warehouse: str, settings: SourceSettings
) -> None:
    first = tasks.features(warehouse, PARAMS, settings=settings)
    before = snapshot(warehouse)
    with pytest.raises(SegwiseError, match="still in progress"):
        tasks.features(warehouse, PARAMS, settings=settings)
    assert snapshot(warehouse) == before  # the refused run wrote nothing
    for method in PARAMS["methods"]:
        tasks.segment(warehouse, first, method)
    tasks.profiles(warehouse, first)
    tasks.publish(warehouse, first)
    published = snapshot(warehouse)
    # Once the first is published the date is free; the rerun replaces it atomically and,
    # on unchanged data, gives the same mart.
    second = segmentation_part(warehouse, settings)
    after = snapshot(warehouse)
    assert after["mart"] == published["mart"]
    assert set(after["per_run"]) == {second}
    assert dict(after["runs"])[first] == "superseded"
    assert after["locks"] == 0


def test_concurrent_runs_for_one_date_never_interleave(
    warehouse: str, settings: SourceSettings
) -> None:
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def one(name: str) -> None:
        barrier.wait()
        try:
            outcomes[name] = segmentation_part(warehouse, settings)
        except SegwiseError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=one, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    won = [v for v in outcomes.values() if isinstance(v, int)]
    refused = [v for v in outcomes.values() if isinstance(v, SegwiseError)]
    # The runs either serialised (one finished before the other started: both published in
    # turn) or one was refused by the date lock; never two runs' rows side by side.
    assert len(won) + len(refused) == 2
    assert all("still in progress" in str(e) for e in refused)
    state = snapshot(warehouse)
    assert set(state["per_run"]) == {max(won)}
    assert state["locks"] == 0
    statuses = dict(state["runs"])
    assert statuses[max(won)] == "published"
    assert all(s == "superseded" for r, s in statuses.items() if r != max(won))


def test_failed_run_is_marked_and_the_published_results_stay(
    warehouse: str, settings: SourceSettings
) -> None:
    segmentation_part(warehouse, settings)
    published = snapshot(warehouse)
    run_id = tasks.features(warehouse, PARAMS, settings=settings)
    tasks.segment(warehouse, run_id, "rfm")
    with pytest.raises(SegwiseError):
        tasks.segment(warehouse, run_id, "hierarchical")  # not a method of this run
    assert tasks.mark_failed(warehouse, run_id, "Airflow run x failed in: segment") is True
    after = snapshot(warehouse)
    assert dict(after["runs"])[run_id] == "failed"
    assert after["mart"] == published["mart"]
    assert after["per_run"] == published["per_run"]
    assert after["locks"] == 0
    # marking again (a cleared mark_failed task) is harmless
    assert tasks.mark_failed(warehouse, run_id, "again") is True
    assert tasks.mark_failed(warehouse, None, "validate_params failed") is False


DEMO_ENV = {"SEGWISE_DEMO_CUSTOMERS": "300", "SEGWISE_DEMO_HISTORY_DAYS": "150"}


def test_demo_source_from_an_empty_database(empty_database_url: str, tmp_path: Path) -> None:
    """First run on an empty warehouse: schema, demo history + the day's feed, segments; the
    same date again stages nothing new and leaves identical marts."""
    url = empty_database_url
    settings = SourceSettings.from_env({**DEMO_ENV, "SEGWISE_INBOX": str(tmp_path)})
    raw = {"as_of": None, "source": "demo", "layout": None, "methods": ["rfm", "tiers"]}
    p = tasks.validate_params(raw, default_as_of=AS_OF, settings=settings)
    assert p["as_of"] == AS_OF.isoformat()
    assert tasks.migrate(url)
    loaded = tasks.extract_load(url, p, settings=settings)
    assert [b["status"] for b in loaded["batches"]] == ["staged", "staged"]  # history, day
    built = tasks.build_warehouse(url)
    assert [b["status"] for b in built["built"]] == ["succeeded", "succeeded"]
    segmentation_part(url, settings, p)
    first = snapshot(url)
    with psycopg.connect(url) as conn:
        lines, last_day = conn.execute(
            "SELECT count(*), max(order_date) FROM warehouse.fact_order_line"
        ).fetchone()
    assert last_day == AS_OF

    again = tasks.extract_load(url, p, settings=settings)
    assert [b["status"] for b in again["batches"]] == ["skipped"]  # history not re-generated
    assert again["staged_batch_ids"] == []
    assert tasks.build_warehouse(url)["built"] == []
    segmentation_part(url, settings, p)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM warehouse.fact_order_line").fetchone()[0] == (
            lines
        )
    assert snapshot(url)["mart"] == first["mart"]


@pytest.mark.parametrize(
    ("raw", "env", "needle"),
    [
        ({"source": "demo", "layout": "online_retail"}, {}, "always uses the 'segwise' layout"),
        ({"source": "inbox", "layout": "no_such_layout"}, {}, "layout 'no_such_layout' is unknown"),
        ({"source": "inbox"}, {"SEGWISE_INBOX": "/nonexistent/inbox"}, "inbox folder"),
        ({"source": "database"}, {}, "SEGWISE_SOURCE_URL, SEGWISE_SOURCE_QUERY"),
        ({"source": "inbox"}, {}, "needs a layout (param 'layout' or SEGWISE_LAYOUT"),
        (
            {"source": "inbox", "layout": "online_retail"},
            {"SEGWISE_MAPPING": __file__},
            "give a layout or a mapping file, not both",
        ),
        ({"source": "demo"}, {"SEGWISE_RUN_CONFIG": "/nonexistent.yml"}, "SEGWISE_RUN_CONFIG"),
        ({"source": "demo", "methdos": ["rfm"]}, {}, "unknown parameter(s) 'methdos'"),
    ],
)
def test_first_task_rejects_bad_runs_before_any_database_work(
    raw: dict, env: dict, needle: str, tmp_path: Path
) -> None:
    settings = SourceSettings.from_env({"SEGWISE_INBOX": str(tmp_path), **env})
    with pytest.raises(SegwiseError) as err:
        tasks.validate_params(raw, default_as_of=AS_OF, settings=settings)
    assert needle in str(err.value)
    assert "nothing was written" in str(err.value)


def test_parameter_and_source_problems_are_reported_together(tmp_path: Path) -> None:
    settings = SourceSettings.from_env({"SEGWISE_INBOX": str(tmp_path)})
    raw = {"source": "demo", "layout": "online_retail", "methdos": ["rfm"], "n_clusters": 50}
    with pytest.raises(SegwiseError) as err:
        tasks.validate_params(raw, default_as_of=AS_OF, settings=settings)
    message = str(err.value)
    for needle in ("'methdos'", "n_clusters 50", "always uses the 'segwise' layout"):
        assert needle in message, message
