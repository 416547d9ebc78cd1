-- parameters run_id: bound by psycopg in etl.quality.run_checks
-- Every customer of the run has exactly one segment for every method the run computed, and no
-- segment row belongs to a customer outside the run's features.
-- Params: run_id. Returns (subject, expected, actual, passed).
WITH features AS (
    SELECT count(*) AS customers
    FROM segmentation.customer_features
    WHERE run_id = %(run_id)s
),
methods AS (
    SELECT unnest(methods) AS method FROM segmentation.runs WHERE run_id = %(run_id)s
),
labelled AS (
    -- counted in the stored memberships the run shows, one primary-key range per method
    SELECT
        m.method,
        (
            SELECT count(*)
            FROM segmentation.memberships AS s
            WHERE s.run_id = rm.source_run_id AND s.method = m.method
        ) AS customers
    FROM methods AS m
    LEFT JOIN segmentation.run_methods AS rm
        ON rm.run_id = %(run_id)s AND rm.method = m.method
),
strays AS (
    SELECT count(*) AS n
    FROM segmentation.customer_segments AS s
    WHERE s.run_id = %(run_id)s
      AND NOT EXISTS (
          SELECT 1 FROM segmentation.customer_features AS f
          WHERE f.run_id = s.run_id AND f.customer_id = s.customer_id
      )
)
SELECT
    'customers with a ' || l.method || ' segment',
    f.customers::text,
    l.customers::text,
    l.customers = f.customers
FROM labelled AS l
CROSS JOIN features AS f
UNION ALL
SELECT 'segment rows without customer features', '0', n::text, n = 0
FROM strays
ORDER BY 1;
