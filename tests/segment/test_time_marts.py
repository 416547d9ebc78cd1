"""Time marts on the real Online Retail data, against an independent pandas computation from
the raw CSV: monthly revenue, orders, active and new customers for every month, the whole cohort
retention matrix, and the lifecycle stages at the run's date and at every month end."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import psycopg
import pytest

from etl.segment.run_config import DEFAULTS
from tests.segment.conftest import AS_OF

CENT = 0.005


def _frame(url: str, query: str) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        cur = conn.execute(query)
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


@pytest.fixture(scope="module")
def lines(retail_frame: pd.DataFrame) -> pd.DataFrame:
    df = retail_frame.copy()
    df["line_sale"] = (df["Quantity"] > 0) & (df["UnitPrice"] > 0) & ~df["is_return"]
    df["month"] = df["ts"].dt.to_period("M").dt.to_timestamp()
    return df


def test_monthly_revenue_orders_and_customers_match_pandas(retail_url, retail_run, lines):
    got = _frame(
        retail_url,
        "SELECT period_start, gross_revenue, returns_value, net_revenue, orders, "
        "cancelled_orders, active_customers, new_customers, returning_customers "
        "FROM mart.monthly_kpis WHERE grain = 'month' AND dimension = 'all' "
        "ORDER BY period_start",
    )
    got["month"] = pd.to_datetime(got["period_start"])
    got = got.set_index("month")
    sales = lines[lines["line_sale"]]
    returns = lines[lines["is_return"]]
    customer_sales = sales[sales["CustomerID"].notna()]
    first = customer_sales.groupby("CustomerID")["month"].min()
    expected = pd.DataFrame(
        {
            "gross_revenue": sales.groupby("month")["amount"].sum(),
            "returns_value": -returns.groupby("month")["amount"].sum(),
            "orders": sales.groupby("month")["InvoiceNo"].nunique(),
            "cancelled_orders": lines[lines["InvoiceNo"].str.startswith("C")]
            .groupby("month")["InvoiceNo"]
            .nunique(),
            "active_customers": customer_sales.groupby("month")["CustomerID"].nunique(),
            "new_customers": first.value_counts(),
        }
    ).fillna(0)
    expected["net_revenue"] = expected["gross_revenue"] - expected["returns_value"]
    assert list(got.index) == list(expected.index)  # every month, none missing
    assert len(got) == 13
    for column in ("gross_revenue", "returns_value", "net_revenue"):
        diff = (got[column].astype(float) - expected[column]).abs()
        assert diff.max() < CENT, (column, diff.idxmax())
    for column in ("orders", "cancelled_orders", "active_customers", "new_customers"):
        assert got[column].astype(int).tolist() == expected[column].astype(int).tolist(), column
    assert (got["returning_customers"] == got["active_customers"] - got["new_customers"]).all()
    # month-on-month growth is net revenue against the previous month
    growth = _frame(
        retail_url,
        "SELECT period_start, revenue_mom_growth FROM mart.monthly_kpis "
        "WHERE grain = 'month' AND dimension = 'all' ORDER BY period_start",
    )["revenue_mom_growth"].astype(float)
    net = expected["net_revenue"].to_numpy()
    assert np.isnan(growth.iloc[0])
    np.testing.assert_allclose(growth.iloc[1:], net[1:] / net[:-1] - 1, rtol=1e-9)


def test_fiscal_years_and_breakdowns_add_up(retail_url, retail_run, lines):
    kpis = _frame(
        retail_url,
        "SELECT grain, period_label, dimension, dimension_value, net_revenue, orders, "
        "active_customers FROM mart.monthly_kpis",
    )
    months = kpis[(kpis["grain"] == "month") & (kpis["dimension"] == "all")]
    years = kpis[(kpis["grain"] == "fiscal_year") & (kpis["dimension"] == "all")]
    # default fiscal year = calendar year, named after the year it ends in
    assert DEFAULTS["fiscal_year_start_month"] == 1
    assert sorted(years["period_label"]) == ["FY2010", "FY2011"]
    by_year = months.groupby(months["period_label"].str[:4])["net_revenue"].sum()
    for row in years.itertuples():
        assert abs(float(row.net_revenue) - float(by_year[row.period_label[2:]])) < CENT
    # a customer active in several months counts once in the year
    sales = lines[lines["line_sale"] & lines["CustomerID"].notna()]
    fy2011 = sales[sales["ts"].dt.year == 2011]["CustomerID"].nunique()
    assert int(years.set_index("period_label").at["FY2011", "active_customers"]) == fy2011
    # Online Retail records the country: its breakdown adds up to the totals
    country = kpis[(kpis["grain"] == "month") & (kpis["dimension"] == "country")]
    assert country["dimension_value"].nunique() == lines["Country"].nunique()
    assert set(kpis["dimension"]) == {"all", "country"}  # no channel/region/category here
    sums = country.groupby("period_label")[["net_revenue", "orders"]].sum()
    totals = months.set_index("period_label")
    assert (sums["orders"] == totals["orders"]).all()
    assert (
        sums["net_revenue"].astype(float) - totals["net_revenue"].astype(float)
    ).abs().max() < CENT


def test_cohort_retention_matrix_matches_pandas(retail_url, retail_run, lines):
    got = _frame(
        retail_url,
        "SELECT cohort_month, activity_month, months_since_first, cohort_size, active_customers, "
        "retention_rate, revenue, cumulative_revenue_per_customer FROM mart.cohort_retention",
    )
    got["cohort_month"] = pd.to_datetime(got["cohort_month"])
    got["activity_month"] = pd.to_datetime(got["activity_month"])
    got = got.set_index(["cohort_month", "activity_month"]).sort_index()

    with_customer = lines[lines["CustomerID"].notna()]
    sales = with_customer[with_customer["line_sale"]]
    cohort = sales.groupby("CustomerID")["month"].min().rename("cohort_month")
    sized = cohort.value_counts()
    active = (
        sales.join(cohort, on="CustomerID")
        .groupby(["cohort_month", "month"])["CustomerID"]
        .nunique()
    )
    counted = with_customer[with_customer["line_sale"] | with_customer["is_return"]]
    revenue = (
        counted.join(cohort, on="CustomerID", how="inner")
        .groupby(["cohort_month", "month"])["amount"]
        .sum()
    )
    last = lines["month"].max()
    cells = [(c, m) for c in sorted(sized.index) for m in pd.date_range(c, last, freq="MS")]
    expected = pd.DataFrame(index=pd.MultiIndex.from_tuples(cells, names=got.index.names))
    expected["cohort_size"] = [sized[c] for c, _ in cells]
    expected["active_customers"] = active.reindex(expected.index).fillna(0).astype(int)
    expected["revenue"] = revenue.reindex(expected.index).fillna(0.0)
    assert list(got.index) == list(expected.index)  # the full matrix, gaps included
    assert got["cohort_size"].tolist() == expected["cohort_size"].tolist()
    assert got["active_customers"].tolist() == expected["active_customers"].tolist()
    assert (got["revenue"].astype(float) - expected["revenue"]).abs().max() < CENT
    np.testing.assert_allclose(
        got["retention_rate"], expected["active_customers"] / expected["cohort_size"], rtol=1e-12
    )
    cumulative = expected.groupby(level=0)["revenue"].cumsum() / expected["cohort_size"]
    # at cents: the view rounds to the nearest cent
    assert (got["cumulative_revenue_per_customer"].astype(float) - cumulative).abs().max() <= (
        CENT + 1e-9
    )
    months_since = [(m.year - c.year) * 12 + m.month - c.month for c, m in expected.index]
    assert got["months_since_first"].tolist() == months_since
    first_month = got[got["months_since_first"] == 0]
    assert (first_month["active_customers"] == first_month["cohort_size"]).all()


def _stages(sale_days: pd.DataFrame, day: pd.Timestamp, rules: dict[str, int]) -> pd.Series:
    """The lifecycle rules written out again in pandas, for one date."""
    seen = sale_days[sale_days["date"] <= day].sort_values(["CustomerID", "date"])
    per = seen.groupby("CustomerID")["date"]
    last, first = per.max(), per.min()
    before_last = per.apply(lambda s: s.iloc[-2] if len(s) > 1 else pd.NaT)
    since_last = (day - last).dt.days
    since_first = (day - first).dt.days
    gap = (last - before_last).dt.days
    stage = pd.Series("active", index=last.index)
    stage[gap >= rules["lapsed_days"]] = "reactivated"
    stage[since_first < rules["new_days"]] = "new"
    stage[since_last >= rules["at_risk_days"]] = "at risk"
    stage[since_last >= rules["lapsed_days"]] = "lapsed"
    return stage


def test_lifecycle_stages_and_monthly_counts_match_pandas(retail_url, retail_run, lines):
    rules = DEFAULTS["lifecycle"]
    sales = lines[lines["line_sale"] & lines["CustomerID"].notna()]
    sale_days = sales.assign(date=sales["ts"].dt.normalize())[["CustomerID", "date"]]
    sale_days = sale_days.drop_duplicates()
    as_of = pd.Timestamp(AS_OF)
    expected = _stages(sale_days, as_of, rules)
    got = _frame(
        retail_url,
        "SELECT customer_id, lifecycle_stage FROM mart.customer_segments",
    ).set_index("customer_id")["lifecycle_stage"]
    assert len(got) == len(expected) == 4338
    assert (got.loc[expected.index] == expected).all()
    assert set(got) == {"new", "active", "reactivated", "at risk", "lapsed"}

    kpis = _frame(
        retail_url,
        "SELECT period_start, period_end, lifecycle_new, lifecycle_active, "
        "lifecycle_reactivated, lifecycle_at_risk, lifecycle_lapsed FROM mart.monthly_kpis "
        "WHERE grain = 'month' AND dimension = 'all' ORDER BY period_start",
    )
    for row in kpis.itertuples():
        day = min(pd.Timestamp(row.period_end), as_of)
        counts = _stages(sale_days, day, rules).value_counts()
        assert [
            row.lifecycle_new,
            row.lifecycle_active,
            row.lifecycle_reactivated,
            row.lifecycle_at_risk,
            row.lifecycle_lapsed,
        ] == [int(counts.get(s, 0)) for s in ("new", "active", "reactivated", "at risk", "lapsed")]
    # the last month's counts are the run's own labels
    assert kpis.iloc[-1, 2:].astype(int).tolist() == [
        int((expected == s).sum()) for s in ("new", "active", "reactivated", "at risk", "lapsed")
    ]


def test_behaviour_marts_match_pandas(retail_url, retail_run, lines):
    orders = (
        lines[lines["line_sale"]]
        .groupby("InvoiceNo")
        .agg(ts=("ts", "min"), customer=("CustomerID", "first"))
    )
    timing = _frame(
        retail_url,
        "SELECT weekday, hour, orders FROM mart.order_timing WHERE method = 'all'",
    ).set_index(["weekday", "hour"])["orders"]
    expected = orders.groupby([orders["ts"].dt.day_of_week + 1, orders["ts"].dt.hour]).size()
    assert timing.sort_index().to_dict() == expected.sort_index().to_dict()

    customer_orders = orders[orders["customer"].notna()].sort_values(["customer", "ts"])
    gaps = customer_orders.groupby("customer")["ts"].diff().dropna()
    gap_days = (
        customer_orders["ts"].dt.normalize().groupby(customer_orders["customer"]).diff().dropna()
    ).dt.days
    habits = _frame(
        retail_url,
        "SELECT customers, orders, median_days_between_orders, mean_days_between_orders "
        "FROM mart.order_habits WHERE method = 'all'",
    ).iloc[0]
    assert int(habits["customers"]) == customer_orders["customer"].nunique()
    assert int(habits["orders"]) == len(customer_orders)
    assert len(gaps) == len(gap_days)
    assert float(habits["median_days_between_orders"]) == pytest.approx(gap_days.median())
    assert float(habits["mean_days_between_orders"]) == pytest.approx(gap_days.mean())


def test_calendar_covers_the_data_with_iso_weekdays(retail_url, retail_run):
    cal = _frame(retail_url, "SELECT date, weekday, fiscal_year, month_start FROM mart.calendar")
    assert cal["date"].min() == dt.date(2010, 1, 1) and cal["date"].max() == dt.date(2011, 12, 31)
    assert (cal["weekday"] == [d.isoweekday() for d in cal["date"]]).all()
    assert (cal["fiscal_year"] == [d.year for d in cal["date"]]).all()


@pytest.mark.parametrize("method", ["kmeans", "hierarchical"])
def test_real_run_cluster_names_are_true(retail_url, retail_run, method):
    """On the real data: the most recent cluster is "recent", the least recent is not, the top
    spender is "high-value"."""
    with psycopg.connect(retail_url) as conn:
        profile = pd.DataFrame(
            conn.execute(
                "SELECT profile FROM segmentation.cluster_models WHERE run_id = %s AND method = %s",
                (retail_run, method),
            ).fetchone()[0]
        )
    names = profile.set_index("cluster_id")["cluster_name"].str.lower()
    recency = profile.set_index("cluster_id")["mean_recency_days"]
    assert names[recency.idxmin()].endswith("recent"), names.to_dict()
    assert not names[recency.idxmax()].endswith("recent")
    spend = profile.set_index("cluster_id")["mean_monetary"]
    assert names[spend.idxmax()].startswith("high-value")
    assert names.is_unique
