-- mart.food_customer_wide: a template filled by etl.usecases.food.refresh_wide_view ({columns}: one revenue column per cuisine, quoted identifiers and literals).
DROP VIEW IF EXISTS mart.food_customer_wide;
CREATE VIEW mart.food_customer_wide AS
WITH latest AS (
    SELECT run_id, as_of_date
    FROM segmentation.runs
    WHERE status = 'published'
    ORDER BY as_of_date DESC, run_id DESC
    LIMIT 1
)
SELECT
    l.as_of_date,
    l.run_id,
    f.customer_id,
    f.frequency AS orders,
    f.monetary AS revenue,
    f.avg_order_value AS basket_revenue,
    f.distinct_shops{columns}
FROM latest AS l
JOIN segmentation.customer_features AS f ON f.run_id = l.run_id
LEFT JOIN segmentation.customer_category_revenue AS c
    ON c.run_id = l.run_id AND c.customer_id = f.customer_id
GROUP BY l.as_of_date, l.run_id, f.customer_id, f.frequency, f.monetary, f.avg_order_value,
    f.distinct_shops;
