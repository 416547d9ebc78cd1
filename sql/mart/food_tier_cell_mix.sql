-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.food_tier_cell_mix: cuisine mix and average distinct shops per S/M/L x S/M/L cell of the latest published run.
CREATE OR REPLACE VIEW mart.food_tier_cell_mix AS
WITH latest AS (
    SELECT run_id, as_of_date FROM mart.as_of
),
cells AS (
    SELECT
        t.segment AS size_tier,
        count(*) AS customers,
        avg(f.distinct_shops)::double precision AS avg_distinct_shops,
        avg(f.frequency)::double precision AS avg_orders,
        avg(f.avg_order_value)::double precision AS avg_basket
    FROM latest AS l
    JOIN segmentation.customer_segments AS t ON t.run_id = l.run_id AND t.method = 'tiers'
    JOIN segmentation.customer_features AS f
        ON f.run_id = l.run_id AND f.customer_id = t.customer_id
    GROUP BY t.segment
),
mix AS (
    SELECT t.segment AS size_tier, c.category AS cuisine, sum(c.revenue) AS revenue,
           count(*) AS customers_buying
    FROM latest AS l
    JOIN segmentation.customer_segments AS t ON t.run_id = l.run_id AND t.method = 'tiers'
    JOIN segmentation.customer_category_revenue AS c
        ON c.run_id = l.run_id AND c.customer_id = t.customer_id
    GROUP BY t.segment, c.category
)
SELECT
    l.as_of_date,
    l.run_id,
    m.size_tier,
    c.customers,
    c.avg_distinct_shops,
    c.avg_orders,
    c.avg_basket,
    m.cuisine,
    round(m.revenue, 2) AS revenue,
    (m.revenue / nullif(sum(m.revenue) OVER (PARTITION BY m.size_tier), 0))::double precision
        AS revenue_share,
    m.customers_buying,
    (m.customers_buying::double precision / c.customers) AS customer_share
FROM mix AS m
JOIN cells AS c ON c.size_tier = m.size_tier
CROSS JOIN latest AS l;

COMMENT ON VIEW mart.food_tier_cell_mix IS
    'Per size-tier cell (orders tier - revenue tier, e.g. ''L-M'') of the latest published run: '
    'its customers, average distinct shops, and its cuisine mix (one row per cell and cuisine).';
COMMENT ON COLUMN mart.food_tier_cell_mix.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.food_tier_cell_mix.run_id IS 'Segmentation run (mart.runs).';
COMMENT ON COLUMN mart.food_tier_cell_mix.size_tier IS
    'Tier cell ''<orders tier>-<revenue tier>'' or ''inactive'' (no sale in the tier window).';
COMMENT ON COLUMN mart.food_tier_cell_mix.customers IS 'Customers in the cell.';
COMMENT ON COLUMN mart.food_tier_cell_mix.avg_distinct_shops IS
    'Mean distinct shops per customer of the cell (all history up to the as-of date).';
COMMENT ON COLUMN mart.food_tier_cell_mix.avg_orders IS 'Mean sale orders per customer.';
COMMENT ON COLUMN mart.food_tier_cell_mix.avg_basket IS 'Mean of the customers'' mean basket.';
COMMENT ON COLUMN mart.food_tier_cell_mix.cuisine IS 'Cuisine / top-level category.';
COMMENT ON COLUMN mart.food_tier_cell_mix.revenue IS
    'Gross sales of the cell''s customers in the cuisine up to the as-of date.';
COMMENT ON COLUMN mart.food_tier_cell_mix.revenue_share IS
    'revenue / the cell''s sales in all cuisines (the cell''s cuisine mix; sums to 1).';
COMMENT ON COLUMN mart.food_tier_cell_mix.customers_buying IS
    'Customers of the cell who ordered this cuisine.';
COMMENT ON COLUMN mart.food_tier_cell_mix.customer_share IS 'customers_buying / customers.';
