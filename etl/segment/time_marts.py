"""Keep the time marts' aggregates current at the cost of what a batch brought.

``mart.monthly_kpis`` and ``mart.cohort_retention`` read small tables
(``segmentation.kpi_periods``, ``cohort_cells``, ``customer_first_sale``, ``customer_months``)
instead of every order on every query.

After a batch, ``refresh`` adds to them what its orders changed, without reading any other
month's or customer's orders (revision 0011_kpi_speed):

- sums and order counts: the new versions of the orders it wrote are added and their previous
  versions subtracted (statement triggers keep the previous version of every order, line and
  product category a batch rewrites in ``segmentation.kpi_*_versions``; a new order has none);
- distinct customers (active and new per month and breakdown, cohort cells, fiscal years):
  for each (customer, month) of those orders, both versions' customers, the customer's orders
  of that month are read now and as they were before (through the (customer_id, order_date)
  index) and the difference is added; a customer whose first sale moved brings every month
  they bought in (their cohort moves);
- fiscal-year rows are added up again from their (twelve) month rows.

The result equals a recomputation from the facts (``rebuild``), which runs instead when
nothing was counted yet, when a batch rewrote a large part of the orders, when a breakdown
appears, or when a product's category changed (every line of it changes breakdown).

The warehouse build calls ``refresh`` for its batch in the batch's transaction; every
segmentation run calls it for any succeeded batch of the load ledger not yet counted, and with
the run's ``fiscal_year_start_month``: a change of that setting recomputes every fiscal year.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from etl.paths import read_sql

log = logging.getLogger(__name__)
_LOCK = 7302  # advisory lock: one refresh at a time
_DIMENSIONS = ("channel", "platform", "market", "region", "country")
_TEMP = ("segwise_touched", "segwise_firsts", "segwise_pairs", "segwise_kpi_orders",
         "segwise_kpi_lines", "segwise_fy_active", "segwise_fy_before")  # fmt: skip
# a batch that wrote more than this share of the orders (and more than _REBUILD_MIN of them):
# recompute everything instead
_REBUILD_SHARE = 0.2
_REBUILD_MIN = 50_000


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


def _state(conn: psycopg.Connection) -> tuple[int, list[int]]:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
    fy, counted = conn.execute(
        "SELECT fiscal_year_start_month, refreshed_batches FROM segmentation.kpi_state"
    ).fetchone()
    return fy, list(counted)


def _ledger_batches(conn: psycopg.Connection, counted: list[int]) -> list[int]:
    """Succeeded batches of the load ledger not yet counted (a small table, not the facts)."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT batch_id FROM staging.load_batches "
            "WHERE status = 'succeeded' AND batch_id <> ALL (%s::bigint[]) ORDER BY batch_id",
            (counted,),
        )
    ]


@contextmanager
def _local(conn: psycopg.Connection, settings: dict[str, str]) -> Iterator[None]:
    """Planner settings for a few statements of the caller's transaction, then back."""
    before = {k: conn.execute("SELECT current_setting(%s)", (k,)).fetchone()[0] for k in settings}
    for k, v in settings.items():
        conn.execute("SELECT set_config(%s, %s, true)", (k, v))
    try:
        yield
    finally:
        for k, v in before.items():
            conn.execute("SELECT set_config(%s, %s, true)", (k, v))


def _drop_temp(conn: psycopg.Connection) -> None:
    for name in _TEMP:
        conn.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")


