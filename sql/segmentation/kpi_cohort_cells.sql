-- parameters cohorts, months: bound by psycopg in etl.segment.time_marts.refresh
-- Cohort cells (acquisition month x month) for the given activity months and cohorts: every
-- cell of those months, and every month of those cohorts. Params: months (date[]), cohorts
-- (date[]). Run by etl.segment.time_marts.refresh after deleting the same cells.
INSERT INTO segmentation.cohort_cells (cohort_month, activity_month, active_customers, revenue)
WITH touched AS (
    -- orders dated in the touched months
    SELECT o.customer_id, o.order_date, o.n_sale_lines, o.net_amount
    FROM warehouse.fact_order AS o
    WHERE o.customer_id IS NOT NULL
      AND date_trunc('month', o.order_date)::date = ANY (%(months)s::date[])
      AND o.order_date >= (SELECT min(m) FROM unnest(%(months)s::date[]) AS m)
    UNION ALL
    -- other orders of the touched cohorts' customers
    SELECT o.customer_id, o.order_date, o.n_sale_lines, o.net_amount
    FROM segmentation.customer_first_sale AS f
    JOIN warehouse.fact_order AS o ON o.customer_id = f.customer_id
    WHERE date_trunc('month', f.first_date::timestamp) = ANY (%(cohorts)s::timestamp[])
      AND NOT date_trunc('month', o.order_date)::date = ANY (%(months)s::date[])
)
SELECT
    date_trunc('month', f.first_date)::date AS cohort_month,
    date_trunc('month', t.order_date)::date AS activity_month,
    count(DISTINCT t.customer_id) FILTER (WHERE t.n_sale_lines > 0),
    sum(t.net_amount)
FROM touched AS t
JOIN segmentation.customer_first_sale AS f ON f.customer_id = t.customer_id
WHERE date_trunc('month', t.order_date) >= date_trunc('month', f.first_date)
GROUP BY 1, 2;
