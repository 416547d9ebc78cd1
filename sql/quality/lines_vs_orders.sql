-- parameters none: bound by psycopg in etl.quality.run_checks
-- Order lines against the order-level fact (all data): every order, line and unit of revenue of
-- warehouse.fact_order_line is in warehouse.fact_order exactly once. Net revenue is what
-- fact_order.net_amount holds: sale lines plus return lines (returns are negative); a line that
-- is neither (a zero-quantity line, kept:zero_quantity) counts for neither.
-- Returns (subject, expected, actual, passed); expected = the lines, actual = the orders.
WITH lines AS (
    SELECT
        count(DISTINCT order_id) AS orders,
        count(*) AS n_lines,
        coalesce(sum(amount) FILTER (WHERE is_sale), 0) AS sales,
        coalesce(sum(amount) FILTER (WHERE is_sale OR is_return), 0) AS net
    FROM warehouse.fact_order_line
),
orders AS (
    SELECT
        count(*) AS orders,
        coalesce(sum(n_lines), 0) AS n_lines,
        coalesce(sum(sales_amount), 0) AS sales,
        coalesce(sum(net_amount), 0) AS net
    FROM warehouse.fact_order
)
SELECT v.subject, v.expected::text, v.actual::text, abs(v.expected - v.actual) < 0.005
FROM lines AS l
CROSS JOIN orders AS o
CROSS JOIN LATERAL (
    VALUES
        ('orders', l.orders::numeric, o.orders::numeric),
        ('order lines', l.n_lines::numeric, o.n_lines::numeric),
        ('sales revenue', l.sales, o.sales),
        ('net revenue', l.net, o.net)
) AS v (subject, expected, actual);
