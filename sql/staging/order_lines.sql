-- The batch's order lines in the canonical model, before they reach the warehouse.
--   x: the base source (<base>, typed) joined to its lookups; canonical fields computed by the
--      mapping's expressions, one flag per return rule, dimension fields read from the lines.
--   y: returns made negative, gross/discount/amount defaults, the first failed check (code).
--   final: line numbers (the mapping's, or the position within the order in file order) and
--      duplicate lines within the batch.
CREATE TEMP TABLE {table} ON COMMIT DROP AS
SELECT y.*, {line_no} AS line_no, {reject} AS _reject
FROM (
    SELECT x._file, x._line, {y_columns}, {pre_reject} AS _pre_reject
    FROM (
        SELECT {base_alias}._file, {base_alias}._line, {base_alias}._reject AS _source_reject,
               {x_columns}
        FROM ({base}) AS {base_alias}
        {joins}
        OFFSET 0  -- fence: compute each field once, not once per reference
    ) AS x
    OFFSET 0
) AS y
