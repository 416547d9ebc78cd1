-- fixed SQL: run as is by etl.segment.time_marts.refresh
-- Each customer of the touched orders (both versions): first sale date before (from
-- segmentation.customer_first_sale) and now (from the facts, through the (customer_id,
-- order_date) index). Reads pg_temp.segwise_touched; fills pg_temp.segwise_firsts; run by
-- etl.segment.time_marts.refresh (fixed SQL).
CREATE TEMP TABLE segwise_firsts ON COMMIT DROP AS
WITH customers AS (
    SELECT DISTINCT customer_id FROM segwise_touched WHERE customer_id IS NOT NULL
),
current_first AS (
    SELECT c.customer_id, (
        SELECT min(o.order_date) FROM warehouse.fact_order AS o
        WHERE o.customer_id = c.customer_id AND o.n_sale_lines > 0
    ) AS first_date
    FROM customers AS c
)
SELECT n.customer_id, f.first_date AS old_first, n.first_date AS new_first
FROM current_first AS n
LEFT JOIN segmentation.customer_first_sale AS f ON f.customer_id = n.customer_id;
