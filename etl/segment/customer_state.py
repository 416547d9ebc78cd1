"""Per-customer totals kept current by the warehouse build (revision 0010_customer_state).

A run for the latest date reads one row per customer (``warehouse.customer_order_totals``,
``customer_category_totals``, ``customer_channel_totals``) instead of re-aggregating every order
line ever loaded, so a daily run costs what the day brought. The same SQL models compute the
totals either for every order up to an as-of date (a backfill, or the first run after a big
load) or for every order of the customers a batch touched (the build), so both paths give the
same rows.

How the totals stay right:
- ``begin_build`` / ``note_touched`` / ``refresh_for_batch`` run inside a batch's transaction:
  the customers of the orders the batch writes (before and after the write, so a customer an
  order moved away from is recomputed too) get their rows recomputed from all their orders;
  the category and channel totals of a batch that only added orders get the new orders' sums
  added instead (``customer_category_totals_add.sql``, ``customer_channel_totals_add.sql``).
- ``warehouse.customer_state_status.built_digest`` is the digest of the built batches the totals
  reflect (``runs.built_batches``). A build only updates totals that were current before it;
  otherwise, or when the batch touches many customers or changes a product's category, it
  leaves them stale (digest NULL) rather than pay a whole recompute inside the load.
- A run for the latest date with stale totals computes from the lines as before and, when no
  build is running, stores what it computed as the new totals (``fill_from``).
- The build checks the rows it recomputed against those customers' order lines
  (``etl.ingest.batch_checks``), and ``customer_state_status.lines_checked`` says whether the
  totals stored whole were verified since; a run's ``facts_vs_features`` check relies on both
  to compare its features with the totals instead of every order line (etl.quality_record).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import psycopg
from psycopg import sql

from etl.db import CHECKED_WRITE, WAREHOUSE_BUILD_LOCK, local_settings
from etl.paths import model
from etl.segment import runs

log = logging.getLogger(__name__)

ORDER_TOTALS = sql.Identifier("warehouse", "customer_order_totals")
CATEGORY_TOTALS = sql.Identifier("warehouse", "customer_category_totals")
CHANNEL_TOTALS = sql.Identifier("warehouse", "customer_channel_totals")
TOUCHED = sql.Identifier("segwise_touched_customers")
# the batch's orders, with whether each was in the warehouse before the batch (note_touched)
BATCH_ORDERS_NAME = "segwise_batch_orders"
BATCH_ORDERS = sql.Identifier(BATCH_ORDERS_NAME)
# every order of the touched customers, kept by refresh_for_batch for the rest of the build
TOUCHED_ORDERS = "segwise_touched_orders"
PRODUCTS_BEFORE = sql.Identifier("segwise_product_categories_before")
# A batch touching more than this share of the customers leaves the totals stale: recomputing
# that many customers one by one costs more than the next run's one pass over the lines.
INCREMENTAL_MAX_SHARE = 0.2
# The whole-warehouse pass groups ~10M (customer, category, product) rows: sorted, not hashed
# (the planner cannot know the group count and would spill a hash table).
WHOLE_PASS_SETTINGS = {"enable_hashagg": "off"}
# The touched orders' lines fetched by the line key's index, order by order (see touched_tables).
BY_LINE_KEY = {"enable_hashjoin": "off", "enable_mergejoin": "off"}


# ------------------------------------------------------------------------------- the models


def orders_up_to(as_of: dt.date | None) -> sql.Composable:
    """fact_order rows with a customer, dated up to ``as_of`` (None: all)."""
    query = "SELECT * FROM warehouse.fact_order WHERE customer_id IS NOT NULL"
    if as_of is None:
        return sql.SQL(query)
    return sql.SQL(query + " AND order_date <= {}").format(sql.Literal(as_of))


def orders_of_touched() -> sql.Composable:
    """Every order of the customers the batch touched (through fact_order's customer index)."""
    return sql.SQL(
        "SELECT * FROM warehouse.fact_order WHERE customer_id IN (SELECT customer_id FROM {})"
    ).format(TOUCHED)


def touched_tables(conn: psycopg.Connection) -> tuple[sql.Composable, sql.Identifier]:
    """The touched customers' orders and those orders' lines, each kept in an ANALYZEd
    temporary table: (a SELECT of the orders, the lines table).

    Given the semi-join itself, the planner estimated every order of the warehouse (it cannot
    see how few customers the temporary table holds) and hashed all 10M order lines, once per
    model, for a day's 8,645 customers: 5-8 s a model. Copying the lines once, through the
    line key's index, lets the category and channel models read only those. The copy itself is
    steered to that index (``BY_LINE_KEY``): costed for a disk, a day's 191k orders looked
    cheaper to hash against a scan of all 10M lines (12.4 s) than to probe one by one (2.7 s).
    The probes go in key order: the index pages (and, where order ids grow with time as the
    lines were loaded, the lines' pages) are then read one after the other instead of at
    random, each customer's orders being spread over the whole history.
    """
    orders = temp_table(conn, TOUCHED_ORDERS, orders_of_touched(), TOUCHED_STATISTICS)
    with local_settings(conn, BY_LINE_KEY):
        lines = temp_table(
            conn,
            "segwise_touched_lines",
            sql.SQL(
                "SELECT l.* FROM (SELECT order_id FROM {} ORDER BY order_id) AS o "
                "JOIN warehouse.fact_order_line AS l ON l.order_id = o.order_id"
            ).format(orders),
            TOUCHED_STATISTICS,
        )
    return sql.SQL("SELECT * FROM {}").format(orders), lines


def _date(as_of: dt.date | None) -> sql.Composable:
    return sql.SQL("'infinity'::date") if as_of is None else sql.Literal(as_of)


def order_totals(orders: sql.Composable) -> sql.Composed:
    """SELECT of customer_order_totals.sql over ``orders``."""
    return model("warehouse/customer_order_totals.sql", orders=orders)


LINES = sql.Identifier("warehouse", "fact_order_line")


def category_products(
    orders: sql.Composable, as_of: dt.date | None, lines: sql.Composable = LINES
) -> sql.Composed:
    """SELECT of customer_category_products.sql over ``orders``' lines (in ``lines``) up to
    ``as_of``: one row per customer, category and product."""
    return model(
        "warehouse/customer_category_products.sql", orders=orders, as_of=_date(as_of), lines=lines
    )


def category_totals(
    orders: sql.Composable, as_of: dt.date | None, lines: sql.Composable = LINES
) -> sql.Composed:
    """SELECT of customer_category_totals.sql over ``orders``' lines (in ``lines``) up to
    ``as_of``."""
    return model(
        "warehouse/customer_category_totals.sql",
        customer_products=category_products(orders, as_of, lines),
    )


def channel_totals(
    orders: sql.Composable, as_of: dt.date | None, lines: sql.Composable = LINES
) -> sql.Composed:
    """SELECT of customer_channel_totals.sql over ``orders`` (lines in ``lines`` up to
    ``as_of``)."""
    return model(
        "warehouse/customer_channel_totals.sql", orders=orders, as_of=_date(as_of), lines=lines
    )


# The touched orders and lines are read whole, by hash joins and aggregates on their keys: the
# planner needs their size (known without a sample) and roughly how many distinct keys they
# hold, for which a 9,000-row sample does (the default 30,000 rows cost ~0.3 s a table at 2M
# lines, in every daily load).
TOUCHED_STATISTICS = {"default_statistics_target": "30"}


def temp_table(
    conn: psycopg.Connection,
    name: str,
    select: sql.Composable,
    statistics: dict[str, str] | None = None,
) -> sql.Identifier:
    """``select`` as a temporary table dropped at commit, ANALYZEd (with ``statistics``'
    settings, if given); its identifier."""
    table = sql.Identifier(name)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(table))
    conn.execute(sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS {}").format(table, select))
    with local_settings(conn, statistics or {}):
        conn.execute(sql.SQL("ANALYZE {}").format(table))
    return table


# ------------------------------------------------------------------------------ the reader


def newest_order_date(conn: psycopg.Connection) -> dt.date | None:
    return conn.execute("SELECT max(order_date) FROM warehouse.fact_order").fetchone()[0]


def is_current(conn: psycopg.Connection) -> bool:
    """The totals reflect exactly the batches built into the warehouse."""
    digest = conn.execute("SELECT built_digest FROM warehouse.customer_state_status").fetchone()
    return digest is not None and digest[0] == runs.built_batches(conn)[1]


def usable_for(conn: psycopg.Connection, as_of: dt.date) -> bool:
    """A run for ``as_of`` may read the totals: they are current and no order is later."""
    newest = newest_order_date(conn)
    return newest is not None and as_of >= newest and is_current(conn)


def fill_from(
    conn: psycopg.Connection, as_of: dt.date, order_rows: sql.Identifier, categories: sql.Identifier
) -> bool:
    """Store a latest-date run's whole-warehouse totals (temp tables ``order_rows`` and
    ``categories``, computed up to ``as_of``) as the kept totals, with the channel totals.

    Only when ``as_of`` covers every order (then the run's totals are the all-time ones) and no
    build is running (the lock is tried, never waited for). Returns whether it stored them."""
    newest = newest_order_date(conn)
    if newest is None or as_of < newest:
        return False
    if not conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (WAREHOUSE_BUILD_LOCK,)).fetchone()[
        0
    ]:
        log.info("customer totals not stored: a warehouse build is running")
        return False
    digest = runs.built_batches(conn)[1]
    # A checked writer, not an unchecked write (etl.quality_record): the stored totals count as
    # verified once this run's facts_vs_features check, which then scans the lines, passes.
    conn.execute(
        "SELECT set_config(%s, 'a run storing the customer totals', true)", (CHECKED_WRITE,)
    )
    _store(conn, order_rows, categories)
    conn.execute("SELECT set_config(%s, '', true)", (CHECKED_WRITE,))
    _mark(conn, digest)
    conn.execute("UPDATE warehouse.customer_state_status SET lines_checked = false")
    conn.execute(
        "ANALYZE warehouse.customer_order_totals, warehouse.customer_category_totals, "
        "warehouse.customer_channel_totals"
    )
    log.info("customer totals stored for every customer (as of %s)", as_of)
    return True


