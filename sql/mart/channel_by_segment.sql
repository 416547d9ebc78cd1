-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.channel_by_segment: segments of the latest published run by channel band (no 'all' rows).
CREATE OR REPLACE VIEW mart.channel_by_segment AS
SELECT
    l.as_of_date,
    p.method,
    p.segment,
    sp.segment_rank,
    p.dimension,
    coalesce(p.value, 'unknown') AS value,
    p.customers,
    p.share,
    round(p.revenue, 2) AS revenue,
    p.revenue_share,
    p.index_vs_all,
    p.orders
FROM mart.as_of AS l
JOIN segmentation.channel_profiles AS p ON p.run_id = l.run_id AND p.method <> 'all'
JOIN mart.segment_profiles AS sp ON sp.method = p.method AND sp.segment = p.segment;

COMMENT ON VIEW mart.channel_by_segment IS
    'Each method''s segments of the latest published run by channel band, without the '
    'method = ''all'' rows (those are mart.channel_overall). Filter one method and one dimension.';
COMMENT ON COLUMN mart.channel_by_segment.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.channel_by_segment.method IS 'Segmentation method of the segment.';
COMMENT ON COLUMN mart.channel_by_segment.segment IS 'Segment label within the method.';
COMMENT ON COLUMN mart.channel_by_segment.segment_rank IS
    'Sort order of the segment within the method (mart.segment_profiles.segment_rank).';
COMMENT ON COLUMN mart.channel_by_segment.dimension IS 'Which breakdown: channel, platform, market, region or country (of the order lines).';
COMMENT ON COLUMN mart.channel_by_segment.value IS
    'Band or value within the dimension; ''unknown'' where the data have none.';
COMMENT ON COLUMN mart.channel_by_segment.customers IS 'Customers of the segment in this value.';
COMMENT ON COLUMN mart.channel_by_segment.share IS 'customers / customers of the segment (0-1).';
COMMENT ON COLUMN mart.channel_by_segment.revenue IS 'Net revenue of the segment in this value.';
COMMENT ON COLUMN mart.channel_by_segment.revenue_share IS 'revenue / revenue of the segment.';
COMMENT ON COLUMN mart.channel_by_segment.index_vs_all IS
    '100 * share / share of all customers in this value (100 = as common as overall).';
COMMENT ON COLUMN mart.channel_by_segment.orders IS 'Orders with a sale in this value.';
