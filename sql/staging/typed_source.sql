-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT {outer}, {reject} AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT {inner}, staging.layer_fence() AS _layer
    FROM {raw} AS r
    {lookups}
) AS t
