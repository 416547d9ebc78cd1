-- template parts assignments, batch_id, columns, current, incoming, lines, values: filled by etl.ingest.warehouse_models.fact_lines_upsert
-- Columns from columns.ORDER_LINE.
-- Write the batch's good lines. A line whose (order_id, line_no) is already in the warehouse is
-- a duplicate: it is rewritten only if something changed and the line there came from this
-- batch or an older one (batches are built in staging order; a late older one loses). New
-- lines are inserted in key order (kinder to the primary-key index than file order).
-- <assignments>: every non-key column from the staged line; <current>/<incoming>: the columns
-- the staged lines carry, in the warehouse (f) and in this batch (l). Returns (inserted, updated).
WITH updated AS (
    UPDATE warehouse.fact_order_line AS f SET {assignments}
    FROM {lines} AS l
    WHERE l._reject IS NULL
      AND f.order_id = l.order_id AND f.line_no = l.line_no
      AND f.batch_id <= {batch_id}  -- an older batch never overwrites a newer one's line
      AND ({current}) IS DISTINCT FROM ({incoming})
    RETURNING 1
), inserted AS (
    INSERT INTO warehouse.fact_order_line ({columns})
    SELECT {values}
    FROM {lines} AS l
    WHERE l._reject IS NULL
      AND NOT EXISTS (
          SELECT 1 FROM warehouse.fact_order_line AS f
          WHERE f.order_id = l.order_id AND f.line_no = l.line_no
      )
    ORDER BY l.order_id COLLATE "C", l.line_no
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM updated)
