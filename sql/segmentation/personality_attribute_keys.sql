-- fixed SQL: run as is by etl.usecases.personality.read_customers
-- The attribute keys of customer-level customers (those with any spend_<category> attribute).
SELECT DISTINCT k.key
FROM warehouse.dim_customer AS c
CROSS JOIN LATERAL jsonb_object_keys(c.attributes) AS k (key)
WHERE EXISTS (
    SELECT 1 FROM jsonb_object_keys(c.attributes) AS s (key) WHERE s.key LIKE 'spend\_%'
)
ORDER BY 1;
