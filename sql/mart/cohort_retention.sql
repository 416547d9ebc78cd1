-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.cohort_retention: acquisition-month cohorts x months since the first sale. Fixed SQL
-- over segmentation.cohort_cells (kept current by etl.segment.time_marts.refresh); created once
-- revision 0008_time has made that table.
DO $do$
BEGIN
    IF to_regclass('segmentation.cohort_cells') IS NULL THEN
        RETURN;
    END IF;
    EXECUTE $view$
CREATE OR REPLACE VIEW mart.cohort_retention AS
WITH cohorts AS (
    -- every cohort member buys in the cohort month: its cell 0 is the cohort's size
    SELECT cohort_month, active_customers AS cohort_size
    FROM segmentation.cohort_cells
    WHERE activity_month = cohort_month
),
grid AS (
    -- every month from the cohort's first to the last month with orders, so gaps show as 0
    SELECT c.cohort_month, c.cohort_size, m::date AS activity_month
    FROM cohorts AS c
    CROSS JOIN LATERAL generate_series(
        c.cohort_month,
        (SELECT date_trunc('month', max(order_date)) FROM warehouse.fact_order),
        interval '1 month'
    ) AS m
)
SELECT
    g.cohort_month,
    g.activity_month,
    ((extract(year FROM g.activity_month) - extract(year FROM g.cohort_month)) * 12
        + extract(month FROM g.activity_month) - extract(month FROM g.cohort_month))::int
        AS months_since_first,
    g.cohort_size,
    coalesce(a.active_customers, 0) AS active_customers,
    coalesce(a.active_customers, 0)::double precision / g.cohort_size AS retention_rate,
    round(coalesce(a.revenue, 0), 2) AS revenue,
    round(coalesce(a.revenue, 0) / g.cohort_size, 2) AS revenue_per_customer,
    round(sum(coalesce(a.revenue, 0)) OVER (
        PARTITION BY g.cohort_month ORDER BY g.activity_month
    ) / g.cohort_size, 2) AS cumulative_revenue_per_customer
FROM grid AS g
LEFT JOIN segmentation.cohort_cells AS a
    ON a.cohort_month = g.cohort_month AND a.activity_month = g.activity_month
    $view$;
    EXECUTE $c$COMMENT ON VIEW mart.cohort_retention IS
    'Customers grouped by the month of their first sale (cohort) and followed month by month: '
    'one row per cohort and month from the cohort''s first month to the last month with orders.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.cohort_retention.cohort_month IS 'Month of the customers'' first sale.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.cohort_retention.activity_month IS 'The month measured.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.cohort_retention.months_since_first IS
    'Months from the cohort month (0 = the acquisition month itself).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.cohort_retention.cohort_size IS 'Customers in the cohort.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.cohort_retention.active_customers IS
    'Customers of the cohort with a sale in the month.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.cohort_retention.retention_rate IS 'active_customers / cohort_size.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.cohort_retention.revenue IS
    'Net revenue of the cohort''s customers in the month (sales minus returns).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.cohort_retention.revenue_per_customer IS 'revenue / cohort_size.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.cohort_retention.cumulative_revenue_per_customer IS
    'Net revenue per cohort customer from the cohort month up to this month.'$c$;
END
$do$;
