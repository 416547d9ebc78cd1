-- Sales per customer and product as of the run's date: the one pass over order lines that the
-- category and product features share. A temporary table (dropped at commit).
-- Params: as_of (date).
CREATE TEMPORARY TABLE segwise_customer_products ON COMMIT DROP AS
SELECT
    l.customer_id,
    l.product_id,
    sum(l.amount) AS revenue,
    sum(l.quantity) AS quantity,
    sum(l.cost_amount) AS cost_amount,
    sum(l.amount) FILTER (WHERE l.cost_amount IS NOT NULL) AS costed_revenue
FROM warehouse.fact_order_line AS l
WHERE l.customer_id IS NOT NULL
  AND l.order_date <= %(as_of)s
  AND l.quantity > 0
  AND l.unit_price > 0
  AND NOT l.is_return
GROUP BY l.customer_id, l.product_id;
