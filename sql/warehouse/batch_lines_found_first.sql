-- template parts batch_id, lines: filled by etl.ingest.batch_checks.check_lines
-- For check_batch_lines.sql, a first load (warehouse.fact_order_line was empty when the batch's
-- transaction began, which holds the build lock): every line in the table is then one the batch
-- wrote, so its good staged lines are all there exactly when both sides hold the same number of
-- keys with the same sum of 64-bit key hashes (both sides' keys are unique). That is one scan of
-- each table, which parallel workers share, instead of joining a million lines to a million.
-- A mismatch gives n_found NULL (the check fails); the caller then counts it by the join.
WITH staged AS (
    SELECT count(*) AS n, coalesce(sum(hashtextextended(l.order_id, l.line_no)), 0) AS keys
    FROM {lines} AS l
    WHERE l._reject IS NULL
),
facts AS (
    SELECT
        count(*) AS n,
        coalesce(sum(hashtextextended(f.order_id, f.line_no)), 0) AS keys,
        count(*) FILTER (WHERE f.batch_id = {batch_id}) AS n_own
    FROM warehouse.fact_order_line AS f
)
SELECT
    s.n AS n_staged,
    CASE WHEN s.n = f.n AND s.keys = f.keys THEN s.n END AS n_found,
    f.n_own
FROM staged AS s
CROSS JOIN facts AS f
