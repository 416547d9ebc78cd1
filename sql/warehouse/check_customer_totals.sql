-- template parts touched: filled by etl.ingest.batch_checks.finish
-- Build-time check of the kept customer totals (warehouse.customer_order_totals) of the
-- customers the batch touched (<touched>, customer_state's temp table) against their order lines,
-- recomputed here with sql/quality/facts_vs_features.sql's definitions: customers with a sale,
-- their orders with a sale, gross sales, net revenue (every line of a customer with a sale).
-- A latest-date run checks its features against the kept totals instead of every order line;
-- this keeps the totals honest for the customers each batch changed. A customer's lines are
-- found through their orders (fact_order's customer index, then the lines' primary key).
-- Returns (subject, expected, actual, passed); expected = the lines.
WITH lines AS (
    SELECT f.customer_id, f.order_id, f.amount, f.is_sale
    FROM warehouse.fact_order AS o
    JOIN warehouse.fact_order_line AS f ON f.order_id = o.order_id
    WHERE o.customer_id IN (SELECT customer_id FROM {touched})
      AND f.customer_id IN (SELECT customer_id FROM {touched})
),
from_lines AS (
    SELECT
        customer_id,
        count(DISTINCT order_id) FILTER (WHERE is_sale) AS orders,
        coalesce(sum(amount) FILTER (WHERE is_sale), 0) AS gross,
        coalesce(sum(amount), 0) AS net
    FROM lines
    GROUP BY customer_id
),
kept AS (
    SELECT
        k.customer_id,
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
