"""Segment history over several published dates: sizes per date, flows between any two dates
against an independent pandas pivot, cluster ids carried over from the previous run, and the
fiscal year's configurable first month."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import psycopg
import pytest

from etl import migrate
from etl.segment import pipeline
from tests.conftest import create_database, drop_database
from tests.segment.warehouse_data import small_warehouse

DATES = ("2024-02-10", "2024-03-05", "2024-03-31")
METHODS = "rfm,kmeans,hierarchical,lifecycle"
CONFIG = {"clustering": {"k": 3}, "fiscal_year_start_month": 9}


@pytest.fixture(scope="module")
def history() -> Iterator[tuple[str, dict[str, int]]]:
    url = create_database("segwise_history")
    try:
        migrate.upgrade(url)
        small_warehouse(url, customers=80)
        runs = {
            d: pipeline.run_all(
                url, dt.date.fromisoformat(d), methods=METHODS, trigger="test", config=CONFIG
            )
            for d in DATES
        }
        yield url, runs
    finally:
        drop_database(url)


def _frame(url: str, query: str, params: tuple = ()) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        cur = conn.execute(query, params)
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def test_segment_history_has_every_date_and_method(history):
    url, runs = history
    got = _frame(url, "SELECT * FROM mart.segment_history")
    assert sorted({str(d) for d in got["as_of_date"]}) == list(DATES)
    features = _frame(
        url,
        "SELECT run_id, count(*) AS customers, sum(monetary) AS revenue "
        "FROM segmentation.customer_features GROUP BY run_id",
    ).set_index("run_id")
    for (run_id, method), part in got.groupby(["run_id", "method"]):
        assert part["customers"].sum() == features.at[run_id, "customers"], method
        assert abs(part["revenue"].sum() - features.at[run_id, "revenue"]) < 0.005
        assert part["customer_share"].sum() == pytest.approx(1.0)
    assert set(got["method"]) == set(METHODS.split(","))
    assert got.loc[got["is_latest"], "run_id"].unique().tolist() == [runs[DATES[-1]]]


@pytest.mark.parametrize(("a", "b"), [(0, 1), (1, 2), (0, 2)])
def test_flows_between_any_two_dates_match_a_pandas_pivot(history, a, b):
    url, runs = history
    got = _frame(
        url,
        "SELECT method, from_segment, to_segment, customers, from_revenue, to_revenue "
        "FROM mart.segment_flows WHERE from_date = %s AND to_date = %s",
        (DATES[a], DATES[b]),
    )
    rows = _frame(
        url,
        "SELECT s.run_id, s.method, s.customer_id, s.segment, f.monetary "
        "FROM segmentation.customer_segments s JOIN segmentation.customer_features f "
        "USING (run_id, customer_id) WHERE s.run_id = ANY(%s)",
        ([runs[DATES[a]], runs[DATES[b]]],),
    )
    before = rows[rows["run_id"] == runs[DATES[a]]].set_index(["method", "customer_id"])
    after = rows[rows["run_id"] == runs[DATES[b]]].set_index(["method", "customer_id"])
    both = before.join(after, how="outer", suffixes=("_from", "_to"))
    both["monetary_to"] = both["monetary_to"].astype(float)
    both["segment_from"] = both["segment_from"].fillna("(new)")
    both["segment_to"] = both["segment_to"].fillna("(gone)")
    expected = (
        both.reset_index()
        .groupby(["method", "segment_from", "segment_to"])
        .agg(customers=("customer_id", "size"), to_revenue=("monetary_to", "sum"))
        .reset_index()
    )
    got = got.sort_values(["method", "from_segment", "to_segment"]).reset_index(drop=True)
    assert got[["method", "from_segment", "to_segment"]].values.tolist() == (
        expected[["method", "segment_from", "segment_to"]].values.tolist()
    )
    assert got["customers"].tolist() == expected["customers"].tolist()
    assert (got["to_revenue"].astype(float) - expected["to_revenue"]).abs().max() < 0.005
    # the latest pair is also what mart.segment_migrations holds
    if (a, b) == (1, 2):
        latest = _frame(
            url, "SELECT method, from_segment, to_segment, customers FROM mart.segment_migrations"
        )
        merged = latest.merge(got, on=["method", "from_segment", "to_segment"])
        assert len(merged) == len(latest) == len(got)
        assert (merged["customers_x"] == merged["customers_y"]).all()


@pytest.mark.parametrize("method", ["kmeans", "hierarchical"])
def test_a_rerun_keeps_every_cluster_id_and_name(history, method):
    url, runs = history
    before = _frame(
        url,
        "SELECT customer_id, segment_id, segment FROM segmentation.customer_segments "
        "WHERE run_id = %s AND method = %s",
        (runs[DATES[-1]], method),
    ).set_index("customer_id")
    # the previous run numbered its clusters differently: the rerun (a full refit, not a reuse
    # of the stored model) must take over its ids
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE segmentation.cluster_models SET profile = ("
            "  SELECT jsonb_agg(e || jsonb_build_object('cluster_id', "
            "    (e ->> 'cluster_id')::int + 10)) FROM jsonb_array_elements(profile) e) "
            "WHERE run_id = %s AND method = %s",
            (runs[DATES[-1]], method),
        )
    refit = {**CONFIG, "clustering": {**CONFIG["clustering"], "refit_days": 0}}
    rerun = pipeline.run_all(
        url, dt.date.fromisoformat(DATES[-1]), methods=METHODS, trigger="test", config=refit
    )
    runs[DATES[-1]] = rerun
    after = _frame(
        url,
        "SELECT customer_id, segment_id, segment FROM segmentation.customer_segments "
        "WHERE run_id = %s AND method = %s",
        (rerun, method),
    ).set_index("customer_id")
    assert (after.loc[before.index, "segment_id"] == before["segment_id"] + 10).all()
    assert (after.loc[before.index, "segment"] == before["segment"]).all()
    flags = _frame(
        url,
        "SELECT segment_id, is_new_cluster FROM mart.segment_history "
        "WHERE run_id = %s AND method = %s",
        (rerun, method),
    )
    assert not flags["is_new_cluster"].any()
    assert set(flags["segment_id"]) == set(before["segment_id"] + 10)


def test_fiscal_year_starts_in_the_configured_month(history):
    url, _runs = history
    cal = _frame(
        url,
        "SELECT date::text, fiscal_year, fiscal_month, fiscal_quarter, fiscal_year_start::text "
        "FROM mart.calendar WHERE date IN ('2024-03-31', '2024-08-31', '2024-09-01')",
    ).set_index("date")
    assert cal.loc["2024-03-31"].tolist() == [2024, 7, 3, "2023-09-01"]
    assert cal.loc["2024-08-31"].tolist() == [2024, 12, 4, "2023-09-01"]
    assert cal.loc["2024-09-01"].tolist() == [2025, 1, 1, "2024-09-01"]
    kpis = _frame(
        url,
        "SELECT grain, period_start::text, period_label, net_revenue, active_customers "
        "FROM mart.monthly_kpis WHERE dimension = 'all'",
    )
    years = kpis[kpis["grain"] == "fiscal_year"]
    assert years[["period_start", "period_label"]].values.tolist() == [["2023-09-01", "FY2024"]]
    months = kpis[kpis["grain"] == "month"]
    assert abs(months["net_revenue"].sum() - years["net_revenue"].sum()) < 0.005
    costs = _frame(
        url,
        "SELECT sum(cost_amount) AS cost, sum(net_revenue - gross_margin) AS implied "
        "FROM mart.monthly_kpis WHERE grain = 'month' AND dimension = 'all'",
    ).iloc[0]
    lines_cost = _frame(url, "SELECT sum(cost_amount) AS c FROM warehouse.fact_order_line")
    assert costs["cost"] == costs["implied"] == lines_cost["c"].iloc[0] > 0
    by_channel = _frame(
        url,
        "SELECT DISTINCT dimension FROM mart.monthly_kpis WHERE grain = 'month'",
    )["dimension"]
    assert {"all", "channel", "region", "category"} <= set(by_channel)


def test_report_shows_the_time_sections(history, tmp_path):
    from etl.segment.report import write_report

    url, runs = history
    out = write_report(url, runs[DATES[-1]], tmp_path / "report.html")
    text = out.read_text(encoding="utf-8")
    for heading in (
        "<h2>Monthly KPIs</h2>",
        "<h2>Cohort retention</h2>",
        "<h2>Segment sizes over time</h2>",
        f"<h2>Migrations since the previous run ({DATES[-2]})</h2>",
    ):
        assert heading in text
        after = text.split(heading, 1)[1]
        assert '<div class="chart"' in after.split("<h2>", 1)[0]  # an interactive chart
