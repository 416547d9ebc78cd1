"""Customer features on the real Online Retail data as of 2011-12-09, against known
reference numbers and an independent plain-pandas computation from the raw CSV."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import psycopg

from etl.segment import pipeline
from tests.segment.conftest import AS_OF

REFERENCE = {  # reference values: customer -> (recency_days, frequency, gross, net)
    "12346": (325, 1, Decimal("77183.60"), Decimal("0.00")),
    "12347": (2, 7, Decimal("4310.00"), Decimal("4310.00")),
    "12748": (0, 209, Decimal("33719.73"), Decimal("29072.10")),
    "17850": (372, 34, Decimal("5391.21"), Decimal("5288.63")),
}


def _features(url: str, run_id: int) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        return pipeline.read_features(conn, run_id).set_index("customer_id")


def test_reference_customers_exact(retail_url, retail_run):
    with psycopg.connect(retail_url) as conn:
        rows = conn.execute(
            "SELECT customer_id, recency_days, frequency, round(gross_revenue, 2), "
            "round(monetary, 2) FROM mart.customer_segments WHERE customer_id = ANY(%s)",
            (list(REFERENCE),),
        ).fetchall()
    assert {r[0]: tuple(r[1:]) for r in rows} == REFERENCE


def test_every_customer_matches_plain_pandas(retail_url, retail_run, retail_frame):
    df = retail_frame[retail_frame["ts"] < pd.Timestamp(AS_OF) + pd.Timedelta(days=1)]
    sales = df[df["is_sale"]]
    as_of = pd.Timestamp(AS_OF)
    expected = pd.DataFrame(
        {
            "recency_days": (
                as_of - sales.groupby("CustomerID")["ts"].max().dt.normalize()
            ).dt.days,
            "frequency": sales.groupby("CustomerID")["InvoiceNo"].nunique(),
            "gross_revenue": sales.groupby("CustomerID")["amount"].sum(),
        }
    )
    returns = df[df["is_return"] & df["CustomerID"].notna()].groupby("CustomerID")["amount"].sum()
    expected["monetary"] = expected["gross_revenue"] + returns.reindex(expected.index).fillna(0)
    got = _features(retail_url, retail_run)
    assert len(got) == len(expected) == 4338
    assert set(got.index) == set(expected.index)
    got = got.loc[expected.index]
    assert (got["recency_days"] == expected["recency_days"]).all()
    assert (got["frequency"] == expected["frequency"]).all()
    assert (got["gross_revenue"] - expected["gross_revenue"]).abs().max() < 1e-6
    assert (got["monetary"] - expected["monetary"]).abs().max() < 1e-6
    assert round(got["gross_revenue"].sum(), 2) == 8911407.90


def test_features_respect_the_as_of_date(retail_url, retail_frame):
    """An earlier date sees only earlier orders (run left unpublished, then failed)."""
    as_of = dt.date(2011, 6, 30)
    run_id = pipeline.start_run(retail_url, as_of, methods=["rfm"], trigger="test")
    try:
        pipeline.build_features(retail_url, run_id)
        got = _features(retail_url, run_id)
    finally:
        pipeline.fail_run(retail_url, run_id, "test done")
    sales = retail_frame[retail_frame["is_sale"] & (retail_frame["ts"] < "2011-07-01")]
    assert len(got) == sales["CustomerID"].nunique()
    freq = sales.groupby("CustomerID")["InvoiceNo"].nunique()
    assert (got.loc[freq.index, "frequency"] == freq).all()
    assert got["recency_days"].min() == 0 and (got["tenure_days"] >= got["recency_days"]).all()


def test_derived_features_are_consistent(retail_url, retail_run):
    f = _features(retail_url, retail_run)
    assert (f["avg_order_value"] - f["gross_revenue"] / f["frequency"]).abs().max() < 1e-9
    single = f["frequency"] == 1
    assert f.loc[single, "mean_days_between_orders"].isna().all()
    assert (f.loc[~single, "mean_days_between_orders"] >= 0).all()
    assert (f["distinct_products"] >= 1).all()
    with psycopg.connect(retail_url) as conn:
        cat = conn.execute(
            "SELECT abs(sum(c.revenue) - (SELECT sum(gross_revenue) FROM "
            "segmentation.customer_features WHERE run_id = %(r)s)) "
            "FROM segmentation.customer_category_revenue c WHERE run_id = %(r)s",
            {"r": retail_run},
        ).fetchone()[0]
        weekday = conn.execute(
            "SELECT preferred_weekday, preferred_hour FROM segmentation.customer_features "
            "WHERE run_id = %s AND customer_id = '17850'",
            (retail_run,),
        ).fetchone()
    assert cat < Decimal("0.01")
    assert 1 <= weekday[0] <= 7 and 0 <= weekday[1] <= 23
