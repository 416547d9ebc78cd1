-- parameters as_of, run_id: bound by psycopg in etl.quality.run_checks
-- Order lines against the run's customer features, as of the run's date: customers with a sale,
-- their orders with a sale, gross sales and net revenue (sales minus returns), recomputed from
-- the lowest warehouse level with the definitions of docs/segmentation.md: each order from its
-- lines (its customer is their smallest customer id, its date their first timestamp's, as in
-- sql/warehouse/order_totals.sql), its lines counting for that customer; net revenue is sale
-- plus return lines (returns are negative; a line that is neither counts for neither).
-- Params: run_id, as_of. Returns (subject, expected, actual, passed).
WITH orders AS (
    SELECT
        order_id,
        min(customer_id COLLATE "C") AS customer_id,
        min(order_ts)::date AS order_date,
        bool_or(is_sale) AS has_sale,
        coalesce(sum(amount) FILTER (WHERE is_sale), 0) AS sales,
        coalesce(sum(amount) FILTER (WHERE is_sale OR is_return), 0) AS net
    FROM warehouse.fact_order_line
    GROUP BY order_id
),
customers AS (
    SELECT
        customer_id,
        count(*) FILTER (WHERE has_sale) AS orders,
        sum(sales) AS gross,
        sum(net) AS net
    FROM orders
    WHERE customer_id IS NOT NULL
      AND order_date <= %(as_of)s::date
    GROUP BY customer_id
),
expected AS (
    SELECT
        count(*) AS customers,
        coalesce(sum(orders), 0) AS orders,
        coalesce(sum(gross), 0) AS gross,
        coalesce(sum(net), 0) AS net
    FROM customers
    WHERE orders > 0
),
actual AS (
    SELECT
        count(*) AS customers,
        coalesce(sum(frequency), 0) AS orders,
        coalesce(sum(gross_revenue), 0) AS gross,
        coalesce(sum(monetary), 0) AS net
    FROM segmentation.customer_features
    WHERE run_id = %(run_id)s
)
SELECT v.subject, v.expected::text, v.actual::text, abs(v.expected - v.actual) < 0.005
FROM expected AS e
CROSS JOIN actual AS a
CROSS JOIN LATERAL (
    VALUES
        ('customers with a sale', e.customers::numeric, a.customers::numeric),
        ('orders with a sale', e.orders::numeric, a.orders::numeric),
        ('gross revenue', e.gross, a.gross),
        ('net revenue', e.net, a.net)
) AS v (subject, expected, actual);