def _store(
    conn: psycopg.Connection, order_rows: sql.Identifier, categories: sql.Identifier
) -> None:
    conn.execute(
        sql.SQL("TRUNCATE {}, {}, {}").format(ORDER_TOTALS, CATEGORY_TOTALS, CHANNEL_TOTALS)
    )
    conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(ORDER_TOTALS, order_rows))
    conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(CATEGORY_TOTALS, categories))
    conn.execute(
        sql.SQL("INSERT INTO {} {}").format(
            CHANNEL_TOTALS, channel_totals(orders_up_to(None), None)
        )
    )


def _mark(conn: psycopg.Connection, digest: str | None) -> None:
    conn.execute(
        "UPDATE warehouse.customer_state_status SET built_digest = %s, refreshed_at = now()",
        (digest,),
    )


# ------------------------------------------------------------------------------- the build


def begin_build(conn: psycopg.Connection) -> bool:
    """Start of a batch's transaction: when the totals are current, an empty set of touched
    customers and a copy of the product categories. Returns whether the totals are kept."""
    for table in (TOUCHED, PRODUCTS_BEFORE):
        conn.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(table))
    if not is_current(conn):
        return False
    conn.execute(
        sql.SQL("CREATE TEMPORARY TABLE {} (customer_id text PRIMARY KEY) ON COMMIT DROP").format(
            TOUCHED
        )
    )
    conn.execute(
        sql.SQL(
            "CREATE TEMPORARY TABLE {} ON COMMIT DROP AS "
            "SELECT product_id, category_l1 FROM warehouse.dim_product"
        ).format(PRODUCTS_BEFORE)
    )
    return True


