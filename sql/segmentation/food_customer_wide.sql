-- template parts columns: filled by etl.usecases.food.refresh_wide_view
-- mart.food_customer_wide: one revenue column per cuisine ({columns}: quoted identifiers and literals), re-created at every publish.
DROP VIEW IF EXISTS mart.food_customer_wide;
CREATE VIEW mart.food_customer_wide AS
WITH latest AS (
    SELECT run_id, as_of_date FROM mart.as_of
)
SELECT
    l.as_of_date,
    l.run_id,
    f.customer_id,
    f.frequency AS orders,
    round(f.monetary, 2) AS revenue,
    round(f.avg_order_value, 2) AS basket_revenue,
    f.distinct_shops{columns}
FROM latest AS l
JOIN segmentation.customer_features AS f ON f.run_id = l.run_id
LEFT JOIN segmentation.customer_category_revenue AS c
    ON c.run_id = l.run_id AND c.customer_id = f.customer_id
GROUP BY l.as_of_date, l.run_id, f.customer_id, f.frequency, f.monetary, f.avg_order_value,
    f.distinct_shops;
