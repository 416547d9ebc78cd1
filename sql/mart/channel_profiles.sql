-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.channel_profiles: segments of the latest published run crossed with channel bands.
CREATE OR REPLACE VIEW mart.channel_profiles AS
SELECT
    l.as_of_date,
    l.run_id,
    p.method,
    p.segment,
    p.dimension,
    coalesce(p.value, 'unknown') AS value,
    p.customers,
    p.share,
    round(p.revenue, 2) AS revenue,
    p.revenue_share,
    round(p.gross_margin, 2) AS gross_margin,
    p.margin_pct,
    p.index_vs_all,
    p.orders
FROM mart.as_of AS l
JOIN segmentation.channel_profiles AS p ON p.run_id = l.run_id;

COMMENT ON VIEW mart.channel_profiles IS
    'Each method''s segments of the latest published run broken down by channel, platform, market, region.';
COMMENT ON COLUMN mart.channel_profiles.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.channel_profiles.run_id IS 'Segmentation run (mart.runs).';
COMMENT ON COLUMN mart.channel_profiles.method IS
    'Segmentation method of the segment; ''all'' (segment ''all'') = every customer.';
COMMENT ON COLUMN mart.channel_profiles.segment IS 'Segment label within the method.';
COMMENT ON COLUMN mart.channel_profiles.dimension IS
    'Which breakdown: channel, platform, market, region, country (of the order lines).';
COMMENT ON COLUMN mart.channel_profiles.value IS 'Band or value within the dimension.';
COMMENT ON COLUMN mart.channel_profiles.customers IS
    'Customers of the segment with a sale in this value (one customer can count in several).';
COMMENT ON COLUMN mart.channel_profiles.share IS 'customers / customers of the segment.';
COMMENT ON COLUMN mart.channel_profiles.revenue IS
    'Net revenue (sales minus returns) of the segment''s order lines in this value.';
COMMENT ON COLUMN mart.channel_profiles.revenue_share IS 'revenue / revenue of the segment.';
COMMENT ON COLUMN mart.channel_profiles.gross_margin IS
    'Revenue minus cost where cost data exist, else NULL.';
COMMENT ON COLUMN mart.channel_profiles.margin_pct IS
    'gross_margin / sales of the lines that have cost data.';
COMMENT ON COLUMN mart.channel_profiles.index_vs_all IS
    '100 * share / share of all customers in this value (100 = as common as overall).';
COMMENT ON COLUMN mart.channel_profiles.orders IS
    'Distinct orders with a sale in this value.';