def note_touched(conn: psycopg.Connection, staged: sql.Identifier, *, before: bool = False) -> None:
    """Add the customers of the orders in the staged lines table (called before and after the
    facts are written: an order may move from one customer to another). ``before``: also keep
    the batch's orders, each with whether the warehouse held it already (``_adds_only``)."""
    if not _tracking(conn):
        return
    if before:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(BATCH_ORDERS))
        conn.execute(
            sql.SQL(
                "CREATE TEMPORARY TABLE {} ON COMMIT DROP AS "
                "SELECT s.order_id, EXISTS (SELECT 1 FROM warehouse.fact_order AS o "
                "WHERE o.order_id = s.order_id) AS existed "
                "FROM (SELECT DISTINCT order_id FROM {} WHERE _reject IS NULL) AS s"
            ).format(BATCH_ORDERS, staged)
        )
        conn.execute(sql.SQL("ANALYZE {}").format(BATCH_ORDERS))
    conn.execute(
        sql.SQL(
            "INSERT INTO {} SELECT DISTINCT o.customer_id FROM warehouse.fact_order AS o "
            "WHERE o.order_id IN (SELECT order_id FROM {} WHERE _reject IS NULL) "
            "AND o.customer_id IS NOT NULL ON CONFLICT DO NOTHING"
        ).format(TOUCHED, staged)
    )


