-- parameters run_id, cutoff, digest: bound by psycopg in etl.quality.run_checks
-- The warehouse still holds exactly the load batches the run started on, so every stage of
-- the run read the same data (a load built during the run fails this check). cutoff and digest
-- are what sql/segmentation/built_batches.sql gives now (etl.segment.runs.built_batches, read
-- in the checks' snapshot). Runs from before revision 0005 recorded nothing and pass; so does a
-- run already published (checked before its publish: later loads are newer data, not a fault).
-- Returns (subject, expected, actual, passed).
SELECT
    'load batches built into the warehouse (newest id, digest) since the run started',
    r.batch_cutoff::text || ' ' || coalesce(r.batches_digest, ''),
    %(cutoff)s::text || ' ' || %(digest)s,
    r.batches_digest IS NULL
        OR r.status IN ('published', 'superseded')
        OR (r.batch_cutoff = %(cutoff)s AND r.batches_digest = %(digest)s)
FROM segmentation.runs AS r
WHERE r.run_id = %(run_id)s;
