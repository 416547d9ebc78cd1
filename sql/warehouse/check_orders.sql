-- template parts lines: filled by etl.ingest.batch_checks.check_lines
-- Build-time lines_vs_orders for the orders the batch wrote (those of the good lines of the
-- staged lines table <lines>): their order lines in warehouse.fact_order_line against their rows
-- in warehouse.fact_order, with sql/quality/lines_vs_orders.sql's subjects and definitions, plus
-- the orders whose row disagrees with its lines (counts, amounts, or the customer, which is the
-- lines' smallest customer id: sql/warehouse/order_totals.sql). Other orders are unchanged by
-- the batch, so the whole tables agree after it when they agreed before. Each order's lines and
-- row are read through the primary keys (LATERAL; fact_order_line's starts with order_id), so the
-- check costs what the batch wrote: as a join, the planner hashed every order line even for a
-- batch of 500 orders (Online Retail); a first load pays one probe per order instead.
-- Returns (subject, expected, actual, passed); expected = the lines.
WITH batch_orders AS (
    SELECT DISTINCT l.order_id
    FROM {lines} AS l
    WHERE l._reject IS NULL
),
pairs AS (
    SELECT
        f.n_lines > 0 AS in_lines,
        o.order_id IS NOT NULL AS in_orders,
        f.customer_id IS DISTINCT FROM (o.customer_id COLLATE "C") AS other_customer,
        f.n_lines AS l_lines,
        coalesce(o.n_lines, 0) AS o_lines,
        f.sales AS l_sales,
        coalesce(o.sales_amount, 0) AS o_sales,
        f.net AS l_net,
        coalesce(o.net_amount, 0) AS o_net
    FROM batch_orders AS b
    CROSS JOIN LATERAL (
        SELECT
            min(x.customer_id COLLATE "C") AS customer_id,
            count(*) AS n_lines,
            coalesce(sum(x.amount) FILTER (WHERE x.is_sale), 0) AS sales,
            coalesce(sum(x.amount) FILTER (WHERE x.is_sale OR x.is_return), 0) AS net
        FROM warehouse.fact_order_line AS x
        WHERE x.order_id = b.order_id
    ) AS f
    LEFT JOIN LATERAL (
        SELECT o.order_id, o.customer_id, o.n_lines, o.sales_amount, o.net_amount
        FROM warehouse.fact_order AS o
        WHERE o.order_id = b.order_id
        OFFSET 0  -- a fence: else the planner flattens this into a join and may scan fact_order
    ) AS o ON true
),
totals AS (
    SELECT
        count(*) FILTER (WHERE in_lines) AS l_orders,
        count(*) FILTER (WHERE in_orders) AS o_orders,
        coalesce(sum(l_lines), 0) AS l_lines,
        coalesce(sum(o_lines), 0) AS o_lines,
        coalesce(sum(l_sales), 0) AS l_sales,
        coalesce(sum(o_sales), 0) AS o_sales,
        coalesce(sum(l_net), 0) AS l_net,
        coalesce(sum(o_net), 0) AS o_net,
        count(*) FILTER (
            WHERE in_lines IS DISTINCT FROM in_orders
               OR other_customer
               OR l_lines <> o_lines
               OR abs(l_sales - o_sales) >= 0.005
               OR abs(l_net - o_net) >= 0.005
        ) AS differing
    FROM pairs
)
SELECT v.subject, v.expected::text, v.actual::text, abs(v.expected - v.actual) < 0.005
FROM totals AS t
CROSS JOIN LATERAL (
    VALUES
        ('orders', t.l_orders::numeric, t.o_orders::numeric),
        ('order lines', t.l_lines::numeric, t.o_lines::numeric),
        ('sales revenue', t.l_sales, t.o_sales),
        ('net revenue', t.l_net, t.o_net),
        ('orders whose row differs from their lines', 0::numeric, t.differing::numeric)
) AS v (subject, expected, actual);
