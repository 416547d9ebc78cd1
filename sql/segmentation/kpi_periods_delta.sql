-- parameters dimensions: bound by psycopg in etl.segment.time_marts.refresh
-- Add to the month rows of segmentation.kpi_periods what the order versions in
-- pg_temp.segwise_kpi_orders (and their lines, segwise_kpi_lines) change: sums and order counts
-- by sign (the new versions added, the old ones subtracted), and distinct customers per cell as
-- each pair's customers now (sign >= 0) minus before (sign <= 0) (new customers: whose first
-- sale, now / before, segwise_firsts, falls in the month). Same rows and rules as kpi_periods.sql. A row's cost
-- is NULL when none of its order rows has one (cost_rows = 0; the caller clears new rows'), and
-- rows left without orders are deleted by the caller. Params: dimensions (text[]: the breakdowns the
-- month rows carry). Run by etl.segment.time_marts.refresh.
INSERT INTO segmentation.kpi_periods AS k (
    grain, period_start, period_next, dimension, dimension_value, gross_revenue, returns_value,
    cost_amount, cost_rows, orders, placed_orders, cancelled_orders, active_customers,
    new_customers
)
WITH order_rows AS (
    SELECT
        o.sign, o.customer_id COLLATE "C" AS customer_id,
        date_trunc('month', o.order_date)::date AS month, d.dimension,
        CASE d.dimension
            WHEN 'all' THEN 'all'
            WHEN 'channel' THEN coalesce(o.channel, 'unknown')
            WHEN 'platform' THEN coalesce(o.platform, 'unknown')
            WHEN 'market' THEN coalesce(o.market, 'unknown')
            WHEN 'region' THEN coalesce(o.region, 'unknown')
            ELSE coalesce(o.country, 'unknown')
        END COLLATE "C" AS dimension_value,
        o.sales_amount, o.return_amount, o.cost_amount, o.n_sale_lines > 0 AS has_sale,
        o.is_return
    FROM segwise_kpi_orders AS o
    CROSS JOIN unnest(%(dimensions)s::text[]) AS d (dimension)
    WHERE d.dimension <> 'category'
    UNION ALL
    SELECT
        min(o.sign), min(o.customer_id COLLATE "C"),
        min(date_trunc('month', o.order_date)::date), 'category',
        coalesce(pr.category_l1, 'unknown') COLLATE "C",
        coalesce(sum(l.amount) FILTER (WHERE l.is_sale), 0),
        coalesce(-sum(l.amount) FILTER (WHERE l.is_return), 0),
        sum(l.cost_amount),
        coalesce(bool_or(l.is_sale), false),
        bool_and(l.is_return)
    FROM segwise_kpi_lines AS l
    JOIN segwise_kpi_orders AS o ON o.row_id = l.row_id
    LEFT JOIN warehouse.dim_product AS pr ON pr.product_id = l.product_id
    WHERE 'category' = ANY (%(dimensions)s::text[])
    GROUP BY l.row_id, coalesce(pr.category_l1, 'unknown') COLLATE "C"
),
sums AS (
    SELECT
        month, dimension, dimension_value,
        sum(sign * sales_amount) AS gross_revenue,
        sum(sign * return_amount) AS returns_value,
        sum(sign * cost_amount) AS cost_amount,
        coalesce(sum(sign) FILTER (WHERE cost_amount IS NOT NULL), 0) AS cost_rows,
        coalesce(sum(sign) FILTER (WHERE has_sale), 0) AS orders,
        coalesce(sum(sign) FILTER (WHERE NOT is_return), 0) AS placed_orders,
        coalesce(sum(sign) FILTER (WHERE is_return), 0) AS cancelled_orders
    FROM order_rows
    WHERE sign <> 0
    GROUP BY month, dimension, dimension_value
),
customers AS (
    SELECT
        c.month, c.dimension, c.dimension_value,
        sum(c.now::int - c.before::int) AS active_customers,
        sum((c.now AND date_trunc('month', f.new_first) = c.month)::int
            - (c.before AND date_trunc('month', f.old_first) = c.month)::int) AS new_customers
    FROM (
        SELECT
            customer_id, month, dimension, dimension_value,
            bool_or(sign >= 0) AS now, bool_or(sign <= 0) AS before
        FROM order_rows
        WHERE has_sale AND customer_id IS NOT NULL
        GROUP BY customer_id, month, dimension, dimension_value
    ) AS c
    JOIN segwise_firsts AS f ON f.customer_id = c.customer_id
    WHERE c.now <> c.before OR f.new_first IS DISTINCT FROM f.old_first
    GROUP BY c.month, c.dimension, c.dimension_value
)
SELECT
    'month', coalesce(s.month, c.month),
    (coalesce(s.month, c.month) + interval '1 month')::date,
    coalesce(s.dimension, c.dimension), coalesce(s.dimension_value, c.dimension_value),
    coalesce(s.gross_revenue, 0), coalesce(s.returns_value, 0), s.cost_amount,
    coalesce(s.cost_rows, 0), coalesce(s.orders, 0), coalesce(s.placed_orders, 0),
    coalesce(s.cancelled_orders, 0), coalesce(c.active_customers, 0),
    coalesce(c.new_customers, 0)
FROM sums AS s
FULL JOIN customers AS c
    ON c.month = s.month AND c.dimension = s.dimension AND c.dimension_value = s.dimension_value
ON CONFLICT (grain, period_start, dimension, dimension_value) DO UPDATE SET
    gross_revenue = k.gross_revenue + EXCLUDED.gross_revenue,
    returns_value = k.returns_value + EXCLUDED.returns_value,
    cost_amount = CASE WHEN k.cost_rows + EXCLUDED.cost_rows <> 0
        THEN coalesce(k.cost_amount, 0) + coalesce(EXCLUDED.cost_amount, 0) END,
    cost_rows = k.cost_rows + EXCLUDED.cost_rows,
    orders = k.orders + EXCLUDED.orders,
    placed_orders = k.placed_orders + EXCLUDED.placed_orders,
    cancelled_orders = k.cancelled_orders + EXCLUDED.cancelled_orders,
    active_customers = k.active_customers + EXCLUDED.active_customers,
    new_customers = k.new_customers + EXCLUDED.new_customers;
