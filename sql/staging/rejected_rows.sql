-- template parts batch_id, columns, files, raw, reasons, rejected: filled by etl.ingest.sqlgen.model
-- Keep every rejected row of a source (order lines included) with its file, line, reason and
-- raw row as jsonb, read back from the raw table by ctid: only the rejected rows pay for it,
-- with a TID scan. <rejected>: their _file, _line, _ctid and _reject (the code, an index into
-- <columns> and <reasons>).
INSERT INTO staging.rejected_rows (batch_id, file_path, line_number, column_name, reason, raw_row)
SELECT {batch_id},
       ({files}::text[])[l._file],
       l._line,
       ({columns}::text[])[l._reject],
       ({reasons}::text[])[l._reject],
       to_jsonb(r) - '_file' - '_line' - '_pos'
FROM {rejected} AS l
JOIN {raw} AS r ON r.ctid = l._ctid
WHERE r.ctid = ANY (ARRAY(SELECT _ctid FROM {rejected}))
