-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.channel_overall: every customer of the latest published run by channel band (no segments).
CREATE OR REPLACE VIEW mart.channel_overall AS
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
JOIN segmentation.channel_profiles AS p ON p.run_id = l.run_id AND p.method = 'all';

COMMENT ON VIEW mart.channel_overall IS
    'All customers of the latest published run by channel band: the method = ''all'' rows of '
    'mart.channel_profiles. Filter one dimension.';
COMMENT ON COLUMN mart.channel_overall.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.channel_overall.dimension IS 'Which breakdown: channel, platform, market, region or country (of the order lines).';
COMMENT ON COLUMN mart.channel_overall.value IS
    'Band or value within the dimension; ''unknown'' where the data have none.';
COMMENT ON COLUMN mart.channel_overall.customers IS 'Customers in this value.';
COMMENT ON COLUMN mart.channel_overall.share IS 'customers / all customers (0-1).';
COMMENT ON COLUMN mart.channel_overall.revenue IS 'Net revenue of these customers in this value.';
COMMENT ON COLUMN mart.channel_overall.revenue_share IS 'revenue / all net revenue.';
COMMENT ON COLUMN mart.channel_overall.orders IS 'Orders with a sale in this value.';
