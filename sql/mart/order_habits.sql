-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.order_habits: days between orders (median and mean) and items per order, overall and per
-- segment of the latest published run (fixed SQL over warehouse.fact_order).
CREATE OR REPLACE VIEW mart.order_habits AS
WITH latest AS (
    SELECT run_id, as_of_date FROM mart.as_of  -- the one latest-run rule
),
sale_orders AS (
    SELECT
        o.customer_id,
        o.quantity,
        o.n_sale_lines,
        o.order_date - lag(o.order_date) OVER (
            PARTITION BY o.customer_id ORDER BY o.order_ts, o.order_id
        ) AS days_since_previous
    FROM warehouse.fact_order AS o
    WHERE o.n_sale_lines > 0 AND o.customer_id IS NOT NULL
      AND o.order_date <= coalesce((SELECT as_of_date FROM latest), 'infinity'::date)
),
labelled AS (
    SELECT 'all' AS method, 'all' AS segment, o.* FROM sale_orders AS o
    UNION ALL
    SELECT s.method, s.segment, o.*
    FROM sale_orders AS o
    JOIN segmentation.customer_segments AS s
        ON s.run_id = (SELECT run_id FROM latest) AND s.customer_id = o.customer_id
)
SELECT
    method,
    segment,
    count(DISTINCT customer_id) AS customers,
    count(*) AS orders,
    count(days_since_previous) AS repeat_orders,
    count(days_since_previous)::double precision / count(*) AS repeat_order_share,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY days_since_previous) AS median_days_between_orders,
    avg(days_since_previous)::double precision AS mean_days_between_orders,
    percentile_cont(0.25) WITHIN GROUP (ORDER BY days_since_previous) AS p25_days_between_orders,
    percentile_cont(0.75) WITHIN GROUP (ORDER BY days_since_previous) AS p75_days_between_orders,
    avg(quantity)::double precision AS mean_items_per_order,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY quantity) AS median_items_per_order,
    avg(n_sale_lines)::double precision AS mean_lines_per_order
FROM labelled
GROUP BY method, segment;

COMMENT ON VIEW mart.order_habits IS
    'Buying rhythm and basket size of customers'' sale orders up to the latest published as-of '
    'date: method = segment = ''all'' for all customers, otherwise per segment of the latest run.';
COMMENT ON COLUMN mart.order_habits.method IS 'Segmentation method, or all.';
COMMENT ON COLUMN mart.order_habits.segment IS 'Segment of that method, or all.';
COMMENT ON COLUMN mart.order_habits.customers IS 'Customers with a sale.';
COMMENT ON COLUMN mart.order_habits.orders IS 'Orders with a sale.';
COMMENT ON COLUMN mart.order_habits.repeat_orders IS 'Orders after the customer''s first.';
COMMENT ON COLUMN mart.order_habits.repeat_order_share IS 'repeat_orders / orders.';
COMMENT ON COLUMN mart.order_habits.median_days_between_orders IS
    'Median days from a customer''s previous sale order to the next (0 = same day).';
COMMENT ON COLUMN mart.order_habits.mean_days_between_orders IS 'Mean of the same gaps.';
COMMENT ON COLUMN mart.order_habits.p25_days_between_orders IS '25th percentile of the gaps.';
COMMENT ON COLUMN mart.order_habits.p75_days_between_orders IS '75th percentile of the gaps.';
COMMENT ON COLUMN mart.order_habits.mean_items_per_order IS
    'Mean units per order (sum of line quantities).';
COMMENT ON COLUMN mart.order_habits.median_items_per_order IS 'Median units per order.';
COMMENT ON COLUMN mart.order_habits.mean_lines_per_order IS 'Mean sale lines per order.';
