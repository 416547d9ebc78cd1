-- template parts as_of, lines, orders: filled by etl.segment.customer_state.category_totals
-- Sale lines per customer and top-level category over the lines of <orders> (see
-- customer_order_totals.sql; <lines> is warehouse.fact_order_line, or the build's copy of just
-- those orders' lines) dated up to <as_of> ('infinity' for the kept totals), with the
-- number of distinct products bought in it. A line counts for its order's customer (the
-- fact_order customer, the one its amount counts for in the order totals). Lines are joined to
-- their category first and grouped by (customer, category, product): both levels are then
-- aggregates over one sort order (every product has one category, so the products add up to
-- the customer's distinct products), no COUNT(DISTINCT). The caller turns hash aggregation off
-- for a whole-warehouse pass (the planner cannot know there are ~10M groups). Keys are compared
-- in the "C" collation; the category goes back to the default one, which the top-category tie
-- rule uses.
WITH orders AS (
    {orders}
),
customer_products AS (
    SELECT
        o.customer_id COLLATE "C" AS customer_id,
        coalesce(p.category_l1, 'unknown') COLLATE "C" AS category,
        l.product_id COLLATE "C" AS product_id,
        sum(l.amount) AS revenue,
        sum(l.quantity) AS quantity,
        sum(l.cost_amount) AS cost_amount,
        sum(l.amount) FILTER (WHERE l.cost_amount IS NOT NULL) AS costed_revenue
    FROM orders AS o
    JOIN {lines} AS l ON l.order_id = o.order_id
    LEFT JOIN warehouse.dim_product AS p ON p.product_id = l.product_id
    WHERE l.is_sale
      AND l.order_date <= {as_of}
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
GROUP BY customer_id, category
