"""A synthetic warehouse of any size, written by set-based SQL (generate_series + hashes).

Why not the demo generator + loader: at 10M order lines the benchmark is about the
segmentation stage, and writing the canonical tables directly keeps the set-up to minutes and
deterministic (every value is a hash of its row number; no random state).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

# Secondary indexes of the two facts, read from the catalog so the benchmark builds exactly
# what the migrations define (dropped for the bulk insert, recreated after it).
INDEX_DEFINITIONS = """
    SELECT i.indexname, i.indexdef
    FROM pg_indexes AS i
    JOIN pg_class AS c ON c.relname = i.indexname
    JOIN pg_namespace AS n ON n.oid = c.relnamespace AND n.nspname = i.schemaname
    JOIN pg_index AS x ON x.indexrelid = c.oid
    WHERE i.schemaname = 'warehouse' AND i.tablename IN ('fact_order_line', 'fact_order')
      AND NOT x.indisprimary
"""

CUSTOMERS = """
INSERT INTO warehouse.dim_customer (customer_id, gender, birth_year, income, family_status,
    n_dependants, country, region, signup_date, batch_id)
SELECT 'C' || lpad(i::text, 8, '0'),
       (ARRAY['F', 'M'])[1 + (hashint4(i) & 1)],
       1945 + abs(hashint4(i * 7 + 1)) %% 60,
       15000 + abs(hashint4(i * 13 + 2)) %% 185000,
       (ARRAY['single', 'married', 'divorced', 'widowed'])[1 + abs(hashint4(i * 17 + 3)) %% 4],
       abs(hashint4(i * 19 + 4)) %% 5,
       'GB',
       (ARRAY['north', 'south', 'east', 'west', 'wales', 'scotland'])[
           1 + abs(hashint4(i * 23 + 5)) %% 6],
       date '2021-01-01' + abs(hashint4(i * 29 + 6)) %% 365,
       %(batch)s
FROM generate_series(1, %(customers)s) AS i
"""

PRODUCTS = """
INSERT INTO warehouse.dim_product (product_id, product_name, category_l1, category_l2,
    list_price, unit_cost, batch_id)
SELECT 'P' || i, 'product ' || i,
       (ARRAY['grocery', 'home', 'toys', 'garden', 'electronics', 'fashion', 'beauty',
              'sports'])[1 + i %% 8],
       'sub ' || (i %% 40),
       round((1 + abs(hashint4(i)) %% 5000 / 100.0)::numeric, 2),
       round((0.6 * (1 + abs(hashint4(i)) %% 5000 / 100.0))::numeric, 2),
       %(batch)s
FROM generate_series(1, %(products)s) AS i
"""

# Orders: the first `customers` orders give every customer one; the rest go to customers with a
# skew (u^2), so frequency is heavy-tailed like real shops. 1-5 lines per order (mean 3);
# 3% of orders are returns (negative quantities).
LINES = """
INSERT INTO warehouse.fact_order_line (order_id, line_no, customer_id, order_ts, order_date,
    product_id, quantity, unit_price, gross_amount, discount_amount, amount, cost_amount,
    is_return, is_sale, channel, platform, market, country, region, store_id, batch_id)
WITH orders AS (
    SELECT o,
           CASE WHEN o <= %(customers)s THEN o
                ELSE 1 + floor(%(customers)s
                               * power((abs(hashint4(o * 3 + 1)) %% 1000000) / 1e6, 2))::int
           END AS cust,
           timestamp '2022-01-01 08:00' + make_interval(
               days => abs(hashint4(o * 5 + 2)) %% 730, hours => abs(hashint4(o * 7)) %% 14,
               mins => abs(hashint4(o * 11)) %% 60) AS ts,
           1 + abs(hashint4(o * 13 + 3)) %% 5 AS n_lines,
           abs(hashint4(o * 17 + 4)) %% 100 < 3 AS is_return,
           abs(hashint4(o * 19 + 5)) %% 10 AS ch
    FROM generate_series(1, %(orders)s) AS o
)
SELECT 'O' || o.o, l, 'C' || lpad(o.cust::text, 8, '0'), o.ts, o.ts::date,
       'P' || p.pid, q.qty, p.price, q.qty * p.price, 0, q.qty * p.price,
       q.qty * round(p.price * 0.6, 2), o.is_return,
       NOT o.is_return,  -- the sale rule (etl.ingest.sqlgen.is_sale): quantity and price > 0
       (ARRAY['web', 'web', 'web', 'app', 'app', 'app', 'app', 'store', 'store', 'phone'])[
           1 + o.ch],
       CASE WHEN o.ch BETWEEN 3 AND 6 THEN (ARRAY['ios', 'android'])[1 + o.ch %% 2] END,
       'UK', 'GB', (ARRAY['north', 'south', 'east', 'west'])[1 + o.cust %% 4],
       'S' || (o.cust %% 200), %(batch)s
