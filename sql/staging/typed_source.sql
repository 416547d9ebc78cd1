-- Type one source's raw text rows (set-based, one pass).
-- <values>: each column parsed by its declared type (NULL when empty or unparseable) plus a
--           presence flag "_p:<column>" (the raw value was not blank).
-- <lookups>: date/time columns, parsed once per distinct value and joined back.
-- <reject>: CASE giving the code of the first failed check (missing required value, value that
--           does not parse), NULL for a good row. Codes are explained by the loader.
SELECT t.*, {reject} AS _reject
FROM (
    SELECT r._file, r._line, {values}
    FROM {raw} AS r
    {lookups}
    OFFSET 0  -- an optimisation fence: each value is parsed once, however often it is used
) AS t
