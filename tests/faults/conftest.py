"""Fixtures for the fault tests: a migrated warehouse per module (as tests/ingest uses)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from etl import migrate
from tests.conftest import create_database, drop_database


@pytest.fixture(scope="module")
def warehouse_url() -> Iterator[str]:
    url = create_database("segwise_faults")
    migrate.upgrade(url)
    yield url
    drop_database(url)
