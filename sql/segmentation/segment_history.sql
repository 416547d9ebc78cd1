-- parameters method, previous_run_id, previous_source, run_id, source: bound by psycopg in etl.segment.pipeline.write_history
-- Customers whose segment in one method changed against the previously published run (one row
-- per change). Params: run_id, previous_run_id, method (one the run shows whose history is not
-- carried over from the run it kept it from, see pipeline._carry_history), source and
-- previous_source: the runs whose memberships the two runs show for the method
-- (segmentation.run_methods; previous_source NULL when the previous run has no such method, so
-- every customer arrives). The memberships are read where they are stored, each side one range
-- of the primary key: through the view customer_segments the planner joined every stored run's
-- rows to run_methods (5-6 s for six methods at 381k customers, against 3.7 s before runs kept
-- methods by reference).
INSERT INTO segmentation.segment_history
    (run_id, method, customer_id, segment, previous_run_id, previous_segment)
SELECT
    %(run_id)s,
    %(method)s,
    coalesce(c.customer_id, p.customer_id),
    c.segment,
    %(previous_run_id)s,
    p.segment
FROM (
    SELECT customer_id, segment
    FROM segmentation.memberships
    WHERE run_id = %(source)s AND method = %(method)s
) AS c
FULL JOIN (
    SELECT customer_id, segment
    FROM segmentation.memberships
    WHERE run_id = %(previous_source)s AND method = %(method)s
) AS p ON p.customer_id = c.customer_id
WHERE c.segment IS DISTINCT FROM p.segment;
