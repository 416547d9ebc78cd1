"""The read-only BI role and the documented mart: segwise_bi reads mart and nothing else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from etl import migrate
from etl.mart.views import mart_view_files
from etl.segment import pipeline
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import small_warehouse


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    url = create_database("segwise_segbi")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=15)
        pipeline.run_all(url, dt.date(2024, 3, 31), methods="rfm,tiers,channel", trigger="test")
        yield url
    finally:
        drop_database(url)


def _as_bi(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET ROLE segwise_bi")
        return conn.execute(query).fetchall()


# every sql/mart file, and the wide view a publish generates (etl.usecases.food)
MART_VIEWS = [p.stem for p in mart_view_files()] + ["food_customer_wide"]


@pytest.mark.parametrize("view", MART_VIEWS)
def test_bi_role_selects_every_mart_view(url, view):
    _as_bi(url, f"SELECT * FROM mart.{view} LIMIT 5")  # noqa: S608 - fixed names


def test_bi_role_reads_segments(url):
    rows = _as_bi(url, "SELECT customer_id, rfm_segment, size_tier FROM mart.customer_segments")
    assert len(rows) == 15 and all(r[1] and r[2] for r in rows)


@pytest.mark.parametrize("view", MART_VIEWS)
def test_bi_role_has_no_write_privilege_on_mart(url, view):
    with psycopg.connect(url) as conn:
        for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE"):
            assert not conn.execute(
                "SELECT has_table_privilege('segwise_bi', %s, %s)", (f"mart.{view}", privilege)
            ).fetchone()[0]


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO mart.runs (as_of_date, methods) VALUES ('2024-01-01', '{rfm}')",
        "DELETE FROM mart.segment_profiles",
        "SELECT * FROM warehouse.fact_order_line LIMIT 1",
        "SELECT * FROM warehouse.dim_customer LIMIT 1",
        "SELECT * FROM staging.load_batches LIMIT 1",
        "SELECT * FROM segmentation.customer_features LIMIT 1",
        f"SELECT * FROM public.{migrate.VERSION_TABLE}",  # noqa: S608 - a constant
        "CREATE TABLE public.bi_scratch (x int)",
        "CREATE VIEW mart.bi_scratch AS SELECT 1",
    ],
)
def test_bi_role_is_refused_everything_else(url, statement):
    # Writes to the (non-updatable) views are refused by the rewriter before the privilege check.
    refused = (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectNotInPrerequisiteState)
    with pytest.raises(refused):
        _as_bi(url, statement)


def test_every_mart_view_and_column_is_documented(url):
    with psycopg.connect(url) as conn:
        views = conn.execute(
            "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'mart'"
        ).fetchall()
        columns = conn.execute(
            "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'mart' "
            "AND a.attnum > 0 AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL"
        ).fetchall()
    assert sorted(v for v, _ in views) == sorted(MART_VIEWS)
    assert all(comment for _, comment in views)
    assert columns == [], f"undocumented mart columns: {columns}"


def test_upgrade_sets_and_rotates_the_login_password(url, monkeypatch):
    with psycopg.connect(url, autocommit=True) as conn:
        before = conn.execute(
            "SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = 'segwise_bi'"
        ).fetchone()
        try:
            hashes = []
            for password in ("first-secret%'", "second secret"):
                monkeypatch.setenv("SEGWISE_BI_PASSWORD", password)
                migrate.upgrade(url)  # already at head: the repeatable BI step still runs
                login, pw_hash = conn.execute(
                    "SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = 'segwise_bi'"
                ).fetchone()
                assert login and pw_hash and password not in pw_hash
                hashes.append(pw_hash)
                base = url.replace("postgres@", "segwise_bi:@", 1)
                with psycopg.connect(base, password=password) as bi:
                    # a login lands in mart (role's search_path in this database)
                    assert bi.execute("SELECT count(*) FROM customer_segments").fetchone()[0]
            assert hashes[0] != hashes[1]
        finally:
            conn.execute(
                "ALTER ROLE segwise_bi "
                + ("LOGIN" if before[0] else "NOLOGIN")
                + (" PASSWORD NULL" if before[1] is None else "")
            )


def test_a_schema_change_rebuilds_the_mart_with_its_generated_view(url):
    """Revisions run without the mart layer; back at head every view, the wide view a publish
    generated included, and the role's grants are back."""
    migrate.downgrade(url, "0008_time")
    with psycopg.connect(url) as conn:
        views = conn.execute("SELECT count(*) FROM pg_views WHERE schemaname = 'mart'")
        assert views.fetchone()[0] == 0
        assert not conn.execute(
            "SELECT has_schema_privilege('segwise_bi', 'mart', 'USAGE')"
        ).fetchone()[0]
    migrate.upgrade(url)
    for view in MART_VIEWS:
        _as_bi(url, f"SELECT * FROM mart.{view} LIMIT 1")  # noqa: S608 - fixed names
