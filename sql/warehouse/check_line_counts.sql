-- template parts counters, loaded, rewritten: filled by etl.ingest.batch_checks.finish
-- Build-time ledger_vs_facts, whole table: what the batch's transaction did to
-- warehouse.fact_order_line (the server's counts for this transaction, pg_stat_xact_user_tables,
-- minus <counters>, their values when the transaction began) against what the batch reports.
-- Lines inserted minus lines deleted is what the ledger's rows_loaded claims the warehouse
-- gained; so the lines in the warehouse after the batch = before + rows_loaded, without counting
-- them. <loaded>: rows_loaded; <rewritten>: duplicates rewritten in place (they move to the
-- batch's id, the line count stays). Returns (subject, expected, actual, passed).
WITH delta AS (
    SELECT
        (s.n_tup_ins - c.n_tup_ins) - (s.n_tup_del - c.n_tup_del) AS added,
        s.n_tup_upd - c.n_tup_upd AS rewritten
    FROM pg_stat_xact_user_tables AS s
    CROSS JOIN {counters} AS c
    WHERE s.relid = 'warehouse.fact_order_line'::regclass
)
SELECT v.subject, v.expected::text, v.actual::text, v.expected = v.actual
FROM delta AS d
CROSS JOIN LATERAL (
    VALUES
        (
            'order lines added to warehouse.fact_order_line (ledger rows_loaded vs inserted '
            || 'minus deleted)',
            {loaded}::bigint,
            d.added
        ),
        (
            'order lines rewritten in warehouse.fact_order_line (reported vs updated)',
            {rewritten}::bigint,
            d.rewritten
        )
) AS v (subject, expected, actual);
