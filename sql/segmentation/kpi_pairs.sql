-- fixed SQL: run as is by etl.segment.time_marts.refresh
-- The (customer, month) pairs whose distinct counts may change: those of the touched orders (both
-- versions), and every month with orders of a customer whose first sale moved (their cohort and
-- "new" month move). Reads pg_temp.segwise_touched and segwise_firsts; fills
-- pg_temp.segwise_pairs; run by etl.segment.time_marts.refresh (fixed SQL).
CREATE TEMP TABLE segwise_pairs ON COMMIT DROP AS
SELECT customer_id, date_trunc('month', order_date)::date AS month
FROM segwise_touched
WHERE customer_id IS NOT NULL
UNION
SELECT f.customer_id, m.month
FROM segwise_firsts AS f
CROSS JOIN LATERAL (
    SELECT DISTINCT date_trunc('month', o.order_date)::date AS month
    FROM warehouse.fact_order AS o
    WHERE o.customer_id = f.customer_id
) AS m
WHERE f.old_first IS DISTINCT FROM f.new_first;
