-- A template: the built_batches placeholder below is filled with
-- sql/segmentation/built_batches.sql by etl.quality.run_checks; then %(run_id)s parameters.
-- The warehouse still holds exactly the load batches the run started on, so every stage of
-- the run read the same data (a load built during the run fails this check). Runs from before
-- revision 0005 recorded nothing and pass.
-- Returns (subject, expected, actual, passed).
WITH built AS (
{built_batches}
),
run AS (
    SELECT batch_cutoff, batches_digest FROM segmentation.runs WHERE run_id = %(run_id)s
)
SELECT
    'load batches built into the warehouse (newest id, digest) since the run started',
    r.batch_cutoff::text || ' ' || coalesce(r.batches_digest, ''),
    b.cutoff::text || ' ' || b.digest,
    r.batches_digest IS NULL OR (r.batch_cutoff = b.cutoff AND r.batches_digest = b.digest)
FROM run AS r
CROSS JOIN built AS b;
