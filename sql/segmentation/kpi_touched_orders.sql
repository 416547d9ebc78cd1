-- parameters batches: bound by psycopg in etl.segment.time_marts.refresh
-- The orders a set of batches wrote or updated (fact_order.batch_id is the last batch that
-- touched an order). Params: batches (bigint[]). Fills pg_temp.segwise_touched_orders; run by
-- etl.segment.time_marts.refresh.
CREATE TEMP TABLE segwise_touched_orders ON COMMIT DROP AS
SELECT customer_id, order_date, n_sale_lines
FROM warehouse.fact_order
WHERE batch_id = ANY (%(batches)s::bigint[]);
