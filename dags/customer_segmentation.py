"""customer_segmentation: load new order data, segment customers, publish the marts.

Thin by design: task bodies live in ``etl.orchestration.tasks``; settings come from the
environment (``etl.orchestration.settings``); the form's params and their validation from
``etl.orchestration.params``. See docs/airflow.md.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import TriggerRule, dag, get_current_context, task

from etl.orchestration.params import dag_params
from etl.orchestration.settings import DagSettings

SETTINGS = DagSettings.from_env()


def _url() -> str:
    from etl.orchestration.connection import warehouse_url

    return warehouse_url()


@dag(
    dag_id="customer_segmentation",
    schedule=SETTINGS.schedule,
    start_date=SETTINGS.start_date,
    catchup=SETTINGS.catchup,
    max_active_runs=1,
    default_args={"retries": SETTINGS.retries, "retry_delay": SETTINGS.retry_delay},
    params=dag_params(SETTINGS.default_source),
    tags=["segwise"],
    doc_md=__doc__,
)
def customer_segmentation() -> None:
    @task
    def validate_params(**context: Any) -> dict[str, Any]:
        """Fails the run with a readable message before anything touches the warehouse."""
        from etl.orchestration import params, tasks

        default = params.default_as_of(
            data_interval_end=context.get("data_interval_end"),
            logical_date=context.get("logical_date"),
            run_after=context["dag_run"].run_after,
        )
        checked = tasks.validate_params(dict(context["params"]), default_as_of=default)
        _url()  # the warehouse connection must exist (resolving it does not connect)
        return checked

    @task
    def migrate() -> str | None:
        from etl.orchestration import tasks

        return tasks.migrate(_url())

    @task
    def extract_load(run_params: dict[str, Any]) -> dict[str, Any]:
        from etl.orchestration import tasks

        return tasks.extract_load(_url(), run_params)

    @task
    def build_warehouse(loaded: dict[str, Any]) -> dict[str, Any]:
        from etl.orchestration import tasks

        return tasks.build_warehouse(_url())  # every staged batch; `loaded` orders the tasks

    @task
    def features(run_params: dict[str, Any], **context: Any) -> list[dict[str, Any]]:
        """Opens the segmentation run; returns one (run, method) assignment per method task."""
        from etl.orchestration import tasks

        seg_run = tasks.features(_url(), run_params, airflow_run_id=context["run_id"])
        return [{"seg_run": seg_run, "method": m} for m in run_params["methods"]]

    @task(map_index_template="{{ method_name }}")
    def segment(seg_run: int, method: str) -> int:
        from etl.orchestration import tasks

        get_current_context()["method_name"] = method  # type: ignore[typeddict-unknown-key]
        tasks.segment(_url(), seg_run, method)
        return seg_run

    @task
    def profiles(seg_runs: list[int]) -> int:
        from etl.orchestration import tasks

        (seg_run,) = set(seg_runs)  # every method task worked on the same run
        tasks.profiles(_url(), seg_run)
        return seg_run

    @task
    def quality_checks(seg_run: int) -> list[dict[str, Any]]:
        from etl.orchestration import tasks

        return tasks.quality_checks(_url(), seg_run)

    @task
    def publish(seg_run: int) -> int:
        from etl.orchestration import tasks

        tasks.publish(_url(), seg_run)
        return seg_run

    @task(trigger_rule=TriggerRule.ALL_DONE, retries=0)
    def mark_failed(**context: Any) -> None:
        """Runs after everything else. If anything failed, marks the segmentation run failed
        (its lock released, the previously published results stay visible) and fails itself:
        as the DAG's only leaf it is what makes the Airflow run count as failed."""
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from etl.orchestration import tasks

        ti = context["ti"]
        states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {})
        failed = sorted(name for name, state in states.items() if state == "failed")
        if not failed and "upstream_failed" not in states.values():
            raise AirflowSkipException("no task failed")
        assignments = ti.xcom_pull(task_ids="features")
        run_id = assignments[0]["seg_run"] if assignments else None
        message = f"Airflow run {ti.run_id} failed in: {', '.join(failed) or 'an upstream task'}"
        marked = tasks.mark_failed(_url() if run_id is not None else "", run_id, message)
        raise AirflowFailException(
            message
            + (f"; segmentation run {run_id} marked failed" if marked else "")
            + " (the previously published results stay visible)"
        )

    run_params = validate_params()
    migrated = migrate()
    loaded = extract_load(run_params)
    built = build_warehouse(loaded)
    assignments = features(run_params)
    segmented = segment.expand_kwargs(assignments)
    profiled = profiles(segmented)
    checked = quality_checks(profiled)
    published = publish(profiled)

    run_params >> migrated >> loaded
    built >> assignments
    checked >> published
    everything = [run_params, migrated, loaded, built, assignments, segmented, profiled, checked]
    [*everything, published] >> mark_failed()


customer_segmentation()
