"""The one date parser every entry point uses (`--as-of`, the DAG form, XCom)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from etl.dates import parse_date
from etl.orchestration import params

SEGWISE = str(Path(sys.executable).parent / "segwise")


def test_parses_yyyy_mm_dd():
    assert parse_date("2011-12-09") == dt.date(2011, 12, 9)


@pytest.mark.parametrize("text", ["2024-13-01", "2024-02-30", "20111209", "2011-12-9", "", " "])
def test_refuses_anything_else(text):
    with pytest.raises(ValueError, match="is not a date: use YYYY-MM-DD"):
        parse_date(text)


def test_run_params_round_trip_through_xcom():
    p = params.RunParams(dt.date(2024, 2, 29), "demo", None, ("rfm",), None)
    assert params.RunParams.from_dict(p.to_dict()) == p


@pytest.mark.parametrize(("value", "ok"), [("2024-02-29", True), ("2024-02-30", False)])
def test_dag_form_uses_the_same_rule(value, ok):
    p, errors = params.check({"as_of": value}, default_as_of=dt.date(2000, 1, 1))
    assert (not errors) is ok
    assert p.as_of == (dt.date(2024, 2, 29) if ok else dt.date(2000, 1, 1))


@pytest.mark.parametrize("command", ["run", "report"])
def test_cli_refuses_a_bad_as_of_before_connecting(command):
    done = subprocess.run(
        [
            SEGWISE,
            command,
            "--database-url",
            "postgresql://nowhere.invalid/x",
            "--as-of",
            "20111209",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "'20111209' is not a date: use YYYY-MM-DD" in done.stderr
