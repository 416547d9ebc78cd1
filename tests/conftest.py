"""Shared fixtures: a throwaway database on the real PostgreSQL server for each test session.

The admin URL defaults to the server these machines run (127.0.0.1:5432, user postgres, trust
auth); set SEGWISE_TEST_ADMIN_URL to use another.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from etl import migrate

ADMIN_URL = os.environ.get(
    "SEGWISE_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
ONLINE_RETAIL = SHARED_DATA / "online_retail.csv.gz"


def _url_for(dbname: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


def create_database(prefix: str = "segwise_test") -> str:
    """A new empty database; returns its URL. Dropped by ``drop_database``."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _url_for(name)


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated warehouse shared by the whole session (tests must not assume it is empty)."""
    url = create_database()
    migrate.upgrade(url)
    yield url
    drop_database(url)


@pytest.fixture
def empty_database_url() -> Iterator[str]:
    """A brand-new, unmigrated database for one test."""
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture
def fresh_warehouse_url() -> Iterator[str]:
    """A brand-new migrated warehouse for one test that needs exact counts."""
    url = create_database()
    migrate.upgrade(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def online_retail_path() -> Path:
    if not ONLINE_RETAIL.exists():
        pytest.fail(f"reference data missing: {ONLINE_RETAIL} (shared/ must sit beside the repo)")
    return ONLINE_RETAIL
