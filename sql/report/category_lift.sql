-- parameters method, run_id: bound by psycopg in etl.report.data.load
-- The three categories per segment that set it apart (lift), from the use-case view; the view
-- shows the latest published run only, so an older run's report gets no rows here.
SELECT segment, category, lift, segment_share, rank_by_lift
FROM mart.invoice_segment_category_lift
WHERE run_id = %(run_id)s AND method = %(method)s AND rank_by_lift <= 3
ORDER BY segment, rank_by_lift
