"""Passwords never show: not in output, logs, errors, tracebacks (-v) or the load ledger, for
every form libpq takes (URL user info, URL query, keyword string, an unencoded '@')."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import psycopg
import pytest

from etl import db, ingest, migrate
from tests.conftest import create_database, drop_database
from tests.faults.conftest import segwise
from tests.segment.warehouse_data import small_warehouse

SECRET = "S3cretXYZ"
AT_SECRET = "S3c@ret9XYZ"  # unencoded '@': libpq takes 'ret9XYZ@127.0.0.1' for the host
LEAKS = (SECRET, "ret9XYZ", "S3c@")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    url = create_database("segwise_secrets")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=20)
        yield url
    finally:
        drop_database(url)


def _dbname(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _forms(url: str) -> dict[str, str]:
    name = _dbname(url)
    return {
        "query": f"postgresql://127.0.0.1:5432/{name}?user=postgres&password={SECRET}",
        "keyword": f"host=127.0.0.1 port=5432 dbname={name} user=postgres password={SECRET}",
        "quoted keyword": f"host=127.0.0.1 dbname={name} user=postgres password='{SECRET} x'",
        "userinfo": f"postgresql://postgres:{SECRET}@127.0.0.1:5432/{name}",
    }


def _clean(text: str, *, traceback_allowed: bool = False) -> None:
    for leak in LEAKS:
        assert leak not in text, text
    assert traceback_allowed or "Traceback" not in text


@pytest.mark.parametrize("form", ["query", "keyword", "quoted keyword", "userinfo"])
def test_every_connection_form_works_and_is_masked(url, form):
    conninfo = _forms(url)[form]
    done = segwise("db", "upgrade", "--database-url", conninfo)
    assert done.returncode == 0, done.stderr
    assert "already at" in done.stdout and "***" in done.stdout
    _clean(done.stdout + done.stderr)


def test_run_output_and_debug_logs_are_masked(url):
    done = segwise(
        "-v",
        "run",
        "--as-of",
        "2024-06-30",
        "--methods",
        "rfm",
        "--database-url",
        _forms(url)["query"],
    )
    assert done.returncode == 0, done.stderr
    assert "published" in done.stdout
    _clean(done.stdout + done.stderr)


@pytest.mark.parametrize("verbose", [[], ["-v"]])
def test_connection_errors_are_one_masked_line(url, verbose):
    cases = [
        f"postgresql://postgres:{AT_SECRET}@127.0.0.1:5432/{_dbname(url)}",
        f"postgresql://127.0.0.1:5432/segwise_no_such_db?user=postgres&password={SECRET}",
        f"host=127.0.0.1 dbname=segwise_no_such_db user=postgres password={SECRET}",
        f"host=127.0.0.1 dbname=x password={SECRET} bogus_keyword=1",
    ]
    for conninfo in cases:
        commands = [["run", "--as-of", "2024-06-30"]]
        if not verbose:
            commands += [["db", "upgrade"], ["report"]]
        for command in commands:
            done = segwise(*verbose, *command, "--database-url", conninfo)
            assert done.returncode == 2, (command, done.stderr)
            assert done.stdout == ""
            _clean(done.stderr, traceback_allowed=bool(verbose))
            if not verbose:  # (log lines of the work done before the error may precede it)
                assert done.stderr.splitlines()[-1].startswith("segwise: error: "), done.stderr
                assert done.stderr.count("segwise: error") == 1


def test_environment_url_is_masked_in_errors(url):
    env = {"SEGWISE_DATABASE_URL": f"postgresql://postgres:{AT_SECRET}@127.0.0.1:5432/x"}
    done = segwise("run", "--as-of", "2024-06-30", env=env)
    assert done.returncode == 2
    _clean(done.stderr)


def test_redact_masks_every_libpq_form():
    texts = [
        f"postgresql://u:{SECRET}@h:5432/db",
        f"postgresql+psycopg://u:{AT_SECRET}@h/db",
        f"postgresql://h/db?user=u&password={SECRET}&sslmode=require",
        f"postgresql://h/db?password={SECRET}",
        f"host=h password={SECRET} dbname=d",
        f"host=h password = '{SECRET} with space' dbname=d",
        f"mysql+pymysql://me:{SECRET}@h/db",
    ]
    for text in texts:
        out = db.redact(text)
        assert SECRET not in out and "ret9XYZ" not in out and "***" in out, out
    assert db.redact("postgresql://h:5432/db?sslmode=require") == (
        "postgresql://h:5432/db?sslmode=require"
    )
    # a password the process was given is masked wherever it appears, even alone
    db.register_connection_secrets(f"postgresql://u:{AT_SECRET}@h/db")
    assert "ret9XYZ" not in db.redact('could not translate host name "ret9XYZ@h" to address')
    db.register_connection_secrets(f"host=h password={SECRET}")
    assert SECRET not in db.redact(f'FATAL: role "{SECRET}" does not exist')


def test_log_records_and_tracebacks_are_masked():
    from etl.cli import RedactingFilter

    db.register_connection_secrets(f"host=h password={SECRET}")
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "url %s", (SECRET,), None)
    try:
        raise RuntimeError(f"boom postgresql://u:{SECRET}@h/db")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert SECRET not in text and "boom" in text and "Traceback" in text


def test_source_url_stored_masked_in_the_ledger(fresh_warehouse_url):
    source = create_database("segwise_secret_src")
    try:
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute(
                'CREATE TABLE sales (id serial PRIMARY KEY, "InvoiceNo" text, "StockCode" text, '
                '"Description" text, "Quantity" integer, "InvoiceDate" timestamp, '
                '"UnitPrice" numeric(10, 2), "CustomerID" integer, "Country" text)'
            )
            conn.execute(
                'INSERT INTO sales ("InvoiceNo", "StockCode", "Description", "Quantity", '
                '"InvoiceDate", "UnitPrice", "CustomerID", "Country") '
                "VALUES ('900001', 'A', 'Mug', 2, '2011-01-05 10:00', 3.5, 12001, 'France')"
            )
        name = _dbname(source)
        for src in (
            f"postgresql+psycopg://127.0.0.1:5432/{name}?user=postgres&password={SECRET}",
            f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:5432/{name}",
        ):
            ingest.load_query(
                fresh_warehouse_url,
                src,
                "SELECT * FROM sales",
                watermark_column="id",
                layout="online_retail",
            )
        with psycopg.connect(fresh_warehouse_url) as conn:
            uris = [r[0] for r in conn.execute("SELECT source_uri FROM staging.load_batches")]
        assert len(uris) == 2
        for uri in uris:
            assert SECRET not in uri and "***" in uri, uri
    finally:
        drop_database(source)
