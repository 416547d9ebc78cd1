"""Keep the time marts' aggregates current: recompute only what a batch touched.

``mart.monthly_kpis`` and ``mart.cohort_retention`` read small tables
(``segmentation.kpi_periods``, ``cohort_cells``, ``customer_first_sale``, ``customer_months``)
instead of every order on every query. After a batch, the months to recompute (from their
orders) are those of the orders it wrote, plus the months where a customer's first sale moved
(their "new" month and cohort); fiscal years holding them are added up again from their months;
cohort cells likewise for those activity months and those cohorts. Everything else stays. The
warehouse build calls ``refresh`` for its batch in the batch's transaction; every segmentation
run calls it for any batch not yet counted (data written without the build), and with the run's
``fiscal_year_start_month``: a change of that setting recomputes every fiscal year.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import psycopg

from etl.paths import read_sql

_LOCK = 7302  # advisory lock: one refresh at a time


def driver_connection(conn: Any) -> psycopg.Connection:
    """The psycopg connection under a SQLAlchemy one (Alembic)."""
    if isinstance(conn, psycopg.Connection):
        return conn
    return conn.connection.driver_connection


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def fiscal_year_start(month: dt.date, start_month: int) -> dt.date:
    """First day of the fiscal year holding ``month``."""
    back = (month.month - start_month) % 12
    return _add_months(_month(month), -back)


def refresh(
    conn: psycopg.Connection,
    batches: list[int] | None = None,
    *,
    fiscal_year_start_month: int | None = None,
) -> dict[str, Any]:
    """Recompute the aggregates for ``batches`` (None: every batch not yet counted).

    Runs in the caller's transaction. Returns what it did (for logs and tests).
    """
    t0 = time.perf_counter()
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
    fy_before, counted = conn.execute(
        "SELECT fiscal_year_start_month, refreshed_batches FROM segmentation.kpi_state"
    ).fetchone()
    fy = fiscal_year_start_month or fy_before
    if batches is None:
        present = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT batch_id FROM warehouse.fact_order "
                "WHERE NOT batch_id = ANY(%s::bigint[])",
                (counted,),
            )
        ]
        batches = present
    batches = sorted(set(batches))
    conn.execute("DROP TABLE IF EXISTS pg_temp.segwise_touched_orders")
    conn.execute("DROP TABLE IF EXISTS pg_temp.segwise_first_changes")
    conn.execute(read_sql("segmentation/kpi_touched_orders.sql"), {"batches": batches})
    conn.execute(read_sql("segmentation/kpi_first_sale_changes.sql"))
    conn.execute(
        "DELETE FROM segmentation.customer_first_sale f USING segwise_first_changes c "
        "WHERE f.customer_id = c.customer_id AND c.new_first IS NULL"
    )
    conn.execute(
        "INSERT INTO segmentation.customer_first_sale (customer_id, first_date) "
        "SELECT customer_id, new_first FROM segwise_first_changes WHERE new_first IS NOT NULL "
        "ON CONFLICT (customer_id) DO UPDATE SET first_date = EXCLUDED.first_date"
    )
    conn.execute(
        "INSERT INTO segmentation.customer_months (customer_id, month) "
        "SELECT DISTINCT customer_id, date_trunc('month', order_date)::date "
        "FROM segwise_touched_orders WHERE customer_id IS NOT NULL AND n_sale_lines > 0 "
        "ON CONFLICT DO NOTHING"
    )
    order_months = {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT date_trunc('month', order_date)::date FROM segwise_touched_orders"
        )
    }
    cohorts: set[dt.date] = set()
    for old, new in conn.execute("SELECT old_first, new_first FROM segwise_first_changes"):
        cohorts.update(_month(d) for d in (old, new) if d is not None)
    months = sorted(order_months | cohorts)
    if fy != fy_before:
        years = {
            fiscal_year_start(r[0], fy)
            for r in conn.execute(
                "SELECT DISTINCT period_start FROM segmentation.kpi_periods WHERE grain = 'month'"
            )
        }
        conn.execute("DELETE FROM segmentation.kpi_periods WHERE grain = 'fiscal_year'")
    else:
        years = set()
    years |= {fiscal_year_start(m, fy) for m in months}
    _periods(conn, "month", months, [_add_months(m, 1) for m in months])
    ys = sorted(years)
    _periods(conn, "fiscal_year", ys, [_add_months(y, 12) for y in ys])  # from the months
    cohort_months = sorted(order_months)
    conn.execute(
        "DELETE FROM segmentation.cohort_cells "
        "WHERE activity_month = ANY(%s::date[]) OR cohort_month = ANY(%s::date[])",
        (cohort_months, sorted(cohorts)),
    )
    if cohort_months or cohorts:
        conn.execute(
            read_sql("segmentation/kpi_cohort_cells.sql"),
            {"months": cohort_months, "cohorts": sorted(cohorts)},
        )
    conn.execute(
        "UPDATE segmentation.kpi_state SET fiscal_year_start_month = %s, refreshed_at = now(), "
        "refreshed_batches = ARRAY(SELECT DISTINCT unnest(refreshed_batches || %s::bigint[]) "
        "ORDER BY 1)",
        (fy, batches),
    )
    conn.execute("DROP TABLE pg_temp.segwise_touched_orders")
    conn.execute("DROP TABLE pg_temp.segwise_first_changes")
    return {
        "batches": batches,
        "months": months,
        "fiscal_years": ys,
        "cohorts": sorted(cohorts),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def _periods(conn: psycopg.Connection, grain: str, starts: list[dt.date], nexts: list) -> None:
    if not starts:
        return
    conn.execute(
        "DELETE FROM segmentation.kpi_periods WHERE grain = %s AND period_start = ANY(%s)",
        (grain, starts),
    )
    model = "kpi_periods" if grain == "month" else "kpi_fiscal_years"
    conn.execute(
        read_sql(f"segmentation/{model}.sql"),
        {"grain": grain, "starts": starts, "nexts": nexts},
    )
