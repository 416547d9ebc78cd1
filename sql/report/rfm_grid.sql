-- parameters run_id: bound by psycopg in etl.report.data.load
-- Customers and net revenue per R x F score cell (and its segment) of one run's RFM labels.
SELECT
    (s.scores ->> 'r')::int AS r_score,
    (s.scores ->> 'f')::int AS f_score,
    s.segment,
    count(*) AS customers,
    sum(f.monetary)::double precision AS revenue
FROM segmentation.customer_segments AS s
JOIN segmentation.customer_features AS f
    ON f.run_id = s.run_id AND f.customer_id = s.customer_id
WHERE s.run_id = %(run_id)s AND s.method = 'rfm'
GROUP BY 1, 2, 3
