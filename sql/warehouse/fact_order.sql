-- template parts totals: filled by etl.ingest.sqlgen.model
-- Upsert the orders the batch touched from their recomputed totals (order_totals.sql).
INSERT INTO warehouse.fact_order AS o (
    order_id, customer_id, order_ts, order_date, n_lines, n_sale_lines, quantity, gross_amount,
    discount_amount, sales_amount, return_amount, net_amount, cost_amount, is_return, channel,
    platform, market, country, region, store_id, batch_id
)
SELECT * FROM {totals}
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
