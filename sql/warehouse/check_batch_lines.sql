-- template parts found, loaded, rewritten: filled by etl.ingest.batch_checks.check_lines
-- Build-time ledger_vs_facts, the batch's own lines: every good line of the batch's staged lines
-- table is in warehouse.fact_order_line afterwards (found by its primary key), and the lines
-- carrying the batch's id are exactly those it inserted (<loaded>) or rewrote (<rewritten>). A
-- duplicate that changed nothing keeps the id of the batch that wrote it, and one a newer batch
-- wrote keeps the newer id (fact_order_line.sql); a later batch that rewrites one of these lines
-- takes it over, so this holds when the batch is built, not later. <found>: one row (n_staged,
-- n_found, n_own), from batch_lines_found.sql or, for a first load, batch_lines_found_first.sql.
-- Returns (subject, expected, actual, passed).
WITH found AS (
    {found}
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
