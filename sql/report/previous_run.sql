-- parameters run_id: bound by psycopg in etl.report.data.load
-- The run a report compares against: the latest published run with an earlier as-of date.
SELECT p.run_id, p.as_of_date
FROM segmentation.runs AS r
JOIN segmentation.runs AS p ON p.status = 'published' AND p.as_of_date < r.as_of_date
WHERE r.run_id = %(run_id)s
ORDER BY p.as_of_date DESC, p.run_id DESC
LIMIT 1
