-- Customers who entered or left one segment since the previous published run (segwise export
-- --change). Params: run_id, method, segment, change (entered or left).
-- Reads segmentation.segment_history, written at publish: one row per customer whose segment
-- changed; previous_segment NULL = a new customer, segment NULL = no longer a customer.
SELECT
    h.customer_id,
    h.method,
    h.previous_segment,
    h.segment,
    h.previous_run_id,
    prev.as_of_date AS previous_as_of_date,
    r.as_of_date,
    h.run_id,
    f.recency_days,
    f.frequency,
    round(f.monetary, 2)::numeric(18, 2) AS monetary,
    f.last_order_date
FROM segmentation.segment_history AS h
JOIN segmentation.runs AS r ON r.run_id = h.run_id
LEFT JOIN segmentation.runs AS prev ON prev.run_id = h.previous_run_id
LEFT JOIN segmentation.customer_features AS f
    ON f.run_id = h.run_id AND f.customer_id = h.customer_id
WHERE h.run_id = %(run_id)s
  AND h.method = %(method)s
  AND CASE %(change)s
        WHEN 'entered' THEN h.segment = %(segment)s
        WHEN 'left' THEN h.previous_segment = %(segment)s
      END
ORDER BY h.customer_id
