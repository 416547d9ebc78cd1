"""The two-year demo history: bytes, schema and whether it is realistic enough to segment."""

from __future__ import annotations

import gzip
from datetime import date

import pandas as pd
import pytest

from etl import demo
from etl.errors import SegwiseError
from tests.demo.conftest import SMALL_CUSTOMERS, header, read_csv, sha256

FILES = ("customers.csv", "products.csv", "order_lines.csv")


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, small_history):
    again = demo.generate(tmp_path / "again", customers=SMALL_CUSTOMERS)
    assert [p.name for p in again] == ["products.csv", "customers.csv", "order_lines.csv"]
    for name in FILES:
        assert sha256(tmp_path / "again" / name) == sha256(small_history / name), name
    demo.generate(tmp_path / "other", seed=7, customers=SMALL_CUSTOMERS)
    for name in FILES:
        assert sha256(tmp_path / "other" / name) != sha256(small_history / name), name


def test_gzip_output_is_the_same_csv_and_deterministic(tmp_path, small_history):
    paths = demo.generate(tmp_path / "a", customers=SMALL_CUSTOMERS, gzip=True)
    demo.generate(tmp_path / "b", customers=SMALL_CUSTOMERS, gzip=True)
    assert sorted(p.name for p in paths) == sorted(f"{n}.gz" for n in FILES)
    for name in FILES:
        gz = tmp_path / "a" / f"{name}.gz"
        assert gzip.decompress(gz.read_bytes()) == (small_history / name).read_bytes()
        assert sha256(gz) == sha256(tmp_path / "b" / f"{name}.gz")
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.endswith(".part")]


def test_headers_are_the_canonical_segwise_layout(small_history):
    assert header(small_history / "customers.csv") == [
        "customer_id", "gender", "birth_year", "income", "family_status", "n_dependants",
        "country", "state", "region", "city", "signup_date",
    ]  # fmt: skip
    assert header(small_history / "products.csv") == [
        "product_id", "product_name", "category_l1", "category_l2", "category_l3",
        "list_price", "unit_cost",
    ]  # fmt: skip
    assert header(small_history / "order_lines.csv") == [
        "order_id", "line_no", "customer_id", "order_ts", "product_id", "quantity",
        "unit_price", "discount_amount", "is_return", "channel", "platform", "market",
        "country", "region", "store_id",
    ]  # fmt: skip


