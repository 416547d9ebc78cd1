"""`segwise layouts NAME --sql`: the SQL each built-in layout compiles to, kept as a snapshot.

A change to the generated SQL (sqlgen, a model file, a layout) shows up as a diff of
tests/ingest/snapshots/<layout>.sql in review. After an intended change, regenerate them with

    SEGWISE_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/ingest/test_layout_sql.py

and commit the new snapshots with the change.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from etl.commands.layouts import layout_sql
from etl.ingest import layouts, mapping

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("SEGWISE_UPDATE_SNAPSHOTS") == "1"
SEGWISE = str(Path(sys.executable).parent / "segwise")
MAPPING_FILE = Path(__file__).parent.parent / "data" / "mapping_shop" / "shop.yml"


def _segwise(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SEGWISE, "layouts", *args], capture_output=True, text=True)


@pytest.mark.parametrize("name", sorted(layouts.available()))
def test_layout_sql_matches_its_snapshot(name):
    snapshot = SNAPSHOTS / f"{name}.sql"
    done = _segwise(name, "--sql")
    assert done.returncode == 0, done.stderr
    if UPDATE:
        snapshot.write_text(done.stdout, encoding="utf-8")
    assert snapshot.exists(), f"no snapshot {snapshot}: run with SEGWISE_UPDATE_SNAPSHOTS=1"
    assert done.stdout == snapshot.read_text(encoding="utf-8"), (
        f"the SQL of layout {name} changed: review it, then regenerate the snapshot "
        "(SEGWISE_UPDATE_SNAPSHOTS=1, see this module's docstring)"
    )


def test_every_snapshot_is_a_built_in_layout():
    assert {p.stem for p in SNAPSHOTS.glob("*.sql")} == set(layouts.available())


def test_mapping_file_sql_is_the_compiled_mapping():
    done = _segwise("--mapping", str(MAPPING_FILE), "--sql")
    assert done.returncode == 0, done.stderr
    assert done.stdout == layout_sql(mapping.resolve(None, MAPPING_FILE))
    assert 'CREATE UNLOGGED TABLE "staging"."lines_1"' in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sql"], "--sql needs a layout NAME or --mapping FILE"),
        (["--mapping", "x.yml"], "--mapping FILE needs --sql"),
        (["segwise", "--mapping", "x.yml", "--sql"], "not both"),
    ],
)
def test_wrong_combinations_are_refused(args, message):
    done = _segwise(*args)
    assert done.returncode != 0 and message in done.stderr
