-- parameters none: bound by psycopg in etl.quality.run_checks
-- ledger_vs_facts from the build-time record, without scanning the order lines (used when
-- etl.quality_record finds nothing unverified). Every succeeded batch was checked when it was
-- built (sql/warehouse/check_line_counts.sql and check_batch_lines.sql): the warehouse gained
-- exactly its rows_loaded lines (quality->'lines'), all carrying a batch that became succeeded in
-- the same transaction; and nothing wrote to the order lines or to a succeeded ledger row outside
-- a checked build since (staging.unchecked_writes is empty). So the ledger's rows_loaded still
-- add up to the lines the builds added, and no line comes from a batch that did not succeed.
-- A batch verified by a full scan instead records its rows_loaded as its lines.
-- Returns (subject, expected, actual, passed) with sql/quality/ledger_vs_facts.sql's subjects;
-- actual = the recorded lines, and the writes made outside checked builds.
WITH ledger AS (
    SELECT
        coalesce(sum(rows_loaded), 0) AS loaded,
        coalesce(sum((quality ->> 'lines')::bigint), 0) AS recorded,
        count(*) FILTER (WHERE quality IS NULL) AS unchecked
    FROM staging.load_batches
    WHERE status = 'succeeded'
),
writes AS (
    SELECT count(*) AS n FROM staging.unchecked_writes
)
SELECT
    'order lines loaded (ledger) vs in warehouse.fact_order_line',
    l.loaded::text,
    l.recorded::text,
    l.loaded = l.recorded AND l.unchecked = 0
FROM ledger AS l
UNION ALL
SELECT
    'order lines from batches not marked succeeded in staging.load_batches',
    '0',
    w.n::text,
    w.n = 0
FROM writes AS w
ORDER BY 1;
