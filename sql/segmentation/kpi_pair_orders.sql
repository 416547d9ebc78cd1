-- parameters batches: bound by psycopg in etl.segment.time_marts.refresh
-- Every order of the (customer, month) pairs, now (sign +1) and before the batches (sign -1: the
-- orders they did not touch as they are, and the kept previous versions of those they
-- rewrote), plus both versions of touched orders without a customer. Untouched orders appear
-- with both signs and cancel out of every sum; each pair's distinct counts come out whole.
-- Params: batches (bigint[]). Reads pg_temp.segwise_pairs and segwise_touched; fills
-- pg_temp.segwise_kpi_orders (row_id: one per order version); run by
-- etl.segment.time_marts.refresh.
CREATE TEMP TABLE segwise_kpi_orders ON COMMIT DROP AS
WITH current_orders AS (
    SELECT o.*
    FROM segwise_pairs AS p
    JOIN warehouse.fact_order AS o
        ON o.customer_id = p.customer_id
       AND o.order_date >= p.month
       AND o.order_date < (p.month + interval '1 month')::date
),
versions AS (
    SELECT
        1::smallint AS sign, false AS old_version, order_id, customer_id, order_date,
        n_sale_lines, sales_amount, return_amount, net_amount, cost_amount, is_return, channel,
        platform, market, country, region
    FROM current_orders
    UNION ALL
    SELECT
        -1::smallint, false, order_id, customer_id, order_date, n_sale_lines, sales_amount,
        return_amount, net_amount, cost_amount, is_return, channel, platform, market, country,
        region
    FROM current_orders
    WHERE batch_id <> ALL (%(batches)s::bigint[])
    UNION ALL
    SELECT
        sign, old_version, order_id, customer_id, order_date, n_sale_lines, sales_amount,
        return_amount, net_amount, cost_amount, is_return, channel, platform, market, country,
        region
    FROM segwise_touched
    WHERE old_version OR customer_id IS NULL
)
SELECT row_number() OVER () AS row_id, v.* FROM versions AS v;
