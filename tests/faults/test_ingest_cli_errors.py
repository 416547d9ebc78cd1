"""Item 10 of the reliability work, for loads: every failure of `segwise load` is one line,
`segwise: error: ...`, exit 2, never a traceback."""

from __future__ import annotations

import psycopg

from tests.faults.helpers import HEADER, backends, retail_lines, start_segwise, wait_for
from tests.faults.test_ingest_crashes import WAITING_FOR_BUILD_LOCK, hold_build_lock


def one_line_error(proc) -> str:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, (out, err)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("segwise: error: "), err
    return lines[0]


def test_a_bad_mapping_is_one_line(warehouse_url, tmp_path):
    m = tmp_path / "bad.yml"
    m.write_text(
        "name: bad_cli\nformat: {encoding: rot13}\nsources:\n  lines:\n    columns: [a, b]\n"
        "order_lines:\n  source: lines\n  columns:\n    order_id: a\n    order_ts: zzz\n"
        "    quantity: b\n    unit_price: b\n"
    )
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n")
    line = one_line_error(start_segwise(warehouse_url, "load", str(f), "--mapping", str(m), "-q"))
    assert "format.encoding" in line and "zzz" in line


def test_undecodable_bytes_are_one_line(warehouse_url, tmp_path):
    f = tmp_path / "bytes.csv"
    f.write_bytes(HEADER.encode() + b"996001,A,\xff\xfe BAD,6,12/1/2010 8:26,2.55,1,France\n")
    m = tmp_path / "utf8.yml"
    m.write_text("extends: online_retail\nname: utf8_retail\nformat: {encoding: utf-8}\n")
    line = one_line_error(start_segwise(warehouse_url, "load", str(f), "--mapping", str(m), "-q"))
    assert "bytes.csv: not valid utf-8 text at line 2" in line


def test_a_connection_lost_during_the_build_is_one_line(warehouse_url, tmp_path):
    f = tmp_path / "lost.csv"
    f.write_text(HEADER + retail_lines(996100, 50))
    lock = hold_build_lock(warehouse_url)
    try:
        proc = start_segwise(warehouse_url, "load", str(f), "--layout", "online_retail", "-q")
        [(pid, _, _)] = wait_for(
            "the build to wait", lambda: backends(warehouse_url, WAITING_FOR_BUILD_LOCK)
        )
        with psycopg.connect(warehouse_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        line = one_line_error(proc)
    finally:
        lock.close()
    assert "terminat" in line or "connection" in line, line


def test_an_unreadable_date_in_an_iso_file_is_one_line(warehouse_url, tmp_path):
    """An Online Retail II file whose dates no format reads: the column is parsed value by
    value (no single format reads it), the batch fails on its rejections, and the one line
    quotes the first bad value with its file, line and column."""
    f = tmp_path / "online_retail_II.csv"
    f.write_text(
        HEADER
        + "996200,85123A,WHITE HEART,6,2011-02-30 10:00:00,2.55,17850,United Kingdom\n"
        + "996201,85123A,WHITE HEART,6,2011-13-01 10:00:00,2.55,17850,United Kingdom\n"
        + "996202,85123A,WHITE HEART,6,2011-03-01 10:00:00,2.55,17850,United Kingdom\n"
    )
    proc = start_segwise(warehouse_url, "load", str(f), "--layout", "online_retail", "-q")
    line = one_line_error(proc)
    assert f"{f} line 2, column InvoiceDate: '2011-02-30 10:00:00'" in line
    assert "not a date/time in format" in line
