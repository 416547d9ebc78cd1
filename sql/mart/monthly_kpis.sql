-- mart.monthly_kpis: sales, orders and customers per calendar month and fiscal year, in total and
-- by channel, platform, market, region, country and product category (fixed SQL over the
-- warehouse facts; lifecycle counts from the latest published run's metrics).
CREATE OR REPLACE VIEW mart.monthly_kpis AS
WITH first_sale AS (
    SELECT customer_id, min(order_date) AS first_date
    FROM warehouse.fact_order
    WHERE customer_id IS NOT NULL AND n_sale_lines > 0
    GROUP BY customer_id
),
present AS (
    -- the breakdowns the data carry (each test stops at the first recorded value)
    SELECT d.dimension
    FROM (VALUES ('all'), ('channel'), ('platform'), ('market'), ('region'), ('country'))
        AS d (dimension)
    WHERE d.dimension = 'all'
       OR (d.dimension = 'channel'
           AND EXISTS (SELECT 1 FROM warehouse.fact_order WHERE channel IS NOT NULL))
       OR (d.dimension = 'platform'
           AND EXISTS (SELECT 1 FROM warehouse.fact_order WHERE platform IS NOT NULL))
       OR (d.dimension = 'market'
           AND EXISTS (SELECT 1 FROM warehouse.fact_order WHERE market IS NOT NULL))
       OR (d.dimension = 'region'
           AND EXISTS (SELECT 1 FROM warehouse.fact_order WHERE region IS NOT NULL))
       OR (d.dimension = 'country'
           AND EXISTS (SELECT 1 FROM warehouse.fact_order WHERE country IS NOT NULL))
),
order_rows AS (
    -- one row per order and breakdown
    SELECT
        o.customer_id, o.order_date, p.dimension,
        CASE p.dimension
            WHEN 'all' THEN 'all'
            WHEN 'channel' THEN coalesce(o.channel, 'unknown')
            WHEN 'platform' THEN coalesce(o.platform, 'unknown')
            WHEN 'market' THEN coalesce(o.market, 'unknown')
            WHEN 'region' THEN coalesce(o.region, 'unknown')
            ELSE coalesce(o.country, 'unknown')
        END AS dimension_value,
        o.sales_amount, o.return_amount, o.cost_amount, o.n_sale_lines > 0 AS has_sale,
        o.is_return
    FROM warehouse.fact_order AS o
    CROSS JOIN present AS p
    UNION ALL
    -- one row per order and product category (only when products carry categories)
    SELECT
        min(l.customer_id), min(l.order_date), 'category',
        coalesce(pr.category_l1, 'unknown'),
        coalesce(sum(l.amount) FILTER (
            WHERE l.quantity > 0 AND l.unit_price > 0 AND NOT l.is_return), 0),
        coalesce(-sum(l.amount) FILTER (WHERE l.is_return), 0),
        sum(l.cost_amount),
        bool_or(l.quantity > 0 AND l.unit_price > 0 AND NOT l.is_return),
        bool_and(l.is_return)
    FROM warehouse.fact_order_line AS l
    LEFT JOIN warehouse.dim_product AS pr ON pr.product_id = l.product_id
    WHERE EXISTS (SELECT 1 FROM warehouse.dim_product WHERE category_l1 IS NOT NULL)
    GROUP BY l.order_id, coalesce(pr.category_l1, 'unknown')
),
customer_months AS (
    -- per customer (NULL: orders without one), month and breakdown value: plain hash
    -- aggregates, so the customer counts below need no COUNT(DISTINCT)
    SELECT
        c.month_start, c.fiscal_year_start, c.fiscal_year_label, r.dimension, r.dimension_value,
        r.customer_id,
        sum(r.sales_amount) AS gross_revenue,
        sum(r.return_amount) AS returns_value,
        sum(r.cost_amount) AS cost_amount,
        count(*) FILTER (WHERE r.has_sale) AS orders,
        count(*) FILTER (WHERE NOT r.is_return) AS placed_orders,
        count(*) FILTER (WHERE r.is_return) AS cancelled_orders
    FROM order_rows AS r
    JOIN mart.calendar AS c ON c.date = r.order_date
    GROUP BY 1, 2, 3, 4, 5, 6
),
customer_periods AS (
    SELECT
        'month' AS grain, month_start AS period_start,
        (month_start + interval '1 month')::date AS period_next,
        to_char(month_start, 'YYYY-MM') AS period_label,
        dimension, dimension_value, customer_id, gross_revenue, returns_value, cost_amount,
        orders, placed_orders, cancelled_orders
    FROM customer_months
    UNION ALL
    SELECT
        'fiscal_year', fiscal_year_start, (fiscal_year_start + interval '1 year')::date,
        fiscal_year_label, dimension, dimension_value, customer_id, sum(gross_revenue),
        sum(returns_value), sum(cost_amount), sum(orders), sum(placed_orders),
        sum(cancelled_orders)
    FROM customer_months
    GROUP BY fiscal_year_start, fiscal_year_label, dimension, dimension_value, customer_id
),
kept AS (
    SELECT
        p.grain, p.period_start, p.period_next, p.period_label, p.dimension, p.dimension_value,
        sum(p.gross_revenue) AS gross_revenue,
        sum(p.returns_value) AS returns_value,
        sum(p.gross_revenue) - sum(p.returns_value) AS net_revenue,
        sum(p.cost_amount) AS cost_amount,
        sum(p.orders) AS orders,
        sum(p.placed_orders) AS placed_orders,
        sum(p.cancelled_orders) AS cancelled_orders,
        count(*) FILTER (WHERE p.customer_id IS NOT NULL AND p.orders > 0) AS active_customers,
        count(*) FILTER (
            WHERE p.customer_id IS NOT NULL AND p.orders > 0
              AND f.first_date >= p.period_start AND f.first_date < p.period_next
        ) AS new_customers
    FROM customer_periods AS p
    LEFT JOIN first_sale AS f ON f.customer_id = p.customer_id
    GROUP BY 1, 2, 3, 4, 5, 6
),
stages AS (
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
    k.period_label,
    k.dimension,
    k.dimension_value,
    (k.period_next - 1) <= lo.last_date AS is_complete,
    k.gross_revenue,
    k.returns_value,
    k.net_revenue,
    k.cost_amount,
    k.net_revenue - k.cost_amount AS gross_margin,
    k.orders,
    k.placed_orders,
    k.cancelled_orders,
    k.active_customers,
    k.new_customers,
    k.active_customers - k.new_customers AS returning_customers,
    k.gross_revenue / nullif(k.orders, 0) AS avg_order_value,
    (k.net_revenue / nullif(sum(k.net_revenue) OVER prev_month, 0) - 1)::double precision
        AS revenue_mom_growth,
    (k.net_revenue / nullif(sum(k.net_revenue) OVER prev_year, 0) - 1)::double precision
        AS revenue_yoy_growth,
    (k.orders::numeric / nullif(sum(k.orders) OVER prev_month, 0) - 1)::double precision
        AS orders_mom_growth,
    (k.orders::numeric / nullif(sum(k.orders) OVER prev_year, 0) - 1)::double precision
        AS orders_yoy_growth,
    s.new AS lifecycle_new,
    s.active AS lifecycle_active,
    s.reactivated AS lifecycle_reactivated,
    s.at_risk AS lifecycle_at_risk,
    s.lapsed AS lifecycle_lapsed
FROM kept AS k
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
    );

COMMENT ON VIEW mart.monthly_kpis IS
    'Sales, orders and customers per period (grain: month or fiscal_year) and breakdown '
    '(dimension: all, channel, platform, market, region, country, category; a breakdown appears '
    'only when the data carry it). Always filter on grain and dimension: rows of different '
    'grains or dimensions overlap and must not be added up.';
COMMENT ON COLUMN mart.monthly_kpis.grain IS 'month or fiscal_year.';
COMMENT ON COLUMN mart.monthly_kpis.period_start IS
    'First day of the month or fiscal year (join to mart.calendar.date).';
COMMENT ON COLUMN mart.monthly_kpis.period_end IS 'Last day of the period.';
COMMENT ON COLUMN mart.monthly_kpis.period_label IS 'YYYY-MM or FYyyyy (year the FY ends in).';
COMMENT ON COLUMN mart.monthly_kpis.dimension IS
    'Breakdown: all (totals), channel, platform, market, region, country or category.';
COMMENT ON COLUMN mart.monthly_kpis.dimension_value IS
    'Value of the breakdown (''all'' for totals; ''unknown'' when not recorded).';
COMMENT ON COLUMN mart.monthly_kpis.is_complete IS
    'False for the period holding the last order date (still filling up).';
COMMENT ON COLUMN mart.monthly_kpis.gross_revenue IS
    'Sales: value of sale lines (quantity > 0, price > 0, not a return), with or without a customer.';
COMMENT ON COLUMN mart.monthly_kpis.returns_value IS
    'Value of returns and cancellations dated in the period, as a positive number.';
COMMENT ON COLUMN mart.monthly_kpis.net_revenue IS 'gross_revenue - returns_value.';
COMMENT ON COLUMN mart.monthly_kpis.cost_amount IS
    'Cost of the goods on the period''s lines where the data carry costs (NULL otherwise).';
COMMENT ON COLUMN mart.monthly_kpis.gross_margin IS
    'net_revenue - cost_amount (profit before other costs); NULL without cost data.';
COMMENT ON COLUMN mart.monthly_kpis.orders IS 'Orders with at least one sale line.';
COMMENT ON COLUMN mart.monthly_kpis.placed_orders IS
    'Orders that are not cancellations or returns (at least one non-return line).';
COMMENT ON COLUMN mart.monthly_kpis.cancelled_orders IS
    'Cancellation / return documents (every line a return), e.g. Online Retail''s C invoices.';
COMMENT ON COLUMN mart.monthly_kpis.active_customers IS 'Customers with a sale in the period.';
COMMENT ON COLUMN mart.monthly_kpis.new_customers IS
    'Active customers whose first sale ever falls in the period.';
COMMENT ON COLUMN mart.monthly_kpis.returning_customers IS
    'Active customers who had bought before the period.';
COMMENT ON COLUMN mart.monthly_kpis.avg_order_value IS 'gross_revenue / orders.';
COMMENT ON COLUMN mart.monthly_kpis.revenue_mom_growth IS
    'net_revenue vs the previous month, as a fraction (0.1 = +10%); NULL without that month.';
COMMENT ON COLUMN mart.monthly_kpis.revenue_yoy_growth IS
    'net_revenue vs the same period a year earlier, as a fraction.';
COMMENT ON COLUMN mart.monthly_kpis.orders_mom_growth IS 'orders vs the previous month.';
COMMENT ON COLUMN mart.monthly_kpis.orders_yoy_growth IS 'orders vs a year earlier.';
COMMENT ON COLUMN mart.monthly_kpis.lifecycle_new IS
    'Customers in lifecycle stage new at the period end (dimension all only; latest run''s rules).';
COMMENT ON COLUMN mart.monthly_kpis.lifecycle_active IS 'Lifecycle stage active at the period end.';
COMMENT ON COLUMN mart.monthly_kpis.lifecycle_reactivated IS
    'Lifecycle stage reactivated at the period end (came back after lapsing).';
COMMENT ON COLUMN mart.monthly_kpis.lifecycle_at_risk IS 'Lifecycle stage at risk at the period end.';
COMMENT ON COLUMN mart.monthly_kpis.lifecycle_lapsed IS 'Lifecycle stage lapsed at the period end.';
