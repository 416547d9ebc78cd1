-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.segment_profiles: one row per (method, segment) of the latest published run.
CREATE OR REPLACE VIEW mart.segment_profiles AS
SELECT
    l.as_of_date,
    l.run_id,
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
    round(p.avg_order_value::numeric, 2) AS avg_order_value,
    round(p.median_monetary::numeric, 2) AS median_monetary,
    p.top_categories,
    p.recommended_action,
    round((p.extra ->> 'avg_predicted_clv_12m')::numeric, 2) AS avg_predicted_clv_12m,
    round((p.extra ->> 'total_predicted_clv_12m')::numeric, 2) AS total_predicted_clv_12m,
    (p.extra ->> 'avg_p_alive')::double precision AS avg_p_alive,
    -- The one sort order of segments: most net revenue per customer first.
    row_number() OVER (
        PARTITION BY p.method ORDER BY p.avg_monetary DESC NULLS LAST, p.segment
    )::integer AS segment_rank
FROM mart.as_of AS l
JOIN segmentation.segment_profiles AS p ON p.run_id = l.run_id;

COMMENT ON VIEW mart.segment_profiles IS
    'One row per method and segment of the latest published run: size, revenue contribution, '
    'average R/F/M and a recommended marketing action.';
COMMENT ON COLUMN mart.segment_profiles.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.segment_profiles.run_id IS 'Segmentation run (mart.runs).';
COMMENT ON COLUMN mart.segment_profiles.method IS
    'rfm, tiers, kmeans, hierarchical, demographic, channel or clv.';
COMMENT ON COLUMN mart.segment_profiles.segment IS 'Segment label within the method.';
COMMENT ON COLUMN mart.segment_profiles.segment_id IS 'Numeric id where the method has one (an identifier, not a quantity: sort by segment_rank).';
COMMENT ON COLUMN mart.segment_profiles.customers IS 'Customers in the segment.';
COMMENT ON COLUMN mart.segment_profiles.customer_share IS
    'Share of the method''s customers (0-1; a method''s shares sum to 1).';
COMMENT ON COLUMN mart.segment_profiles.revenue IS 'Net revenue (monetary) of the segment, in cents precision.';
COMMENT ON COLUMN mart.segment_profiles.revenue_share IS 'Share of the method''s net revenue.';
COMMENT ON COLUMN mart.segment_profiles.avg_recency_days IS 'Mean recency in days.';
COMMENT ON COLUMN mart.segment_profiles.avg_frequency IS 'Mean number of orders.';
COMMENT ON COLUMN mart.segment_profiles.avg_monetary IS 'Mean net revenue per customer.';
COMMENT ON COLUMN mart.segment_profiles.avg_order_value IS
    'Gross sales / orders over the segment.';
COMMENT ON COLUMN mart.segment_profiles.median_monetary IS 'Median net revenue per customer.';
COMMENT ON COLUMN mart.segment_profiles.top_categories IS
    'Up to three top-level categories by gross sales, biggest first.';
COMMENT ON COLUMN mart.segment_profiles.recommended_action IS
    'Suggested marketing action for the segment (configurable).';
COMMENT ON COLUMN mart.segment_profiles.avg_predicted_clv_12m IS
    'Mean predicted 12-month customer value of the segment (NULL when clv did not run or could '
    'not be modelled).';
COMMENT ON COLUMN mart.segment_profiles.total_predicted_clv_12m IS
    'Sum of the segment''s predicted 12-month customer values.';
COMMENT ON COLUMN mart.segment_profiles.avg_p_alive IS
    'Mean probability that the segment''s customers are still active (0-1).';
COMMENT ON COLUMN mart.segment_profiles.segment_rank IS
    'Sort order of the segments within the method: 1 = highest mean net revenue per customer '
    '(ties by name). Every mart view with a segment carries the same rank.';
