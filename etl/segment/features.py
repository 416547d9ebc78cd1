"""The features stage's SQL: customer features and category revenue of a run.

Two sources give the same rows (tests/segment/test_customer_state.py compares them):
- ``state``: the warehouse's kept per-customer totals (etl.segment.customer_state), for a run
  whose as-of date is on or after the newest order while the totals are current: one row per
  customer is read, whatever the history's length;
- ``lines``: the same models over every order up to the as-of date, into temporary tables (a
  backfill, or the first run after the totals went stale, which then stores them).
"""

from __future__ import annotations

import datetime as dt

import psycopg
from psycopg import sql

from etl.paths import model
from etl.segment import customer_state as state


def insert_features(
    conn: psycopg.Connection,
    run_id: int,
    as_of: dt.date,
    window_start: dt.date | None,
    *,
    use_state: bool = True,
) -> dict[str, int | str]:
    """Write the run's customer_features and customer_category_revenue rows; what was done.

    ``use_state=False`` always computes from the lines (what the equivalence test and a
    suspicious user compare against)."""
    if use_state and state.usable_for(conn, as_of):
        source = "state"
        orders, categories = state.ORDER_TOTALS, state.CATEGORY_TOTALS
    else:
        source = "lines"
        scope = state.orders_up_to(as_of)
        orders = state.temp_table(conn, "segwise_order_totals", state.order_totals(scope))
        with state.whole_pass(conn):
            categories = state.temp_table(
                conn, "segwise_category_totals", state.category_totals(scope, as_of)
            )
        if use_state and state.fill_from(conn, as_of, orders, categories):
            source = "lines, stored as the customer totals"
    parts = {
        "run_id": sql.Literal(run_id),
        "as_of": sql.Literal(as_of),
        "window_start": sql.SQL("NULL::date")
        if window_start is None
        else sql.Literal(window_start),
        "order_totals": orders,
        "category_totals": categories,
    }
    n_categories = conn.execute(
        model(
            "segmentation/customer_category_revenue.sql",
            run_id=parts["run_id"],
            category_totals=categories,
        )
    ).rowcount
    customers = conn.execute(model("segmentation/customer_features.sql", **parts)).rowcount
    return {"customers": customers, "customer_category_revenue": n_categories, "source": source}
