-- parameters run_id: bound by psycopg in etl.quality.run_checks
-- facts_vs_features for a run whose features are the warehouse's kept customer totals' rows
-- (runs.metrics->'features'->>'source': state, or lines stored as the totals; a run on or after
-- the newest order, no batch built since it started), without scanning the order lines: the
-- run's features against warehouse.customer_order_totals (one row per customer), whose rows
-- were verified against the order lines (lines_checked: by a run's full check when they were
-- stored whole, then per batch at build time for the customers it touched,
-- sql/warehouse/check_customer_totals.sql). Used when etl.quality_record finds nothing
-- unverified. Same subjects and definitions as sql/quality/facts_vs_features.sql (the totals
-- cover every order, which for such a run are those up to its date).
-- Returns (subject, expected, actual, passed); expected = the kept totals.
WITH expected AS (
    SELECT
        count(*) AS customers,
        coalesce(sum(frequency), 0) AS orders,
        coalesce(sum(gross_revenue), 0) AS gross,
        coalesce(sum(gross_revenue - returns_value), 0) AS net
    FROM warehouse.customer_order_totals
    WHERE frequency > 0
),
actual AS (
    SELECT
        count(*) AS customers,
        coalesce(sum(frequency), 0) AS orders,
        coalesce(sum(gross_revenue), 0) AS gross,
        coalesce(sum(monetary), 0) AS net
    FROM segmentation.customer_features
    WHERE run_id = %(run_id)s
),
status AS (
    SELECT bool_and(lines_checked) AS checked FROM warehouse.customer_state_status
)
SELECT v.subject, v.expected::text, v.actual::text,
       abs(v.expected - v.actual) < 0.005 AND coalesce(s.checked, false)
FROM expected AS e
CROSS JOIN actual AS a
CROSS JOIN status AS s
CROSS JOIN LATERAL (
    VALUES
        ('customers with a sale', e.customers::numeric, a.customers::numeric),
        ('orders with a sale', e.orders::numeric, a.orders::numeric),
        ('gross revenue', e.gross, a.gross),
        ('net revenue', e.net, a.net)
) AS v (subject, expected, actual);
