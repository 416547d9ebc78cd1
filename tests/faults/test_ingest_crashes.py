"""Items 2, 5 (loads) and 11 of the reliability work: a load stopped at any point can be run
again and finishes; batches apply in the order they were staged; a dead loader's batch shows
as abandoned at once; Ctrl-C/SIGTERM cancel the server's work; finished_at is clock time."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from decimal import Decimal

import psycopg
import pytest

from etl import ingest
from etl.ingest import build as buildmod
from etl.ingest import ledger
from tests.faults.helpers import (
    HEADER,
    backends,
    retail_lines,
    start_segwise,
    wait_for,
)
from tests.ingest.conftest import batch_row, query

WAITING_FOR_BUILD_LOCK = (
    "wait_event_type = 'Lock' AND query LIKE '%%pg_advisory_xact_lock%%'".replace("%%", "%")
)


def hold_build_lock(url: str) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("SELECT pg_advisory_lock(%s)", (buildmod.BUILD_LOCK,))
    return conn


def prices(url: str, first: int, n: int) -> set:
    return {
        r[0]
        for r in query(
            url,
            "SELECT unit_price FROM warehouse.fact_order_line "
            "WHERE order_id::bigint BETWEEN %s AND %s",
            (first, first + n - 1),
        )
    }


def test_a_load_killed_during_its_build_is_finished_by_running_it_again(warehouse_url, tmp_path):
    f = tmp_path / "killed.csv"
    f.write_text(HEADER + retail_lines(900000, 200))
    lock = hold_build_lock(warehouse_url)
    try:
        proc = start_segwise(warehouse_url, "load", str(f), "--layout", "online_retail")
        wait_for("the build to wait", lambda: backends(warehouse_url, WAITING_FOR_BUILD_LOCK))
        proc.kill()
        proc.wait()
    finally:
        lock.close()
    [(batch_id, status)] = query(
        warehouse_url,
        "SELECT batch_id, status FROM staging.load_batches WHERE source_uri = %s",
        (str(f),),
    )
    assert status == "staged"
    again = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert again.status == "succeeded" and again.batch_id == batch_id
    assert again.rows_loaded == 200
    assert prices(warehouse_url, 900000, 200) == {Decimal("2.55")}


def test_batches_apply_in_staging_order(warehouse_url, tmp_path):
    old, fixed = tmp_path / "old.csv", tmp_path / "fixed.csv"
    old.write_text(HEADER + retail_lines(910000, 50, price="2.55"))
    fixed.write_text(HEADER + retail_lines(910000, 50, price="3.00"))
    staged = ingest.stage_paths(warehouse_url, [old], layout="online_retail")
    assert staged.status == "staged"
    newer = ingest.load_paths(warehouse_url, [fixed], layout="online_retail")
    assert newer.status == "succeeded"
    assert batch_row(warehouse_url, staged.batch_id)["status"] == "succeeded"  # built first
    assert ingest.build_warehouse(warehouse_url) == []  # nothing left staged
    assert prices(warehouse_url, 910000, 50) == {Decimal("3.00")}


def test_an_older_batch_never_overwrites_a_newer_one(warehouse_url, tmp_path):
    old, fixed = tmp_path / "old2.csv", tmp_path / "fixed2.csv"
    old.write_text(HEADER + retail_lines(920000, 50, price="2.55", stock="OLD1"))
    fixed.write_text(HEADER + retail_lines(920000, 50, price="3.00", stock="NEW1"))
    a = ingest.stage_paths(warehouse_url, [old], layout="online_retail")
    b = ingest.stage_paths(warehouse_url, [fixed], layout="online_retail")
    buildmod._build_one(warehouse_url, b.batch_id)  # the newer one got built first somehow
    late = ingest.build_warehouse(warehouse_url, [a.batch_id])
    assert [r.status for r in late] == ["succeeded"]
    assert prices(warehouse_url, 920000, 50) == {Decimal("3.00")}
    assert query(
        warehouse_url,
        "SELECT DISTINCT product_id FROM warehouse.fact_order_line "
        "WHERE order_id::bigint BETWEEN 920000 AND 920049",
    ) == [("NEW1",)]


def test_segwise_build_builds_staged_batches(warehouse_url, tmp_path):
    f = tmp_path / "later.csv"
    f.write_text(HEADER + retail_lines(930000, 20))
    staged = ingest.stage_paths(warehouse_url, [f], layout="online_retail")
    proc = start_segwise(warehouse_url, "build", str(staged.batch_id), "-q")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert f"batch {staged.batch_id}: succeeded" in out
    assert batch_row(warehouse_url, staged.batch_id)["status"] == "succeeded"


def _open_and_die(url: str) -> None:
    batch_id, _holder = ledger.open_batch(
        url,
        source_kind="file",
        layout="online_retail",
        source_uri="/dead/loader.csv",
        content_sha256=None,
        bytes_=None,
        files=[],
        mapping_doc={},
    )
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_dead_loaders_batch_is_abandoned_at_once(warehouse_url):
    child = multiprocessing.get_context("spawn").Process(
        target=_open_and_die, args=(warehouse_url,)
    )
    child.start()
    child.join()
    assert child.exitcode == -signal.SIGKILL
    # a live loader's running batch is left alone
    live, holder = ledger.open_batch(
        warehouse_url,
        source_kind="file",
        layout="online_retail",
        source_uri="/live/loader.csv",
        content_sha256=None,
        bytes_=None,
        files=[],
        mapping_doc={},
    )
    try:

        def dead_status():
            ledger.ensure_warehouse(warehouse_url)
            return query(
                warehouse_url,
                "SELECT status, message FROM staging.load_batches WHERE source_uri = %s",
                ("/dead/loader.csv",),
            )[0]

        status, message = wait_for(
            "the dead session to end", lambda: (s := dead_status())[0] == "abandoned" and s
        )
        assert "abandoned: the loading process ended" in message
        assert batch_row(warehouse_url, live)["status"] == "running"
    finally:
        holder.close()


def test_kill_9_during_copy_shows_abandoned(warehouse_url, tmp_path):
    f = tmp_path / "copying.csv"
    f.write_text(HEADER + retail_lines(1_000_000, 400_000))
    proc = start_segwise(warehouse_url, "load", str(f), "--layout", "online_retail", "-q")
    wait_for("the COPY", lambda: backends(warehouse_url, "query LIKE 'COPY %'"), 120)
    proc.send_signal(signal.SIGSTOP)
    proc.kill()
    proc.wait()
    out = start_segwise(warehouse_url, "loads", "-n", "5").communicate(timeout=120)[0]
    mine = [line for line in out.splitlines() if "abandoned" in line]
    assert mine, out
    [(status,)] = query(
        warehouse_url, "SELECT status FROM staging.load_batches WHERE source_uri = %s", (str(f),)
    )
    assert status == "abandoned"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_cancels_the_server_work_and_exits_130(warehouse_url, tmp_path, sig):
    f = tmp_path / f"signal_{sig.name}.csv"
    f.write_text(HEADER + retail_lines(940000 + 1000 * int(sig), 100))
    lock = hold_build_lock(warehouse_url)
    try:
        proc = start_segwise(warehouse_url, "load", str(f), "--layout", "online_retail", "-q")
        [(pid, _, _)] = wait_for(
            "the build to wait", lambda: backends(warehouse_url, WAITING_FOR_BUILD_LOCK)
        )
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
        # the server statement was cancelled: the backend no longer waits for the lock
        wait_for(
            "the server statement to be cancelled",
            lambda: not backends(warehouse_url, f"pid = {pid} AND state = 'active'"),
        )
    finally:
        lock.close()
    assert proc.returncode == 130, err
    assert err.strip().count("\n") == 0 and err.startswith("segwise: interrupted:"), err
    assert "Traceback" not in err
    again = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert again.status == "succeeded" and again.rows_loaded == 100


def test_finished_at_is_when_the_batch_finished(warehouse_url, tmp_path):
    f = tmp_path / "clock.csv"
    f.write_text(HEADER + retail_lines(950000, 20))
    staged = ingest.stage_paths(warehouse_url, [f], layout="online_retail")
    lock = hold_build_lock(warehouse_url)
    done: list = []
    worker = threading.Thread(
        target=lambda: done.append(ingest.build_warehouse(warehouse_url, [staged.batch_id]))
    )
    try:
        worker.start()
        wait_for("the build to wait", lambda: backends(warehouse_url, WAITING_FOR_BUILD_LOCK))
        (released_at,) = lock.execute("SELECT clock_timestamp()").fetchone()
    finally:
        lock.close()
    worker.join()
    assert [r.status for r in done[0]] == ["succeeded"]
    row = batch_row(warehouse_url, staged.batch_id)
    assert row["finished_at"] > released_at > row["started_at"]


def test_is_sale_is_filled_from_one_definition(warehouse_url, tmp_path):
    f = tmp_path / "sales.csv"
    f.write_text(
        HEADER
        + "960001,A1,X,6,12/1/2010 8:26,2.55,17850,France\n"
        + "960002,A1,X,6,12/1/2010 8:26,0,17850,France\n"
        + "C960003,A1,X,-6,12/1/2010 8:26,2.55,17850,France\n"
        + "960004,A1,X,0,12/1/2010 8:26,2.55,17850,France\n"
    )
    r = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert r.status == "succeeded"
    got = dict(
        query(
            warehouse_url,
            "SELECT order_id, is_sale FROM warehouse.fact_order_line WHERE batch_id = %s",
            (r.batch_id,),
        )
    )
    # price 0 is rejected by the layout, so 960002 is not there
    assert got == {"960001": True, "C960003": False, "960004": False}
    totals = dict(
        query(
            warehouse_url,
            "SELECT order_id, n_sale_lines FROM warehouse.fact_order WHERE batch_id = %s",
            (r.batch_id,),
        )
    )
    assert totals == {"960001": 1, "C960003": 0, "960004": 0}
