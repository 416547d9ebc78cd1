-- parameters batches: bound by psycopg in etl.segment.time_marts.refresh
-- The lines of each order version in pg_temp.segwise_kpi_orders (for the category breakdown):
-- current versions read the lines as they are (primary key lookups by order_id, a nested loop
-- the caller asks for); a previous
-- version reads its lines the batches did not touch, and the kept previous versions of those
-- they rewrote (segmentation.kpi_line_versions; lines they added did not exist before).
-- Params: batches (bigint[]). Fills pg_temp.segwise_kpi_lines; run by
-- etl.segment.time_marts.refresh.
CREATE TEMP TABLE segwise_kpi_lines ON COMMIT DROP AS
SELECT o.row_id, l.product_id, l.amount, l.cost_amount, l.is_sale, l.is_return
FROM segwise_kpi_orders AS o
JOIN warehouse.fact_order_line AS l ON l.order_id = o.order_id
WHERE NOT o.old_version OR l.batch_id <> ALL (%(batches)s::bigint[])
UNION ALL
SELECT o.row_id, v.product_id, v.amount, v.cost_amount, v.is_sale, v.is_return
FROM segwise_kpi_orders AS o
JOIN (
    SELECT DISTINCT ON (order_id, line_no) *
    FROM segmentation.kpi_line_versions
    WHERE batch_id = ANY (%(batches)s::bigint[])
      AND old_batch_id <> ALL (%(batches)s::bigint[])
    ORDER BY order_id, line_no, seq
) AS v ON v.order_id = o.order_id
WHERE o.old_version;
