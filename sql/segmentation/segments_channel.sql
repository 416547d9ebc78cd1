-- parameters run_id: bound by psycopg in etl.segment.pipeline.run_method
-- Channel label per customer of the run: main channel (and platform where recorded), with
-- market and region in scores. Params: run_id.
INSERT INTO segmentation.memberships (run_id, method, customer_id, segment_id, segment, scores)
SELECT
    %(run_id)s,
    'channel',
    f.customer_id,
    NULL,
    coalesce(f.main_channel, 'unknown') || coalesce(' / ' || f.main_platform, ''),
    jsonb_build_object(
        'channel', coalesce(f.main_channel, 'unknown'),
        'platform', coalesce(f.main_platform, 'unknown'),
        'market', coalesce(f.main_market, 'unknown'),
        'region', coalesce(f.main_region, 'unknown')
    )
FROM segmentation.customer_features AS f
WHERE f.run_id = %(run_id)s;
