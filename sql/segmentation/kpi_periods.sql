-- parameters grain, nexts, starts: bound by psycopg in etl.segment.time_marts._periods
-- Sales, orders and customers of the given periods, in total and per breakdown the data carry
-- (channel, platform, market, region, country; product category from the lines).
-- Params: grain ('month'), starts (date[]), nexts (date[], each period's end, exclusive).
-- Run by etl.segment.time_marts.rebuild on empty tables (later batches: kpi_periods_delta.sql).
-- Text keys are grouped and counted in the "C" collation: the same groups, a byte-wise sort.
-- A category row's customer is its order's.
INSERT INTO segmentation.kpi_periods (
    grain, period_start, period_next, dimension, dimension_value, gross_revenue, returns_value,
    cost_amount, cost_rows, orders, placed_orders, cancelled_orders, active_customers,
    new_customers
)
WITH periods AS (
    SELECT s AS period_start, n AS period_next
    FROM unnest(%(starts)s::date[], %(nexts)s::date[]) AS p (s, n)
),
bounds AS (
    SELECT min(period_start) AS lo, max(period_next) AS hi FROM periods
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
orders AS (
    SELECT o.*, p.period_start, p.period_next
    FROM warehouse.fact_order AS o
    JOIN periods AS p ON o.order_date >= p.period_start AND o.order_date < p.period_next
    WHERE o.order_date >= (SELECT lo FROM bounds) AND o.order_date < (SELECT hi FROM bounds)
),
order_rows AS (
    -- one row per order and breakdown
    SELECT
        o.period_start, o.period_next, o.customer_id COLLATE "C" AS customer_id, p.dimension,
        CASE p.dimension
            WHEN 'all' THEN 'all'
            WHEN 'channel' THEN coalesce(o.channel, 'unknown')
            WHEN 'platform' THEN coalesce(o.platform, 'unknown')
            WHEN 'market' THEN coalesce(o.market, 'unknown')
            WHEN 'region' THEN coalesce(o.region, 'unknown')
            ELSE coalesce(o.country, 'unknown')
        END COLLATE "C" AS dimension_value,
        o.sales_amount, o.return_amount, o.cost_amount, o.n_sale_lines > 0 AS has_sale,
        o.is_return
    FROM orders AS o
    CROSS JOIN present AS p
    UNION ALL
    -- one row per order and product category (only when products carry categories)
    SELECT
        p.period_start, p.period_next, min(o.customer_id COLLATE "C"), 'category',
        coalesce(pr.category_l1, 'unknown') COLLATE "C",
        coalesce(sum(l.amount) FILTER (WHERE l.is_sale), 0),
        coalesce(-sum(l.amount) FILTER (WHERE l.is_return), 0),
        sum(l.cost_amount),
        coalesce(bool_or(l.is_sale), false),
        bool_and(l.is_return)
    FROM warehouse.fact_order_line AS l
    JOIN warehouse.fact_order AS o ON o.order_id = l.order_id
    JOIN periods AS p ON o.order_date >= p.period_start AND o.order_date < p.period_next
    LEFT JOIN warehouse.dim_product AS pr ON pr.product_id = l.product_id
    WHERE EXISTS (SELECT 1 FROM warehouse.dim_product WHERE category_l1 IS NOT NULL)
      AND o.order_date >= (SELECT lo FROM bounds) AND o.order_date < (SELECT hi FROM bounds)
    GROUP BY p.period_start, p.period_next, l.order_id COLLATE "C",
        coalesce(pr.category_l1, 'unknown') COLLATE "C"
)
SELECT
    %(grain)s, r.period_start, r.period_next, r.dimension, r.dimension_value,
    sum(r.sales_amount),
    sum(r.return_amount),
    sum(r.cost_amount),
    count(r.cost_amount),
    count(*) FILTER (WHERE r.has_sale),
    count(*) FILTER (WHERE NOT r.is_return),
    count(*) FILTER (WHERE r.is_return),
    count(DISTINCT r.customer_id) FILTER (WHERE r.has_sale),
    count(DISTINCT r.customer_id) FILTER (
        WHERE r.has_sale AND f.first_date >= r.period_start AND f.first_date < r.period_next
    )
FROM order_rows AS r
LEFT JOIN segmentation.customer_first_sale AS f ON f.customer_id = r.customer_id
GROUP BY r.period_start, r.period_next, r.dimension, r.dimension_value;
