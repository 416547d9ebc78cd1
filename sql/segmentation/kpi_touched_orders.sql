-- parameters batches: bound by psycopg in etl.segment.time_marts.refresh
-- The orders a set of batches wrote or rewrote, in two versions: sign +1, the order as it is now
-- (fact_order.batch_id is the last batch that touched it; found through the BRIN index on
-- batch_id), and sign -1, the order as it was before the first of these batches rewrote it (the
-- first version a trigger kept in segmentation.kpi_order_versions; none for a new order).
-- Params: batches (bigint[]). Fills pg_temp.segwise_touched; run by
-- etl.segment.time_marts.refresh.
CREATE TEMP TABLE segwise_touched ON COMMIT DROP AS
SELECT
    1::smallint AS sign, false AS old_version, o.order_id, o.customer_id, o.order_date,
    o.n_sale_lines, o.sales_amount, o.return_amount, o.net_amount, o.cost_amount, o.is_return,
    o.channel, o.platform, o.market, o.country, o.region
FROM warehouse.fact_order AS o
WHERE o.batch_id = ANY (%(batches)s::bigint[])
UNION ALL
SELECT
    -1::smallint, true, v.order_id, v.customer_id, v.order_date, v.n_sale_lines,
    v.sales_amount, v.return_amount, v.net_amount, v.cost_amount, v.is_return, v.channel,
    v.platform, v.market, v.country, v.region
FROM (
    SELECT DISTINCT ON (order_id) *
    FROM segmentation.kpi_order_versions
    WHERE batch_id = ANY (%(batches)s::bigint[])
      AND old_batch_id <> ALL (%(batches)s::bigint[])  -- not written by one of these batches
    ORDER BY order_id, seq
) AS v;
