-- The load ledger against the facts: every order line comes from a batch the ledger records as
-- succeeded (a failed, skipped or unfinished batch left nothing in the warehouse).
-- Returns (subject, expected, actual, passed).
WITH per_batch AS (
    SELECT batch_id, count(*) AS n_lines
    FROM warehouse.fact_order_line
    GROUP BY batch_id
)
SELECT
    'order lines from batches not marked succeeded in staging.load_batches',
    '0',
    coalesce(sum(p.n_lines), 0)::text,
    coalesce(sum(p.n_lines), 0) = 0
FROM per_batch AS p
LEFT JOIN staging.load_batches AS b ON b.batch_id = p.batch_id
WHERE b.status IS DISTINCT FROM 'succeeded';
