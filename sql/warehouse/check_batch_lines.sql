-- template parts batch_id, lines, loaded, rewritten: filled by etl.ingest.batch_checks.check_lines
-- Build-time ledger_vs_facts, the batch's own lines: every good line of the staged lines table
-- <lines> is in warehouse.fact_order_line afterwards (found by its primary key), and the lines
-- carrying the batch's id are exactly those it inserted (<loaded>) or rewrote (<rewritten>). A
-- duplicate that changed nothing keeps the id of the batch that wrote it, and one a newer batch
-- wrote keeps the newer id (fact_order_line.sql); a later batch that rewrites one of these lines
-- takes it over, so this holds when the batch is built, not later. Returns (subject, expected,
-- actual, passed).
WITH staged AS (
    SELECT l.order_id, l.line_no
    FROM {lines} AS l
    WHERE l._reject IS NULL
),
found AS (
    SELECT
        count(*) AS n_staged,
        count(f.order_id) AS n_found,
        count(*) FILTER (WHERE f.batch_id = {batch_id}) AS n_own
    FROM staged AS s
    LEFT JOIN warehouse.fact_order_line AS f
        ON f.order_id = s.order_id AND f.line_no = s.line_no
)
SELECT v.subject, v.expected::text, v.actual::text, v.expected = v.actual
FROM found AS f
CROSS JOIN LATERAL (
    VALUES
        ('good order lines of the batch in warehouse.fact_order_line', f.n_staged, f.n_found),
        (
            'order lines carrying the batch id (inserted + rewritten)',
            {loaded}::bigint + {rewritten}::bigint,
            f.n_own
        )
) AS v (subject, expected, actual);
