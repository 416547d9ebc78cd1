"""Airflow test environment: a temp AIRFLOW_HOME and no example DAGs, set before Airflow loads.

Airflow reads its configuration once, at first import, so these variables must be in place before
any test module here imports it (this conftest is imported first).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_HOME = tempfile.mkdtemp(prefix="segwise_airflow_home_")
atexit.register(shutil.rmtree, _HOME, True)
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[2] / "dags")
os.environ.setdefault("AIRFLOW__LOGGING__COLORED_CONSOLE_LOG", "False")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """On failure, attach the Airflow process logs of the deployment the test used."""
    report = yield
    if report.failed and call.when == "call":
        deployment = getattr(item, "funcargs", {}).get("airflow_deployment")
        if deployment is not None and hasattr(deployment, "diagnostics"):
            report.sections.append(("airflow process logs", deployment.diagnostics()))
    return report
