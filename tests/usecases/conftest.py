"""Use-case fixtures: each use case gets its own warehouse (its runs must not replace another's)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import psycopg
import pytest

from etl import migrate
from tests.conftest import create_database, drop_database


@pytest.fixture(scope="module")
def warehouse_url() -> Iterator[str]:
    """A brand-new migrated warehouse for one test module."""
    url = create_database("segwise_uc")
    try:
        migrate.upgrade(url)
        yield url
    finally:
        drop_database(url)


def view(url: str, query: str, params: tuple = ()) -> pd.DataFrame:
    """A mart query as a DataFrame (numbers as floats)."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        cols = [d.name for d in cur.description]
        frame = pd.DataFrame(cur.fetchall(), columns=cols)
    for c in frame.columns:
        if frame[c].map(lambda v: type(v).__name__ == "Decimal").any():
            frame[c] = frame[c].astype("float64")
    return frame
