-- parameters none: bound by psycopg in etl.quality.run_checks
-- Order lines against the order-level fact (all data): every order, line and unit of revenue of
-- warehouse.fact_order_line is in warehouse.fact_order exactly once. Net revenue is what
-- fact_order.net_amount holds: sale lines plus return lines (returns are negative); a line that
-- is neither (a zero-quantity line, kept:zero_quantity) counts for neither.
-- Returns (subject, expected, actual, passed); expected = the lines, actual = the orders.
WITH per_order AS (
    -- grouped by order first: a hash aggregate that parallel workers share (a count(DISTINCT)
    -- sorts every line in one process)
    SELECT
        count(*) AS n_lines,
        sum(amount) FILTER (WHERE is_sale) AS sales,
        sum(amount) FILTER (WHERE is_sale OR is_return) AS net
    FROM warehouse.fact_order_line
    GROUP BY order_id
),
lines AS (
    SELECT
        count(*) AS orders,
        coalesce(sum(n_lines), 0) AS n_lines,
        coalesce(sum(sales), 0) AS sales,
        coalesce(sum(net), 0) AS net
    FROM per_order
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
