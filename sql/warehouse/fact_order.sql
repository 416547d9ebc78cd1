-- One row per order, recomputed from all of its lines in the warehouse for every order the batch
-- touched (an order's lines may arrive in several batches). <scope> selects those orders' lines.
-- A sale line: quantity > 0, unit_price > 0, not a return. return_amount is positive.
INSERT INTO warehouse.fact_order AS o (
    order_id, customer_id, order_ts, order_date, n_lines, n_sale_lines, quantity, gross_amount,
    discount_amount, sales_amount, return_amount, net_amount, cost_amount, is_return, channel,
    platform, market, country, region, store_id, batch_id
)
SELECT l.order_id,
       min(l.customer_id),
       min(l.order_ts),
       min(l.order_ts)::date,
       count(*),
       count(*) FILTER (WHERE l.quantity > 0 AND l.unit_price > 0 AND NOT l.is_return),
       sum(l.quantity),
       sum(l.gross_amount),
       sum(l.discount_amount),
       coalesce(sum(l.amount) FILTER (
           WHERE l.quantity > 0 AND l.unit_price > 0 AND NOT l.is_return), 0),
       coalesce(-sum(l.amount) FILTER (WHERE l.is_return), 0),
       coalesce(sum(l.amount) FILTER (
           WHERE l.quantity > 0 AND l.unit_price > 0 AND NOT l.is_return), 0)
           - coalesce(-sum(l.amount) FILTER (WHERE l.is_return), 0),
       sum(l.cost_amount),
       bool_and(l.is_return),
       min(l.channel), min(l.platform), min(l.market), min(l.country), min(l.region),
       min(l.store_id),
       {batch_id}
FROM warehouse.fact_order_line AS l
WHERE {scope}
GROUP BY l.order_id
ON CONFLICT (order_id) DO UPDATE SET
    customer_id = EXCLUDED.customer_id, order_ts = EXCLUDED.order_ts,
    order_date = EXCLUDED.order_date, n_lines = EXCLUDED.n_lines,
    n_sale_lines = EXCLUDED.n_sale_lines, quantity = EXCLUDED.quantity,
    gross_amount = EXCLUDED.gross_amount, discount_amount = EXCLUDED.discount_amount,
    sales_amount = EXCLUDED.sales_amount, return_amount = EXCLUDED.return_amount,
    net_amount = EXCLUDED.net_amount, cost_amount = EXCLUDED.cost_amount,
    is_return = EXCLUDED.is_return, channel = EXCLUDED.channel, platform = EXCLUDED.platform,
    market = EXCLUDED.market, country = EXCLUDED.country, region = EXCLUDED.region,
    store_id = EXCLUDED.store_id, batch_id = EXCLUDED.batch_id
