-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.customer_segments: one row per customer of the latest published run, every method's label.
CREATE OR REPLACE VIEW mart.customer_segments AS
SELECT
    f.customer_id,
    l.as_of_date,
    l.run_id,
    f.recency_days,
    f.frequency,
    round(f.monetary, 2) AS monetary,
    round(f.gross_revenue, 2) AS gross_revenue,
    round(f.avg_order_value, 2) AS avg_order_value,
    f.first_order_date,
    f.last_order_date,
    f.tenure_days,
    f.mean_days_between_orders,
    f.distinct_products,
    f.distinct_categories,
    -- A share of sales, so at most 1: returns beyond the sales (of goods bought before the
    -- data start) count up to the sales value; returns_value keeps the full amount.
    (least(f.returns_value, f.gross_revenue) / nullif(f.gross_revenue, 0))::double precision
        AS return_rate,
    f.top_categories,
    f.preferred_weekday,
    f.preferred_hour,
    coalesce(f.main_channel, 'unknown') AS main_channel,
    coalesce(f.main_region, 'unknown') AS main_region,
    (rfm.scores ->> 'r')::smallint AS r_score,
    (rfm.scores ->> 'f')::smallint AS f_score,
    (rfm.scores ->> 'm')::smallint AS m_score,
    rfm.scores ->> 'rfm' AS rfm_score,
    rfm.segment AS rfm_segment,
    tiers.scores ->> 'orders_tier' AS orders_tier,
    tiers.scores ->> 'revenue_tier' AS revenue_tier,
    tiers.segment AS size_tier,
    km.segment_id AS cluster_id,
    km.segment AS cluster_name,
    hc.segment_id AS hierarchical_cluster_id,
    hc.segment AS hierarchical_cluster_name,
    demo.segment AS demographic_segment,
    CASE WHEN demo.segment IS NOT NULL
        THEN coalesce(demo.scores ->> 'age_band', 'unknown') END AS age_band,
    CASE WHEN demo.segment IS NOT NULL
        THEN coalesce(demo.scores ->> 'income_band', 'unknown') END AS income_band,
    CASE WHEN demo.segment IS NOT NULL
        THEN coalesce(demo.scores ->> 'gender', 'unknown') END AS gender,
    CASE WHEN demo.segment IS NOT NULL
        THEN coalesce(demo.scores ->> 'family_status', 'unknown') END AS family_status,
    ch.segment AS channel_segment,
    clv.segment AS clv_segment,
    (clv.scores ->> 'p_alive')::double precision AS p_alive,
    (clv.scores ->> 'expected_purchases_90d')::double precision AS expected_purchases_90d,
    round((clv.scores ->> 'predicted_clv_12m')::numeric, 2) AS predicted_clv_12m,
    round(f.returns_value, 2) AS returns_value,
    lc.segment AS lifecycle_stage
