-- template parts table, typed: filled by etl.ingest.sqlgen.model
-- A typed source used as a lookup or as a dimension's input, materialised for this build.
CREATE TEMP TABLE {table} ON COMMIT DROP AS
{typed}
