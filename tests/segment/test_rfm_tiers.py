"""RFM scores and size tiers: tie rule, monotonicity, the segment map, and the real-data run
checked against an independent computation (numpy searchsorted on the raw CSV's values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import psycopg
import pytest

from etl.segment import run_config as config
from etl.segment.rfm import rfm_segments
from etl.segment.scoring import cut_by_shares, cut_by_thresholds, quantile_scores
from etl.segment.tiers import size_tiers


def _independent_scores(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Midpoint of each tie block via a sorted array (not pandas rank): floor(5 * mid) + 1."""
    v = np.asarray(values if higher_is_better else -values, dtype="float64")
    ordered = np.sort(v)
    below = np.searchsorted(ordered, v, side="left")
    upto = np.searchsorted(ordered, v, side="right")
    return np.floor(5 * (below + upto) / (2 * len(v))).astype(int) + 1


@pytest.mark.parametrize("seed", range(5))
def test_scores_never_split_ties_and_are_monotone(seed):
    rng = np.random.default_rng(seed)
    values = pd.Series(rng.choice([0, 1, 1, 1, 2, 3, 5, 8, 13, 400], size=997))
    for better in (True, False):
        s = quantile_scores(values, higher_is_better=better)
        assert s.between(1, 5).all()
        assert (s.groupby(values).nunique() == 1).all()
        order = np.argsort(values.to_numpy() if better else -values.to_numpy(), kind="stable")
        assert (np.diff(s.to_numpy()[order]) >= 0).all()
        assert (s.to_numpy() == _independent_scores(values.to_numpy(), better)).all()


def test_distinct_values_fill_quintiles_evenly():
    s = quantile_scores(pd.Series(range(100)))
    assert s.value_counts().sort_index().tolist() == [20, 20, 20, 20, 20]


def test_default_map_and_named_segments():
    cells = config.segment_cells(config.DEFAULT_RFM_SEGMENTS)
    assert len(cells) == 25
    assert cells[(5, 5)] == "Champions" and cells[(1, 5)] == "Can't Lose Them"
    assert cells[(3, 3)] == "Need Attention" and cells[(5, 1)] == "New Customers"
    feats = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "recency_days": [1, 300, 1, 50, 200],
            "frequency": [20, 1, 1, 5, 20],
            "monetary": [500.0, 5.0, 10.0, 60.0, 900.0],
        }
    )
    out = rfm_segments(feats, cells, list(config.DEFAULT_RFM_SEGMENTS)).set_index("customer_id")
    assert out.loc["a", "segment"] == "Champions"
    assert out.loc["b", "segment"] == "Hibernating"
    assert out.loc["e", "rfm"] == "255"


def test_tiers_quantile_fixed_and_inactive():
    values = pd.Series(np.arange(1, 11))
    assert (
        cut_by_shares(values, [0.5, 0.8], ("S", "M", "L")).tolist()
        == ["S"] * 5 + ["M"] * 3 + ["L"] * 2
    )
    orders = pd.Series([1, 2, 4, 5, 9])
    assert cut_by_thresholds(orders, [2, 5], ("S", "M", "L")).tolist() == list("SMMLL")
    revenue = pd.Series([14.99, 15, 29.99, 30.0])
    assert cut_by_thresholds(revenue, [15, 30], ("S", "M", "L")).tolist() == list("SMML")
    cfg = config.resolve({"tiers": {"preset": "food_delivery"}})
    assert cfg["tiers"]["window_days"] == 30
    feats = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "window_orders": [1, 6, 0],
            "window_revenue": [40.0, 10.0, 0.0],
        }
    )
    out = size_tiers(feats, cfg["tiers"]).set_index("customer_id")
    assert out.loc["a", "segment"] == "S-L" and out.loc["b", "segment"] == "L-S"
    assert out.loc["c", "segment"] == "inactive" and out.loc["c", "orders_tier"] is None


def _labels(url: str, run_id: int) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT customer_id, recency_days, frequency, monetary::float8, r_score, f_score, "
            "m_score, rfm_segment, orders_tier, revenue_tier, size_tier, cluster_id, "
            "hierarchical_cluster_id, demographic_segment, channel_segment "
            "FROM mart.customer_segments WHERE run_id = %s",
            (run_id,),
        ).fetchall()
    cols = [
        "customer_id", "recency_days", "frequency", "monetary", "r", "f", "m", "rfm_segment",
        "orders_tier", "revenue_tier", "size_tier", "cluster_id", "hcluster_id", "demographic",
        "channel",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def test_real_rfm_scores_match_independent_computation(retail_url, retail_run, retail_frame):
    got = _labels(retail_url, retail_run)
    sales = retail_frame[retail_frame["is_sale"]]
    last = sales.groupby("CustomerID")["ts"].max().dt.normalize()
    recency = (pd.Timestamp("2011-12-09") - last).dt.days
    freq = sales.groupby("CustomerID")["InvoiceNo"].nunique()
    got = got.set_index("customer_id").loc[recency.index]
    assert (got["r"].to_numpy() == _independent_scores(recency.to_numpy(), False)).all()
    assert (got["f"].to_numpy() == _independent_scores(freq.to_numpy(), True)).all()
    assert (got["m"].to_numpy() == _independent_scores(got["monetary"].to_numpy(), True)).all()


def test_real_rfm_monotone_ties_and_counts(retail_url, retail_run):
    got = _labels(retail_url, retail_run)
    for score, measure, better in (
        ("r", "recency_days", False),
        ("f", "frequency", True),
        ("m", "monetary", True),
    ):
        assert (got.groupby(measure)[score].nunique() == 1).all(), f"{score}: a tie was split"
        by_value = got.groupby(measure)[score].first().sort_index(ascending=better)
        assert by_value.is_monotonic_increasing, f"{score} not monotone in {measure}"
    cells = config.segment_cells(config.DEFAULT_RFM_SEGMENTS)
    expected = [cells[(r, f)] for r, f in zip(got["r"], got["f"], strict=True)]
    assert got["rfm_segment"].tolist() == expected
    with psycopg.connect(retail_url) as conn:
        prof = conn.execute(
            "SELECT method, sum(customers), sum(customer_share) FROM mart.segment_profiles "
            "GROUP BY method"
        ).fetchall()
    assert {m for m, _, _ in prof} == set(config.METHODS)
    for _method, customers, share in prof:
        assert customers == len(got) == 4338
        assert abs(share - 1) < 1e-9


def test_every_method_labels_every_customer(retail_url, retail_run):
    got = _labels(retail_url, retail_run)
    for col in ("rfm_segment", "size_tier", "cluster_id", "hcluster_id", "demographic", "channel"):
        assert got[col].notna().all(), col
    # quantile tiers: bottom 50% S, next 30% M, top 20% L by position, ties kept together
    share_s = (got["orders_tier"] == "S").mean()
    assert got.groupby("frequency")["orders_tier"].nunique().max() == 1
    assert share_s >= 0.5 - 1e-9 or (got["frequency"] == 1).mean() > 0.5
    assert got.groupby("monetary")["revenue_tier"].nunique().max() == 1
    assert abs((got["revenue_tier"] == "L").mean() - 0.2) < 0.01
