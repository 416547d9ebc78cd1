-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.food_monthly_tiers: S/M/L tiers per calendar month with the tier settings of the latest published run.
CREATE OR REPLACE VIEW mart.food_monthly_tiers AS
WITH latest AS (
    SELECT run_id, a.as_of_date, params -> 'tiers' AS tiers
    FROM mart.as_of AS a
    JOIN segmentation.runs AS r USING (run_id)
),
monthly AS (
    SELECT
        o.customer_id,
        date_trunc('month', o.order_date)::date AS month,
        count(*) FILTER (WHERE o.n_sale_lines > 0) AS orders,
        sum(o.sales_amount - o.return_amount) AS revenue
    FROM latest AS l
    JOIN warehouse.fact_order AS o
        ON o.customer_id IS NOT NULL AND o.order_date <= l.as_of_date
    GROUP BY 1, 2
    HAVING count(*) FILTER (WHERE o.n_sale_lines > 0) > 0
),
placed AS (
    -- the midpoint share of each value's tie block within the month (the quantile tie rule of
    -- docs/segmentation.md): (customers strictly lower + half the block) / customers
    SELECT
        m.*,
        (rank() OVER (PARTITION BY m.month ORDER BY m.orders) - 1
            + count(*) OVER (PARTITION BY m.month, m.orders) / 2.0)
            / count(*) OVER (PARTITION BY m.month) AS orders_pos,
        (rank() OVER (PARTITION BY m.month ORDER BY m.revenue) - 1
            + count(*) OVER (PARTITION BY m.month, m.revenue) / 2.0)
            / count(*) OVER (PARTITION BY m.month) AS revenue_pos
    FROM monthly AS m
),
tiered AS (
    SELECT
        p.*,
        CASE WHEN t.om = 'quantile'
             THEN CASE WHEN p.orders_pos < t.o1 THEN 'S' WHEN p.orders_pos < t.o2 THEN 'M'
                       ELSE 'L' END
             ELSE CASE WHEN p.orders < t.o1 THEN 'S' WHEN p.orders < t.o2 THEN 'M' ELSE 'L' END
        END AS orders_tier,
        CASE WHEN t.rm = 'quantile'
             THEN CASE WHEN p.revenue_pos < t.r1 THEN 'S' WHEN p.revenue_pos < t.r2 THEN 'M'
                       ELSE 'L' END
             ELSE CASE WHEN p.revenue < t.r1 THEN 'S' WHEN p.revenue < t.r2 THEN 'M'
                       ELSE 'L' END
        END AS revenue_tier
    FROM placed AS p
    CROSS JOIN LATERAL (
        SELECT
            l.tiers #>> '{orders,method}' AS om,
            l.tiers #>> '{revenue,method}' AS rm,
            (l.tiers -> 'orders' -> (CASE WHEN l.tiers #>> '{orders,method}' = 'quantile'
                                          THEN 'cuts' ELSE 'thresholds' END) ->> 0)::numeric AS o1,
            (l.tiers -> 'orders' -> (CASE WHEN l.tiers #>> '{orders,method}' = 'quantile'
                                          THEN 'cuts' ELSE 'thresholds' END) ->> 1)::numeric AS o2,
            (l.tiers -> 'revenue' -> (CASE WHEN l.tiers #>> '{revenue,method}' = 'quantile'
                                           THEN 'cuts' ELSE 'thresholds' END) ->> 0)::numeric AS r1,
            (l.tiers -> 'revenue' -> (CASE WHEN l.tiers #>> '{revenue,method}' = 'quantile'
                                           THEN 'cuts' ELSE 'thresholds' END) ->> 1)::numeric AS r2
        FROM latest AS l
    ) AS t
)
SELECT
    l.as_of_date,
    l.run_id,
    t.month,
    t.customer_id,
    t.orders,
    round(t.revenue, 2) AS revenue,
    t.orders_tier,
    t.revenue_tier,
    t.orders_tier || '-' || t.revenue_tier AS size_tier
FROM tiered AS t
CROSS JOIN latest AS l;

COMMENT ON VIEW mart.food_monthly_tiers IS
    'Size tiers per calendar month ("orders and revenue in January"): one row per customer and '
    'month with a sale, tiered with the tier settings (fixed thresholds or quantile cuts within '
    'the month) of the latest published run, up to its as-of date.';
COMMENT ON COLUMN mart.food_monthly_tiers.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.food_monthly_tiers.run_id IS 'Segmentation run whose tier settings apply.';
COMMENT ON COLUMN mart.food_monthly_tiers.month IS 'First day of the calendar month.';
COMMENT ON COLUMN mart.food_monthly_tiers.customer_id IS 'Customer key.';
COMMENT ON COLUMN mart.food_monthly_tiers.orders IS 'Sale orders in the month.';
COMMENT ON COLUMN mart.food_monthly_tiers.revenue IS 'Net revenue (sales - returns) in the month.';
COMMENT ON COLUMN mart.food_monthly_tiers.orders_tier IS 'S/M/L on orders in the month.';
COMMENT ON COLUMN mart.food_monthly_tiers.revenue_tier IS 'S/M/L on revenue in the month.';
COMMENT ON COLUMN mart.food_monthly_tiers.size_tier IS 'orders tier - revenue tier, e.g. ''L-M''.';
