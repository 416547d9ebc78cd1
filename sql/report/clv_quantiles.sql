-- parameters run_id: bound by psycopg in etl.report.data.load
-- Quantiles of predicted 12-month CLV over every modelled customer of one run.
SELECT percentile_cont(ARRAY[0.1, 0.25, 0.5, 0.75, 0.9, 0.99]) WITHIN GROUP (
    ORDER BY (scores ->> 'predicted_clv_12m')::double precision
) AS quantiles
FROM segmentation.customer_segments
WHERE run_id = %(run_id)s AND method = 'clv' AND scores ? 'predicted_clv_12m'
