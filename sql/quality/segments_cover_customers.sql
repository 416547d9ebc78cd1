-- parameters run_id: bound by psycopg in etl.quality.run_checks
-- Every customer of the run has exactly one segment for every method the run computed, and the
-- run shows no segment row of a customer outside its features (nor of a method it did not
-- compute).
-- Params: run_id. Returns (subject, expected, actual, passed).
-- Same customers = same count and same sum of 64-bit hashes of the customer ids. A method's
-- rows are unique per customer (the primary key), so a stray customer, a missing one or a
-- swapped one changes the count or the sum (a swap leaves the sum unchanged only when two
-- hash differences cancel exactly, odds of about 2^-64). It costs one read of the run's
-- memberships and features, with no join: an anti-join of 2.3M memberships against the
-- features, and the counts as subqueries the planner ran twice, took 9.6 s of a 10M-line
-- daily run.
WITH features AS (
    SELECT count(*) AS customers, coalesce(sum(hashtextextended(customer_id, 0)), 0) AS ids
    FROM segmentation.customer_features
    WHERE run_id = %(run_id)s
),
methods AS (
    SELECT unnest(methods) AS method FROM segmentation.runs WHERE run_id = %(run_id)s
),
shown AS (
    -- the stored memberships the run shows, read where they are stored
    SELECT
        rm.method,
        count(*) AS customers,
        coalesce(sum(hashtextextended(s.customer_id, 0)), 0) AS ids
    FROM segmentation.run_methods AS rm
    JOIN segmentation.memberships AS s
        ON s.run_id = rm.source_run_id AND s.method = rm.method
    WHERE rm.run_id = %(run_id)s
    GROUP BY rm.method
),
labelled AS (
    SELECT
        coalesce(m.method, s.method) AS method,
        m.method IS NOT NULL AS chosen,
        coalesce(s.customers, 0) AS customers,
        coalesce(s.ids, 0) AS ids
    FROM methods AS m
    FULL JOIN shown AS s ON s.method = m.method
)
SELECT
    'customers with a ' || l.method || ' segment',
    f.customers::text,
    l.customers::text || CASE
        WHEN l.customers = f.customers AND l.ids <> f.ids THEN ' (not the customers of the run)'
        ELSE ''
    END,
    l.customers = f.customers AND l.ids = f.ids
FROM labelled AS l
CROSS JOIN features AS f
WHERE l.chosen
UNION ALL
SELECT
    'segment rows of a method the run did not compute',
    '0',
    coalesce(sum(l.customers) FILTER (WHERE NOT l.chosen), 0)::text,
    coalesce(sum(l.customers) FILTER (WHERE NOT l.chosen), 0) = 0
FROM labelled AS l
ORDER BY 1;
