-- parameters as_of, run_id: bound by psycopg in etl.quality.run_checks
-- Order lines against the run's customer features, as of the run's date: customers with a sale,
-- their orders with a sale, gross sales and net revenue (sales minus returns), recomputed from
-- the lowest warehouse level with the definitions of docs/segmentation.md.
-- Params: run_id, as_of. Returns (subject, expected, actual, passed).
WITH lines AS (
    SELECT
        customer_id,
        order_id,
        amount,
        is_sale
    FROM warehouse.fact_order_line
    WHERE customer_id IS NOT NULL
      AND order_date <= %(as_of)s::date
),
buyers AS (
    SELECT DISTINCT customer_id FROM lines WHERE is_sale
),
expected AS (
    SELECT
        (SELECT count(*) FROM buyers) AS customers,
        (SELECT count(DISTINCT order_id) FROM lines WHERE is_sale) AS orders,
        (SELECT coalesce(sum(amount), 0) FROM lines WHERE is_sale) AS gross,
        (SELECT coalesce(sum(l.amount), 0) FROM lines AS l JOIN buyers AS b USING (customer_id))
            AS net
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