FROM orders AS o
CROSS JOIN generate_series(1, o.n_lines) AS l
CROSS JOIN LATERAL (
    SELECT 1 + abs(hashint4(o.o * 31 + l)) %% %(products)s AS pid
) AS pp
CROSS JOIN LATERAL (
    SELECT round((1 + abs(hashint4(pp.pid)) %% 5000 / 100.0)::numeric, 2) AS price, pp.pid
) AS p
CROSS JOIN LATERAL (
    SELECT CASE WHEN o.is_return THEN -1 ELSE 1 END
           * (1 + abs(hashint4(o.o * 37 + l)) %% 4)::numeric AS qty
) AS q
"""

FACT_ORDER = """
INSERT INTO warehouse.fact_order (order_id, customer_id, order_ts, order_date, n_lines,
    n_sale_lines, quantity, gross_amount, discount_amount, sales_amount, return_amount,
    net_amount, cost_amount, is_return, channel, platform, market, country, region,
    store_id, batch_id)
SELECT order_id, max(customer_id), min(order_ts), min(order_date), count(*),
    count(*) FILTER (WHERE sale), sum(quantity), sum(gross_amount), sum(discount_amount),
    coalesce(sum(amount) FILTER (WHERE sale), 0),
    coalesce(-sum(amount) FILTER (WHERE is_return), 0),
    coalesce(sum(amount) FILTER (WHERE sale), 0)
        + coalesce(sum(amount) FILTER (WHERE is_return), 0),
    sum(cost_amount), bool_and(is_return), max(channel), max(platform), max(market),
    max(country), max(region), max(store_id), max(batch_id)
FROM (
    SELECT *, customer_id IS NOT NULL AND quantity > 0 AND unit_price > 0 AND NOT is_return
              AS sale
    FROM warehouse.fact_order_line
) AS l
GROUP BY order_id
"""


def build(url: str, *, customers: int, lines: int, products: int = 5000, say=print) -> int:
    """Fill an empty migrated warehouse; returns the number of order lines written."""
    orders = max(customers, lines // 3)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '256MB'")
        batch = conn.execute(
            "INSERT INTO staging.load_batches (source_kind, layout, source_uri, status) "
            "VALUES ('demo', 'segwise', 'bench/segment synthetic', 'succeeded') "
            "RETURNING batch_id"
        ).fetchone()[0]
        p = {"batch": batch, "customers": customers, "orders": orders, "products": products}
        indexes = conn.execute(INDEX_DEFINITIONS).fetchall()
        for name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier("warehouse", name)))
        say("customers ...")
        conn.execute(CUSTOMERS, p)
        conn.execute(PRODUCTS, p)
        say(f"order lines for {orders:,} orders ...")
        conn.execute(LINES, p)
        say("orders ...")
        conn.execute(FACT_ORDER)
        say("indexes ...")
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE warehouse.fact_order_line")
        conn.execute("VACUUM ANALYZE warehouse.fact_order")
        conn.execute("ANALYZE warehouse.dim_customer, warehouse.dim_product")
        n = conn.execute("SELECT count(*) FROM warehouse.fact_order_line").fetchone()[0]
        # the ledger's count of loaded lines (the runs' quality check compares it with the facts)
        conn.execute(
            "UPDATE staging.load_batches SET rows_loaded = %s WHERE batch_id = %s", (n, batch)
        )
        return n