-- Each method's memberships are those of the latest run found by the run's key first
-- (segmentation.customer_segments keyed by run_id = mart.as_of's run inside the subquery): a
-- LEFT JOIN on "run_id = l.run_id" made the planner read every stored run's rows of the method
-- (10-25 s with 14 runs' 27M memberships at 382k customers, growing with the retained runs).
FROM mart.as_of AS l
JOIN segmentation.customer_features AS f ON f.run_id = l.run_id
LEFT JOIN (
    SELECT s.customer_id, s.segment_id, s.segment, s.scores
    FROM mart.as_of AS r
    JOIN segmentation.customer_segments AS s ON s.run_id = r.run_id AND s.method = 'rfm'
) AS rfm ON rfm.customer_id = f.customer_id
LEFT JOIN (
    SELECT s.customer_id, s.segment_id, s.segment, s.scores
    FROM mart.as_of AS r
    JOIN segmentation.customer_segments AS s ON s.run_id = r.run_id AND s.method = 'tiers'
) AS tiers ON tiers.customer_id = f.customer_id
LEFT JOIN (
    SELECT s.customer_id, s.segment_id, s.segment, s.scores
    FROM mart.as_of AS r
    JOIN segmentation.customer_segments AS s ON s.run_id = r.run_id AND s.method = 'kmeans'
) AS km ON km.customer_id = f.customer_id
LEFT JOIN (
    SELECT s.customer_id, s.segment_id, s.segment, s.scores
    FROM mart.as_of AS r
    JOIN segmentation.customer_segments AS s ON s.run_id = r.run_id AND s.method = 'hierarchical'
) AS hc ON hc.customer_id = f.customer_id
LEFT JOIN (
    SELECT s.customer_id, s.segment_id, s.segment, s.scores
    FROM mart.as_of AS r
    JOIN segmentation.customer_segments AS s ON s.run_id = r.run_id AND s.method = 'demographic'
) AS demo ON demo.customer_id = f.customer_id
LEFT JOIN (
    SELECT s.customer_id, s.segment_id, s.segment, s.scores
    FROM mart.as_of AS r
    JOIN segmentation.customer_segments AS s ON s.run_id = r.run_id AND s.method = 'channel'
) AS ch ON ch.customer_id = f.customer_id
LEFT JOIN (
    SELECT s.customer_id, s.segment_id, s.segment, s.scores
    FROM mart.as_of AS r
    JOIN segmentation.customer_segments AS s ON s.run_id = r.run_id AND s.method = 'clv'
) AS clv ON clv.customer_id = f.customer_id
LEFT JOIN (
    SELECT s.customer_id, s.segment_id, s.segment, s.scores
    FROM mart.as_of AS r
    JOIN segmentation.customer_segments AS s ON s.run_id = r.run_id AND s.method = 'lifecycle'
) AS lc ON lc.customer_id = f.customer_id;

COMMENT ON VIEW mart.customer_segments IS
    'One row per customer (with at least one sale by the as-of date) of the latest published '
    'segmentation run, with its features and every method''s label. NULL label = method not run.';
COMMENT ON COLUMN mart.customer_segments.customer_id IS 'Customer key (warehouse.dim_customer).';
COMMENT ON COLUMN mart.customer_segments.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.customer_segments.run_id IS 'Segmentation run (mart.runs) behind the row.';
COMMENT ON COLUMN mart.customer_segments.recency_days IS
    'Days from the last sale to the as-of date (0 = bought on the as-of date).';
COMMENT ON COLUMN mart.customer_segments.frequency IS
    'Distinct orders with at least one sale (customer id, quantity > 0, price > 0, not a return).';
COMMENT ON COLUMN mart.customer_segments.monetary IS
    'Net revenue: sales minus the value of returns and cancellations.';
COMMENT ON COLUMN mart.customer_segments.gross_revenue IS 'Sales before returns.';
COMMENT ON COLUMN mart.customer_segments.avg_order_value IS 'gross_revenue / frequency.';
COMMENT ON COLUMN mart.customer_segments.first_order_date IS 'Date of the first sale.';
COMMENT ON COLUMN mart.customer_segments.last_order_date IS 'Date of the last sale.';
COMMENT ON COLUMN mart.customer_segments.tenure_days IS 'Days from the first sale to the as-of date.';
COMMENT ON COLUMN mart.customer_segments.mean_days_between_orders IS
    'Mean gap in days between consecutive sale orders; NULL with a single order.';
COMMENT ON COLUMN mart.customer_segments.distinct_products IS 'Distinct products bought.';
COMMENT ON COLUMN mart.customer_segments.distinct_categories IS
    'Distinct top-level product categories bought.';
COMMENT ON COLUMN mart.customer_segments.return_rate IS
    'Share of gross sales returned, 0-1 (0 = nothing returned): least(returns_value, '
    'gross_revenue) / gross_revenue; returns beyond the sales count up to the sales value.';
COMMENT ON COLUMN mart.customer_segments.top_categories IS
    'Up to three top-level categories by gross sales, biggest first.';
COMMENT ON COLUMN mart.customer_segments.preferred_weekday IS
    'ISO weekday (1 = Monday .. 7 = Sunday) with most sale orders.';
COMMENT ON COLUMN mart.customer_segments.preferred_hour IS 'Hour of day (0-23) with most sale orders.';
COMMENT ON COLUMN mart.customer_segments.main_channel IS
    'Channel of most of the customer''s orders with a sale (ties: first alphabetically); '
    '''unknown'' where the data have none.';
COMMENT ON COLUMN mart.customer_segments.main_region IS
    'Region of most of the customer''s orders with a sale (ties: first alphabetically); '
    '''unknown'' where the data have none.';
COMMENT ON COLUMN mart.customer_segments.r_score IS
    'Recency quintile score 1-5, 5 = most recent; equal values always share a score.';
COMMENT ON COLUMN mart.customer_segments.f_score IS 'Frequency quintile score 1-5, 5 = most orders.';
COMMENT ON COLUMN mart.customer_segments.m_score IS 'Monetary quintile score 1-5, 5 = highest net.';
COMMENT ON COLUMN mart.customer_segments.rfm_score IS 'R, F and M scores as one code, e.g. ''545''.';
COMMENT ON COLUMN mart.customer_segments.rfm_segment IS
    'Named RFM segment from the R x F map (e.g. Champions, At Risk).';
COMMENT ON COLUMN mart.customer_segments.orders_tier IS 'Size tier S/M/L on number of orders.';
COMMENT ON COLUMN mart.customer_segments.revenue_tier IS 'Size tier S/M/L on revenue.';
COMMENT ON COLUMN mart.customer_segments.size_tier IS
    'Orders tier x revenue tier, e.g. ''L-M''; ''inactive'' = no sale in the tier window.';
COMMENT ON COLUMN mart.customer_segments.cluster_id IS 'K-means cluster number.';
COMMENT ON COLUMN mart.customer_segments.cluster_name IS 'Readable k-means cluster name.';
COMMENT ON COLUMN mart.customer_segments.hierarchical_cluster_id IS
    'Hierarchical (Ward) cluster number.';
COMMENT ON COLUMN mart.customer_segments.hierarchical_cluster_name IS
    'Readable hierarchical cluster name.';
COMMENT ON COLUMN mart.customer_segments.demographic_segment IS
    'Demographic label (age band and gender); ''unknown'' parts where data are missing.';
COMMENT ON COLUMN mart.customer_segments.age_band IS
    'Age band at the as-of date; ''unknown'' when not recorded, NULL when demographic did not run.';
COMMENT ON COLUMN mart.customer_segments.income_band IS 'Income band; ''unknown'' when not recorded.';
COMMENT ON COLUMN mart.customer_segments.gender IS 'Gender as recorded; ''unknown'' when not recorded.';
COMMENT ON COLUMN mart.customer_segments.family_status IS
    'Family status as recorded; ''unknown'' when not recorded.';
COMMENT ON COLUMN mart.customer_segments.channel_segment IS
    'Channel label: main channel and platform of the customer''s sales.';
COMMENT ON COLUMN mart.customer_segments.clv_segment IS
    'Customer value tier: High value (top 20 percent by predicted CLV), Medium value, Low value '
    '(bottom 50 percent), Likely churned (p_alive below 0.3), Not modelled (too little history); '
    'shares and threshold configurable (clv settings).';
COMMENT ON COLUMN mart.customer_segments.p_alive IS
    'Probability (0-1) that the customer is still active, i.e. will buy again (BG/NBD). NULL = '
    'not modelled. 1 for a customer who has bought only once so far.';
COMMENT ON COLUMN mart.customer_segments.expected_purchases_90d IS
    'Expected purchases (distinct purchase days) in the 90 days after the as-of date (BG/NBD).';
COMMENT ON COLUMN mart.customer_segments.predicted_clv_12m IS
    'Predicted value of the next 12 months: expected purchases x expected spend per purchase '
    '(Gamma-Gamma, net of the customer''s return rate) x margin, discounted monthly.';
COMMENT ON COLUMN mart.customer_segments.returns_value IS
    'Value of the customer''s returns and cancellations (positive), in full.';
COMMENT ON COLUMN mart.customer_segments.lifecycle_stage IS
    'Lifecycle stage at the as-of date: new, active, reactivated, at risk or lapsed (rules in '
    'the run''s lifecycle settings).';
