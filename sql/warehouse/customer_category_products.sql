-- template parts as_of, lines, orders: filled by etl.segment.customer_state.category_products
-- Sale lines per customer, top-level category and product over the lines of <orders> (see
-- customer_order_totals.sql; <lines> is warehouse.fact_order_line, or the build's copy of just
-- those orders' lines) dated up to <as_of> ('infinity' for the kept totals). A line counts for
-- its order's customer (the fact_order customer, the one its amount counts for in the order
-- totals) and in its product's category ('unknown' without one). The category totals add
-- these up per customer and category (customer_category_totals.sql), and a batch of new orders
-- adds its own to the kept ones (customer_category_totals_add.sql). Keys are compared in the
-- "C" collation.
SELECT
    o.customer_id COLLATE "C" AS customer_id,
    coalesce(p.category_l1, 'unknown') COLLATE "C" AS category,
    l.product_id COLLATE "C" AS product_id,
    sum(l.amount) AS revenue,
    sum(l.quantity) AS quantity,
    sum(l.cost_amount) AS cost_amount,
    sum(l.amount) FILTER (WHERE l.cost_amount IS NOT NULL) AS costed_revenue
FROM ({orders}) AS o
JOIN {lines} AS l ON l.order_id = o.order_id
LEFT JOIN warehouse.dim_product AS p ON p.product_id = l.product_id
WHERE l.is_sale
  AND l.order_date <= {as_of}
GROUP BY 1, 2, 3
