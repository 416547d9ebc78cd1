-- Keep every rejected order line with its file, line, reason and raw row (carried as jsonb).
INSERT INTO staging.rejected_rows (batch_id, file_path, line_number, column_name, reason, raw_row)
SELECT {batch_id},
       ({files}::text[])[l._file],
       l._line,
       ({columns}::text[])[l._reject],
       ({reasons}::text[])[l._reject],
       l._raw_row
FROM {lines} AS l
WHERE l._reject IS NOT NULL
