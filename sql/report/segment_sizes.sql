-- parameters method, run_id: bound by psycopg in etl.report.data.load
-- One method's segment sizes at every published as-of date up to the reported run's (profiles
-- are never pruned, so the whole history is there).
SELECT r.as_of_date, r.run_id, p.segment, p.customers, p.customer_share, p.revenue
FROM segmentation.runs AS r
JOIN segmentation.segment_profiles AS p ON p.run_id = r.run_id
WHERE p.method = %(method)s
  AND (r.status = 'published' OR r.run_id = %(run_id)s)
  AND r.as_of_date <= (SELECT as_of_date FROM segmentation.runs WHERE run_id = %(run_id)s)
  AND (r.run_id = %(run_id)s OR r.as_of_date < (
      SELECT as_of_date FROM segmentation.runs WHERE run_id = %(run_id)s))
ORDER BY r.as_of_date, p.segment
