-- parameters method, run_id: bound by psycopg in etl.report.data.load
-- One method's from -> to customer counts between the previous published run and this one.
SELECT m.previous_run_id, prev.as_of_date AS previous_as_of_date, m.from_segment, m.to_segment,
       m.customers
FROM segmentation.segment_migrations AS m
LEFT JOIN segmentation.runs AS prev ON prev.run_id = m.previous_run_id
WHERE m.run_id = %(run_id)s AND m.method = %(method)s
ORDER BY m.customers DESC
