"""The README's first command on a real engine, from a fresh clone: `make up`, then `make clean`.

The repository is cloned into a temporary folder (committed files only, no .env, no venv) and
`make up` runs there with a bare environment plus a project name and free loopback ports of its
own. It must end with the first run published and print the lines a newcomer needs next; the
printed password command must work, and the BI connection it prints must read the published run
as segwise_bi. Then `make down` leaves the volumes, `make clean` leaves nothing of the project.

On a machine without an image registry `make up` builds the Debian stand-ins itself (root and
debootstrap needed), says so and records them in the clone's .env. Skipped without an engine
unless SEGWISE_REQUIRE_DOCKER=1 (CI), then it fails.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from tests.docker.test_stack_e2e import _engine_problem, _free_port

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "segwise:make-up-test"

pytestmark = [pytest.mark.docker, pytest.mark.slow]


class Clone:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.project = f"segwise-up-{uuid.uuid4().hex[:8]}"
        self.airflow_port = _free_port()
        self.warehouse_port = _free_port()
        keep = ("PATH", "HOME", "LANG", "DOCKER_HOST", "TMPDIR")
        self.env = {k: v for k, v in os.environ.items() if k in keep}
        self.env.update(
            COMPOSE_PROJECT_NAME=self.project,
            SEGWISE_IMAGE=IMAGE,
            AIRFLOW_PORT=str(self.airflow_port),
            WAREHOUSE_PORT=str(self.warehouse_port),
            SEGWISE_RETRIES="1",
            SEGWISE_RETRY_DELAY="5",
        )

    def run(self, *cmd: str, timeout: float = 3600) -> subprocess.CompletedProcess:
        return subprocess.run(
            cmd,
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def project_objects(self, kind: str) -> list[str]:
        """Names of this project's containers (`ps -a`) or volumes, by the compose label."""
        label = f"label=com.docker.compose.project={self.project}"
        args = ["ps", "-a", "--format", "{{.Names}}"] if kind == "container" else ["volume", "ls"]
        if kind != "container":
            args += ["--format", "{{.Name}}"]
        out = subprocess.run(
            ["docker", *args, "--filter", label], capture_output=True, text=True, check=True
        ).stdout
        return out.split()


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clone]:
    problem = _engine_problem()
    if problem:
        if os.environ.get("SEGWISE_REQUIRE_DOCKER") == "1":
            pytest.fail(f"SEGWISE_REQUIRE_DOCKER=1 but {problem} (see docs/docker.md)")
        pytest.skip(problem)
    dest = tmp_path_factory.mktemp("clone") / "segwise"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(dest)], check=True)
    c = Clone(dest)
    try:
        yield c
    finally:
        c.run("make", "clean", timeout=600)


@pytest.fixture(scope="module")
def up(clone: Clone) -> str:
    proc = clone.run("make", "up")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"make up exited {proc.returncode}\n{out[-6000:]}"
    return proc.stdout


def _line(out: str, label: str) -> str:
    found = [ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.strip().startswith(label)]
    assert len(found) == 1, f"one {label!r} line expected in:\n{out}"
    return found[0]


def test_make_up_reports_progress_and_the_first_published_run(up: str, clone: Clone) -> None:
    assert "segwise: Docker engine " in up
    assert re.search(r"segwise: compose command|compose command `docker", up)
    assert re.search(r"segwise: services \d+/\d+ ready, waiting for ", up), up
    assert "segwise: all services healthy" in up
    assert re.search(r"segwise: first run \w+: \d+/\d+ tasks done", up), up
    published = _line(up, "First run published")
    m = re.fullmatch(r"run (\d+), as of (\d{4}-\d\d-\d\d), (\d+) customers\.", published)
    assert m and int(m.group(3)) > 0, published
    if "cannot pull" in up:  # no registry: the stand-ins were built and recorded for compose
        assert "Building local stand-ins" in up
        env = (clone.path / ".env").read_text()
        assert "POSTGRES_IMAGE=segwise-offline/postgres:15" in env
        assert "BASE_IMAGE=segwise-offline/python:3.11-slim-bookworm" in env


def test_printed_lines_lead_to_the_ui_password_and_bi_connection(up: str, clone: Clone) -> None:
    assert _line(up, "Airflow UI") == f"http://localhost:{clone.airflow_port}  (user admin)"
    bi = _line(up, "BI connection")
    assert bi.startswith(f"host localhost, port {clone.warehouse_port}, database segwise, ")
    assert "user segwise_bi" in bi
    admin = clone.run(*shlex.split(_line(up, "Admin password")), timeout=120)
    assert admin.returncode == 0 and len(admin.stdout.strip()) >= 16, admin.stderr
    bi_password = clone.run(*shlex.split(_line(up, "BI password")), timeout=120)
    assert bi_password.returncode == 0, bi_password.stderr
    assert bi_password.stdout.strip() not in up and admin.stdout.strip() not in up
    url = (
        f"postgresql://segwise_bi:{quote(bi_password.stdout.strip(), safe='')}"
        f"@127.0.0.1:{clone.warehouse_port}/segwise"
    )
    run_id = _line(up, "First run published").split(",")[0].removeprefix("run ")
    with psycopg.connect(url, connect_timeout=10) as conn:
        latest = conn.execute("SELECT run_id::text FROM mart.runs WHERE is_latest").fetchall()
        customers = conn.execute("SELECT count(*) FROM mart.customer_segments").fetchone()[0]
    assert latest == [(run_id,)]
    assert customers > 0


def test_make_up_again_is_quick_to_answer_and_make_down_then_clean_remove_it(
    up: str, clone: Clone
) -> None:
    again = clone.run("make", "up")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert _line(again.stdout, "First run published") == _line(up, "First run published")

    down = clone.run("make", "down", timeout=600)
    assert down.returncode == 0, down.stdout + down.stderr
    assert clone.project_objects("container") == []
    assert clone.project_objects("volume"), "make down must keep the volumes"

    clean = clone.run("make", "clean", timeout=600)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clone.project_objects("volume") == []
