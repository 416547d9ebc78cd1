-- template parts base, base_alias, final_columns, joins, pre_reject, table, x_columns, y_columns: filled by etl.ingest.sqlgen.model
-- The batch's order lines in the canonical model, before they reach the warehouse.
--   x: the base source (typed) joined to its lookups; canonical fields computed by the
--      mapping's expressions, one flag per return rule, dimension fields read from the lines.
--   y: returns made negative, gross/discount/amount defaults, the first failed check (code).
--   final: line numbers (the mapping's, the staged position within the order, or counted
--      here) and the rejection code (rejected_rows.sql fetches a rejected line's raw row).
-- staging.layer_fence() keeps each layer (x, y) a subquery of its own, so its fields are computed
-- once, not once per reference, and a large batch may be typed in parallel workers.
CREATE UNLOGGED TABLE {table} AS
SELECT {final_columns}
FROM (
    SELECT x._file, x._line, x._ctid, {y_columns}, {pre_reject} AS _pre_reject,
           staging.layer_fence() AS _layer
    FROM (
        SELECT {base_alias}._file, {base_alias}._line, {base_alias}._ctid,
               {base_alias}._reject AS _source_reject,
               {x_columns},
               staging.layer_fence() AS _layer
        FROM ({base}) AS {base_alias}
        {joins}
    ) AS x
) AS y
