"""Shared pieces of the fault tests: Online Retail lines, the real `segwise` command in a child
process, and waiting (with a deadline, never a timed assertion) for the server to get somewhere."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
SEGWISE = Path(sys.executable).with_name("segwise")


def retail_lines(first: int, n: int, price: str = "2.55", stock: str = "85123A") -> str:
    return "".join(
        f"{first + i},{stock},WHITE HEART,6,12/1/2010 8:26,{price},17850,United Kingdom\n"
        for i in range(n)
    )


def default_sigint() -> None:
    """In a started child, before it runs: Ctrl-C (SIGINT) acts as in a terminal. A shell
    without job control starts background jobs with SIGINT ignored, the child inherits that, and
    Python leaves an ignored SIGINT ignored, so the interrupt tests hung when the test run itself
    was started in the background."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_segwise(url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SEGWISE), *args, "--database-url", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=default_sigint,  # noqa: PLW1509 - a signal disposition, no locks involved
    )


def wait_for(what: str, check: Callable[[], object], deadline_s: float = 60.0) -> object:
    """Poll until ``check()`` is truthy; fails the test (naming ``what``) at the deadline."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"gave up waiting for {what}")


def backends(url: str, where: str) -> list[tuple]:
    """(pid, state, query) of the other 'segwise' sessions matching ``where``."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT pid, state, query FROM pg_stat_activity "  # noqa: S608 - test SQL
            "WHERE datname = current_database() AND application_name = 'segwise' "
            f"AND pid <> pg_backend_pid() AND {where}"
        ).fetchall()
