-- parameters run_ids: bound by psycopg in etl.segment.runs.drop_memberships
-- The runs in run_ids stop showing memberships (their segmentation.run_methods rows go), and
-- the memberships no other run shows any more are deleted. A run keeps a method of its date's
-- previous run by reference (runs.keep_methods), so a superseded run's rows stay exactly while
-- a run outside run_ids still shows them. The outer statement sees the rows as they were before
-- the CTE's delete, hence the explicit "not one of run_ids" below.
WITH gone AS (
    DELETE FROM segmentation.run_methods
    WHERE run_id = ANY(%(run_ids)s)
    RETURNING source_run_id, method
),
unshown AS (
    SELECT DISTINCT g.source_run_id, g.method
    FROM gone AS g
    WHERE NOT EXISTS (
        SELECT 1
        FROM segmentation.run_methods AS rm
        WHERE rm.source_run_id = g.source_run_id
          AND rm.method = g.method
          AND rm.run_id <> ALL(%(run_ids)s)
    )
)
DELETE FROM segmentation.memberships AS m
USING unshown AS u
WHERE m.run_id = u.source_run_id AND m.method = u.method;
