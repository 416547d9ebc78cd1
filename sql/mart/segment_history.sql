-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.segment_history: every published date x method x segment (fixed SQL over the per-segment
-- profiles, which retention never prunes).
CREATE OR REPLACE VIEW mart.segment_history AS
SELECT
    r.as_of_date,
    r.run_id,
    p.method,
    p.segment,
    p.segment_id,
    p.customers,
    p.customer_share,
    round(p.revenue, 2) AS revenue,
    p.revenue_share,
    p.avg_recency_days,
    p.avg_frequency,
    round(p.avg_monetary::numeric, 2) AS avg_monetary,
    c.is_new AS is_new_cluster,
    r.run_id = (
        SELECT l.run_id FROM segmentation.runs AS l
        WHERE l.status = 'published'
        ORDER BY l.as_of_date DESC, l.run_id DESC
        LIMIT 1
    ) AS is_latest
FROM segmentation.runs AS r
JOIN segmentation.segment_profiles AS p ON p.run_id = r.run_id
LEFT JOIN LATERAL (
    SELECT (e ->> 'is_new')::boolean AS is_new
    FROM segmentation.cluster_models AS m
    CROSS JOIN LATERAL jsonb_array_elements(m.profile) AS e
    WHERE m.run_id = r.run_id AND m.method = p.method
      AND (e ->> 'cluster_id')::int = p.segment_id
) AS c ON true
WHERE r.status = 'published';

COMMENT ON VIEW mart.segment_history IS
    'Segment sizes over time: one row per published as-of date, method and segment.';
COMMENT ON COLUMN mart.segment_history.as_of_date IS 'Date the run describes.';
COMMENT ON COLUMN mart.segment_history.run_id IS 'The published run of that date.';
COMMENT ON COLUMN mart.segment_history.method IS 'Segmentation method.';
COMMENT ON COLUMN mart.segment_history.segment IS 'Segment (cluster name for clusterings).';
COMMENT ON COLUMN mart.segment_history.segment_id IS
    'Segment number; for clusterings the id carried over from the previous run''s matching cluster.';
COMMENT ON COLUMN mart.segment_history.customers IS 'Customers in the segment.';
COMMENT ON COLUMN mart.segment_history.customer_share IS 'Share of the method''s customers.';
COMMENT ON COLUMN mart.segment_history.revenue IS 'Net revenue of those customers (all time to the date).';
COMMENT ON COLUMN mart.segment_history.revenue_share IS 'Share of the method''s net revenue.';
COMMENT ON COLUMN mart.segment_history.avg_recency_days IS 'Mean days since the last sale.';
COMMENT ON COLUMN mart.segment_history.avg_frequency IS 'Mean orders.';
COMMENT ON COLUMN mart.segment_history.avg_monetary IS 'Mean net revenue.';
COMMENT ON COLUMN mart.segment_history.is_new_cluster IS
    'Clusterings: true when no cluster of the previous run matched this one (NULL otherwise).';
COMMENT ON COLUMN mart.segment_history.is_latest IS 'True for the latest published date.';
