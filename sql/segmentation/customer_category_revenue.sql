-- template parts category_totals, run_id: filled by etl.segment.features.insert_features
-- Gross sales per customer and top-level category (long), from <category_totals>: already one
-- row per customer and category, and only customers with a sale have one (so exactly the run's
-- customers in customer_features).
INSERT INTO segmentation.customer_category_revenue
    (run_id, customer_id, category, revenue, products, quantity)
SELECT {run_id}, c.customer_id, c.category, c.revenue, c.products, c.quantity
FROM {category_totals} AS c;
