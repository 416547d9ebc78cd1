"""A small, deterministic warehouse written with set-based SQL, for orchestration-level tests.

Independent of the ingest code on purpose: the quality checks and the run-level locking are tested
against rows whose totals the test knows, following the 0001 contract (signed ``amount``, returns
flagged, lines without a customer kept, one ``fact_order`` row per order).
"""

from __future__ import annotations

import datetime as dt

import psycopg

LINES_SQL = """
WITH orders AS (
    SELECT
        o AS n,
        'SO' || lpad(o::text, 6, '0') AS order_id,
        -- every 17th order has no customer: it stays in the facts, not in customer work
        CASE WHEN o %% 17 = 0 THEN NULL
             ELSE 'C' || lpad((1 + (o * 7919) %% %(customers)s)::text, 4, '0') END AS customer_id,
        %(start)s::timestamp
            + make_interval(days => (o * 31) %% %(days)s, hours => (o * 13) %% 24) AS ts,
        (ARRAY['web', 'store', 'app'])[1 + o %% 3] AS channel,
        (ARRAY['north', 'south', 'east', 'west'])[1 + (o / 3) %% 4] AS region
    FROM generate_series(1, %(orders)s) AS o
)
INSERT INTO warehouse.fact_order_line (
    order_id, line_no, customer_id, order_ts, order_date, product_id, quantity, unit_price,
    gross_amount, discount_amount, amount, cost_amount, is_return, channel, region, batch_id
)
SELECT
    o.order_id,
    l,
    o.customer_id,
    o.ts,
    o.ts::date,
    'P' || ((o.n + l) %% 9),
    q.qty,
    q.price,
    q.qty * q.price,
    0,
    q.qty * q.price,
    q.qty * q.price * 0.6,
    q.qty < 0,
    o.channel,
    o.region,
    %(batch_id)s
FROM orders AS o
CROSS JOIN LATERAL generate_series(1, 1 + o.n %% 3) AS l
CROSS JOIN LATERAL (
    SELECT
        -- every 23rd line is a return of two units
        CASE WHEN (o.n * 3 + l) %% 23 = 0 THEN -2 ELSE 1 + (o.n + l) %% 4 END::numeric AS qty,
        (2.5 + ((o.n * l) %% 40))::numeric AS price
) AS q
"""

ORDERS_SQL = """
INSERT INTO warehouse.fact_order (
    order_id, customer_id, order_ts, order_date, n_lines, n_sale_lines, quantity, gross_amount,
    discount_amount, sales_amount, return_amount, net_amount, cost_amount, is_return, channel,
    region, batch_id
)
SELECT
    order_id,
    min(customer_id),
    min(order_ts),
    min(order_date),
    count(*),
    count(*) FILTER (WHERE quantity > 0 AND unit_price > 0 AND NOT is_return),
    sum(quantity),
    sum(gross_amount),
    sum(discount_amount),
    coalesce(sum(amount) FILTER (WHERE quantity > 0 AND unit_price > 0 AND NOT is_return), 0),
    coalesce(-sum(amount) FILTER (WHERE is_return), 0),
    sum(amount),
    sum(cost_amount),
    bool_and(is_return),
    min(channel),
    min(region),
    min(batch_id)
FROM warehouse.fact_order_line
WHERE batch_id = %(batch_id)s
GROUP BY order_id
"""


def seed(
    url: str,
    *,
    customers: int = 150,
    orders: int = 1500,
    days: int = 120,
    end: dt.date = dt.date(2026, 6, 30),
) -> dict[str, object]:
    """Write one succeeded batch of orders ending on ``end``; returns what was written."""
    start = end - dt.timedelta(days=days - 1)
    with psycopg.connect(url) as conn:
        batch_id = conn.execute(
            "INSERT INTO staging.load_batches (source_kind, layout, source_uri, status, "
            "finished_at) VALUES ('file', 'segwise', 'test://small_warehouse', 'succeeded', "
            "now()) RETURNING batch_id"
        ).fetchone()[0]
        params = {
            "customers": customers,
            "orders": orders,
            "days": days,
            "start": start,
            "batch_id": batch_id,
        }
        lines = conn.execute(LINES_SQL, params).rowcount
        conn.execute(ORDERS_SQL, params)
        conn.execute(
            "INSERT INTO warehouse.dim_customer (customer_id, gender, birth_year, region, "
            "batch_id) SELECT DISTINCT customer_id, "
            "(ARRAY['f','m'])[1 + abs(hashtext(customer_id)) %% 2], "
            "1950 + abs(hashtext(customer_id)) %% 50, min(region), %s "
            "FROM warehouse.fact_order_line WHERE customer_id IS NOT NULL "
            "GROUP BY customer_id ON CONFLICT DO NOTHING",
            (batch_id,),
        )
        conn.execute(
            "UPDATE staging.load_batches SET rows_read = %s, rows_loaded = %s WHERE batch_id = %s",
            (lines, lines, batch_id),
        )
    return {"batch_id": batch_id, "lines": lines, "start": start, "end": end}
