-- parameters bins, method, run_id: bound by psycopg in etl.report.data.load
-- Histograms of predicted 12-month CLV (capped at its 99th percentile) and of p_alive, per
-- segment of the chosen method: bins x segments rows, never one row per customer.
WITH v AS (
    SELECT
        greatest((c.scores ->> 'predicted_clv_12m')::double precision, 0) AS clv,
        (c.scores ->> 'p_alive')::double precision AS p_alive,
        coalesce(s.segment, '(none)') AS segment
    FROM segmentation.customer_segments AS c
    LEFT JOIN segmentation.customer_segments AS s
        ON s.run_id = c.run_id AND s.method = %(method)s AND s.customer_id = c.customer_id
    WHERE c.run_id = %(run_id)s AND c.method = 'clv' AND c.scores ? 'predicted_clv_12m'
),
cap AS (
    SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY clv) AS hi FROM v
)
SELECT
    'clv' AS measure,
    v.segment,
    least(floor(least(v.clv, cap.hi) / nullif(cap.hi, 0) * %(bins)s), %(bins)s - 1)::int AS bin,
    cap.hi / %(bins)s AS width,
    count(*) AS customers
FROM v CROSS JOIN cap
WHERE v.clv IS NOT NULL
GROUP BY 1, 2, 3, 4
UNION ALL
SELECT
    'p_alive',
    v.segment,
    least(floor(v.p_alive * %(bins)s), %(bins)s - 1)::int,
    1.0 / %(bins)s,
    count(*)
FROM v
WHERE v.p_alive IS NOT NULL
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3
