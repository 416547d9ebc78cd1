"""customer_segmentation: load new order data, segment customers, publish the marts.

Thin by design: task bodies live in ``etl.orchestration.tasks`` and ``.outputs``; settings come
from the environment (``etl.orchestration.dag_settings``, ``.alerts``); the form's params and their
validation from ``etl.orchestration.params``. See docs/airflow.md.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import TriggerRule, dag, get_current_context, task

from etl.orchestration import alerts
from etl.orchestration.assets import segments_asset
from etl.orchestration.dag_settings import DagSettings
from etl.orchestration.params import dag_params

SETTINGS = DagSettings.from_env()
ALERTS = alerts.AlertSettings.from_env()
SEGMENTS = segments_asset()

DOC_MD = """
### Customer segmentation

Loads the new order data, segments every customer with the chosen methods (as of one date),
checks the results and publishes them to the `mart` views BI tools read.

**Trigger with params**: *As-of date* as `YYYY-MM-DD` (empty = today / the scheduled date),
*Source*, *Segmentation methods* (pick any of the known methods) and *Number of clusters*. A
run for a past as-of date is published, but the `mart` views keep showing the latest as-of date.

**What each run leaves**: the HTML report in the `reports/` folder
(`segwise-report-<as-of>-run<id>.html`) and one CSV/Parquet file per segment and per
entered/left list, with `manifest.json`, in `exports/<as-of>-run<id>/`; the `write_outputs`
task's log and XCom give the exact paths. Publishing updates the asset
`segwise_customer_segments`, which DAGs such as `example_segments_sync` are scheduled on.

**Reading the grid**: `cleanup_if_failed` runs after everything and is **skipped on a healthy
run** (skipped is normal there). When a task failed, it records the failure, keeps the previous
results visible and fails, which makes the run count as failed. `watch_data` logs freshness
and volume warnings without holding the run back.
"""

CLEANUP_DOC = """Skipped = nothing failed (the normal case). If a task failed, marks the
segmentation run failed (its partial rows go, the previous results stay visible) and fails
itself, so the Airflow run counts as failed."""


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
    description="Load new orders, segment customers, publish the marts, report and export",
    doc_md=DOC_MD,
    on_failure_callback=alerts.notifiers(ALERTS, alerts.RUN_FAILED) or None,
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

    @task(on_failure_callback=alerts.notifiers(ALERTS, alerts.QUALITY_FAILED) or None)
    def quality_checks(seg_run: int) -> list[dict[str, Any]]:
        from etl.orchestration import tasks

        return tasks.quality_checks(_url(), seg_run)

    @task
    def watch_data(seg_run: int, **context: Any) -> list[str]:
        """Freshness / volume / segment-share warnings: logged (and sent where alerts are on),
        never blocking publish."""
        from etl.orchestration import outputs

        found = outputs.watch(_url(), seg_run)
        alerts.send_warnings(alerts.AlertSettings.from_env(), context, found)
        return found

    @task(outlets=[SEGMENTS])
    def publish(seg_run: int, **context: Any) -> dict[str, Any]:
        """Makes the run what the marts show for its date and emits the asset event."""
        from etl.orchestration import outputs, tasks

        tasks.publish(_url(), seg_run)
        info = outputs.published(_url(), seg_run)
        context["outlet_events"][SEGMENTS].extra = info
        return info

    @task
    def write_outputs(info: dict[str, Any]) -> dict[str, Any]:
        """The run's HTML report into reports/ and its segment lists into exports/."""
        from etl.orchestration import outputs

        return outputs.write_outputs(_url(), info["segmentation_run"])

    @task(trigger_rule=TriggerRule.ALL_DONE, retries=0, doc_md=CLEANUP_DOC)
    def cleanup_if_failed(**context: Any) -> None:
        """Runs after everything else. If anything failed, marks the segmentation run failed
        (its lock released, the previously published results stay visible) and fails itself:
        as the DAG's only leaf it is what makes the Airflow run count as failed."""
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from etl.orchestration import tasks

        ti = context["ti"]
        states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {})
        failed = sorted(name for name, state in states.items() if state == "failed")
        if not failed and "upstream_failed" not in states.values():
            raise AirflowSkipException("no task failed: nothing to clean up (normal)")
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
    watched = watch_data(profiled)
    published = publish(profiled)
    written = write_outputs(published)

    run_params >> migrated >> loaded
    built >> assignments
    checked >> published
    everything = [run_params, migrated, loaded, built, assignments, segmented, profiled, checked]
    [*everything, watched, published, written] >> cleanup_if_failed()


customer_segmentation()
