-- Customers of one segment of one run (segwise export). Params: run_id, method, segment.
-- Money is rounded to cents with a fixed type, so CSV and Parquet hold the same values.
SELECT
    s.customer_id,
    s.method,
    s.segment,
    s.segment_id,
    r.as_of_date,
    s.run_id,
    f.recency_days,
    f.frequency,
    round(f.monetary, 2)::numeric(18, 2) AS monetary,
    round(f.gross_revenue, 2)::numeric(18, 2) AS gross_revenue,
    round(f.avg_order_value, 2)::numeric(18, 2) AS avg_order_value,
    f.first_order_date,
    f.last_order_date,
    f.main_channel,
    f.main_region
FROM segmentation.customer_segments AS s
JOIN segmentation.runs AS r ON r.run_id = s.run_id
LEFT JOIN segmentation.customer_features AS f
    ON f.run_id = s.run_id AND f.customer_id = s.customer_id
WHERE s.run_id = %(run_id)s AND s.method = %(method)s AND s.segment = %(segment)s
ORDER BY s.customer_id
