"""The `bi` profile on a real engine: Superset comes up with the segwise dashboard, and a user in
headless Chromium sees every chart drawn with data and no error (docs/bi.md).

Builds what tests/docker/test_stack_e2e.py builds (stand-in base images where no registry
answers), plus the Superset image: from apache/superset:6.1.0 when it can be pulled, else from
the Debian + PyPI stand-in (docker/offline/superset.Dockerfile). Starts the stack with
COMPOSE_PROFILES=bi, waits for the first published run, logs in as admin in Chromium, opens the
dashboard and checks each chart's data request and what it drew. The screenshot is kept in
bench/results/superset-dashboard.png. Markers docker + slow; skipped without an engine unless
SEGWISE_REQUIRE_DOCKER=1.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.chromium import Chromium, Page, chromium_binary
from tests.docker.test_stack_e2e import ROOT, Stack, _free_port, _ok, _run, images  # noqa: F401

pytestmark = [pytest.mark.docker, pytest.mark.slow]

BUNDLE = ROOT / "docker" / "superset" / "dashboard"
SCREENSHOT = ROOT / "bench" / "results" / "superset-dashboard.png"
SUPERSET_IMAGE = "apache/superset:6.1.0"
STAND_IN = "segwise-offline/superset:6.1.0"
# Views the dashboard reads that another branch adds (monthly and cohort questions). While one is
# missing from the warehouse its charts must show Superset's error (provisioning names them);
# once the view exists its charts are checked like every other. Empty this when they are merged.
PENDING_VIEWS: set[str] = set()  # views the dashboard may read before they exist: none now


def _bundle_charts() -> dict[str, str]:
    """slice_name -> mart view, from the bundle in the repository."""
    datasets = {
        d["uuid"]: d["table_name"]
        for d in (yaml.safe_load(p.read_text()) for p in (BUNDLE / "datasets").rglob("*.yaml"))
    }
    return {
        c["slice_name"]: datasets[c["dataset_uuid"]]
        for c in (yaml.safe_load(p.read_text()) for p in (BUNDLE / "charts").glob("*.yaml"))
    }


@pytest.fixture(scope="module")
def superset_image(images: dict[str, str]) -> str:  # noqa: F811 - the imported fixture
    if _ok("docker", "image", "inspect", SUPERSET_IMAGE) or _ok("docker", "pull", SUPERSET_IMAGE):
        return SUPERSET_IMAGE
    if not _ok("docker", "image", "inspect", STAND_IN):
        ctx = Path(_run(["mktemp", "-d"]).strip())
        shutil.copy2(ROOT / "docker" / "offline" / "superset.Dockerfile", ctx / "Dockerfile")
        _run(
            ["docker", "build", "-q", "--build-arg", f"PYTHON_IMAGE={images['PYTHON_IMAGE']}",
             "-t", STAND_IN, str(ctx)],
            timeout=2400,
        )  # fmt: skip
        shutil.rmtree(ctx, ignore_errors=True)
    return STAND_IN


@pytest.fixture(scope="module")
def bi_stack(
    images: dict[str, str],  # noqa: F811 - the imported fixture
    superset_image: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    if chromium_binary() is None:
        pytest.fail("headless Chromium is needed: apt-get install chromium")
    work = tmp_path_factory.mktemp("compose-bi")
    shutil.copy2(ROOT / "docker-compose.yml", work / "docker-compose.yml")
    shutil.copytree(ROOT / "docker" / "postgres", work / "docker" / "postgres")
    shutil.copytree(ROOT / "docker" / "superset", work / "docker" / "superset")
    (work / "data" / "inbox").mkdir(parents=True)
    for out in ("reports", "exports"):  # written by the DAG as uid 50000
        (work / out).mkdir()
        (work / out).chmod(0o777)
    s = Stack(work, images)
    s.superset_port = _free_port()
    s.env.update(
        COMPOSE_PROFILES="bi",
        SUPERSET_PORT=str(s.superset_port),
        SUPERSET_IMAGE=superset_image,
        SEGWISE_SUPERSET_IMAGE="segwise-superset:e2e",
    )
    try:
        s.dc("build", "superset", timeout=1800)
        s.dc("up", "-d")
        yield s
    finally:
        s.dc("down", "-v", "--remove-orphans", check=False, timeout=600)


def _wait_published(stack: Stack, timeout: float = 1500) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(stack.bi_url(), connect_timeout=5) as conn:
                if conn.execute("SELECT count(*) FROM mart.as_of").fetchone()[0]:
                    return
        except psycopg.OperationalError:
            pass
        time.sleep(10)
    raise AssertionError(f"no published run after {timeout}s\n{stack.logs()}")


def _second_run_for_migrations(stack: Stack) -> None:
    """Migrations compare with the previous published run of an earlier date: publish one 30 days
    back, then the latest date again, so the Sankey has flows."""
    with psycopg.connect(stack.bi_url()) as conn:
        latest = conn.execute("SELECT as_of_date FROM mart.as_of").fetchone()[0]
    for as_of in (latest - timedelta(days=30), latest):
        stack.wait_run(stack.trigger({"as_of": as_of.isoformat()}))


def _existing_views(stack: Stack, views: set[str]) -> set[str]:
    with psycopg.connect(stack.bi_url()) as conn:
        return {
            v for v in views
            if conn.execute("SELECT to_regclass(%s::text)", (f"mart.{v}",)).fetchone()[0]
        }  # fmt: skip


def _log_in(page: Page, password: str, attempts: int = 3) -> None:
    """Type the credentials and press the button, as a person does; again when the page is
    still the login form 30 s later (once in a CI run, typed credentials did not log in: the
    form can render again while the app starts, dropping what was typed)."""
    for _ in range(attempts):
        page.wait_for("!!document.querySelector('#username')", 120, "the login form")
        for selector, text in (("#username", "admin"), ("#password", password)):
            page.evaluate(f"document.querySelector({json.dumps(selector)}).select()")
            page.type_into(selector, text)  # replaces the selected text, if any
        page.evaluate("document.querySelector('[data-test=login-button]').click()")
        try:
            page.wait_for("!location.pathname.startsWith('/login')", 30, "the login to pass")
            return
        except AssertionError:
            continue
    raise AssertionError(f"the login did not pass in {attempts} attempts")


def test_dashboard_shows_every_chart_with_data(bi_stack: Stack) -> None:
    bi_stack.wait_healthy(
        {"secrets", "postgres", "airflow-init", "airflow-apiserver", "airflow-scheduler",
         "superset"},
        timeout=900,
    )  # fmt: skip
    _wait_published(bi_stack)
    _second_run_for_migrations(bi_stack)
    charts = _bundle_charts()
    present = _existing_views(bi_stack, set(charts.values()))
    missing = set(charts.values()) - present
    assert missing <= PENDING_VIEWS, f"the dashboard reads views that do not exist: {missing}"
    if missing:  # provisioning said so loudly
        assert "mart views missing in the warehouse" in bi_stack.dc("logs", "superset")

    base = f"http://127.0.0.1:{bi_stack.superset_port}"
    password = bi_stack.secret("AIRFLOW_ADMIN_PASSWORD")
    browser = Chromium(width=1600, height=3200)
    try:
        page = browser.first_page()
        page.navigate(f"{base}/login/")
        _log_in(page, password)

        page.navigate(f"{base}/superset/dashboard/segwise/")
        n_charts = len(charts)
        page.wait_for(
            f"document.querySelectorAll('.dashboard-chart, [data-test=chart-container]').length "
            f">= {n_charts} || document.querySelectorAll('.chart-slice').length >= {n_charts}",
            180,
            "the dashboard's charts",
        )
        responses = {}
        deadline = time.monotonic() + 240
        while len(responses) < n_charts and time.monotonic() < deadline:
            page.pump(2)
            for event in page.events:
                if event.get("method") != "Network.responseReceived":
                    continue
                url = event["params"]["response"]["url"]
                if "/api/v1/chart/data" not in url:
                    continue
                query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
                slice_id = json.loads(query["form_data"][0])["slice_id"]
                responses[slice_id] = (event["params"]["requestId"], event["params"]["response"])
        page.pump(10)  # let the charts draw
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(SCREENSHOT)
        assert len(responses) == n_charts, f"{len(responses)} of {n_charts} charts asked for data"

        names = json.loads(
            page.evaluate(
                "fetch('/api/v1/chart/?q=(page_size:100)').then(r => r.json())"
                ".then(j => JSON.stringify(Object.fromEntries(j.result.map(c => [c.id, "
                "c.slice_name]))))"
            )
        )
        failed_ok, problems = 0, []
        for slice_id, (request_id, response) in responses.items():
            name = names[str(slice_id)]
            body = json.loads(page.response_body(request_id))
            if charts[name] in missing:
                assert response["status"] >= 400, f"{name} drew without its view"
                failed_ok += 1
                continue
            if response["status"] != 200:
                problems.append(f"{name}: HTTP {response['status']} {body}")
                continue
            rows = sum(r.get("rowcount", 0) for r in body["result"])
            errors = [r.get("error") for r in body["result"] if r.get("error")]
            if rows == 0 or errors:
                problems.append(f"{name}: {rows} rows, errors {errors}")
        assert not problems, problems

        drawn = json.loads(
            page.evaluate(
                "JSON.stringify(Array.from(document.querySelectorAll('.chart-slice')).map(e => ({"
                "title: (e.querySelector('[data-test=editable-title], .header-title, "
                ".editable-title') || {}).textContent || e.textContent.slice(0, 80),"
                "error: !!e.querySelector('.ant-alert-error, [data-test=error-tooltip], "
                ".alert-danger') || /Data error|Unexpected error/.test(e.textContent),"
                "empty: /No results were returned/.test(e.textContent),"
                "drawn: !!e.querySelector('canvas, svg, table')})))"
            )
        )
        assert len(drawn) == n_charts, drawn
        errors = [d for d in drawn if d["error"]]
        assert len(errors) == failed_ok, errors
        assert not [d for d in drawn if d["empty"]], drawn
        assert sum(d["drawn"] for d in drawn) >= n_charts - failed_ok, drawn
    finally:
        browser.close()
