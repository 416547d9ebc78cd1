-- template parts batch_id, rows: filled by etl.ingest.sqlgen.model
-- Upsert products: one row per product_id from <rows> (the latest row of the batch wins).
-- A field the batch leaves empty keeps its earlier value; attributes are merged; an unchanged
-- row is not rewritten.
WITH written AS (
    INSERT INTO warehouse.dim_product AS d (
        product_id, product_name, category_l1, category_l2, category_l3, list_price, unit_cost,
        attributes, batch_id, updated_at
    )
    SELECT DISTINCT ON (product_id COLLATE "C")
           product_id, product_name, category_l1, category_l2, category_l3, list_price,
           unit_cost, attributes, {batch_id}, now()
    FROM ({rows}) AS p
    WHERE product_id IS NOT NULL
    ORDER BY product_id COLLATE "C", _order DESC, _file DESC, _line DESC
    ON CONFLICT (product_id) DO UPDATE SET
        product_name = coalesce(EXCLUDED.product_name, d.product_name),
        category_l1 = coalesce(EXCLUDED.category_l1, d.category_l1),
        category_l2 = coalesce(EXCLUDED.category_l2, d.category_l2),
        category_l3 = coalesce(EXCLUDED.category_l3, d.category_l3),
        list_price = coalesce(EXCLUDED.list_price, d.list_price),
        unit_cost = coalesce(EXCLUDED.unit_cost, d.unit_cost),
        attributes = d.attributes || EXCLUDED.attributes,
        batch_id = EXCLUDED.batch_id,
        updated_at = now()
    -- a row that would not change is left alone (see dim_customer.sql)
    WHERE coalesce(d.batch_id, 0) <= EXCLUDED.batch_id  -- an older batch never overwrites
      AND (d.product_name, d.category_l1, d.category_l2, d.category_l3, d.list_price,
           d.unit_cost, d.attributes)
          IS DISTINCT FROM
          (coalesce(EXCLUDED.product_name, d.product_name),
           coalesce(EXCLUDED.category_l1, d.category_l1),
           coalesce(EXCLUDED.category_l2, d.category_l2),
           coalesce(EXCLUDED.category_l3, d.category_l3),
           coalesce(EXCLUDED.list_price, d.list_price), coalesce(EXCLUDED.unit_cost, d.unit_cost),
           d.attributes || EXCLUDED.attributes)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
