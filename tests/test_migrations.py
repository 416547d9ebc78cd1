"""The warehouse schema: Alembic upgrade is repeatable, downgrade reaches base."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from etl import migrate
from etl.cli import main
from etl.mart.views import mart_view_files
from tests.conftest import create_database, drop_database

SCHEMAS = {"staging", "warehouse", "segmentation", "mart"}


def _schemas(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace").fetchall()
    return {r[0] for r in rows} & SCHEMAS


def _tables(url: str, schema: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
    return {r[0] for r in rows}


def _mart_views(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT viewname FROM pg_views WHERE schemaname = 'mart'").fetchall()
    return {r[0] for r in rows}


def _bi_granted(url: str) -> bool:
    """segwise_bi has this database's grants (CONNECT of its own; every role has PUBLIC's)."""
    with psycopg.connect(url) as conn:
        (acl,) = conn.execute(
            "SELECT datacl::text FROM pg_database WHERE datname = current_database()"
        ).fetchone()
    return "segwise_bi=" in (acl or "")


def test_upgrade_creates_schemas_and_own_version_table(empty_database_url, capsys):
    url = empty_database_url
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert _schemas(url) == SCHEMAS
    assert {"load_batches", "rejected_rows"} <= _tables(url, "staging")
    assert {"dim_customer", "dim_product", "fact_order_line", "fact_order"} <= _tables(
        url, "warehouse"
    )
    public = _tables(url, "public")
    assert migrate.VERSION_TABLE in public
    assert "alembic_version" not in public, "Airflow owns alembic_version; ours must differ"
    assert migrate.current_revision(url) == migrate.head_revision()
    assert "upgraded" in capsys.readouterr().out


def test_upgrade_is_idempotent(empty_database_url, capsys):
    url = empty_database_url
    for _ in range(3):
        assert main(["db", "upgrade", "--database-url", url]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert migrate.current_revision(url) == migrate.head_revision()


def test_upgrade_leaves_airflow_alembic_version_alone(empty_database_url):
    url = empty_database_url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('airflow_rev')")
    migrate.upgrade(url)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("airflow_rev",)
        ]


def test_downgrade_to_base_removes_everything(empty_database_url):
    url = empty_database_url
    migrate.upgrade(url)
    assert main(["db", "downgrade", "--database-url", url]) == 0
    assert _schemas(url) == set()
    assert migrate.current_revision(url) is None
    migrate.upgrade(url)  # and back up again
    assert _schemas(url) == SCHEMAS


def test_mart_layer_exists_at_head_only(empty_database_url):
    """No revision creates or meets a mart view: every revision runs on a database without them
    (today's views may read columns of any revision), and they are built once head is reached."""
    url = empty_database_url
    for revision in ("0002_segmentation", "0005_run_reliability", "0008_time"):
        migrate.upgrade(url, revision)
        assert _mart_views(url) == set(), revision
    migrate.upgrade(url)
    assert _mart_views(url) == {p.stem for p in mart_view_files()}
    assert _bi_granted(url)
    migrate.downgrade(url, "0004_ingest_reliability")
    assert _mart_views(url) == set()
    assert not _bi_granted(url)
    migrate.upgrade(url)
    assert _mart_views(url) == {p.stem for p in mart_view_files()}
    assert _bi_granted(url)


def test_missing_database_url_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.delenv("SEGWISE_DATABASE_URL", raising=False)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert "SEGWISE_DATABASE_URL" in err and "--database-url" in err


def test_databases_on_one_server_upgrade_at_the_same_time():
    """The segwise_bi role is one row for the whole server: upgrades of several databases at
    once used to fail with "tuple concurrently updated" while setting its password (4 of 6 did
    before the retry), and the error showed the plain password."""
    urls = [create_database("segwise_race") for _ in range(4)]
    env = {**os.environ, "SEGWISE_BI_PASSWORD": "race-secret"}
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "etl.cli", "db", "upgrade", "--database-url", url],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for url in urls
        ]
        outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
        for p, out in zip(procs, outputs, strict=True):
            assert p.returncode == 0, out[-2000:]
            assert "race-secret" not in out
        for url in urls:
            assert migrate.current_revision(url) == migrate.head_revision()
        with psycopg.connect(urls[0]) as conn:
            (verifier,) = conn.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = 'segwise_bi'"
            ).fetchone()
        assert verifier.startswith("SCRAM-SHA-256$")
    finally:
        for url in urls:
            drop_database(url)
