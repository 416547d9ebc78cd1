-- template parts code, lines: filled by etl.ingest.sqlgen.model
-- A line whose (order_id, line_no) appeared earlier in the batch (file order) is rejected:
-- the first one wins. Keys are grouped with a hash aggregate, so only the duplicates are
-- sorted (rejected_rows.sql fetches their raw rows).
WITH dup AS (
    SELECT order_id, line_no
    FROM {lines}
    WHERE _reject IS NULL
    GROUP BY order_id, line_no
    HAVING count(*) > 1
), later AS (
    SELECT l._file, l._line
    FROM (
        SELECT l._file, l._line,
               row_number() OVER (PARTITION BY l.order_id, l.line_no
                                  ORDER BY l._file, l._line) AS n
        FROM {lines} AS l
        JOIN dup ON dup.order_id = l.order_id AND dup.line_no = l.line_no
        WHERE l._reject IS NULL
    ) AS l
    WHERE l.n > 1
)
UPDATE {lines} AS l
SET _reject = {code}
FROM later
WHERE l._file = later._file AND l._line = later._line
