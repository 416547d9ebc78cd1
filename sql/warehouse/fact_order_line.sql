-- template parts batch_id, lines: filled by etl.ingest.sqlgen.model
-- Write the batch's good lines. A line whose (order_id, line_no) is already in the warehouse is
-- a duplicate: it is rewritten only if something changed and the line there came from this
-- batch or an older one (batches are built in staging order; a late older one loses). New
-- lines are inserted in key order (kinder to the primary-key index than file order).
-- Returns (inserted, updated).
WITH updated AS (
    UPDATE warehouse.fact_order_line AS f SET
        customer_id = l.customer_id, order_ts = l.order_ts, order_date = l.order_ts::date,
        product_id = l.product_id, quantity = l.quantity, unit_price = l.unit_price,
        gross_amount = l.gross_amount, discount_amount = l.discount_amount, amount = l.amount,
        cost_amount = l.cost_amount, is_return = l.is_return, is_sale = l.is_sale, channel = l.channel,
        platform = l.platform, market = l.market, country = l.country, region = l.region,
        store_id = l.store_id, batch_id = {batch_id}
    FROM {lines} AS l
    WHERE l._reject IS NULL
      AND f.order_id = l.order_id AND f.line_no = l.line_no
      AND f.batch_id <= {batch_id}  -- an older batch never overwrites a newer one's line
      AND (f.customer_id, f.order_ts, f.product_id, f.quantity, f.unit_price, f.gross_amount,
           f.discount_amount, f.amount, f.cost_amount, f.is_return, f.is_sale, f.channel, f.platform,
           f.market, f.country, f.region, f.store_id)
          IS DISTINCT FROM
          (l.customer_id, l.order_ts, l.product_id, l.quantity, l.unit_price, l.gross_amount,
           l.discount_amount, l.amount, l.cost_amount, l.is_return, l.is_sale, l.channel, l.platform,
           l.market, l.country, l.region, l.store_id)
    RETURNING 1
), inserted AS (
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
      AND NOT EXISTS (
          SELECT 1 FROM warehouse.fact_order_line AS f
          WHERE f.order_id = l.order_id AND f.line_no = l.line_no
      )
    ORDER BY l.order_id COLLATE "C", l.line_no
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM updated)
