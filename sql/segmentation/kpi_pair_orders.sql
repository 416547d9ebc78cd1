-- parameters batches: bound by psycopg in etl.segment.time_marts.refresh
-- Every order of the (customer, month) pairs: those the batches wrote as they are now (sign
-- +1), the kept previous versions of those they rewrote (sign -1), and the orders they did not
-- touch (sign 0: the same now and before; no sum changes, but each pair's distinct counts come
-- out whole), plus both versions of touched orders without a customer.
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
        CASE WHEN batch_id = ANY (%(batches)s::bigint[]) THEN 1 ELSE 0 END::smallint AS sign,
        false AS old_version, order_id, customer_id, order_date, n_sale_lines, sales_amount,
        return_amount, net_amount, cost_amount, is_return, channel, platform, market, country,
        region
    FROM current_orders
    UNION ALL
    SELECT
        sign, old_version, order_id, customer_id, order_date, n_sale_lines, sales_amount,
        return_amount, net_amount, cost_amount, is_return, channel, platform, market, country,
        region
    FROM segwise_touched
    WHERE old_version OR customer_id IS NULL
)
SELECT row_number() OVER () AS row_id, v.* FROM versions AS v;
