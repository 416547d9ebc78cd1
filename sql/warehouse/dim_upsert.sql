-- template parts alias, assignments, batch_id, current, fields, kept, key, rows, table: filled by etl.ingest.warehouse_models.dim_upsert
-- Fields: mapping.CUSTOMER_FIELDS or mapping.PRODUCT_FIELDS.
-- Upsert a dimension (<table>: warehouse.dim_customer or dim_product): one row per <key> from
-- <rows> (the latest row of the batch wins). A field the batch leaves empty keeps its earlier
-- value; attributes are merged; an unchanged row is not rewritten (a daily full export of the
-- customers rewrites nothing and counts no updates). <fields>: the dimension's fields but the
-- key; <kept>: each one's new value, or the old one when the batch has none.
WITH written AS (
    INSERT INTO {table} AS d ({key}, {fields}, attributes, batch_id, updated_at)
    SELECT DISTINCT ON ({key} COLLATE "C")
           {key}, {fields}, attributes, {batch_id}, now()
    FROM ({rows}) AS {alias}
    WHERE {key} IS NOT NULL
    ORDER BY {key} COLLATE "C", _order DESC, _file DESC, _line DESC
    ON CONFLICT ({key}) DO UPDATE SET
        {assignments},
        attributes = d.attributes || EXCLUDED.attributes,
        batch_id = EXCLUDED.batch_id,
        updated_at = now()
    WHERE coalesce(d.batch_id, 0) <= EXCLUDED.batch_id  -- an older batch never overwrites
      AND ({current}, d.attributes)
          IS DISTINCT FROM
          ({kept}, d.attributes || EXCLUDED.attributes)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
