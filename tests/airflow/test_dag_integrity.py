"""The DAG file as Airflow 3.3's DagBag sees it: imports, graph, params, schedule from env."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from etl.segment.config import METHODS

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_ID = "customer_segmentation"
ENV_VARS = ("SEGWISE_SCHEDULE", "SEGWISE_CATCHUP", "SEGWISE_RETRIES", "SEGWISE_RETRY_DELAY")


def load_bag(monkeypatch: pytest.MonkeyPatch, **env: str):
    from airflow.dag_processing.dagbag import DagBag

    for name in (*ENV_VARS, "SEGWISE_SOURCE", "SEGWISE_START_DATE"):
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
    assert bag.dag_ids == [DAG_ID]


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
        "publish",
        "mark_failed",
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
    ]
    for upstream, downstream in zip(chain, chain[1:], strict=False):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    # mark_failed waits for every other task, whatever their state.
    final = dag.get_task("mark_failed")
    assert final.upstream_task_ids == set(dag.task_ids) - {"mark_failed"}
    assert final.trigger_rule == "all_done"
    assert dag.get_task("validate_params").upstream_task_ids == set()
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
    assert dag.get_task("mark_failed").retries == 0


def test_params_and_defaults(dag) -> None:
    params = dag.params
    assert set(params.keys()) == {"as_of", "source", "layout", "methods", "n_clusters"}
    assert params["as_of"] is None
    assert params["source"] == "demo"
    assert params["layout"] is None
    assert params["methods"] == list(METHODS)
    assert params["n_clusters"] is None
    schema = {k: params.get_param(k).schema for k in params.keys()}
    assert schema["source"]["enum"] == ["demo", "inbox", "database"]
    assert schema["methods"]["items"]["enum"] == list(METHODS)
    assert (schema["n_clusters"]["minimum"], schema["n_clusters"]["maximum"]) == (2, 20)
    assert schema["as_of"]["format"] == "date"


@pytest.mark.parametrize(
    ("conf", "ok"),
    [
        ({"as_of": "2011-12-09", "methods": ["rfm", "kmeans"], "n_clusters": 4}, True),
        ({"source": "inbox", "layout": "online_retail"}, True),
        ({"as_of": "09/12/2011"}, False),
        ({"source": "ftp"}, False),
        ({"methods": ["rfm", "astrology"]}, False),
        ({"methods": []}, False),
        ({"n_clusters": 1}, False),
        ({"n_clusters": 21}, False),
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
