-- Gross sales per customer and top-level category (long), from segwise_customer_products.
-- Params: run_id.
INSERT INTO segmentation.customer_category_revenue
    (run_id, customer_id, category, revenue, products, quantity)
SELECT
    %(run_id)s,
    cp.customer_id,
    coalesce(p.category_l1, 'unknown') AS category,
    sum(cp.revenue),
    count(*),
    sum(cp.quantity)
FROM segwise_customer_products AS cp
LEFT JOIN warehouse.dim_product AS p ON p.product_id = cp.product_id
GROUP BY cp.customer_id, coalesce(p.category_l1, 'unknown');
