-- parameters run_id: bound by psycopg in etl.quality.run_checks
-- No empty result table: the run has customers, segments and a profile for every method, and
-- each method's profile accounts for every customer.
-- Params: run_id. Returns (subject, expected, actual, passed).
WITH features AS (
    SELECT count(*) AS customers
    FROM segmentation.customer_features
    WHERE run_id = %(run_id)s
),
methods AS (
    SELECT unnest(methods) AS method FROM segmentation.runs WHERE run_id = %(run_id)s
),
profiles AS (
    SELECT m.method, count(p.segment) AS segments, coalesce(sum(p.customers), 0) AS customers
    FROM methods AS m
    LEFT JOIN segmentation.segment_profiles AS p
        ON p.run_id = %(run_id)s AND p.method = m.method
    GROUP BY m.method
)
SELECT 'customer_features rows', '> 0', customers::text, customers > 0
FROM features
UNION ALL
SELECT 'segment_profiles rows for ' || method, '> 0', segments::text, segments > 0
FROM profiles
UNION ALL
SELECT
    'customers in ' || p.method || ' profiles',
    f.customers::text,
    p.customers::text,
    p.customers = f.customers
FROM profiles AS p
CROSS JOIN features AS f
ORDER BY 1;
