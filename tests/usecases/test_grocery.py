"""Grocery use case on generated files in the instacart layout (with a customers file), against
pandas computations on the files themselves."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl import ingest
from etl.segment import pipeline
from tests.usecases.conftest import view

# the test's own copy of the US Census Bureau regions (independent of the layout's expression)
REGIONS = {
    "Northeast": ["New York", "Pennsylvania", "Maine", "Vermont"],
    "Midwest": ["Ohio", "Iowa", "Missouri", "Kansas"],
    "South": ["Texas", "Florida", "District of Columbia", "Georgia"],
    "West": ["California", "Oregon", "Alaska", "New Mexico"],
}
DEPARTMENTS = ["produce", "dairy eggs", "snacks", "beverages", "frozen", "alcohol"]
MIN_ORDERS = 3


def make_grocery(folder: Path, users: int = 160, seed: int = 11) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    states = [s for names in REGIONS.values() for s in names]
    customers = pd.DataFrame(
        {
            "user_id": np.arange(1, users + 1),
            "First Name": "Ann",
            "Surnam": "Lee",
            "Gender": rng.choice(["Female", "Male"], users),
            "STATE": rng.choice(states, users),
            "Age": rng.integers(18, 82, users),
            "date_joined": "1/1/2017",
            "n_dependants": rng.integers(0, 4, users),
            "fam_status": rng.choice(["married", "single", "divorced/widowed"], users),
            "income": rng.integers(25000, 300000, users),
        }
    )
    departments = pd.DataFrame({"department_id": range(1, 7), "department": DEPARTMENTS})
    aisles = pd.DataFrame({"aisle_id": range(1, 7), "aisle": [f"aisle {i}" for i in range(6)]})
    n_products = 60
    products = pd.DataFrame(
        {
            "product_id": np.arange(1000, 1000 + n_products),
            "product_name": [f"product {i}" for i in range(n_products)],
            "aisle_id": rng.integers(1, 7, n_products),
            "department_id": np.arange(n_products) % 6 + 1,
            "prices": np.round(rng.uniform(1, 25, n_products), 1),
        }
    )
    orders, lines = [], []
    order_id = 5000000
    for user in customers["user_id"]:
        n_orders = int(rng.choice([1, 2, 5, 12, 30, 45]))
        favourite = rng.choice(products["product_id"], 8, replace=False)
        seen: set[int] = set()
        gap = float(rng.choice([4, 9, 15, 25]))
        for number in range(1, n_orders + 1):
            order_id += 1
            days = None if number == 1 else float(min(30, max(0, round(rng.normal(gap, 3)))))
            orders.append(
                (
                    order_id,
                    user,
                    "prior",
                    number,
                    int(rng.integers(0, 7)),
                    int(rng.integers(7, 22)),
                    days,
                )
            )
            k = int(rng.integers(1, 7))
            basket = rng.choice(
                np.concatenate([favourite, rng.choice(products["product_id"], 4)]),
                k,
                replace=False,
            )
            for pos, product in enumerate(dict.fromkeys(basket.tolist()), start=1):
                lines.append((order_id, product, pos, int(product in seen)))
            seen.update(basket.tolist())
    files = {
        "orders": pd.DataFrame(
            orders,
            columns=[
                "order_id",
                "user_id",
                "eval_set",
                "order_number",
                "order_dow",
                "order_hour_of_day",
                "days_since_prior_order",
            ],
        ),
        "order_products__prior": pd.DataFrame(
            lines, columns=["order_id", "product_id", "add_to_cart_order", "reordered"]
        ),
        "products": products,
        "departments": departments,
        "aisles": aisles,
        "customers": customers,
    }
    for name, frame in files.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return files


@pytest.fixture(scope="module")
def grocery(warehouse_url: str, tmp_path_factory) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("instacart")
    f = make_grocery(folder)
    r = ingest.load_paths(warehouse_url, [folder], layout="instacart")
    assert r.status == "succeeded" and r.rows_rejected == 0, r
    pipeline.run_all(
        warehouse_url,
        date.fromisoformat("2030-12-31"),
        methods=["rfm", "demographic"],
        trigger="test",
        config={"use_cases": {"grocery": {"min_orders": MIN_ORDERS}}},
    )
    items = (
        f["order_products__prior"]
        .merge(f["orders"], on="order_id")
        .merge(f["products"], on="product_id")
        .merge(f["departments"], on="department_id")
    )
    items["customer_id"] = items["user_id"].astype(str)
    return warehouse_url, items, f


def test_states_map_to_regions(grocery):
    url, _, f = grocery
    region_of = {s: region for region, names in REGIONS.items() for s in names}
    expected = f["customers"]["STATE"].map(region_of).value_counts()
    got = view(
        url,
        "SELECT value, customers FROM mart.demographic_profiles "
        "WHERE method = 'all' AND dimension = 'region'",
    ).set_index("value")["customers"]
    assert got.to_dict() == expected.to_dict()


def test_shopper_flags(grocery):
    url, items, f = grocery
    orders = f["orders"][f["orders"]["order_id"].isin(items["order_id"])]
    per_user = orders.groupby("user_id").agg(
        orders=("order_id", "nunique"), median_gap=("days_since_prior_order", "median")
    )
    per_user["mean_price"] = items.groupby("user_id")["prices"].mean()
    per_user = per_user[per_user["orders"] >= MIN_ORDERS]
    per_user.index = per_user.index.astype(str)
    loyalty = np.where(
        per_user["orders"] <= 10,
        "New customer",
        np.where(per_user["orders"] <= 40, "Regular customer", "Loyal customer"),
    )
    spender = np.where(per_user["mean_price"] < 10, "Low spender", "High spender")
    frequency = np.where(
        per_user["median_gap"] <= 10,
        "Frequent customer",
        np.where(per_user["median_gap"] <= 20, "Regular customer", "Non-frequent customer"),
    )
    got = view(url, "SELECT * FROM mart.grocery_shopper_flags").set_index("customer_id")
    assert sorted(got.index) == sorted(per_user.index)  # min-orders rule applied
    got = got.loc[per_user.index]
    assert got["loyalty_flag"].tolist() == loyalty.tolist()
    assert got["spender_flag"].tolist() == spender.tolist()
    assert got["median_days_between_orders"].to_numpy() == pytest.approx(
        per_user["median_gap"].to_numpy()
    )
    assert got["frequency_flag"].tolist() == frequency.tolist()
    assert {"New customer", "Regular customer", "Loyal customer"} == set(loyalty)


def test_department_by_demographics_and_reorder_ratio(grocery):
    url, items, _ = grocery
    bands = view(url, "SELECT customer_id, age_band, frequency FROM mart.customer_segments")
    kept = items.merge(bands[bands["frequency"] >= MIN_ORDERS], on="customer_id")
    mix = kept.groupby(["age_band", "department"]).size()
    share = mix / mix.groupby(level=0).transform("sum")
    overall = kept.groupby("department").size() / len(kept)
    got = view(
        url, "SELECT * FROM mart.grocery_department_demographics WHERE dimension = 'age_band'"
    ).set_index(["value", "department"])
    got = got.loc[share.index]
    assert got["items"].tolist() == mix.tolist()
    assert got["item_share"].to_numpy() == pytest.approx(share.to_numpy())
    index = 100 * share / overall.reindex(share.index.get_level_values(1)).to_numpy()
    assert got["index_vs_all"].to_numpy() == pytest.approx(index.to_numpy())

    # the files' own reordered flag, never read by the loader
    ratio = kept.groupby(["department", "age_band"])["reordered"].mean()
    reo = view(url, "SELECT * FROM mart.grocery_reorder_ratio").set_index(
        ["department", "age_band"]
    )
    assert reo.loc[ratio.index, "reorder_ratio"].to_numpy() == pytest.approx(ratio.to_numpy())
    by_dept = kept.groupby("department")["reordered"].mean()
    assert reo.xs("all", level="age_band").loc[by_dept.index, "reorder_ratio"].to_numpy() == (
        pytest.approx(by_dept.to_numpy())
    )
    assert reo.loc[("all", "all"), "items"] == len(kept)


def test_price_ranges(grocery):
    url, items, _ = grocery
    price_range = np.where(
        items["prices"] <= 5,
        "Low-range product",
        np.where(items["prices"] <= 15, "Mid-range product", "High-range product"),
    )
    expected = (
        items.assign(price_range=price_range)
        .groupby("price_range")
        .agg(products=("product_id", "nunique"), items=("order_id", "size"))
    )
    got = view(url, "SELECT * FROM mart.grocery_price_ranges WHERE department = 'all'")
    got = got.set_index("price_range").loc[expected.index]
    assert got["products"].tolist() == expected["products"].tolist()
    assert got["items"].tolist() == expected["items"].tolist()


def test_category_lift_per_rfm_segment(grocery):
    url, items, _ = grocery
    segments = view(url, "SELECT customer_id, rfm_segment FROM mart.customer_segments")
    data = items.merge(segments, on="customer_id")
    overall = data.groupby("department")["prices"].sum()
    overall = overall / overall.sum()
    per = data.groupby(["rfm_segment", "department"])["prices"].sum()
    seg_share = per / per.groupby(level=0).transform("sum")
    lift = seg_share / overall.reindex(seg_share.index.get_level_values(1)).to_numpy()
    got = view(
        url,
        "SELECT segment, category, lift, rank_by_lift FROM mart.invoice_segment_category_lift "
        "WHERE method = 'rfm'",
    ).set_index(["segment", "category"])
    assert got.loc[lift.index, "lift"].to_numpy() == pytest.approx(lift.to_numpy())
    for segment, values in lift.groupby(level=0):
        top = values.droplevel(0).idxmax()
        assert got.loc[(segment, top), "rank_by_lift"] == 1


def test_report_section(grocery, tmp_path):
    from etl.segment.report import resolve_run, write_report

    url = grocery if isinstance(grocery, str) else grocery[0]
    text = write_report(url, resolve_run(url), tmp_path / "r.html").read_text(encoding="utf-8")
    for heading in (
        "Shopper flags",
        "Reorder ratio by department",
        "Price ranges",
        "Loyal customer",
    ):
        assert heading in text, heading