def refresh(
    conn: psycopg.Connection,
    batches: list[int] | None = None,
    *,
    fiscal_year_start_month: int | None = None,
) -> dict[str, Any]:
    """Count ``batches`` (None: every succeeded batch of the load ledger not yet counted) in
    the aggregates; batches already counted are skipped.

    Runs in the caller's transaction. Returns what it did (for logs and tests).
    """
    t0 = time.perf_counter()
    fy_before, counted = _state(conn)
    fy = fiscal_year_start_month or fy_before
    if not counted:
        return rebuild(
            conn, batches, fiscal_year_start_month=fy, t0=t0, reason="nothing counted yet"
        )
    if batches is None:
        batches = _ledger_batches(conn, counted)
    batches = sorted(set(batches) - set(counted))
    months: list[dt.date] = []
    cohorts: list[dt.date] = []
    if batches:
        _drop_temp(conn)
        conn.execute(read_sql("segmentation/kpi_touched_orders.sql"), {"batches": batches})
        conn.execute("ANALYZE pg_temp.segwise_touched")
        reason = _rebuild_reason(conn, batches)
        if reason:
            _drop_temp(conn)
            return rebuild(conn, batches, fiscal_year_start_month=fy, t0=t0, reason=reason)
        # small statements: compiling them (JIT) costs more than it saves
        with _local(conn, {"jit": "off", "work_mem": "64MB"}):
            months, cohorts = _delta(conn, batches, fy)
    years: set[dt.date] = {fiscal_year_start(m, fy) for m in months}
    if fy != fy_before:  # every fiscal year again, counted from customer_months
        years = {
            fiscal_year_start(r[0], fy)
            for r in conn.execute(
                "SELECT DISTINCT period_start FROM segmentation.kpi_periods WHERE grain = 'month'"
            )
        }
        conn.execute("DELETE FROM segmentation.kpi_periods WHERE grain = 'fiscal_year'")
        _fiscal_years(conn, sorted(years), counted=True)
    elif years:
        _fiscal_years(conn, sorted(years), counted=False)
    _done(conn, fy, batches)
    _drop_temp(conn)
    result = {
        "batches": batches,
        "months": months,
        "fiscal_years": sorted(years),
        "cohorts": cohorts,
        "rebuilt": None,
        "seconds": round(time.perf_counter() - t0, 3),
    }
    if batches:
        log.info("time marts: batches %s added in %.3f s", batches, result["seconds"])
    return result


def _rebuild_reason(conn: psycopg.Connection, batches: list[int]) -> str | None:
    """Why the batches cannot be added as a difference (None: they can)."""
    (changed,) = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM segmentation.kpi_product_versions "
        "WHERE batch_id = ANY (%(b)s::bigint[]) "
        "AND coalesce(old_batch_id <> ALL (%(b)s::bigint[]), true))",
        {"b": batches},
    ).fetchone()
    if changed:
        return "a product's category changed"
    touched, total = conn.execute(
        "SELECT (SELECT count(*) FROM segwise_touched WHERE NOT old_version), "
        "(SELECT coalesce(sum(placed_orders + cancelled_orders), 0) "
        " FROM segmentation.kpi_periods WHERE grain = 'month' AND dimension = 'all')"
    ).fetchone()  # every order counted is placed or cancelled in its month
    if touched > max(_REBUILD_SHARE * float(total), _REBUILD_MIN):
        return "the batches wrote a large part of the orders"
    if not set(_present(conn)) <= set(_counted_dimensions(conn)):
        return "a breakdown appears"
    return None


def _counted_dimensions(conn: psycopg.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT dimension FROM segmentation.kpi_periods WHERE grain = 'month'"
        )
    ]


