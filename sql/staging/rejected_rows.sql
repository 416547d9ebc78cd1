-- Keep every rejected row of one source with its raw text, file, line and reason.
-- <codes>: the typed rows with their rejection code; codes index <columns> and <reasons>.
-- The raw rows are read back by ctid (a TID scan of only the rejected ones).
WITH bad AS MATERIALIZED (
    SELECT _file, _line, _ctid, _reject FROM {codes} WHERE _reject IS NOT NULL
)
INSERT INTO staging.rejected_rows (batch_id, file_path, line_number, column_name, reason, raw_row)
SELECT {batch_id},
       ({files}::text[])[t._file],
       t._line,
       ({columns}::text[])[t._reject],
       ({reasons}::text[])[t._reject],
       to_jsonb(r) - '_file' - '_line'
FROM bad AS t
JOIN {raw} AS r ON r.ctid = t._ctid
WHERE r.ctid = ANY (ARRAY(SELECT _ctid FROM bad))
