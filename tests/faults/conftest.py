"""Fault tests: a migrated warehouse per module, and the console script run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl import migrate
from tests.conftest import create_database, drop_database
from tests.faults.helpers import default_sigint

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def warehouse_url() -> Iterator[str]:
    url = create_database("segwise_faults")
    migrate.upgrade(url)
    yield url
    drop_database(url)


def segwise(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`segwise ARGS` in a child process: stdout, stderr and exit status as a user sees them."""
    return subprocess.run(
        [sys.executable, "-m", "etl.cli", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


def popen_segwise(*args: str) -> subprocess.Popen[str]:
    """`segwise ARGS` started in the background (to interrupt or kill it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "etl.cli", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,  # noqa: PLW1509 - a signal disposition, no locks involved
    )
