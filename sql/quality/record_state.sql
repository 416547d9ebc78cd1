-- parameters none: bound by psycopg in etl.quality_record.read_state
-- What the build-time record (revision 0012_quality_per_batch) leaves unverified, read in the
-- checks' snapshot: succeeded batches without a passed build-time check (built before the
-- revision), writes to the checked tables made outside a checked build, and whether the kept
-- customer totals were verified against the lines since a run last stored them (with the
-- status row's digest and refresh time, to record a verification only on the same totals).
SELECT
    (
        SELECT coalesce(array_agg(b.batch_id ORDER BY b.batch_id), '{}'::bigint [])
        FROM staging.load_batches AS b
        WHERE b.status = 'succeeded' AND b.quality IS NULL
    ) AS unchecked_batches,
    (
        SELECT coalesce(array_agg(w.write_id ORDER BY w.write_id), '{}'::bigint [])
        FROM staging.unchecked_writes AS w
    ) AS unchecked_writes,
    s.lines_checked,
    s.built_digest,
    s.refreshed_at
FROM warehouse.customer_state_status AS s;