def test_universe_is_stable_when_it_grows(tmp_path, small_history):
    demo.generate(tmp_path, customers=SMALL_CUSTOMERS // 3)
    small = (tmp_path / "customers.csv").read_text().splitlines()
    big = (small_history / "customers.csv").read_text().splitlines()
    assert len(small) == SMALL_CUSTOMERS // 3 + 1
    assert big[: len(small)] == small


@pytest.fixture(scope="module")
def lines(small_history) -> pd.DataFrame:
    df = read_csv(small_history / "order_lines.csv")
    df["ts"] = pd.to_datetime(df["order_ts"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    df["qty"] = pd.to_numeric(df["quantity"], errors="coerce")
    df["price"] = pd.to_numeric(df["unit_price"], errors="coerce")
    df["disc"] = pd.to_numeric(df["discount_amount"], errors="coerce")
    df["clean"] = df["ts"].notna() & df["qty"].notna() & (df["price"] > 0)
    return df


def test_keys_exist_and_dates_are_in_range(small_history, lines):
    customers = read_csv(small_history / "customers.csv")
    products = read_csv(small_history / "products.csv")
    assert customers["customer_id"].is_unique and products["product_id"].is_unique
    assert set(lines["customer_id"]) <= set(customers["customer_id"])
    assert set(lines["product_id"]) <= set(products["product_id"])
    assert not lines.duplicated(["order_id", "line_no"]).any()
    clean = lines[lines["clean"]]
    assert clean["ts"].min() >= pd.Timestamp(demo.DEFAULT_START)
    assert clean["ts"].max() < pd.Timestamp(demo.DEFAULT_END) + pd.Timedelta(days=1)
    per_order = clean.groupby("order_id").agg(c=("customer_id", "nunique"), t=("ts", "nunique"))
    assert (per_order["c"] == 1).all() and (per_order["t"] == 1).all()
    signup = customers.set_index("customer_id")["signup_date"].map(pd.Timestamp)
    assert (clean["ts"].dt.normalize() >= clean["customer_id"].map(signup)).all()


def test_channels_platforms_and_regions(lines):
    assert set(lines["channel"]) == {"web", "app", "store", "marketplace"}
    assert lines["platform"].nunique() >= 6
    assert set(lines["region"]) == {"Europe", "North America", "APAC", "LATAM"}
    assert lines["market"].nunique() >= 8
    store = lines["channel"] == "store"
    assert (lines.loc[store, "store_id"] != "").all()
    assert (lines.loc[~store, "store_id"] == "").all()
    assert (lines.loc[store, "platform"] == "pos").all()


def test_returns_are_about_two_percent_and_reference_earlier_purchases(lines):
    ret = lines[lines["is_return"] == "true"]
    assert 0.015 <= len(ret) / len(lines) <= 0.025
    assert set(lines["is_return"]) == {"true", "false"}
    assert (ret["qty"] < 0).all() and (ret["disc"] == 0).all()
    assert (lines.loc[lines["is_return"] == "false", "qty"].dropna() > 0).all()
    assert ret["order_id"].str.startswith("R").all()
    sales = lines[lines["is_return"] == "false"][["order_id", "customer_id", "product_id", "ts"]]
    ret = ret.assign(sale_id="S" + ret["order_id"].str[1:])
    linked = ret.merge(
        sales, left_on=["sale_id", "customer_id", "product_id"],
        right_on=["order_id", "customer_id", "product_id"], suffixes=("", "_sale"),
    )  # fmt: skip
    # Returns of sales made before the window (up to 30 days) have no sale in the file.
    assert len(linked) >= 0.95 * len(ret)
    lag = (linked["ts"] - linked["ts_sale"]).dt.days
    assert lag.between(0, 30).all() and (linked["ts"] > linked["ts_sale"]).all()


def test_seasonality_weekly_and_yearly(lines):
    clean = lines[lines["clean"]]
    daily = clean.groupby(clean["ts"].dt.normalize()).size()
    month = daily.groupby(daily.index.to_period("M")).mean()
    assert month[pd.Period("2025-12")] > 1.5 * month[pd.Period("2026-02")]
    assert month[pd.Period("2024-12")] > 1.3 * month[pd.Period("2025-02")]
    weekday = daily.groupby(daily.index.day_of_week).mean()
    assert weekday[5] > 1.15 * weekday[1]  # Saturday vs Tuesday
    assert daily.idxmax().month in (11, 12)  # Black Friday / Christmas peak
    assert clean["ts"].dt.hour.value_counts().idxmax() in range(17, 23)


def test_purchase_rates_are_heterogeneous_with_churn(lines):
    sales = lines[lines["clean"] & (lines["is_return"] == "false")]
    orders = sales.groupby("customer_id")["order_id"].nunique().sort_values(ascending=False)
    assert orders.head(len(orders) // 10).sum() > 0.3 * orders.sum()
    assert 0.15 < (orders == 1).mean() < 0.6
    assert orders.max() >= 40
    first_year = sales[sales["ts"] < pd.Timestamp("2025-11-01")]
    regulars = first_year.groupby("customer_id")["order_id"].nunique()
    regulars = set(regulars[regulars >= 3].index)
    last = sales.groupby("customer_id")["ts"].max()
    churned = [c for c in regulars if last[c] < pd.Timestamp("2026-05-01")]
    assert 0.1 * len(regulars) < len(churned) < 0.7 * len(regulars)


def test_discounts_and_margins(small_history, lines):
    clean = lines[lines["clean"] & (lines["is_return"] == "false")]
    discounted = clean["disc"] > 0
    assert 0.05 < discounted.mean() < 0.3
    assert (clean["disc"] < clean["qty"] * clean["price"]).all()
    products = read_csv(small_history / "products.csv")
    price = products["list_price"].astype(float)
    cost = products["unit_cost"].astype(float)
    assert (cost > 0).all() and (cost < price).all()
    assert products["category_l1"].nunique() >= 6
    assert (products.groupby("category_l3")["category_l2"].nunique() == 1).all()
    assert (products.groupby("category_l2")["category_l1"].nunique() == 1).all()
    sold = clean.merge(products, on="product_id")
    assert (sold["price"] == sold["list_price"].astype(float)).all()


def test_customer_demographics(small_history):
    c = read_csv(small_history / "customers.csv")
    assert len(c) == SMALL_CUSTOMERS
    assert set(c["gender"]) == {"female", "male", ""}
    assert set(c["family_status"]) == {
        "single", "married", "living with parents and siblings", "divorced/widowed",
    }  # fmt: skip
    assert set(c["n_dependants"]) == {"0", "1", "2", "3"}
    known = c[c["birth_year"] != ""]["birth_year"].astype(int)
    assert known.between(1930, 2008).all() and len(known) > 0.95 * len(c)
    income = c[c["income"] != ""]["income"].astype(int)
    assert (income > 0).all() and income.quantile(0.9) > 2 * income.quantile(0.1)
    assert c["country"].nunique() >= 10 and c["city"].nunique() >= 25
    signup = pd.to_datetime(c["signup_date"], format="%Y-%m-%d")
    assert signup.min() < pd.Timestamp(demo.DEFAULT_START) <= signup.max()
    assert signup.max() <= pd.Timestamp(demo.DEFAULT_END)
    dependants = c["n_dependants"].astype(int).groupby(c["family_status"]).mean()
    assert dependants["married"] > 1.0 > dependants["living with parents and siblings"]


def test_malformed_rows_are_few_but_present(lines):
    bad_date = lines["ts"].isna()
    bad_qty = lines["qty"].isna()
    bad_price = lines["price"] < 0
    assert bad_date.any() and bad_qty.any() and bad_price.any()
    bad = bad_date | bad_qty | bad_price
    assert (bad.astype(int) == bad_date.astype(int) + bad_qty + bad_price).all()  # one fault each
    assert 0.0001 < bad.mean() < 0.002
    assert (lines.loc[bad, "is_return"] == "false").all()
    assert (lines["price"].dropna() != 0).all()


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(SegwiseError, match="start 2026-01-01 is after end 2025-01-01"):
        demo.generate(tmp_path, start="2026-01-01", end="2025-01-01")
    with pytest.raises(SegwiseError, match="start must be a date"):
        demo.generate(tmp_path, start="01/01/2025")
    with pytest.raises(SegwiseError, match="customers must be a positive integer"):
        demo.generate(tmp_path, customers=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(SegwiseError, match="not a directory"):
        demo.generate(tmp_path / "file", customers=10)


def test_custom_window_and_scale_lines(tmp_path):
    res = demo.write_history(
        tmp_path, scale_lines=30_000, start=date(2025, 1, 1), end=date(2025, 6, 30)
    )
    assert abs(res.order_lines - 30_000) < 0.03 * 30_000
    lines = read_csv(tmp_path / "order_lines.csv")
    assert len(lines) == res.order_lines
    ts = pd.to_datetime(lines["order_ts"], format="%Y-%m-%d %H:%M:%S", errors="coerce").dropna()
    assert ts.min().date() >= date(2025, 1, 1) and ts.max().date() <= date(2025, 6, 30)
    assert res.return_lines == int((lines["is_return"] == "true").sum())
    assert sum(res.malformed.values()) > 0
    signup = read_csv(tmp_path / "customers.csv")["signup_date"]
    assert (signup <= "2025-06-30").all()
    window = (date(2025, 1, 1), date(2025, 6, 30))
    assert res.universe_customers == demo.customers_for_lines(42, 30_000, *window)


def test_a_failed_run_leaves_no_partial_order_lines_file(tmp_path, monkeypatch):
    import etl.demo.history as gen

    real, calls = gen.order_lines_table, []

    def fail_on_day_3(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(gen, "order_lines_table", fail_on_day_3)
    with pytest.raises(OSError, match="disk full"):
        demo.generate(tmp_path, customers=100)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv", "products.csv"]