def _adds_only(conn: psycopg.Connection) -> bool:
    """The batch wrote only orders the warehouse did not hold (a day's new orders, no late
    correction): the kept category and channel totals are then the old ones plus the new
    orders' (the distinct products counted against the customer's earlier orders)."""
    found = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (f"pg_temp.{BATCH_ORDERS_NAME}",)
    ).fetchone()[0]
    if not found:
        return False
    return not conn.execute(
        sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE existed)").format(BATCH_ORDERS)
    ).fetchone()[0]


def _tracking(conn: psycopg.Connection) -> bool:
    found = conn.execute("SELECT to_regclass('pg_temp.segwise_touched_customers')").fetchone()
    return found[0] is not None


def refresh_for_batch(conn: psycopg.Connection) -> dict[str, Any]:
    """End of a batch's build: recompute the touched customers' totals, or leave the totals
    stale (see the module docstring). Call ``mark_current`` after the batch is recorded built
    when ``result["kept"]``."""
    if not _tracking(conn):
        return {"kept": False, "reason": "not current before the batch"}
    changed = conn.execute(
        sql.SQL(
            "SELECT count(*) FROM {} AS b JOIN warehouse.dim_product AS p USING (product_id) "
            "WHERE p.category_l1 IS DISTINCT FROM b.category_l1"
        ).format(PRODUCTS_BEFORE)
    ).fetchone()[0]
    if changed:
        _mark(conn, None)
        return {"kept": False, "reason": f"{changed} products changed category"}
    touched, known = conn.execute(
        sql.SQL("SELECT (SELECT count(*) FROM {}), (SELECT count(*) FROM {})").format(
            TOUCHED, ORDER_TOTALS
        )
    ).fetchone()
    if touched > INCREMENTAL_MAX_SHARE * max(known, 1) and touched > 1000:
        _mark(conn, None)
        return {"kept": False, "reason": f"{touched} customers touched of {known}"}
    conn.execute(sql.SQL("ANALYZE {}").format(TOUCHED))
    adds_only = _adds_only(conn)
    orders, lines = touched_tables(conn)
    # a batch of new orders only: the category and channel totals get the new orders' sums
    # added (the *_add.sql models); otherwise they are recomputed from all the orders
    recomputed = (ORDER_TOTALS,) if adds_only else (ORDER_TOTALS, CATEGORY_TOTALS, CHANNEL_TOTALS)
    for table in recomputed:
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE customer_id IN (SELECT customer_id FROM {})").format(
                table, TOUCHED
            )
        )
    conn.execute(sql.SQL("INSERT INTO {} {}").format(ORDER_TOTALS, order_totals(orders)))
    if adds_only:
        new_orders = sql.SQL(
            "SELECT * FROM warehouse.fact_order WHERE customer_id IS NOT NULL "
            "AND order_id IN (SELECT order_id FROM {})"
        ).format(BATCH_ORDERS)
        conn.execute(
            model(
                "warehouse/customer_category_totals_add.sql",
                new_orders=new_orders,
                new_products=category_products(sql.SQL("SELECT * FROM new_orders"), None, lines),
                orders=orders,
                lines=lines,
            )
        )
        conn.execute(
            model(
                "warehouse/customer_channel_totals_add.sql",
                delta=channel_totals(new_orders, None, lines),
            )
        )
    else:
        conn.execute(
            sql.SQL("INSERT INTO {} {}").format(
                CATEGORY_TOTALS, category_totals(orders, None, lines)
            )
        )
        conn.execute(
            sql.SQL("INSERT INTO {} {}").format(CHANNEL_TOTALS, channel_totals(orders, None, lines))
        )
    return {
        "kept": True,
        "customers": int(touched),
        "category_and_channel_totals": "added" if adds_only else "recomputed",
    }


def mark_current(conn: psycopg.Connection) -> None:
    """After the batch is recorded built: the totals reflect the built batches again."""
    _mark(conn, runs.built_batches(conn)[1])


def whole_pass(conn: psycopg.Connection) -> Any:
    """Planner settings for a statement over every order line (a context manager)."""
    return local_settings(conn, WHOLE_PASS_SETTINGS)
