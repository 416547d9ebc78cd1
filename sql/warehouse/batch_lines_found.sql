-- template parts batch_id, lines: filled by etl.ingest.batch_checks.check_lines
-- For check_batch_lines.sql: the good lines of the staged lines table <lines> (n_staged), how
-- many of them warehouse.fact_order_line holds by its primary key (n_found), and how many of
-- those carry the batch's id (n_own). One probe or hash-join row per staged line.
SELECT
    count(*) AS n_staged,
    count(f.order_id) AS n_found,
    count(*) FILTER (WHERE f.batch_id = {batch_id}) AS n_own
FROM {lines} AS l
LEFT JOIN warehouse.fact_order_line AS f
    ON f.order_id = l.order_id AND f.line_no = l.line_no
WHERE l._reject IS NULL
