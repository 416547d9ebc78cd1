"""Fixtures for the ingest tests: a migrated warehouse per test module, and helpers to look at
what a load left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from etl import migrate
from tests.conftest import create_database, drop_database

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def warehouse_url() -> Iterator[str]:
    """A migrated warehouse shared by one test module."""
    url = create_database("segwise_ingest")
    migrate.upgrade(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


def snapshot(url: str) -> dict[str, object]:
    """Everything a failed batch must leave untouched: row counts and sums of the warehouse."""
    with psycopg.connect(url) as conn:
        return {
            "lines": conn.execute(
                "SELECT count(*), coalesce(sum(amount), 0), coalesce(max(batch_id), 0) "
                "FROM warehouse.fact_order_line"
            ).fetchone(),
            "orders": conn.execute(
                "SELECT count(*), coalesce(sum(net_amount), 0) FROM warehouse.fact_order"
            ).fetchone(),
            "customers": conn.execute("SELECT count(*) FROM warehouse.dim_customer").fetchone(),
            "products": conn.execute("SELECT count(*) FROM warehouse.dim_product").fetchone(),
            "succeeded": conn.execute(
                "SELECT count(*) FROM staging.load_batches WHERE status = 'succeeded'"
            ).fetchone(),
        }


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params or None).fetchall()


def batch_row(url: str, batch_id: int) -> dict[str, object]:
    with psycopg.connect(url) as conn:
        cur = conn.execute("SELECT * FROM staging.load_batches WHERE batch_id = %s", (batch_id,))
        names = [d.name for d in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))


def raw_tables(url: str) -> list[str]:
    """Staging tables of batches: none may outlive its batch's build (or failure)."""
    return [
        r[0]
        for r in query(
            url,
            "SELECT tablename FROM pg_tables WHERE schemaname = 'staging' "
            "AND tablename LIKE 'raw\\_%'",
        )
    ]
