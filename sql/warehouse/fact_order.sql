-- template parts columns, totals, updates: filled by etl.ingest.warehouse_models.fact_order
-- Columns: columns.ORDER_FACT.
-- Upsert the orders the batch touched from their recomputed totals (order_totals.sql, whose
-- columns come in this order). <updates>: every non-key column from the totals.
INSERT INTO warehouse.fact_order AS o ({columns})
SELECT * FROM {totals}
ON CONFLICT (order_id) DO UPDATE SET {updates}
