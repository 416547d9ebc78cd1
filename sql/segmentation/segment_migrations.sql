-- parameters method, previous_run_id, run_id, source: bound by psycopg in etl.segment.pipeline.write_history
-- From/to matrix of one method's customers against the previously published run.
-- Params: run_id, previous_run_id, method, source (as for segment_history.sql). Derived from
-- the run's segment_history rows, which publish writes just before (segment_history.sql: every
-- customer whose segment changed, arrived or left), and the run's segment sizes: the customers
-- who stayed in a segment are its size minus those who arrived in it. Joining the run's
-- memberships to the previous run's again, as the history does, cost as much as the history
-- itself (4-5 s at 381k customers and six methods).
INSERT INTO segmentation.segment_migrations
    (run_id, method, previous_run_id, from_segment, to_segment, customers)
WITH moved AS (
    SELECT
        coalesce(previous_segment, '(new)') AS from_segment,
        coalesce(segment, '(gone)') AS to_segment,
        count(*) AS customers
    FROM segmentation.segment_history
    WHERE run_id = %(run_id)s AND method = %(method)s
    GROUP BY 1, 2
),
arrived AS (
    SELECT segment, count(*) AS customers
    FROM segmentation.segment_history
    WHERE run_id = %(run_id)s AND method = %(method)s AND segment IS NOT NULL
    GROUP BY 1
),
sizes AS (
    SELECT segment, count(*) AS customers
    FROM segmentation.memberships
    WHERE run_id = %(source)s AND method = %(method)s
    GROUP BY 1
)
SELECT %(run_id)s, %(method)s, %(previous_run_id)s, from_segment, to_segment, customers
FROM moved
UNION ALL
SELECT
    %(run_id)s,
    %(method)s,
    %(previous_run_id)s,
    s.segment,
    s.segment,
    s.customers - coalesce(a.customers, 0)
FROM sizes AS s
LEFT JOIN arrived AS a ON a.segment = s.segment
WHERE s.customers > coalesce(a.customers, 0);
