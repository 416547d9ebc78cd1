-- Keep every rejected order line with its file, line, reason and raw row (as jsonb, read back
-- from the raw table: only the few rejected lines pay for it).
INSERT INTO staging.rejected_rows (batch_id, file_path, line_number, column_name, reason, raw_row)
SELECT {batch_id},
       ({files}::text[])[l._file],
       l._line,
       ({columns}::text[])[l._reject],
       ({reasons}::text[])[l._reject],
       to_jsonb(r) - '_file' - '_line' - '_pos'
FROM {lines} AS l
JOIN {raw} AS r ON r._file = l._file AND r._line = l._line
WHERE l._reject IS NOT NULL
