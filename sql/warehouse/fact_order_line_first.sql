-- template parts columns, lines, values: filled by etl.ingest.warehouse_models.fact_lines_first
-- Columns from columns.ORDER_LINE.
-- The first load into an empty fact table: every good line is new, so a plain insert (the
-- caller has dropped the indexes and rebuilds them after; it reads the row count).
INSERT INTO warehouse.fact_order_line ({columns})
SELECT {values}
FROM {lines} AS l
WHERE l._reject IS NULL
