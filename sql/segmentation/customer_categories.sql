-- parameters as_of: bound by psycopg in etl.segment.pipeline.build_features
-- The one pass over order lines that the product and category features share: sales per
-- customer and top-level category as of the run's date, with the number of distinct products
-- bought in it. Lines are joined to their category first and sorted once by (customer,
-- category, product): both levels are then streaming group aggregates over that order (every
-- product has one category, so the products add up to the customer's distinct products), no
-- COUNT(DISTINCT), no second sort or spilling hash table. The caller turns hash aggregation off
-- for this statement (the planner cannot know there are ~10M groups). Keys are sorted in the
-- "C" collation: the same groups (equality does not depend on the collation) but byte-wise
-- comparisons instead of strcoll; the category goes back to the default collation, which the
-- top-category tie rule uses. A temporary table (dropped at commit), ANALYZEd by the caller.
-- Params: as_of (date).
CREATE TEMPORARY TABLE segwise_customer_categories ON COMMIT DROP AS
WITH customer_products AS (
    SELECT
        l.customer_id COLLATE "C" AS customer_id,
        coalesce(p.category_l1, 'unknown') COLLATE "C" AS category,
        l.product_id COLLATE "C" AS product_id,
        sum(l.amount) AS revenue,
        sum(l.quantity) AS quantity,
        sum(l.cost_amount) AS cost_amount,
        sum(l.amount) FILTER (WHERE l.cost_amount IS NOT NULL) AS costed_revenue
    FROM warehouse.fact_order_line AS l
    LEFT JOIN warehouse.dim_product AS p ON p.product_id = l.product_id
    WHERE l.customer_id IS NOT NULL
      AND l.order_date <= %(as_of)s
      AND l.is_sale
    GROUP BY 1, 2, 3
)
SELECT
    customer_id,
    category COLLATE "default" AS category,
    sum(revenue) AS revenue,
    count(*) AS products,
    sum(quantity) AS quantity,
    sum(cost_amount) AS cost_amount,
    sum(costed_revenue) AS costed_revenue
FROM customer_products
GROUP BY customer_id, category;
