-- A line whose (order_id, line_no) appeared earlier in the batch (file order) is rejected:
-- the first one wins. Keys are grouped with a hash aggregate, so only the duplicates are
-- sorted, and their raw rows are fetched from the raw table.
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
SET _reject = {code},
    _raw_row = to_jsonb(r) - '_file' - '_line' - '_pos'
FROM later
JOIN {raw} AS r ON r._file = later._file AND r._line = later._line
WHERE l._file = later._file AND l._line = later._line
