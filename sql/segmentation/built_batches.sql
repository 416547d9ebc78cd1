-- Fixed SQL. The load batches built into the warehouse, which is what a segmentation run reads:
-- (cutoff = the newest built batch id, digest = md5 of every built batch id in order). Batches
-- only ever become built, so the same pair later means no load was built in between.
-- Also filled into sql/quality/run_read_one_warehouse.sql by etl.quality.
SELECT
    coalesce(max(batch_id), 0) AS cutoff,
    md5(coalesce(string_agg(batch_id::text, ',' ORDER BY batch_id), '')) AS digest
FROM staging.load_batches
WHERE status = 'succeeded'
