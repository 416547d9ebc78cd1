-- template parts batch_id, lines: filled by etl.ingest.sqlgen.model
-- The first load into an empty fact table: every good line is new, so a plain insert (the
-- caller has dropped the indexes and rebuilds them after; it reads the row count).
INSERT INTO warehouse.fact_order_line (
    order_id, line_no, customer_id, order_ts, order_date, product_id, quantity, unit_price,
    gross_amount, discount_amount, amount, cost_amount, is_return, is_sale, channel, platform,
    market, country, region, store_id, batch_id
)
SELECT l.order_id, l.line_no, l.customer_id, l.order_ts, l.order_ts::date, l.product_id,
       l.quantity, l.unit_price, l.gross_amount, l.discount_amount, l.amount,
       l.cost_amount, l.is_return, l.is_sale, l.channel, l.platform, l.market, l.country, l.region,
       l.store_id, {batch_id}
FROM {lines} AS l
WHERE l._reject IS NULL
