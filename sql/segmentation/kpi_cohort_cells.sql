-- fixed SQL: run as is by etl.segment.time_marts.rebuild
-- Cohort cells (acquisition month x month) from every order of the customers with a first sale
-- (segmentation.customer_first_sale): customers who bought, net revenue and orders, from the
-- cohort month on. Run by etl.segment.time_marts.rebuild on an empty table (later batches:
-- kpi_cohort_delta.sql).
INSERT INTO segmentation.cohort_cells (
    cohort_month, activity_month, active_customers, revenue, orders
)
SELECT
    date_trunc('month', f.first_date)::date AS cohort_month,
    date_trunc('month', o.order_date)::date AS activity_month,
    count(DISTINCT o.customer_id) FILTER (WHERE o.n_sale_lines > 0),
    sum(o.net_amount),
    count(*)
FROM warehouse.fact_order AS o
JOIN segmentation.customer_first_sale AS f ON f.customer_id = o.customer_id
WHERE date_trunc('month', o.order_date) >= date_trunc('month', f.first_date)
GROUP BY 1, 2;
