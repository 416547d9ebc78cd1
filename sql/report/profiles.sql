-- parameters run_ids: bound by psycopg in etl.report.data.load
-- Every method's segment profiles of the reported run and the run it is compared with.
SELECT
    run_id,
    method,
    segment,
    segment_id,
    customers,
    customer_share,
    revenue,
    revenue_share,
    avg_recency_days,
    avg_frequency,
    avg_monetary,
    avg_order_value,
    median_monetary,
    array_to_string(top_categories, ', ') AS top_categories,
    recommended_action,
    (extra ->> 'avg_predicted_clv_12m')::double precision AS avg_clv,
    (extra ->> 'total_predicted_clv_12m')::double precision AS total_clv,
    (extra ->> 'avg_p_alive')::double precision AS avg_p_alive
FROM segmentation.segment_profiles
WHERE run_id = ANY(%(run_ids)s)
