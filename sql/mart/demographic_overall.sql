-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.demographic_overall: every customer of the latest published run by demographic band (no segments).
CREATE OR REPLACE VIEW mart.demographic_overall AS
SELECT
    l.as_of_date,
    p.dimension,
    coalesce(p.value, 'unknown') AS value,
    p.customers,
    p.share,
    round(p.revenue, 2) AS revenue,
    p.revenue_share,
    p.orders
FROM mart.as_of AS l
JOIN segmentation.demographic_profiles AS p ON p.run_id = l.run_id AND p.method = 'all';

COMMENT ON VIEW mart.demographic_overall IS
    'All customers of the latest published run by demographic band: the method = ''all'' rows of '
    'mart.demographic_profiles. Filter one dimension.';
COMMENT ON COLUMN mart.demographic_overall.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.demographic_overall.dimension IS 'Which breakdown: age_band, income_band, gender, family_status, dependants or region.';
COMMENT ON COLUMN mart.demographic_overall.value IS
    'Band or value within the dimension; ''unknown'' where the data have none.';
COMMENT ON COLUMN mart.demographic_overall.customers IS 'Customers in this value.';
COMMENT ON COLUMN mart.demographic_overall.share IS 'customers / all customers (0-1).';
COMMENT ON COLUMN mart.demographic_overall.revenue IS 'Net revenue of these customers in this value.';
COMMENT ON COLUMN mart.demographic_overall.revenue_share IS 'revenue / all net revenue.';
COMMENT ON COLUMN mart.demographic_overall.orders IS 'Orders with a sale in this value.';
