-- template parts customer_products: filled by etl.segment.customer_state.category_totals
-- Sale lines per customer and top-level category, with the number of distinct products bought
-- in it: <customer_products> (customer_category_products.sql, one row per customer, category
-- and product, over the orders and dates the caller chose) added up per customer and
-- category. Lines are joined to their category first and grouped by (customer, category,
-- product): both levels are then aggregates over one sort order (every product has one
-- category, so the products add up to the customer's distinct products), no COUNT(DISTINCT).
-- The caller turns hash aggregation off for a whole-warehouse pass (the planner cannot know
-- there are ~10M groups). Keys are compared in the "C" collation; the category goes back to
-- the default one, which the top-category tie rule uses.
WITH customer_products AS (
    {customer_products}
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
GROUP BY customer_id, category
