-- parameters run_id: bound by psycopg in etl.segment.pipeline.build_features
-- Gross sales per customer and top-level category (long), from segwise_customer_categories
-- (customer_categories.sql): already one row per customer and category.
-- Params: run_id.
INSERT INTO segmentation.customer_category_revenue
    (run_id, customer_id, category, revenue, products, quantity)
SELECT %(run_id)s, customer_id, category, revenue, products, quantity
FROM segwise_customer_categories;
