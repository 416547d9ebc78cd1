-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.demographic_profiles: segments of the latest published run crossed with demographic bands.
CREATE OR REPLACE VIEW mart.demographic_profiles AS
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
JOIN segmentation.demographic_profiles AS p ON p.run_id = l.run_id;

COMMENT ON VIEW mart.demographic_profiles IS
    'Each method''s segments of the latest published run broken down by age band, income band, gender, family status, dependants, region.';
COMMENT ON COLUMN mart.demographic_profiles.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.demographic_profiles.run_id IS 'Segmentation run (mart.runs).';
COMMENT ON COLUMN mart.demographic_profiles.method IS
    'Segmentation method of the segment; ''all'' (segment ''all'') = every customer.';
COMMENT ON COLUMN mart.demographic_profiles.segment IS 'Segment label within the method.';
COMMENT ON COLUMN mart.demographic_profiles.dimension IS 'Which breakdown: age band, income band, gender, family status, dependants, region.';
COMMENT ON COLUMN mart.demographic_profiles.value IS 'Band or value within the dimension.';
COMMENT ON COLUMN mart.demographic_profiles.customers IS 'Customers of the segment in this band.';
COMMENT ON COLUMN mart.demographic_profiles.share IS 'customers / customers of the segment.';
COMMENT ON COLUMN mart.demographic_profiles.revenue IS 'Revenue of the segment in this band.';
COMMENT ON COLUMN mart.demographic_profiles.revenue_share IS 'revenue / revenue of the segment.';
COMMENT ON COLUMN mart.demographic_profiles.gross_margin IS
    'Revenue minus cost where cost data exist, else NULL.';
COMMENT ON COLUMN mart.demographic_profiles.margin_pct IS
    'gross_margin / sales of the lines that have cost data.';
COMMENT ON COLUMN mart.demographic_profiles.index_vs_all IS
    '100 * share / share of all customers in this value (100 = as common as overall).';
COMMENT ON COLUMN mart.demographic_profiles.orders IS
    'Orders (sale orders) of the segment''s customers in this band.';
