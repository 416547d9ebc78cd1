"""The same end-to-end run with the Celery executor: Redis broker, results in the metadata
database, two `airflow celery worker` processes listening on this deployment's own queue."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

import pytest

from etl.segment.run_config import METHODS
from tests.airflow import e2e

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

AS_OF = dt.date(2026, 9, 30)
CONF = {"as_of": AS_OF.isoformat(), "source": "demo", "methods": list(METHODS)}
WORKLOAD = re.compile(r"Executing workload in Celery: .*?log_path='(?P<path>[^']+)'")
TASK_IN_PATH = re.compile(r"task_id=(?P<task>[^/]+)/(?:map_index=(?P<index>\d+)/)?attempt=")


@pytest.fixture(scope="module")
def airflow_deployment(tmp_path_factory):
    with e2e.deployment(
        tmp_path_factory.mktemp("airflow_celery"),
        executor="CeleryExecutor",
        celery_workers=2,
        extra_env={**e2e.DEMO_ENV, "SEGWISE_SCHEDULE": "none"},
    ) as d:
        d.unpause()
        yield d


def executed_by_worker(d, run_id: str) -> dict[str, set[tuple[str, int]]]:
    """(task_id, map_index) each worker process executed for the run, from its own log."""
    out: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for name in d.procs:
        if not name.startswith("celery-worker"):
            continue
        text = (d.log_dir / f"{name}.log").read_text(errors="replace")
        for m in WORKLOAD.finditer(text):
            path = m.group("path")
            if f"run_id={run_id}/" not in path:
                continue
            t = TASK_IN_PATH.search(path)
            out[name].add((t.group("task"), int(t.group("index") or -1)))
    return out


def test_dag_runs_unchanged_on_two_celery_workers(airflow_deployment) -> None:
    d = airflow_deployment
    run_id, state = e2e.run_and_wait(d, CONF)
    e2e.require_success(d, run_id, state)
    e2e.assert_segmented(d.warehouse_url, AS_OF)

    ran = d.task_instances(run_id)  # cleanup_if_failed ran too: it skips itself when nothing failed
    assert sorted({ti["state"] for ti in ran}) == ["skipped", "success"]
    assert len(ran) == 11 + len(METHODS)
    # Every task went through the Celery queue of this deployment ...
    assert {ti["queue"] for ti in ran} == {d.queue}
    # ... and was executed by one of the two worker processes, both of which did work.
    by_worker = executed_by_worker(d, run_id)
    executed = set().union(*by_worker.values()) if by_worker else set()
    assert executed == {(ti["task_id"], ti["map_index"]) for ti in ran}
    assert sorted(by_worker) == ["celery-worker-1", "celery-worker-2"], dict(by_worker)
    assert all(by_worker.values())
