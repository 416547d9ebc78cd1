-- parameters run_id: bound by psycopg in etl.report.data.load
-- Descriptive statistics of the customer features of one run (the report's appendix).
SELECT 'recency_days' AS measure, count(recency_days) AS customers, avg(recency_days)::double precision AS mean,
       stddev_samp(recency_days)::double precision AS std, min(recency_days)::double precision AS min,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY recency_days) AS p25,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY recency_days) AS median,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY recency_days) AS p75,
       max(recency_days)::double precision AS max
FROM segmentation.customer_features WHERE run_id = %(run_id)s
UNION ALL
SELECT 'frequency' AS measure, count(frequency) AS customers, avg(frequency)::double precision AS mean,
       stddev_samp(frequency)::double precision AS std, min(frequency)::double precision AS min,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY frequency) AS p25,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY frequency) AS median,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY frequency) AS p75,
       max(frequency)::double precision AS max
FROM segmentation.customer_features WHERE run_id = %(run_id)s
UNION ALL
SELECT 'monetary' AS measure, count(monetary) AS customers, avg(monetary)::double precision AS mean,
       stddev_samp(monetary)::double precision AS std, min(monetary)::double precision AS min,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY monetary) AS p25,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY monetary) AS median,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY monetary) AS p75,
       max(monetary)::double precision AS max
FROM segmentation.customer_features WHERE run_id = %(run_id)s
UNION ALL
SELECT 'gross_revenue' AS measure, count(gross_revenue) AS customers, avg(gross_revenue)::double precision AS mean,
       stddev_samp(gross_revenue)::double precision AS std, min(gross_revenue)::double precision AS min,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY gross_revenue) AS p25,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY gross_revenue) AS median,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY gross_revenue) AS p75,
       max(gross_revenue)::double precision AS max
FROM segmentation.customer_features WHERE run_id = %(run_id)s
UNION ALL
SELECT 'avg_order_value' AS measure, count(avg_order_value) AS customers, avg(avg_order_value)::double precision AS mean,
       stddev_samp(avg_order_value)::double precision AS std, min(avg_order_value)::double precision AS min,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY avg_order_value) AS p25,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY avg_order_value) AS median,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY avg_order_value) AS p75,
       max(avg_order_value)::double precision AS max
FROM segmentation.customer_features WHERE run_id = %(run_id)s
