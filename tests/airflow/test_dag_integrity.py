"""The DAG file as Airflow 3.3's DagBag sees it: imports, graph, params, schedule from env."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from etl.segment.run_config import METHODS

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_ID = "customer_segmentation"
SYNC_DAG_ID = "example_segments_sync"
ALERT_VARS = ("SEGWISE_ALERT_EMAIL", "SEGWISE_ALERT_SMTP_CONN_ID", "SEGWISE_ALERT_SLACK_CONN_ID")
ENV_VARS = ("SEGWISE_SCHEDULE", "SEGWISE_CATCHUP", "SEGWISE_RETRIES", "SEGWISE_RETRY_DELAY")


def load_bag(monkeypatch: pytest.MonkeyPatch, **env: str):
    from airflow.dag_processing.dagbag import DagBag

    for name in (*ENV_VARS, *ALERT_VARS, "SEGWISE_SOURCE", "SEGWISE_START_DATE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return DagBag(dag_folder=str(DAGS), safe_mode=False)


@pytest.fixture
def dag(monkeypatch: pytest.MonkeyPatch):
    bag = load_bag(monkeypatch)
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


@pytest.fixture
def serialized(dag):
    """The DAG as the scheduler and API server hold it (they never import the file)."""
    from airflow.serialization.serialized_objects import DagSerialization

    return DagSerialization.from_dict(DagSerialization.to_dict(dag))


def test_dag_folder_imports_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    bag = load_bag(monkeypatch)
    assert bag.import_errors == {}, bag.import_errors
    assert sorted(bag.dag_ids) == [DAG_ID, SYNC_DAG_ID]


def test_graph_has_the_pipeline_tasks_in_order(dag) -> None:
    assert set(dag.task_ids) == {
        "validate_params",
        "migrate",
        "extract_load",
        "build_warehouse",
        "features",
        "segment",
        "profiles",
        "quality_checks",
        "watch_data",
        "publish",
        "write_outputs",
        "cleanup_if_failed",
    }
    chain = [
        "validate_params",
        "migrate",
        "extract_load",
        "build_warehouse",
        "features",
        "segment",
        "profiles",
        "quality_checks",
        "publish",
        "write_outputs",
    ]
    for upstream, downstream in zip(chain, chain[1:], strict=False):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    # cleanup_if_failed waits for every other task, whatever their state.
    final = dag.get_task("cleanup_if_failed")
    assert final.upstream_task_ids == set(dag.task_ids) - {"cleanup_if_failed"}
    assert final.trigger_rule == "all_done"
    assert dag.get_task("validate_params").upstream_task_ids == set()
    # warnings never hold publish back: watch_data is not upstream of publish
    assert dag.get_task("watch_data").upstream_task_ids == {"profiles"}
    assert dag.get_task("publish").upstream_task_ids == {"profiles", "quality_checks"}
    dag.check_cycle()  # Airflow's own check (DagBag runs it too): raises on a cycle


def test_methods_run_as_mapped_parallel_tasks(dag) -> None:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    segment = dag.get_task("segment")
    assert isinstance(segment, MappedOperator)
    # one task instance per (run, method) assignment that `features` returns
    assert segment.op_kwargs_expand_input.value.operator.task_id == "features"


def test_run_settings(dag) -> None:
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert dag.schedule == "@daily"
    assert dag.default_args["retries"] == 2
    assert dag.default_args["retry_delay"] == timedelta(seconds=30)
    assert dag.get_task("cleanup_if_failed").retries == 0


def test_params_and_defaults(dag) -> None:
    params = dag.params
    assert set(params.keys()) == {
        "as_of", "source", "layout", "methods", "n_clusters", "refit_days",
        "full_quality_checks",
    }  # fmt: skip
    assert params["as_of"] is None
    assert params["source"] == "demo"
    assert params["layout"] is None
    assert params["methods"] == list(METHODS)
    assert params["n_clusters"] is None
    assert params["refit_days"] is None
    assert params["full_quality_checks"] is False
    schema = {k: params.get_param(k).schema for k in params.keys()}
    assert schema["source"]["enum"] == ["demo", "inbox", "database"]
    assert schema["methods"]["items"]["enum"] == list(METHODS)
    assert (schema["n_clusters"]["minimum"], schema["n_clusters"]["maximum"]) == (2, 20)
    assert (schema["refit_days"]["minimum"], schema["refit_days"]["maximum"]) == (0, 366)
    # a text field whose help and check agree on YYYY-MM-DD (no locale-formatted date picker)
    assert "format" not in schema["as_of"]
    help_text = params.get_param("as_of").description
    assert "YYYY-MM-DD" in schema["as_of"]["title"] and "YYYY-MM-DD" in help_text
    assert "mart views keep showing the latest as-of date" in help_text
    # `examples` on an array of strings is what makes Airflow's form a multi-select
    assert schema["methods"]["type"] == "array"
    assert schema["methods"]["items"]["type"] == "string"
    assert schema["methods"]["examples"] == list(METHODS)


def test_dag_explains_itself_in_the_ui(dag) -> None:
    assert dag.description and "segment" in dag.description
    assert "skipped on a healthy" in dag.doc_md and "reports/" in dag.doc_md
    cleanup = dag.get_task("cleanup_if_failed")
    assert cleanup.doc_md and "Skipped = nothing failed" in cleanup.doc_md


def test_publish_emits_the_segments_asset_and_the_example_dag_waits_for_it(monkeypatch) -> None:
    bag = load_bag(monkeypatch)
    dag, sync = bag.dags[DAG_ID], bag.dags[SYNC_DAG_ID]
    (outlet,) = dag.get_task("publish").outlets
    assert outlet.name == "segwise_customer_segments"
    assert outlet.uri == "postgres://warehouse:5432/segwise/mart/customer_segments"
    assert [a.name for a in sync.timetable.asset_condition.objects] == [outlet.name]


def test_alerts_are_off_by_default(dag) -> None:
    assert not dag.on_failure_callback
    assert not dag.get_task("quality_checks").on_failure_callback


def test_alerts_from_the_environment_use_airflow_notifiers(monkeypatch) -> None:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    bag = load_bag(
        monkeypatch,
        SEGWISE_ALERT_EMAIL="ops@example.com, crm@example.com",
        SEGWISE_ALERT_SMTP_CONN_ID="smtp_alerts",
    )
    assert bag.import_errors == {}
    dag = bag.dags[DAG_ID]
    (run_failed,) = dag.on_failure_callback
    (gate_failed,) = dag.get_task("quality_checks").on_failure_callback
    for notifier in (run_failed, gate_failed):
        assert isinstance(notifier, SmtpNotifier)
        assert notifier.to == ["ops@example.com", "crm@example.com"]
        assert notifier.smtp_conn_id == "smtp_alerts"
    assert "quality gate" in gate_failed.subject and "run failed" in run_failed.subject


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SEGWISE_ALERT_EMAIL": "not-an-address"}, "SEGWISE_ALERT_EMAIL"),
        ({"SEGWISE_ALERT_SLACK_CONN_ID": "slack_default"}, "apache-airflow-providers-slack"),
    ],
)
def test_bad_alert_settings_are_an_import_error(monkeypatch, env, needle) -> None:
    bag = load_bag(monkeypatch, **env)
    assert DAG_ID not in bag.dags
    assert any(needle in m for m in bag.import_errors.values()), bag.import_errors


@pytest.mark.parametrize(
    ("conf", "ok"),
    [
        ({"as_of": "2011-12-09", "methods": ["rfm", "kmeans"], "n_clusters": 4}, True),
        ({"source": "inbox", "layout": "online_retail"}, True),
        ({"as_of": "09/12/2011"}, False),
        ({"as_of": "2011-12-9"}, False),
        ({"as_of": None}, True),
        ({"source": "ftp"}, False),
        ({"methods": ["rfm", "astrology"]}, False),
        ({"methods": []}, False),
        ({"n_clusters": 1}, False),
        ({"n_clusters": 21}, False),
        ({"refit_days": 0}, True),
        ({"refit_days": -1}, False),
        ({"full_quality_checks": True}, True),
        ({"full_quality_checks": "yes"}, False),
        ({"layout": "Bad Layout!"}, False),
    ],
)
def test_form_schema_accepts_and_rejects(serialized, conf: dict, ok: bool) -> None:
    """The check the API runs when a run is triggered with conf (create_dagrun)."""
    from airflow.exceptions import ParamValidationError

    merged = serialized.params.deep_merge(conf)
    if ok:
        merged.validate()
    else:
        with pytest.raises(ParamValidationError):
            merged.validate()


def test_dag_serializes_like_the_scheduler_does(dag, serialized) -> None:
    assert set(serialized.task_ids) == set(dag.task_ids)
    assert serialized.max_active_runs == 1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SEGWISE_SCHEDULE": "0 2 * * *"}, "0 2 * * *"),
        ({"SEGWISE_SCHEDULE": "@hourly"}, "@hourly"),
        ({"SEGWISE_SCHEDULE": "30s"}, timedelta(seconds=30)),
        ({"SEGWISE_SCHEDULE": "none"}, None),
    ],
)
def test_schedule_comes_from_the_environment(monkeypatch, env: dict, expected) -> None:
    bag = load_bag(monkeypatch, **env)
    assert bag.import_errors == {}
    dag = bag.dags[DAG_ID]
    assert dag.schedule == expected


def test_catchup_and_retries_from_the_environment(monkeypatch) -> None:
    bag = load_bag(
        monkeypatch, SEGWISE_CATCHUP="true", SEGWISE_RETRIES="0", SEGWISE_RETRY_DELAY="5"
    )
    dag = bag.dags[DAG_ID]
    assert dag.catchup is True
    assert dag.default_args["retries"] == 0
    assert dag.default_args["retry_delay"] == timedelta(seconds=5)


def test_bad_environment_is_an_import_error_naming_the_variable(monkeypatch) -> None:
    bag = load_bag(monkeypatch, SEGWISE_SCHEDULE="every tuesday-ish")
    assert DAG_ID not in bag.dags
    (message,) = bag.import_errors.values()
    assert "SEGWISE_SCHEDULE" in message