def _present(conn: psycopg.Connection) -> list[str]:
    """The breakdowns the touched orders carry, and 'category' when products do."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM segwise_touched), "
        "bool_or(channel IS NOT NULL), bool_or(platform IS NOT NULL), "
        "bool_or(market IS NOT NULL), bool_or(region IS NOT NULL), "
        "bool_or(country IS NOT NULL), "
        "EXISTS (SELECT 1 FROM warehouse.dim_product WHERE category_l1 IS NOT NULL) "
        "FROM segwise_touched"
    ).fetchone()
    if not row[0]:
        return []
    found = ["all"] + [d for d, there in zip(_DIMENSIONS, row[1:-1], strict=True) if there]
    return found + (["category"] if row[-1] else [])


def _delta(conn: psycopg.Connection, batches: list[int], fy: int) -> tuple[list, list]:
    """Add the difference the touched orders make; returns the months and cohorts changed."""
    p = {"batches": batches}
    conn.execute(read_sql("segmentation/kpi_first_sale_changes.sql"))
    conn.execute(read_sql("segmentation/kpi_pairs.sql"))
    conn.execute("ANALYZE pg_temp.segwise_pairs")
    dimensions = _counted_dimensions(conn)
    # a customer's orders of a month, an order's lines: index lookups, never a scan of the facts
    with _local(conn, {"enable_hashjoin": "off", "enable_mergejoin": "off"}):
        conn.execute(read_sql("segmentation/kpi_pair_orders.sql"), p)
        if "category" in dimensions:
            conn.execute(read_sql("segmentation/kpi_pair_lines.sql"), p)
    if "category" not in dimensions:
        conn.execute("CREATE TEMP TABLE segwise_kpi_lines (row_id bigint, product_id text, "
                     "amount numeric, cost_amount numeric, is_sale boolean, is_return boolean) "
                     "ON COMMIT DROP")  # fmt: skip
    months = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT date_trunc('month', order_date)::date FROM segwise_kpi_orders "
            "ORDER BY 1"
        )
    ]
    conn.execute(read_sql("segmentation/kpi_periods_delta.sql"), {"dimensions": dimensions})
    conn.execute(
        "DELETE FROM segmentation.kpi_periods WHERE grain = 'month' "
        "AND period_start = ANY (%s::date[]) AND placed_orders + cancelled_orders = 0",
        (months,),
    )
    conn.execute(
        "UPDATE segmentation.kpi_periods SET cost_amount = NULL WHERE grain = 'month' "
        "AND period_start = ANY (%s::date[]) AND cost_rows = 0 AND cost_amount IS NOT NULL",
        (months,),
    )
    conn.execute(read_sql("segmentation/kpi_cohort_delta.sql"))
    conn.execute(
        "DELETE FROM segmentation.cohort_cells "
        "WHERE activity_month = ANY (%s::date[]) AND orders = 0",
        (months,),
    )
    # fiscal-year active customers: each pair customer's years, active before and after
    conn.execute(
        "CREATE TEMP TABLE segwise_fy_before ON COMMIT DROP AS "
        "SELECT y.customer_id, y.year, EXISTS ("
        "  SELECT 1 FROM segmentation.customer_months AS c "
        "  WHERE c.customer_id = y.customer_id AND c.month >= y.year "
        "    AND c.month < (y.year + interval '1 year')::date) AS active "
        "FROM (SELECT DISTINCT customer_id, (month - make_interval(months => "
        "  mod(extract(month FROM month)::int - %s + 12, 12)))::date AS year "
        "  FROM segwise_pairs) AS y",
        (fy,),
    )
    conn.execute(
        "DELETE FROM segmentation.customer_months AS c USING segwise_pairs AS p "
        "WHERE c.customer_id = p.customer_id AND c.month = p.month"
    )
    conn.execute(
        "INSERT INTO segmentation.customer_months (customer_id, month) "
        "SELECT DISTINCT customer_id, date_trunc('month', order_date)::date "
        "FROM segwise_kpi_orders WHERE sign >= 0 AND customer_id IS NOT NULL AND n_sale_lines > 0"
    )
    conn.execute(
        "CREATE TEMP TABLE segwise_fy_active ON COMMIT DROP AS "
        "WITH change AS ("
        "  SELECT b.year, sum((EXISTS ("
        "    SELECT 1 FROM segmentation.customer_months AS c "
        "    WHERE c.customer_id = b.customer_id AND c.month >= b.year "
        "      AND c.month < (b.year + interval '1 year')::date))::int - b.active::int) AS d "
        "  FROM segwise_fy_before AS b GROUP BY b.year) "
        "SELECT c.year AS period_start, coalesce(k.active_customers, 0) + c.d AS active "
        "FROM change AS c LEFT JOIN segmentation.kpi_periods AS k "
        "  ON k.grain = 'fiscal_year' AND k.period_start = c.year AND k.dimension = 'all'"
    )
    changed = conn.execute(
        "SELECT customer_id, old_first, new_first FROM segwise_firsts "
        "WHERE old_first IS DISTINCT FROM new_first"
    ).fetchall()
    conn.execute(
        "DELETE FROM segmentation.customer_first_sale AS f USING segwise_firsts AS c "
        "WHERE f.customer_id = c.customer_id AND c.new_first IS NULL AND c.old_first IS NOT NULL"
    )
    conn.execute(
        "INSERT INTO segmentation.customer_first_sale (customer_id, first_date) "
        "SELECT customer_id, new_first FROM segwise_firsts "
        "WHERE new_first IS NOT NULL AND new_first IS DISTINCT FROM old_first "
        "ON CONFLICT (customer_id) DO UPDATE SET first_date = EXCLUDED.first_date"
    )
    cohorts = sorted({_month(d) for row in changed for d in row[1:] if d is not None})
    return months, cohorts


def _fiscal_years(conn: psycopg.Connection, years: list[dt.date], *, counted: bool) -> None:
    """Fiscal-year rows of ``years`` from their month rows. Active customers of the total:
    counted from customer_months (``counted``), else from pg_temp.segwise_fy_active (the
    previous count plus the change; a year without it keeps its previous count)."""
    if not years:
        return
    nexts = [_add_months(y, 12) for y in years]
    if counted:
        conn.execute("DROP TABLE IF EXISTS pg_temp.segwise_fy_active")
        conn.execute(
            "CREATE TEMP TABLE segwise_fy_active ON COMMIT DROP AS "
            "SELECT y.s AS period_start, (SELECT count(DISTINCT c.customer_id) "
            "  FROM segmentation.customer_months AS c "
            "  WHERE c.month >= y.s AND c.month < y.n) AS active "
            "FROM unnest(%s::date[], %s::date[]) AS y (s, n)",
            (years, nexts),
        )
    else:
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS segwise_fy_active (period_start date, active bigint) "
            "ON COMMIT DROP"
        )
        conn.execute(
            "INSERT INTO segwise_fy_active "
            "SELECT k.period_start, k.active_customers FROM segmentation.kpi_periods AS k "
            "WHERE k.grain = 'fiscal_year' AND k.dimension = 'all' "
            "AND k.period_start = ANY (%s::date[]) "
            "AND k.period_start NOT IN (SELECT period_start FROM segwise_fy_active)",
            (years,),
        )
    _periods(conn, "fiscal_year", years, nexts)


def _done(conn: psycopg.Connection, fy: int, batches: list[int]) -> None:
    conn.execute(
        "UPDATE segmentation.kpi_state SET fiscal_year_start_month = %s, refreshed_at = now(), "
        "refreshed_batches = ARRAY(SELECT DISTINCT unnest(refreshed_batches || %s::bigint[]) "
        "ORDER BY 1)",
        (fy, batches),
    )
    for table in ("kpi_order_versions", "kpi_line_versions", "kpi_product_versions"):
        conn.execute(
            f"DELETE FROM segmentation.{table} WHERE batch_id = ANY (%s::bigint[])",  # noqa: S608
            (batches,),
        )


def rebuild(
    conn: psycopg.Connection,
    batches: list[int] | None = None,
    *,
    fiscal_year_start_month: int | None = None,
    t0: float | None = None,
    reason: str = "asked for",
) -> dict[str, Any]:
    """Recompute every aggregate from the facts; the ledger's succeeded batches and
    ``batches`` count as counted. Runs in the caller's transaction."""
    t0 = time.perf_counter() if t0 is None else t0
    fy_before, _ = _state(conn)
    fy = fiscal_year_start_month or fy_before
    batches = sorted(set(batches or []) | set(_ledger_batches(conn, [])))
    _drop_temp(conn)
    conn.execute(
        "TRUNCATE segmentation.kpi_periods, segmentation.cohort_cells, "
        "segmentation.customer_first_sale, segmentation.customer_months, "
        "segmentation.kpi_order_versions, segmentation.kpi_line_versions, "
        "segmentation.kpi_product_versions"
    )
    conn.execute(
        "INSERT INTO segmentation.customer_first_sale (customer_id, first_date) "
        "SELECT customer_id, min(order_date) FROM warehouse.fact_order "
        "WHERE customer_id IS NOT NULL AND n_sale_lines > 0 GROUP BY customer_id"
    )
    conn.execute(
        "INSERT INTO segmentation.customer_months (customer_id, month) "
        "SELECT DISTINCT customer_id, date_trunc('month', order_date)::date "
        "FROM warehouse.fact_order WHERE customer_id IS NOT NULL AND n_sale_lines > 0"
    )
    bounds = conn.execute(
        "SELECT min(order_date), max(order_date) FROM warehouse.fact_order"
    ).fetchone()
    months: list[dt.date] = []
    if bounds[0] is not None:
        m = _month(bounds[0])
        while m <= bounds[1]:
            months.append(m)
            m = _add_months(m, 1)
    _periods(conn, "month", months, [_add_months(m, 1) for m in months])
    months = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT period_start FROM segmentation.kpi_periods WHERE grain = 'month' "
            "ORDER BY 1"
        )
    ]
    years = sorted({fiscal_year_start(m, fy) for m in months})
    _fiscal_years(conn, years, counted=True)
    conn.execute(read_sql("segmentation/kpi_cohort_cells.sql"))
    conn.execute(
        "UPDATE segmentation.kpi_state SET fiscal_year_start_month = %s, refreshed_at = now(), "
        "refreshed_batches = %s::bigint[]",
        (fy, batches),
    )
    _drop_temp(conn)
    cohorts = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT cohort_month FROM segmentation.cohort_cells ORDER BY 1"
        )
    ]
    seconds = round(time.perf_counter() - t0, 3)
    log.info("time marts: recomputed from the facts (%s) in %.3f s", reason, seconds)
    return {
        "batches": batches,
        "months": months,
        "fiscal_years": years,
        "cohorts": cohorts,
        "rebuilt": reason,
        "seconds": seconds,
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
