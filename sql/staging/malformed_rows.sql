-- template parts batch_id, files, malformed: filled by etl.ingest.sqlgen.model
-- Rows the CSV reader could not split into the header's fields (truncated or extra fields).
INSERT INTO staging.rejected_rows (batch_id, file_path, line_number, column_name, reason, raw_row)
SELECT {batch_id}, ({files}::text[])[m._file], m._line, NULL, m.reason,
       jsonb_build_object('text', m.text)
FROM {malformed} AS m
