-- parameters none: bound by psycopg in etl.quality.run_checks
-- The load ledger against the facts. A batch's rows_loaded counts the order lines it inserted
-- (a line already in the warehouse is a duplicate: updated in place, counted in rows_duplicate),
-- so the succeeded batches' rows_loaded add up to the lines in the warehouse; and every line
-- comes from a batch the ledger records as succeeded (a failed, skipped or unfinished batch left
-- nothing behind). Returns (subject, expected, actual, passed).
WITH per_batch AS (
    SELECT batch_id, count(*) AS n_lines
    FROM warehouse.fact_order_line
    GROUP BY batch_id
),
ledger AS (
    SELECT coalesce(sum(rows_loaded), 0) AS loaded
    FROM staging.load_batches
    WHERE status = 'succeeded'
),
facts AS (
    SELECT
        coalesce(sum(p.n_lines), 0) AS n_lines,
        coalesce(sum(p.n_lines) FILTER (WHERE b.status IS DISTINCT FROM 'succeeded'), 0)
            AS orphans
    FROM per_batch AS p
    LEFT JOIN staging.load_batches AS b ON b.batch_id = p.batch_id
)
SELECT
    'order lines loaded (ledger) vs in warehouse.fact_order_line',
    l.loaded::text,
    f.n_lines::text,
    l.loaded = f.n_lines
FROM ledger AS l
CROSS JOIN facts AS f
UNION ALL
SELECT
    'order lines from batches not marked succeeded in staging.load_batches',
    '0',
    orphans::text,
    orphans = 0
FROM facts
ORDER BY 1;
