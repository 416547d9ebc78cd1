"""The whole compose stack on a real Docker engine, as a user runs it.

1. Stand-in base images from Debian (docker/offline/build-base-images.sh: no registry here), then
   the project image built FROM the Python stand-in through the Dockerfile's BASE_IMAGE argument.
2. A temporary copy of the project's compose file with NO .env (a fresh clone), a project name of
   its own and free loopback ports. An empty secret is refused before anything starts.
3. `up -d`: every service healthy, the DAG unpaused, its first (scheduled) run succeeds on the
   demo feed with no other step; a run triggered through the REST API from the host succeeds;
   `mart.customer_segments` is read as segwise_bi through the published port (and nothing else).
4. `stop` / `start`: the data survives, a second triggered run succeeds.
5. `--profile celery` with AIRFLOW_EXECUTOR=CeleryExecutor: a run executes on the worker.
Always `down -v`. Skipped without an engine unless SEGWISE_REQUIRE_DOCKER=1 (CI), then it fails.
Image size and time from `up` to the first successful run go to bench/results/docker.json.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "customer_segmentation"
IMAGE = "segwise:e2e"
RESULTS = ROOT / "bench" / "results" / "docker.json"

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _ok(*cmd: str) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _compose_command() -> list[str] | None:
    if _ok("docker", "compose", "version"):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def _engine_problem() -> str | None:
    if shutil.which("docker") is None or not _ok("docker", "info"):
        return "no Docker engine answers `docker info`"
    if _compose_command() is None:
        return "neither `docker compose` nor `docker-compose` is installed"
    if shutil.which("debootstrap") is None or os.geteuid() != 0:
        return "building the stand-in base images needs debootstrap and root"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], *, timeout: float = 900, check: bool = True, **kw: Any) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc.stdout


class Stack:
    """One compose project in a temporary directory, driven as a user would."""

    def __init__(self, workdir: Path, images: dict[str, str]) -> None:
        self.workdir = workdir
        self.project = f"segwise-e2e-{uuid.uuid4().hex[:8]}"
        self.airflow_port = _free_port()
        self.warehouse_port = _free_port()
        self.compose = _compose_command() or []
        # The user's shell must not leak settings into the stack: start from a bare environment.
        keep = ("PATH", "HOME", "LANG", "DOCKER_HOST", "TMPDIR")
        self.env = {k: v for k, v in os.environ.items() if k in keep}
        self.env.update(
            COMPOSE_PROJECT_NAME=self.project,
            SEGWISE_IMAGE=IMAGE,
            POSTGRES_IMAGE=images["POSTGRES_IMAGE"],
            REDIS_IMAGE=images["REDIS_IMAGE"],
            AIRFLOW_PORT=str(self.airflow_port),
            WAREHOUSE_PORT=str(self.warehouse_port),
            # Short retries: a failure should fail the test fast, not after minutes of retrying.
            SEGWISE_RETRIES="1",
            SEGWISE_RETRY_DELAY="5",
        )
        self._token: str | None = None

    # --- compose -------------------------------------------------------------------------------
    def dc(self, *args: str, timeout: float = 900, check: bool = True, **env: str) -> str:
        return _run(
            [*self.compose, *args],
            cwd=self.workdir,
            env={**self.env, **env},
            timeout=timeout,
            check=check,
        )

    def container_ids(self) -> dict[str, str]:
        out = self.dc("ps", "-a", "-q")
        ids = {}
        for cid in out.split():
            info = json.loads(_run(["docker", "inspect", cid]))[0]
            ids[info["Config"]["Labels"]["com.docker.compose.service"]] = cid
        return ids

    def wait_healthy(self, services: set[str], timeout: float = 420) -> float:
        """Until every long-running service is healthy and the one-shots exited 0."""
        t0 = time.monotonic()
        status: dict[str, str] = {}
        while time.monotonic() - t0 < timeout:
            status = {}
            for name, cid in self.container_ids().items():
                state = json.loads(_run(["docker", "inspect", "--format", "{{json .State}}", cid]))
                if "Health" in state:
                    status[name] = state["Health"]["Status"]
                elif state["Status"] == "exited":
                    status[name] = f"exited {state['ExitCode']}"
                else:
                    status[name] = state["Status"]
            bad = {n: s for n, s in status.items() if s.startswith("exited") and s != "exited 0"}
            assert not bad, f"containers failed: {bad}\n{self.logs()}"
            if services <= set(status) and all(
                status[n] in ("healthy", "exited 0") for n in services
            ):
                return time.monotonic() - t0
            time.sleep(3)
        raise AssertionError(f"not healthy after {timeout}s: {status}\n{self.logs()}")

    def logs(self, tail: int = 60) -> str:
        return self.dc("logs", "--no-color", "--tail", str(tail), check=False, timeout=120)

    def secret(self, name: str) -> str:
        return self.dc(
            "exec", "-T", "airflow-apiserver", "python",
            "/opt/segwise/app/docker/segwise_secrets.py", "show", name,
        ).strip()  # fmt: skip

    # --- REST API ------------------------------------------------------------------------------
    def api(self, method: str, path: str, body: dict | None = None) -> Any:
        if self._token is None:
            self._token = self._request(
                "POST",
                "/auth/token",
                {"username": "admin", "password": self.secret("AIRFLOW_ADMIN_PASSWORD")},
                auth=False,
            )["access_token"]
        return self._request(method, path, body)

    def _request(self, method: str, path: str, body: dict | None, auth: bool = True) -> Any:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.airflow_port}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        if auth:
            req.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()[:2000]!r}") from None

    def runs(self) -> list[dict]:
        return self.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns?order_by=run_after")["dag_runs"]

    def trigger(self, conf: dict) -> str:
        run = self.api(
            "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf}
        )
        return run["dag_run_id"]

    def wait_run(self, run_id: str, timeout: float = 900) -> dict:
        t0 = time.monotonic()
        quoted = urllib.request.quote(run_id, safe="")
        while time.monotonic() - t0 < timeout:
            run = self.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{quoted}")
            if run["state"] in ("success", "failed"):
                # A run whose clean-up leaf succeeded can read "success" with failed tasks.
                failed = [
                    t["task_id"]
                    for t in self.task_instances(run_id)
                    if t["state"] in ("failed", "upstream_failed")
                ]
                assert run["state"] == "success" and not failed, (
                    f"run {run_id} {run['state']}, failed tasks {failed}\n"
                    f"{self.task_report(run_id)}"
                )
                return run
            time.sleep(5)
        raise AssertionError(f"run {run_id} not done after {timeout}s\n{self.task_report(run_id)}")

    def task_instances(self, run_id: str) -> list[dict]:
        quoted = urllib.request.quote(run_id, safe="")
        path = f"/api/v2/dags/{DAG_ID}/dagRuns/{quoted}/taskInstances?limit=100"
        return self.api("GET", path)["task_instances"]

    def task_report(self, run_id: str) -> str:
        lines = []
        for ti in self.task_instances(run_id):
            lines.append(f"{ti['task_id']}[{ti['map_index']}] {ti['state']} on {ti['hostname']}")
        failed = [
            t for t in self.task_instances(run_id) if t["state"] in ("failed", "upstream_failed")
        ]
        for ti in failed[:2]:
            logs = self.dc(
                "exec", "-T", "airflow-apiserver", "sh", "-c",
                f"tail -c 3000 /opt/airflow/logs/dag_id={DAG_ID}/run_id={run_id}"
                f"/task_id={ti['task_id']}/*attempt={ti['try_number']}.log",
                check=False,
            )  # fmt: skip
            lines.append(f"--- {ti['task_id']} log ---\n{logs}")
        return "\n".join(lines)

    # --- warehouse as the BI role ------------------------------------------------------------
    def bi_url(self) -> str:
        password = self.secret("SEGWISE_BI_PASSWORD")
        return (
            f"postgresql://segwise_bi:{urllib.request.quote(password, safe='')}"
            f"@127.0.0.1:{self.warehouse_port}/segwise"
        )


@pytest.fixture(scope="module")
def images() -> dict[str, str]:
    problem = _engine_problem()
    if problem:
        if os.environ.get("SEGWISE_REQUIRE_DOCKER") == "1":
            pytest.fail(f"SEGWISE_REQUIRE_DOCKER=1 but {problem} (see docs/docker.md)")
        pytest.skip(problem)
    out = _run(["bash", str(ROOT / "docker" / "offline" / "build-base-images.sh")], timeout=1800)
    found = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    t0 = time.monotonic()
    _run(
        ["docker", "build", "-q", "--build-arg", f"BASE_IMAGE={found['PYTHON_IMAGE']}",
         "-t", IMAGE, str(ROOT)],
        timeout=2400,
    )  # fmt: skip
    found["build_seconds"] = f"{time.monotonic() - t0:.0f}"
    return found


@pytest.fixture(scope="module")
def stack(images: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("compose")
    # What a fresh clone holds that the running stack reads: the compose file, the postgres init
    # scripts and the inbox (the image itself was built from the repository above).
    shutil.copy2(ROOT / "docker-compose.yml", work / "docker-compose.yml")
    shutil.copytree(ROOT / "docker" / "postgres", work / "docker" / "postgres")
    # the bi profile's build context: compose checks it even when the profile is off
    shutil.copytree(ROOT / "docker" / "superset", work / "docker" / "superset")
    (work / "data" / "inbox").mkdir(parents=True)
    s = Stack(work, images)
    try:
        yield s
    finally:
        s.dc("--profile", "celery", "down", "-v", "--remove-orphans", "-t", "20", check=False)


def _record(**values: Any) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.update(values)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def test_an_empty_secret_stops_the_stack_before_it_starts(stack: Stack) -> None:
    out = stack.dc("up", "-d", check=False, AIRFLOW_JWT_SECRET="")
    logs = stack.dc("logs", "--no-color", "secrets", check=False)
    assert "AIRFLOW_JWT_SECRET" in logs and "EMPTY: refusing to start" in logs, out + logs
    running = [n for n in stack.container_ids() if n != "secrets"]
    assert running == [], f"started despite the refused secret: {running}"
    stack.dc("down", "-v")


def test_up_on_a_fresh_clone_runs_the_first_dag_run_unaided(stack: Stack, images: dict) -> None:
    t0 = time.monotonic()
    stack.dc("up", "-d")
    healthy = stack.wait_healthy(
        {"secrets", "postgres", "airflow-init", "airflow-apiserver", "airflow-scheduler",
         "airflow-dag-processor", "airflow-triggerer"}
    )  # fmt: skip
    # Nobody triggers or unpauses anything: the scheduler starts the first run by itself.
    deadline = time.monotonic() + 300
    while not (runs := stack.runs()) and time.monotonic() < deadline:
        time.sleep(5)
    assert runs, "the DAG did not start a run by itself"
    dag = stack.api("GET", f"/api/v2/dags/{DAG_ID}")
    assert dag["is_paused"] is False
    stack.wait_run(runs[0]["dag_run_id"], timeout=1200)
    first_run = time.monotonic() - t0
    assert _mart_rows(stack) > 0, "the first run published no segments"
    size = int(_run(["docker", "image", "inspect", "--format", "{{.Size}}", IMAGE]).strip())
    _record(
        image_size_mb=round(size / 1e6),
        image_build_seconds=int(images["build_seconds"]),
        up_to_healthy_seconds=round(healthy),
        up_to_first_successful_run_seconds=round(first_run),
        first_run_type=runs[0]["run_type"],
    )


def test_rest_api_trigger_and_bi_role_reads_the_marts(stack: Stack) -> None:
    as_of = date.today().isoformat()
    run_id = stack.trigger({"as_of": as_of})
    stack.wait_run(run_id)
    with psycopg.connect(stack.bi_url(), connect_timeout=10) as conn:
        n, dates = conn.execute(
            "SELECT count(*), array_agg(DISTINCT as_of_date::text) FROM mart.customer_segments"
        ).fetchone()
        assert n > 0 and as_of in dates
        assert conn.execute(
            "SELECT count(*) FROM mart.customer_segments WHERE rfm_segment IS NULL"
        ).fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT 1 FROM warehouse.fact_order_line LIMIT 1")
    with pytest.raises(psycopg.OperationalError):
        # The BI role cannot even connect to Airflow's metadata database.
        psycopg.connect(stack.bi_url().rsplit("/", 1)[0] + "/airflow", connect_timeout=10)


def _mart_rows(stack: Stack) -> int:
    with psycopg.connect(stack.bi_url(), connect_timeout=10) as conn:
        return conn.execute("SELECT count(*) FROM mart.customer_segments").fetchone()[0]


def test_data_survives_stop_start_and_a_second_run_succeeds(stack: Stack) -> None:
    before = _mart_rows(stack)
    stack.dc("stop", "-t", "30")
    stack.dc("start")
    stack.wait_healthy({"postgres", "airflow-apiserver", "airflow-scheduler"})
    assert _mart_rows(stack) == before
    n_runs = len(stack.runs())
    stack.wait_run(stack.trigger({}))
    assert len(stack.runs()) == n_runs + 1
    assert _mart_rows(stack) > 0


def test_celery_profile_runs_the_dag_on_a_worker(stack: Stack) -> None:
    celery = {"AIRFLOW_EXECUTOR": "CeleryExecutor"}
    stack.dc("--profile", "celery", "up", "-d", **celery)
    stack.wait_healthy(
        {"redis", "airflow-worker", "airflow-apiserver", "airflow-scheduler",
         "airflow-dag-processor", "airflow-triggerer"}
    )  # fmt: skip
    worker = stack.container_ids()["airflow-worker"]
    worker_host = json.loads(_run(["docker", "inspect", worker]))[0]["Config"]["Hostname"]
    run_id = stack.trigger({})
    stack.wait_run(run_id)
    hosts = {ti["hostname"] for ti in stack.task_instances(run_id) if ti["state"] == "success"}
    assert hosts and all(h.startswith(worker_host) for h in hosts), (worker_host, hosts)
