-- template parts batch_id, lines: filled by etl.ingest.sqlgen.model
-- Every customer and product the batch's lines refer to exists in its dimension, even when the
-- batch had no customer/product file for it (attributes arrive later or never).
WITH c AS (
    INSERT INTO warehouse.dim_customer (customer_id, batch_id)
    SELECT DISTINCT customer_id, {batch_id} FROM {lines}
    WHERE _reject IS NULL AND customer_id IS NOT NULL
    ON CONFLICT (customer_id) DO NOTHING
    RETURNING 1
), p AS (
    INSERT INTO warehouse.dim_product (product_id, batch_id)
    SELECT DISTINCT product_id, {batch_id} FROM {lines}
    WHERE _reject IS NULL AND product_id IS NOT NULL
    ON CONFLICT (product_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM p)
