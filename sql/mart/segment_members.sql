-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.segment_members: one row per customer and method of the latest published run (long form).
CREATE OR REPLACE VIEW mart.segment_members AS
SELECT
    s.customer_id,
    l.as_of_date,
    s.method,
    s.segment,
    p.segment_rank,
    p.segment_id,
    f.recency_days,
    f.frequency,
    round(f.monetary, 2) AS monetary
FROM mart.as_of AS l
JOIN segmentation.customer_segments AS s ON s.run_id = l.run_id
JOIN segmentation.customer_features AS f
    ON f.run_id = l.run_id AND f.customer_id = s.customer_id
JOIN mart.segment_profiles AS p ON p.method = s.method AND p.segment = s.segment;

COMMENT ON VIEW mart.segment_members IS
    'Which segment each customer is in, one row per customer and method of the latest published '
    'run; method, segment, segment_rank and segment_id are the columns of mart.segment_profiles, '
    'so the two join on (method, segment). Filter one method before counting customers.';
COMMENT ON COLUMN mart.segment_members.customer_id IS 'Customer key (warehouse.dim_customer).';
COMMENT ON COLUMN mart.segment_members.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.segment_members.method IS
    'Segmentation method: rfm, tiers, kmeans, hierarchical, demographic, channel or clv.';
COMMENT ON COLUMN mart.segment_members.segment IS 'The customer''s segment label within the method.';
COMMENT ON COLUMN mart.segment_members.segment_rank IS
    'Sort order of the segment within the method (mart.segment_profiles.segment_rank).';
COMMENT ON COLUMN mart.segment_members.segment_id IS
    'Numeric id of the segment where the method has one (an identifier, not a quantity).';
COMMENT ON COLUMN mart.segment_members.recency_days IS
    'Days from the customer''s last sale to the as-of date.';
COMMENT ON COLUMN mart.segment_members.frequency IS 'Orders with at least one sale.';
COMMENT ON COLUMN mart.segment_members.monetary IS
    'Net revenue of the customer: sales minus returns and cancellations.';
