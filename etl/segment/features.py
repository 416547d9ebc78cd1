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

from etl.db import local_settings
from etl.paths import model
from etl.segment import customer_state as state
from etl.segment.side_connection import Submit

# The customer-level tables hold every retained run's rows; what the planner needs of them is
# how many rows the run has and how many distinct keys (customers, methods, categories): a
# 9,000-row sample tells that as well as the default 30,000, for a third of the reads.
RUN_STATISTICS = {"default_statistics_target": "30"}


def insert_features(
    conn: psycopg.Connection,
    run_id: int,
    as_of: dt.date,
    window_start: dt.date | None,
    *,
    use_state: bool = True,
    alongside: Submit | None = None,
) -> dict[str, int | str]:
    """Write the run's customer_features and customer_category_revenue rows; what was done.

    ``use_state=False`` always computes from the lines (what the equivalence test and a
    suspicious user compare against). With ``alongside`` (a stage's side connection), a run
    reading the kept totals copies the category totals there (and takes that table's
    statistics) while the customer features are written here: the two statements took about
    as long each (6.2 and 6.5 s of a 10M-line daily run). This function deletes an earlier
    attempt's category revenue and takes that table's statistics, on whichever connection
    writes it."""
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
    copy = model(
        "segmentation/customer_category_revenue.sql",
        run_id=parts["run_id"],
        category_totals=categories,
    )
    if source == "state" and alongside is not None:
        # the kept totals are tables every connection reads; the lines' are temporary
        copied = alongside(lambda side: _replace_category_revenue(side, run_id, copy))
    else:
        n_categories = _replace_category_revenue(conn, run_id, copy)
        copied = None
    customers = conn.execute(model("segmentation/customer_features.sql", **parts)).rowcount
    if copied is not None:
        n_categories = copied()
    return {"customers": customers, "customer_category_revenue": n_categories, "source": source}


def _replace_category_revenue(conn: psycopg.Connection, run_id: int, copy: sql.Composable) -> int:
    """The run's category revenue written again (an earlier attempt's deleted), with fresh
    statistics; the rows written."""
    conn.execute("DELETE FROM segmentation.customer_category_revenue WHERE run_id = %s", (run_id,))
    rows = conn.execute(copy).rowcount
    with local_settings(conn, RUN_STATISTICS):
        conn.execute("ANALYZE segmentation.customer_category_revenue")
    return rows
