-- fixed SQL: run as is by etl.segment.time_marts.refresh
-- Add to segmentation.cohort_cells what the order versions in pg_temp.segwise_kpi_orders
-- change: per customer and month, whether they bought, their net revenue and orders, now (sign
-- >= 0, in the cohort of their first sale now) minus before (sign <= 0, the cohort before),
-- from the cohort month on (segwise_firsts). Same rules as kpi_cohort_cells.sql. Cells left without
-- orders are deleted by the caller. Run by etl.segment.time_marts.refresh (fixed SQL).
INSERT INTO segmentation.cohort_cells AS k (
    cohort_month, activity_month, active_customers, revenue, orders
)
WITH per_month AS (
    SELECT
        s.sign, o.customer_id, date_trunc('month', o.order_date)::date AS month,
        bool_or(o.n_sale_lines > 0) AS bought, sum(o.net_amount) AS revenue, count(*) AS orders
    FROM segwise_kpi_orders AS o
    CROSS JOIN LATERAL (
        VALUES (1::smallint), (-1::smallint)  -- an untouched order (0) counts on both sides
    ) AS s (sign)
    WHERE o.customer_id IS NOT NULL AND (o.sign = 0 OR o.sign = s.sign)
    GROUP BY s.sign, o.customer_id, date_trunc('month', o.order_date)
),
cohorts AS (
    SELECT
        p.*,
        date_trunc('month', CASE WHEN p.sign > 0 THEN f.new_first ELSE f.old_first END)::date
            AS cohort_month
    FROM per_month AS p
    JOIN segwise_firsts AS f ON f.customer_id = p.customer_id
)
SELECT
    cohort_month, month,
    coalesce(sum(sign) FILTER (WHERE bought), 0), sum(sign * revenue), sum(sign * orders)
FROM cohorts
WHERE cohort_month IS NOT NULL AND month >= cohort_month
GROUP BY cohort_month, month
ON CONFLICT (cohort_month, activity_month) DO UPDATE SET
    active_customers = k.active_customers + EXCLUDED.active_customers,
    revenue = k.revenue + EXCLUDED.revenue,
    orders = k.orders + EXCLUDED.orders;
