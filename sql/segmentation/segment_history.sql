-- parameters methods, previous_run_id, run_id: bound by psycopg in etl.segment.pipeline.publish
-- Customers whose segment changed against the previously published run (one row per change).
-- Params: run_id, previous_run_id, methods (text[]: the run's methods whose history is not
-- carried over from the run it kept them from, see pipeline._carry_history).
INSERT INTO segmentation.segment_history
    (run_id, method, customer_id, segment, previous_run_id, previous_segment)
WITH cur AS (
    SELECT method, customer_id, segment
    FROM segmentation.customer_segments
    WHERE run_id = %(run_id)s AND method = ANY(%(methods)s)
),
prev AS (
    SELECT method, customer_id, segment
    FROM segmentation.customer_segments
    WHERE run_id = %(previous_run_id)s AND method IN (SELECT DISTINCT method FROM cur)
)
SELECT
    %(run_id)s,
    coalesce(c.method, p.method),
    coalesce(c.customer_id, p.customer_id),
    c.segment,
    %(previous_run_id)s,
    p.segment
FROM cur AS c
FULL JOIN prev AS p ON p.method = c.method AND p.customer_id = c.customer_id
WHERE c.segment IS DISTINCT FROM p.segment;
