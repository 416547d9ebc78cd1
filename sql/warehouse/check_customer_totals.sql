-- template parts orders, touched: filled by etl.ingest.batch_checks.finish
-- Build-time check of the kept customer totals (warehouse.customer_order_totals) of the
-- customers the batch touched (<touched>, customer_state's temp table) against their order
-- lines, recomputed here with sql/quality/facts_vs_features.sql's definitions: each order from
-- its lines (its customer is their smallest customer id; sale and return lines), then per
-- customer: customers with a sale, their orders with a sale, gross sales, net revenue.
-- A latest-date run checks its features against the kept totals instead of every order line;
-- this keeps the totals honest for the customers each batch changed. <orders>: their orders,
-- the temp table customer_state.refresh_for_batch filled through fact_order's customer index
-- (the build's orders check verified the customer of every order the batch wrote); each one's
-- lines through the lines' primary key (LATERAL: as a join, the planner hashed every order line
-- even for 300 customers). MATERIALIZED: else the planner pushes the customer filter below into
-- each order's aggregate, scanning the touched customers once per order (41k orders: 9.9 s).
-- Returns (subject, expected, actual, passed); expected = the lines.
WITH orders AS MATERIALIZED (
    SELECT f.*
    FROM {orders} AS t
    CROSS JOIN LATERAL (
        SELECT
            min(x.customer_id COLLATE "C") AS customer_id,
            bool_or(x.is_sale) AS has_sale,
            coalesce(sum(x.amount) FILTER (WHERE x.is_sale), 0) AS sales,
            coalesce(sum(x.amount) FILTER (WHERE x.is_sale OR x.is_return), 0) AS net
        FROM warehouse.fact_order_line AS x
        WHERE x.order_id = t.order_id
    ) AS f
),
from_lines AS (
    SELECT
        customer_id,
        count(*) FILTER (WHERE has_sale) AS orders,
        sum(sales) AS gross,
        sum(net) AS net
    FROM orders
    WHERE customer_id IN (SELECT customer_id FROM {touched})
    GROUP BY customer_id
),
kept AS (
    SELECT
        k.customer_id COLLATE "C" AS customer_id,
        k.frequency AS orders,
        k.gross_revenue AS gross,
        k.gross_revenue - k.returns_value AS net
    FROM warehouse.customer_order_totals AS k
    WHERE k.customer_id IN (SELECT customer_id FROM {touched})
),
buyers AS (  -- customers with a sale on either side (the only ones with features)
    SELECT
        coalesce(l.orders, 0) AS l_orders,
        coalesce(k.orders, 0) AS k_orders,
        CASE WHEN l.orders > 0 THEN l.gross ELSE 0 END AS l_gross,
        CASE WHEN k.orders > 0 THEN k.gross ELSE 0 END AS k_gross,
        CASE WHEN l.orders > 0 THEN l.net ELSE 0 END AS l_net,
        CASE WHEN k.orders > 0 THEN k.net ELSE 0 END AS k_net
    FROM from_lines AS l
    FULL JOIN kept AS k ON k.customer_id = l.customer_id
    WHERE l.orders > 0 OR k.orders > 0
),
totals AS (
    SELECT
        count(*) FILTER (WHERE l_orders > 0) AS l_customers,
        count(*) FILTER (WHERE k_orders > 0) AS k_customers,
        coalesce(sum(l_orders), 0) AS l_orders,
        coalesce(sum(k_orders), 0) AS k_orders,
        coalesce(sum(l_gross), 0) AS l_gross,
        coalesce(sum(k_gross), 0) AS k_gross,
        coalesce(sum(l_net), 0) AS l_net,
        coalesce(sum(k_net), 0) AS k_net,
        count(*) FILTER (
            WHERE l_orders <> k_orders
               OR abs(l_gross - k_gross) >= 0.005
               OR abs(l_net - k_net) >= 0.005
        ) AS differing
    FROM buyers
)
SELECT v.subject, v.expected::text, v.actual::text, abs(v.expected - v.actual) < 0.005
FROM totals AS t
CROSS JOIN LATERAL (
    VALUES
        ('customers with a sale', t.l_customers::numeric, t.k_customers::numeric),
        ('orders with a sale', t.l_orders::numeric, t.k_orders::numeric),
        ('gross revenue', t.l_gross, t.k_gross),
        ('net revenue', t.l_net, t.k_net),
        ('customers whose kept totals differ from their lines', 0::numeric, t.differing::numeric)
) AS v (subject, expected, actual);
