"""Segmentation fixtures: the real Online Retail file loaded once per session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from etl import migrate
from etl.segment import pipeline
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import load_online_retail

AS_OF = dt.date(2011, 12, 9)


@pytest.fixture(scope="session")
def retail_url(online_retail_path: Path) -> Iterator[str]:
    """A warehouse holding the real Online Retail data (read-only for tests: don't write)."""
    url = create_database("segwise_seg")
    try:
        migrate.upgrade(url)
        load_online_retail(url, online_retail_path)
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="session")
def retail_run(retail_url: str) -> int:
    """One full published run on the real data (all six methods), shared by the session.

    k is fixed so the session skips the silhouette search (docs/clustering.md tests that)."""
    return pipeline.run_all(retail_url, AS_OF, trigger="test", config={"clustering": {"k": 4}})


@pytest.fixture(scope="session")
def retail_frame(online_retail_path: Path) -> pd.DataFrame:
    """The raw CSV read with plain pandas: the independent side of the comparisons."""
    df = pd.read_csv(
        online_retail_path,
        encoding="latin-1",
        dtype={"CustomerID": str, "InvoiceNo": str, "StockCode": str},
    )
    df["ts"] = pd.to_datetime(df["InvoiceDate"], format="%m/%d/%Y %H:%M")
    df["amount"] = df["Quantity"] * df["UnitPrice"]
    df["is_return"] = df["InvoiceNo"].str.startswith("C") | (df["Quantity"] < 0)
    df["is_sale"] = (
        df["CustomerID"].notna() & (df["Quantity"] > 0) & (df["UnitPrice"] > 0) & ~df["is_return"]
    )
    return df
