-- parameters nexts, starts: bound by psycopg in etl.segment.time_marts._periods
-- Fiscal-year rows from the month rows of segmentation.kpi_periods: sums of the months (a
-- customer is new in one month only, so new customers add up too); distinct active customers
-- for the total from pg_temp.segwise_fy_active (filled by the caller: counted from
-- segmentation.customer_months, or the previous count plus the change; per breakdown they are
-- left NULL: a count over a year of orders per breakdown would cost a scan of that year).
-- Params: starts (date[]), nexts (date[]). Run by etl.segment.time_marts.refresh after the
-- month rows and after deleting those years' rows.
INSERT INTO segmentation.kpi_periods (
    grain, period_start, period_next, dimension, dimension_value, gross_revenue, returns_value,
    cost_amount, cost_rows, orders, placed_orders, cancelled_orders, active_customers,
    new_customers
)
WITH years AS (
    SELECT s AS period_start, n AS period_next
    FROM unnest(%(starts)s::date[], %(nexts)s::date[]) AS y (s, n)
)
SELECT
    'fiscal_year', y.period_start, y.period_next, k.dimension, k.dimension_value,
    sum(k.gross_revenue), sum(k.returns_value), sum(k.cost_amount), sum(k.cost_rows),
    sum(k.orders),
    sum(k.placed_orders), sum(k.cancelled_orders),
    CASE WHEN k.dimension = 'all' THEN coalesce((
        SELECT a.active FROM segwise_fy_active AS a WHERE a.period_start = y.period_start
    ), 0) END,
    sum(k.new_customers)
FROM years AS y
JOIN segmentation.kpi_periods AS k
    ON k.grain = 'month' AND k.period_start >= y.period_start AND k.period_start < y.period_next
GROUP BY y.period_start, y.period_next, k.dimension, k.dimension_value;
