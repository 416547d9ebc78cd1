-- parameters previous_run_id, run_id: bound by psycopg in etl.segment.pipeline.publish
-- From/to matrix of customers per method against the previously published run.
-- Params: run_id, previous_run_id.
INSERT INTO segmentation.segment_migrations
    (run_id, method, previous_run_id, from_segment, to_segment, customers)
WITH cur AS (
    SELECT method, customer_id, segment
    FROM segmentation.customer_segments
    WHERE run_id = %(run_id)s
),
prev AS (
    SELECT method, customer_id, segment
    FROM segmentation.customer_segments
    WHERE run_id = %(previous_run_id)s AND method IN (SELECT DISTINCT method FROM cur)
)
SELECT
    %(run_id)s,
    coalesce(c.method, p.method),
    %(previous_run_id)s,
    coalesce(p.segment, '(new)'),
    coalesce(c.segment, '(gone)'),
    count(*)
FROM cur AS c
FULL JOIN prev AS p ON p.method = c.method AND p.customer_id = c.customer_id
GROUP BY 2, 4, 5;
