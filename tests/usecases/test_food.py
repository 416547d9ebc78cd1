"""Food-delivery tiers on generated orders in the food_delivery layout, against pandas."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl import ingest
from etl.segment import pipeline
from etl.segment.scoring import cut_by_shares
from tests.usecases.conftest import view

CUISINES = ["Pizza", "Sushi", "Burgers", "Thai", "Indian", "Café & Bakery"]


def make_orders(path: Path, customers: int = 400, seed: int = 7) -> pd.DataFrame:
    """Three months of orders, one row per order, in the food_delivery layout."""
    rng = np.random.default_rng(seed)
    rows = []
    order_id = 100000
    for c in range(customers):
        taste = rng.dirichlet(np.full(len(CUISINES), 0.6))
        rate = rng.gamma(1.5, 1.6)
        for month in (1, 2, 3):
            for _ in range(rng.poisson(rate)):
                order_id += 1
                day = int(rng.integers(1, 29))
                ts = f"2021-{month:02d}-{day:02d} {int(rng.integers(10, 23)):02d}:15:00 UTC"
                rows.append(
                    {
                        "order_id": order_id,
                        "user_id": f"u{c}",
                        "order_timestamp": ts,
                        "city": "Lisbon" if c % 3 else "Porto",
                        "cuisine_parent": CUISINES[rng.choice(len(CUISINES), p=taste)],
                        "basket": round(float(rng.lognormal(2.6, 0.5)), 2),
                        "shop_id": f"s{int(rng.integers(0, 40))}",
                    }
                )
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False)
    return frame


@pytest.fixture(scope="module")
def food(warehouse_url: str, tmp_path_factory) -> tuple[str, pd.DataFrame]:
    path = tmp_path_factory.mktemp("food") / "orders.csv"
    orders = make_orders(path)
    r = ingest.load_paths(warehouse_url, [path], layout="food_delivery")
    assert r.status == "succeeded" and r.rows_rejected == 0, r
    pipeline.run_all(
        warehouse_url, date.fromisoformat("2021-03-31"), methods=["tiers"], trigger="test"
    )
    orders["ts"] = pd.to_datetime(orders["order_timestamp"].str.replace(" UTC", ""))
    orders["customer_id"] = orders["user_id"]
    return warehouse_url, orders


def test_wide_view_has_one_column_per_cuisine(food):
    url, orders = food
    wide = view(url, "SELECT * FROM mart.food_customer_wide").set_index("customer_id")
    assert set(CUISINES) <= set(wide.columns)
    expected = orders.pivot_table(
        index="customer_id", columns="cuisine_parent", values="basket", aggfunc="sum", fill_value=0
    )
    assert len(wide) == len(expected)
    for cuisine in CUISINES:
        got = wide[cuisine].astype("float64").reindex(expected.index)
        assert got.to_numpy() == pytest.approx(expected[cuisine].to_numpy()), cuisine
    per_customer = orders.groupby("customer_id").agg(
        orders=("order_id", "nunique"), shops=("shop_id", "nunique"), revenue=("basket", "sum")
    )
    w = wide.reindex(per_customer.index)
    assert w["orders"].tolist() == per_customer["orders"].tolist()
    assert w["distinct_shops"].tolist() == per_customer["shops"].tolist()
    assert w["basket_revenue"].astype("float64").to_numpy() == pytest.approx(
        (per_customer["revenue"] / per_customer["orders"]).to_numpy(), abs=0.005 + 1e-9
    )  # at cents
    assert (w["other_cuisines"].astype("float64") == 0).all()
    long = view(
        url, "SELECT customer_id, cuisine, cuisine_revenue FROM mart.food_customer_cuisines"
    )
    assert long["cuisine_revenue"].sum() == pytest.approx(orders["basket"].sum())


def test_tier_cells_mix_and_shops(food):
    url, orders = food
    tiers = view(url, "SELECT customer_id, size_tier FROM mart.customer_segments")
    data = orders.merge(tiers, on="customer_id")
    got = view(url, "SELECT * FROM mart.food_tier_cell_mix")
    assert got["size_tier"].nunique() >= 5
    shops = data.groupby(["size_tier", "customer_id"])["shop_id"].nunique().groupby(level=0).mean()
    mix = data.groupby(["size_tier", "cuisine_parent"])["basket"].sum()
    mix = mix / mix.groupby(level=0).transform("sum")
    for row in got.itertuples():
        assert row.avg_distinct_shops == pytest.approx(shops[row.size_tier])
        assert row.revenue_share == pytest.approx(mix[(row.size_tier, row.cuisine)])
    assert got.groupby("size_tier")["revenue_share"].sum().to_numpy() == pytest.approx(1.0)


def _monthly(orders: pd.DataFrame) -> pd.DataFrame:
    orders = orders.assign(month=orders["ts"].dt.to_period("M").dt.start_time.dt.date)
    return (
        orders.groupby(["month", "customer_id"])
        .agg(orders=("order_id", "nunique"), revenue=("basket", "sum"))
        .reset_index()
    )


def test_calendar_month_tiers_fixed_thresholds(food):
    url, orders = food
    m = _monthly(orders)
    # the food_delivery preset: orders < 2 S, < 5 M, else L; revenue < 15 S, < 30 M, else L
    m["orders_tier"] = np.array(["S", "M", "L"])[np.searchsorted([2, 5], m["orders"], "right")]
    m["revenue_tier"] = np.array(["S", "M", "L"])[
        np.searchsorted([15, 30], m["revenue"].round(2), "right")
    ]
    got = view(url, "SELECT * FROM mart.food_monthly_tiers")
    merged = m.merge(got, on=["month", "customer_id"], suffixes=("", "_got"))
    assert len(merged) == len(m) == len(got)
    assert (merged["orders"] == merged["orders_got"]).all()
    assert (merged["orders_tier"] == merged["orders_tier_got"]).all()
    assert (merged["revenue_tier"] == merged["revenue_tier_got"]).all()
    assert set(got["size_tier"]) >= {"S-S", "M-M", "L-L"}


def test_calendar_month_tiers_quantile_cuts(food):
    url, orders = food
    pipeline.run_all(
        url,
        date.fromisoformat("2021-04-01"),
        methods=["tiers"],
        trigger="test",
        config={"tiers": {"preset": "quantile"}},
    )
    m = _monthly(orders)
    got = view(url, "SELECT * FROM mart.food_monthly_tiers")
    merged = m.merge(got, on=["month", "customer_id"], suffixes=("", "_got"))
    assert len(merged) == len(m)
    for _, frame in merged.groupby("month"):
        orders_tier = cut_by_shares(frame["orders"], [0.5, 0.8], ("S", "M", "L"))
        revenue_tier = cut_by_shares(frame["revenue"].round(2), [0.5, 0.8], ("S", "M", "L"))
        assert (orders_tier == frame["orders_tier"]).all()
        assert (revenue_tier == frame["revenue_tier"]).all()


def test_report_section(food, tmp_path):
    from etl.segment.report import resolve_run, write_report

    url = food if isinstance(food, str) else food[0]
    text = write_report(url, resolve_run(url), tmp_path / "r.html").read_text(encoding="utf-8")
    for heading in ("cuisine mix per S/M/L cell", "Pizza"):
        assert heading in text, heading
