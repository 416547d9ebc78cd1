"""Invoice RFM use case on the real Online Retail file: the invoice views against pandas."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from etl import ingest
from etl.segment import pipeline
from tests.usecases.conftest import view

AS_OF = date(2011, 12, 9)


@pytest.fixture(scope="module")
def retail(warehouse_url: str, online_retail_path: Path) -> str:
    r = ingest.load_paths(warehouse_url, [online_retail_path], layout="online_retail")
    assert r.status == "succeeded", r
    pipeline.run_all(
        warehouse_url,
        AS_OF,
        methods=["rfm"],
        trigger="test",
        config={"use_cases": {"invoice": {"top_n": 5, "trim_fraction": 0.1}}},
    )
    return warehouse_url


@pytest.fixture(scope="module")
def lines(online_retail_path: Path) -> pd.DataFrame:
    df = pd.read_csv(
        online_retail_path,
        encoding="latin-1",
        dtype={"CustomerID": str, "InvoiceNo": str, "StockCode": str},
    )
    df["ts"] = pd.to_datetime(df["InvoiceDate"], format="%m/%d/%Y %H:%M")
    df["amount"] = df["Quantity"] * df["UnitPrice"]
    df["is_return"] = df["InvoiceNo"].str.startswith("C") | (df["Quantity"] < 0)
    df["is_sale"] = (df["Quantity"] > 0) & (df["UnitPrice"] > 0) & ~df["is_return"]
    return df


def test_amount_distribution(retail, lines):
    sales = lines[lines["is_sale"] & lines["CustomerID"].notna()]
    amounts = sales.groupby("InvoiceNo")["amount"].sum().sort_values().to_numpy()
    got = view(retail, "SELECT * FROM mart.invoice_amount_distribution WHERE rfm_segment = 'all'")
    assert len(got) == 1
    row = got.iloc[0]
    assert row["invoices"] == len(amounts) == 18532
    assert row["min_amount"] == pytest.approx(amounts.min())
    assert row["max_amount"] == pytest.approx(amounts.max())
    assert row["median_amount"] == pytest.approx(np.median(amounts))
    assert row["mean_amount"] == pytest.approx(amounts.mean())
    assert row["trimmed_mean_amount"] == pytest.approx(stats.trim_mean(amounts, 0.1))
    assert row["trimmed_mean_amount"] != pytest.approx(row["mean_amount"])
    counts = pd.Series(np.round(amounts, 4)).value_counts()
    mode = counts[counts == counts.max()].index.min()
    assert row["mode_amount"] == pytest.approx(mode)
    per_segment = view(
        retail,
        "SELECT rfm_segment, invoices FROM mart.invoice_amount_distribution "
        "WHERE rfm_segment <> 'all'",
    )
    assert per_segment["invoices"].sum() == len(amounts)
    assert len(per_segment) >= 8


def test_placed_vs_cancelled_per_month(retail, lines):
    loaded = lines[lines["UnitPrice"] > 0]  # the loader rejects lines without a price
    month = loaded["ts"].dt.to_period("M").dt.start_time.dt.date
    per_invoice = (
        loaded.assign(month=month)
        .groupby("InvoiceNo")
        .agg(
            month=("month", "min"),
            sale=("is_sale", "any"),
            cancelled=("is_return", "all"),
        )
    )
    # an invoice's month is the month of its first line
    expected = per_invoice.groupby("month").agg(
        placed=("sale", "sum"), cancelled=("cancelled", "sum")
    )
    got = view(retail, "SELECT * FROM mart.invoice_monthly_status ORDER BY month").set_index(
        "month"
    )
    assert list(got.index) == list(expected.index)
    assert got["invoices_placed"].tolist() == expected["placed"].tolist()
    assert got["invoices_cancelled"].tolist() == expected["cancelled"].tolist()
    assert got["invoices_cancelled"].sum() == 3836


def test_top_products_per_segment(retail, lines):
    segments = view(retail, "SELECT customer_id, rfm_segment FROM mart.customer_segments")
    sales = lines[lines["is_sale"] & lines["CustomerID"].notna()].merge(
        segments, left_on="CustomerID", right_on="customer_id"
    )
    got = view(
        retail,
        "SELECT rfm_segment, revenue_rank, product_id, revenue, lift "
        "FROM mart.invoice_segment_top_products",
    )
    overall = sales.groupby("StockCode")["amount"].sum()
    overall_share = overall / overall.sum()
    for segment, frame in sales.groupby("rfm_segment"):
        rev = frame.groupby("StockCode")["amount"].sum()
        top = rev.reset_index().sort_values(["amount", "StockCode"], ascending=[False, True])
        top = top.head(5)
        mine = got[got["rfm_segment"] == segment].sort_values("revenue_rank")
        assert mine["product_id"].tolist() == top["StockCode"].tolist(), segment
        assert mine["revenue"].to_numpy() == pytest.approx(top["amount"].to_numpy())
        lift = (top["amount"] / rev.sum()).to_numpy() / overall_share[top["StockCode"]].to_numpy()
        assert mine["lift"].to_numpy() == pytest.approx(lift)
    everyone = got[got["rfm_segment"] == "all"].sort_values("revenue_rank")
    assert (
        everyone["product_id"].tolist() == overall.sort_values(ascending=False).index[:5].tolist()
    )


def test_category_lift_without_categories_is_one(retail):
    # Online Retail has no categories: every customer's sales are 'unknown', lift exactly 1
    got = view(retail, "SELECT DISTINCT category, lift FROM mart.invoice_segment_category_lift")
    assert got["category"].tolist() == ["unknown"]
    assert got["lift"].tolist() == pytest.approx([1.0])


def test_report_section(retail, tmp_path):
    from etl.segment.report import resolve_run, write_report

    url = retail if isinstance(retail, str) else retail[0]
    text = write_report(url, resolve_run(url), tmp_path / "r.html").read_text(encoding="utf-8")
    for heading in (
        "Invoice amounts",
        "Placed vs cancelled per month",
        "by lift against all customers",
        "Top products per RFM segment",
    ):
        assert heading in text, heading
