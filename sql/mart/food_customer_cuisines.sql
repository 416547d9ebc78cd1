-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.food_customer_cuisines: one row per customer and category (cuisine) of the latest published run, with the customer's totals.
CREATE OR REPLACE VIEW mart.food_customer_cuisines AS
WITH latest AS (
    SELECT run_id, as_of_date FROM mart.as_of
)
SELECT
    l.as_of_date,
    l.run_id,
    f.customer_id,
    c.category AS cuisine,
    round(c.revenue, 2) AS cuisine_revenue,
    c.quantity AS cuisine_items,
    f.frequency AS orders,
    round(f.monetary, 2) AS revenue,
    round(f.avg_order_value, 2) AS basket_revenue,
    f.distinct_shops,
    t.segment AS size_tier
FROM latest AS l
JOIN segmentation.customer_features AS f ON f.run_id = l.run_id
JOIN segmentation.customer_category_revenue AS c
    ON c.run_id = l.run_id AND c.customer_id = f.customer_id
-- the latest run's tiers found by the run's key first (see mart/customer_segments.sql)
LEFT JOIN (
    SELECT s.customer_id, s.segment
    FROM latest AS r
    JOIN segmentation.customer_segments AS s ON s.run_id = r.run_id AND s.method = 'tiers'
) AS t ON t.customer_id = f.customer_id;

COMMENT ON VIEW mart.food_customer_cuisines IS
    'Customer x cuisine (top-level category) crosstab of the latest published run, long form: '
    'pivot cuisine into columns in the BI tool, or read mart.food_customer_wide (one column per '
    'cuisine, regenerated at every publish).';
COMMENT ON COLUMN mart.food_customer_cuisines.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.food_customer_cuisines.run_id IS 'Segmentation run (mart.runs).';
COMMENT ON COLUMN mart.food_customer_cuisines.customer_id IS 'Customer key.';
COMMENT ON COLUMN mart.food_customer_cuisines.cuisine IS
    'Cuisine / top-level category (category_l1; ''unknown'' when missing).';
COMMENT ON COLUMN mart.food_customer_cuisines.cuisine_revenue IS
    'Gross sales of the customer in this cuisine up to the as-of date.';
COMMENT ON COLUMN mart.food_customer_cuisines.cuisine_items IS
    'Items (for one-line food orders: orders) in this cuisine.';
COMMENT ON COLUMN mart.food_customer_cuisines.orders IS 'The customer''s sale orders (all cuisines).';
COMMENT ON COLUMN mart.food_customer_cuisines.revenue IS 'The customer''s net revenue (all cuisines).';
COMMENT ON COLUMN mart.food_customer_cuisines.basket_revenue IS
    'Mean basket: the customer''s gross sales / orders.';
COMMENT ON COLUMN mart.food_customer_cuisines.distinct_shops IS 'Distinct shops ordered from.';
COMMENT ON COLUMN mart.food_customer_cuisines.size_tier IS
    'S/M/L orders tier - revenue tier (tiers method), NULL when tiers were not run.';
