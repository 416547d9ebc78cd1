-- Keep every rejected row of one source with its raw text, file, line and reason.
-- <codes>: the typed rows with their rejection code; codes index <columns> and <reasons>.
INSERT INTO staging.rejected_rows (batch_id, file_path, line_number, column_name, reason, raw_row)
SELECT {batch_id},
       ({files}::text[])[t._file],
       t._line,
       ({columns}::text[])[t._reject],
       ({reasons}::text[])[t._reject],
       to_jsonb(r) - '_file' - '_line'
FROM {codes} AS t
JOIN {raw} AS r ON r._file = t._file AND r._line = t._line
WHERE t._reject IS NOT NULL
