"""A real, throwaway Airflow deployment for tests: processes, not mocks.

Each deployment gets its own AIRFLOW_HOME, its own metadata database on the test Postgres server,
free ports and (for Celery) its own queue, so deployments never see each other or a developer's
Airflow. Processes run in their own process groups and are killed group-wise on stop, which also
reaps the task processes and executor workers they forked.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import create_database, drop_database

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DAG_ID = "customer_segmentation"
TERMINAL_RUN_STATES = {"success", "failed"}
# A spare Redis database; each deployment also gets its own queue name, so two test sessions on
# one Redis never take each other's tasks.
BROKER_DB = int(os.environ.get("SEGWISE_TEST_REDIS_DB", "13"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return f"<{path} missing>"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def hermetic_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current environment minus any Airflow/segwise settings a developer shell may carry."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW__", "AIRFLOW_", "SEGWISE_")) and k != "AIRFLOW_HOME"
    }
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra or {})
    return env


@dataclass
class Deployment:
    """Airflow metadata DB + API server + scheduler + DAG processor (+ Celery workers)."""

    root: Path
    warehouse_url: str
    executor: str = "LocalExecutor"
    celery_workers: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    dags_folder: Path = REPO_ROOT / "dags"

    metadata_url: str = ""
    port: int = 0
    queue: str = ""
    env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    _token: str | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def home(self) -> Path:
        return self.root / "airflow_home"

    @property
    def log_dir(self) -> Path:
        return self.root / "process_logs"

    def setup(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.metadata_url = create_database("segwise_airflow_meta")
        meta_host_db = self.metadata_url.split("://", 1)[1]
        self.port = free_port()
        self.queue = f"segwise_test_{uuid.uuid4().hex[:8]}"
        env = {
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{meta_host_db}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__EXPOSE_STACKTRACE": "True",
            # Every process must sign and verify task tokens with the same secret.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "300",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
            "AIRFLOW_CONN_WAREHOUSE": self.warehouse_url,
            # Short, test-sized retries: a failing task fails its run quickly.
            "SEGWISE_RETRIES": "0",
            # Each run's report and exports stay inside the deployment's temp folder.
            "SEGWISE_REPORTS_DIR": str(self.root / "reports"),
            "SEGWISE_EXPORTS_DIR": str(self.root / "exports"),
        }
        if self.executor == "CeleryExecutor":
            env.update(
                {
                    "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{BROKER_DB}",
                    "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{meta_host_db}",
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
                    "AIRFLOW__CELERY__DEFAULT_QUEUE": self.queue,
                }
            )
        env.update(self.extra_env)
        self.env = hermetic_env(env)
        self.run_cli(["db", "migrate"], timeout=600)

    def run_cli(self, args: list[str], *, timeout: float = 120) -> str:
        """One ``airflow`` CLI command to completion; raises with its output on failure."""
        name = "cli_" + "_".join(a for a in args if not a.startswith("-"))[:40]
        log = self.log_dir / f"{name}.log"
        with log.open("w") as out:
            proc = subprocess.run(
                [str(VENV_BIN / "airflow"), *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                cwd=self.root,
            )
        text = log.read_text(errors="replace")
        if proc.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} failed ({proc.returncode}):\n{text[-4000:]}"
            )
        return text

    def start_process(self, name: str, args: list[str], env: Mapping[str, str] | None = None):
        log = (self.log_dir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [str(VENV_BIN / "airflow"), *args],
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.root,
            start_new_session=True,  # own process group: stop() kills its whole tree
        )
        log.close()

    def start(self, *, timeout: float = 180) -> None:
        self.start_process("api-server", ["api-server"])
        self.start_process("scheduler", ["scheduler"])
        self.start_process("dag-processor", ["dag-processor"])
        for i in range(self.celery_workers):
            self.start_process(
                f"celery-worker-{i + 1}",
                [
                    "celery",
                    "worker",
                    "--celery-hostname",
                    f"segwise-w{i + 1}@%h",
                    "--queues",
                    self.queue,
                    "--concurrency",
                    "2",
                    "--skip-serve-logs",
                    "--without-gossip",
                ],
            )
        self.wait_healthy(timeout=timeout)
        for i in range(self.celery_workers):
            self.wait_for_log(f"celery-worker-{i + 1}", "ready.", timeout=timeout)

    def stop(self) -> None:
        for _name, proc in self.procs.items():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs.values():
            # Children (task processes, executor workers) may outlive their group leader.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if proc.poll() is None:
                proc.wait(timeout=10)
        if self.executor == "CeleryExecutor":
            self._drop_broker_keys()
        if self.metadata_url:
            drop_database(self.metadata_url)
            self.metadata_url = ""

    def _drop_broker_keys(self) -> None:
        """Our queue and its bindings, so nothing of this deployment stays in Redis."""
        import redis

        client = redis.Redis.from_url(self.env["AIRFLOW__CELERY__BROKER_URL"])
        try:
            keys = [k for k in client.scan_iter(f"*{self.queue}*")]
            if keys:
                client.delete(*keys)
        finally:
            client.close()

    # -- waiting ---------------------------------------------------------------------------
    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(
                    f"airflow {name} exited with {proc.returncode}:\n{self.diagnostics()}"
                )

    def wait_for_log(self, name: str, needle: str, *, timeout: float) -> None:
        path = self.log_dir / f"{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if path.exists() and needle in path.read_text(errors="replace"):
                return
            time.sleep(1)
        raise TimeoutError(f"{name} did not log {needle!r} in {timeout}s:\n{self.diagnostics()}")

    def wait_healthy(self, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                resp = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
                last = resp.json() if resp.status_code == 200 else resp.text
                if resp.status_code == 200 and all(
                    (last.get(part) or {}).get("status") == "healthy"
                    for part in ("metadatabase", "scheduler", "dag_processor")
                ):
                    return
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(1)
        raise TimeoutError(
            f"Airflow not healthy in {timeout}s (last: {last}):\n{self.diagnostics()}"
        )

    # -- REST API v2 -----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self) -> str:
        if self._token is None:
            resp = httpx.get(f"{self.base_url}/auth/token", timeout=10)
            resp.raise_for_status()
            self._token = resp.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token()}", **kwargs.pop("headers", {})}
        return httpx.request(
            method, f"{self.base_url}/api/v2{path}", headers=headers, timeout=30, **kwargs
        )

    def api_json(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.api(method, path, **kwargs)
        if resp.status_code >= 400:
            raise AssertionError(f"{method} {path} -> {resp.status_code}: {resp.text}")
        return resp.json()

    def wait_for_dag(self, dag_id: str = DAG_ID, *, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            resp = self.api("GET", f"/dags/{dag_id}")
            if resp.status_code == 200:
                return resp.json()
            errors = self.api("GET", "/importErrors")
            if errors.status_code == 200 and errors.json().get("total_entries"):
                raise AssertionError(f"DAG import errors: {errors.json()}")
            time.sleep(1)
        raise TimeoutError(f"DAG {dag_id} not parsed in {timeout}s:\n{self.diagnostics()}")

    def unpause(self, dag_id: str = DAG_ID) -> None:
        self.api_json("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def pause(self, dag_id: str = DAG_ID) -> None:
        self.api_json("PATCH", f"/dags/{dag_id}", json={"is_paused": True})

    def trigger(self, conf: dict, dag_id: str = DAG_ID) -> httpx.Response:
        return self.api(
            "POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf}
        )

    def trigger_run(self, conf: dict, dag_id: str = DAG_ID) -> str:
        resp = self.trigger(conf, dag_id)
        if resp.status_code >= 400:
            raise AssertionError(f"trigger -> {resp.status_code}: {resp.text}")
        return resp.json()["dag_run_id"]

    def dag_run(self, run_id: str, dag_id: str = DAG_ID) -> dict:
        return self.api_json("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def dag_runs(self, dag_id: str = DAG_ID) -> list[dict]:
        return self.api_json("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]

    def wait_for_run(self, run_id: str, *, dag_id: str = DAG_ID, timeout: float = 600) -> str:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            self.check_alive()
            state = self.dag_run(run_id, dag_id)["state"]
            if state in TERMINAL_RUN_STATES:
                return state
            time.sleep(2)
        raise TimeoutError(
            f"run {run_id} still {state} after {timeout}s:\n{self.diagnostics(run_id)}"
        )

    def task_instances(self, run_id: str, dag_id: str = DAG_ID) -> list[dict]:
        return self.api_json(
            "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100}
        )["task_instances"]

    def task_log(self, run_id: str, ti: Mapping[str, Any], dag_id: str = DAG_ID) -> str:
        path = (
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{ti['task_id']}"
            f"/logs/{max(ti.get('try_number') or 1, 1)}"
        )
        params = {"full_content": "true"}
        if ti.get("map_index", -1) >= 0:
            params["map_index"] = str(ti["map_index"])
        resp = self.api("GET", path, params=params, headers={"Accept": "application/json"})
        if resp.status_code != 200:
            return f"<log {path}: {resp.status_code} {resp.text}>"
        lines = []
        for item in resp.json().get("content", []):
            if isinstance(item, dict):
                extra = {
                    k: v
                    for k, v in item.items()
                    if k not in ("timestamp", "event", "level", "logger")
                }
                lines.append(
                    f"{item.get('timestamp', '')} {item.get('level', '')} {item.get('event', '')}"
                    + (f" {extra}" if extra else "")
                )
            else:
                lines.append(str(item))
        return "\n".join(lines)

    # -- diagnostics -----------------------------------------------------------------------
    def diagnostics(self, run_id: str | None = None, names: Iterable[str] | None = None) -> str:
        parts = []
        for name in names or sorted(p.stem for p in self.log_dir.glob("*.log")):
            parts.append(f"===== {name} =====\n{_tail(self.log_dir / f'{name}.log')}")
        if run_id:
            try:
                for ti in self.task_instances(run_id):
                    if ti["state"] not in ("success", "skipped"):
                        log = self.task_log(run_id, ti)
                        parts.append(
                            f"===== task {ti['task_id']}[{ti.get('map_index')}] "
                            f"{ti['state']} =====\n{log[-6000:]}"
                        )
            except Exception as exc:  # noqa: BLE001 - diagnostics must never mask the failure
                parts.append(f"<could not fetch task logs: {exc!r}>")
        return "\n".join(parts)

    def cleanup_files(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
