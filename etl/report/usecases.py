"""Use-case sections of the run report (`segwise report`), read from the use-case mart views.

The views show the latest published run, so the sections appear only in that run's report.
Each section is shown when the warehouse holds data of its kind: invoice RFM with an rfm run,
food-delivery mixes with tiers and shops, B2B margins with platform and cost data, grocery flags
with customer states (the grocery customers file).
"""

from __future__ import annotations

import pandas as pd
import psycopg
from psycopg import sql

from etl.report import figures
from etl.report.html import Charts
from etl.report.html import table as _table
from etl.segment.frames import read_frame


def _frame(conn: psycopg.Connection, query: str) -> pd.DataFrame:
    return read_frame(conn, sql.SQL(query))


def _exists(conn: psycopg.Connection, query: str) -> bool:
    return bool(conn.execute(f"SELECT EXISTS ({query})").fetchone()[0])


def sections(
    conn: psycopg.Connection, run_id: int, methods: list[str], charts: Charts
) -> list[str]:
    latest = conn.execute("SELECT run_id FROM mart.as_of").fetchone()
    if latest is None or latest[0] != run_id:
        return []
    parts: list[str] = []
    if "rfm" in methods:
        parts += invoice(conn, charts)
    if "tiers" in methods and _exists(
        conn, "SELECT 1 FROM warehouse.fact_order WHERE store_id IS NOT NULL"
    ):
        parts += food(conn)
    if _exists(
        conn,
        "SELECT 1 FROM warehouse.fact_order WHERE platform IS NOT NULL AND cost_amount IS NOT NULL",
    ):
        parts += b2b(conn)
    if _exists(conn, "SELECT 1 FROM warehouse.dim_customer WHERE state IS NOT NULL"):
        parts += grocery(conn)
    return parts


def invoice(conn: psycopg.Connection, charts: Charts) -> list[str]:
    dist = _frame(
        conn,
        "SELECT rfm_segment, invoices, min_amount, median_amount, mode_amount, mean_amount, "
        "trimmed_mean_amount, max_amount FROM mart.invoice_amount_distribution "
        "ORDER BY rfm_segment <> 'all', invoices DESC",
    )
    monthly = _frame(
        conn,
        "SELECT month, invoices_placed, invoices_cancelled, cancelled_per_placed "
        "FROM mart.invoice_monthly_status ORDER BY month",
    )
    lift = _frame(
        conn,
        "SELECT segment, string_agg(category || ' (' || round(lift::numeric, 2) || ')', ', ' "
        "ORDER BY rank_by_lift) AS top_categories_by_lift FROM mart.invoice_segment_category_lift "
        "WHERE method = 'rfm' AND rank_by_lift <= 3 GROUP BY segment ORDER BY segment",
    )
    products = _frame(
        conn,
        "SELECT rfm_segment, string_agg(coalesce(product_name, product_id), '; ' "
        "ORDER BY revenue_rank) AS top_products FROM mart.invoice_segment_top_products "
        "WHERE revenue_rank <= 5 GROUP BY rfm_segment ORDER BY rfm_segment",
    )
    parts = ["<h2>Invoices</h2>", "<h3>Invoice amounts</h3>", _table(dist)]
    if not monthly.empty:
        parts += [
            "<h3>Placed vs cancelled per month</h3>",
            charts.add(figures.monthly_bars(monthly)),
        ]
    parts += [
        "<h3>Top categories per RFM segment, by lift against all customers</h3>",
        _table(lift),
        "<h3>Top products per RFM segment</h3>",
        _table(products),
    ]
    return parts


def food(conn: psycopg.Connection) -> list[str]:
    mix = _frame(
        conn,
        "SELECT size_tier, customers, avg_distinct_shops, cuisine, revenue_share "
        "FROM mart.food_tier_cell_mix",
    )
    if mix.empty:
        return []
    table = mix.pivot_table(
        index=["size_tier", "customers", "avg_distinct_shops"],
        columns="cuisine",
        values="revenue_share",
    ).reset_index()
    return [
        "<h2>Food delivery: cuisine mix per S/M/L cell</h2>",
        "<p>Share of each cell's sales per cuisine; one column per cuisine per customer in "
        "<code>mart.food_customer_wide</code>, calendar-month tiers in "
        "<code>mart.food_monthly_tiers</code>.</p>",
        _table(table, "{:,.2f}"),
    ]


def b2b(conn: psycopg.Connection) -> list[str]:
    margin = _frame(
        conn,
        "SELECT fiscal_year, dimension, value, net_sales, gross_margin, gross_margin_pct, "
        "net_sales_share, yoy_growth FROM mart.b2b_margin "
        "WHERE dimension IN ('all', 'platform', 'channel', 'market', 'division') "
        "ORDER BY fiscal_year DESC, dimension, net_sales DESC",
    )
    best = _frame(
        conn,
        "SELECT product_id, product_name, variant, quantity, net_sales FROM mart.b2b_bestsellers "
        "WHERE fiscal_year IS NULL AND market = 'all' AND quantity_rank <= 10 "
        "ORDER BY quantity_rank",
    )
    gaps = _frame(
        conn,
        "SELECT fiscal_year, platform, channel, market, net_sales, expected_net_sales, "
        "index_vs_expected FROM mart.b2b_cell_gaps WHERE fiscal_year = "
        "(SELECT max(fiscal_year) FROM mart.b2b_cell_gaps) AND gap_rank <= 10 ORDER BY gap_rank",
    )
    return [
        "<h2>B2B: net sales, margin and profit by fiscal year</h2>",
        _table(margin.head(120)),
        "<h3>Bestsellers (units, all years and markets)</h3>",
        _table(best),
        "<h3>Where the company sells least relative to its mix (latest fiscal year)</h3>",
        _table(gaps),
    ]


def grocery(conn: psycopg.Connection) -> list[str]:
    flags = _frame(
        conn,
        "SELECT loyalty_flag, spender_flag, frequency_flag, count(*) AS customers "
        "FROM mart.grocery_shopper_flags GROUP BY 1, 2, 3 ORDER BY 4 DESC",
    )
    reorder = _frame(
        conn,
        "SELECT department, items, reorder_ratio FROM mart.grocery_reorder_ratio "
        "WHERE age_band = 'all' ORDER BY reorder_ratio DESC",
    )
    prices = _frame(
        conn,
        "SELECT price_range, products, items, item_share FROM mart.grocery_price_ranges "
        "WHERE department = 'all' ORDER BY min_price",
    )
    return [
        "<h2>Grocery shoppers</h2>",
        "<h3>Shopper flags</h3>",
        _table(flags, "{:,.0f}"),
        "<h3>Reorder ratio by department</h3>",
        _table(reorder, "{:,.3f}"),
        "<h3>Price ranges</h3>",
        _table(prices, "{:,.3f}"),
        "<p>Department x demographic crosstabs: mart.grocery_department_demographics.</p>",
    ]
