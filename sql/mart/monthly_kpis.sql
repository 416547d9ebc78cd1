-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.monthly_kpis: sales, orders and customers per calendar month and fiscal year, in total and
-- by channel, platform, market, region, country and product category. Fixed SQL over
-- segmentation.kpi_periods (kept current by etl.segment.time_marts.refresh) and the latest
-- published run's lifecycle counts; created once revision 0008_time has made that table.
DO $do$
BEGIN
    IF to_regclass('segmentation.kpi_periods') IS NULL THEN
        RETURN;
    END IF;
    EXECUTE $view$
CREATE OR REPLACE VIEW mart.monthly_kpis AS
WITH stages AS (
    -- the latest published run's lifecycle counts at each month end (lifecycle method)
    SELECT x.*
    FROM (
        SELECT metrics FROM segmentation.runs
        WHERE status = 'published'
        ORDER BY as_of_date DESC, run_id DESC
        LIMIT 1
    ) AS r
    CROSS JOIN LATERAL jsonb_to_recordset(r.metrics -> 'lifecycle' -> 'monthly') AS x (
        month date, new bigint, active bigint, reactivated bigint, at_risk bigint, lapsed bigint
    )
),
last_order AS (
    SELECT max(order_date) AS last_date FROM warehouse.fact_order
)
SELECT
    k.grain,
    k.period_start,
    (k.period_next - 1) AS period_end,
    CASE k.grain
        WHEN 'month' THEN to_char(k.period_start, 'YYYY-MM')
        ELSE 'FY' || extract(year FROM k.period_next - 1)::int
    END AS period_label,
    k.dimension,
    k.dimension_value,
    (k.period_next - 1) <= lo.last_date AS is_complete,
    round(k.gross_revenue, 2) AS gross_revenue,
    round(k.returns_value, 2) AS returns_value,
    round(k.gross_revenue - k.returns_value, 2) AS net_revenue,
    round(k.cost_amount, 2) AS cost_amount,
    round(k.gross_revenue - k.returns_value - k.cost_amount, 2) AS gross_margin,
    k.orders,
    k.placed_orders,
    k.cancelled_orders,
    k.active_customers,
    k.new_customers,
    k.active_customers - k.new_customers AS returning_customers,
    round(k.gross_revenue / nullif(k.orders, 0), 2) AS avg_order_value,
    ((k.gross_revenue - k.returns_value) / nullif(sum(k.gross_revenue - k.returns_value)
        OVER prev_month, 0) - 1)::double precision AS revenue_mom_growth,
    ((k.gross_revenue - k.returns_value) / nullif(sum(k.gross_revenue - k.returns_value)
        OVER prev_year, 0) - 1)::double precision AS revenue_yoy_growth,
    (k.orders::numeric / nullif(sum(k.orders) OVER prev_month, 0) - 1)::double precision
        AS orders_mom_growth,
    (k.orders::numeric / nullif(sum(k.orders) OVER prev_year, 0) - 1)::double precision
        AS orders_yoy_growth,
    s.new AS lifecycle_new,
    s.active AS lifecycle_active,
    s.reactivated AS lifecycle_reactivated,
    s.at_risk AS lifecycle_at_risk,
    s.lapsed AS lifecycle_lapsed
FROM segmentation.kpi_periods AS k
CROSS JOIN last_order AS lo
LEFT JOIN stages AS s
    ON k.dimension = 'all'
   AND s.month = date_trunc('month', least(k.period_next - 1, lo.last_date))
WINDOW
    prev_month AS (
        PARTITION BY k.grain, k.dimension, k.dimension_value ORDER BY k.period_start
        RANGE BETWEEN interval '1 month' PRECEDING AND interval '1 month' PRECEDING
    ),
    prev_year AS (
        PARTITION BY k.grain, k.dimension, k.dimension_value ORDER BY k.period_start
        RANGE BETWEEN interval '1 year' PRECEDING AND interval '1 year' PRECEDING
    )
    $view$;
    EXECUTE $c$COMMENT ON VIEW mart.monthly_kpis IS
    'Sales, orders and customers per period (grain: month or fiscal_year) and breakdown '
    '(dimension: all, channel, platform, market, region, country, category; a breakdown appears '
    'only when the data carry it). Always filter on grain and dimension: rows of different '
    'grains or dimensions overlap and must not be added up.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.grain IS 'month or fiscal_year.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.period_start IS
    'First day of the month or fiscal year (join to mart.calendar.date).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.period_end IS 'Last day of the period.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.period_label IS 'YYYY-MM or FYyyyy (year the FY ends in).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.dimension IS
    'Breakdown: all (totals), channel, platform, market, region, country or category.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.dimension_value IS
    'Value of the breakdown (''all'' for totals; ''unknown'' when not recorded).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.is_complete IS
    'False for the period holding the last order date (still filling up).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.gross_revenue IS
    'Sales: value of sale lines (quantity > 0, price > 0, not a return), with or without a customer.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.returns_value IS
    'Value of returns and cancellations dated in the period, as a positive number.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.net_revenue IS 'gross_revenue - returns_value.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.cost_amount IS
    'Cost of the goods on the period''s lines where the data carry costs (NULL otherwise).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.gross_margin IS
    'net_revenue - cost_amount (profit before other costs); NULL without cost data.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.orders IS 'Orders with at least one sale line.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.placed_orders IS
    'Orders that are not cancellations or returns (at least one non-return line).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.cancelled_orders IS
    'Cancellation / return documents (every line a return), e.g. Online Retail''s C invoices.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.active_customers IS 'Customers with a sale in the period (fiscal years: for the total only, NULL per breakdown).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.new_customers IS
    'Active customers whose first sale ever falls in the period.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.returning_customers IS
    'Active customers who had bought before the period.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.avg_order_value IS 'gross_revenue / orders.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.revenue_mom_growth IS
    'net_revenue vs the previous month, as a fraction (0.1 = +10%); NULL without that month.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.revenue_yoy_growth IS
    'net_revenue vs the same period a year earlier, as a fraction.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.orders_mom_growth IS 'orders vs the previous month.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.orders_yoy_growth IS 'orders vs a year earlier.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.lifecycle_new IS
    'Customers in lifecycle stage new at the period end (dimension all only; latest run''s rules).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.lifecycle_active IS 'Lifecycle stage active at the period end.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.lifecycle_reactivated IS
    'Lifecycle stage reactivated at the period end (came back after lapsing).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.lifecycle_at_risk IS 'Lifecycle stage at risk at the period end.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.monthly_kpis.lifecycle_lapsed IS 'Lifecycle stage lapsed at the period end.'$c$;
END
$do$;
