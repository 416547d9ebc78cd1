-- parameters actions, run_id: bound by psycopg in etl.segment.pipeline.build_profiles
-- One row per method and segment of the run: size, revenue contribution, mean R/F/M, top
-- categories, predicted customer value (when the clv method ran) and a recommended action (configured per segment; for methods without their own,
-- the action of the segment's dominant RFM segment when RFM ran).
-- Params: run_id, actions (jsonb: {method: {segment: text}}).
INSERT INTO segmentation.segment_profiles (
    run_id, method, segment, segment_id, customers, customer_share, revenue, revenue_share,
    avg_recency_days, avg_frequency, avg_monetary, avg_order_value, median_monetary,
    top_categories, recommended_action, extra
)
WITH seg AS (
    SELECT s.method, s.segment, s.segment_id, s.customer_id, s.scores,
           f.recency_days, f.frequency, f.monetary, f.gross_revenue,
           (v.scores ->> 'predicted_clv_12m')::double precision AS clv,
           (v.scores ->> 'p_alive')::double precision AS p_alive
    FROM segmentation.customer_segments AS s
    JOIN segmentation.customer_features AS f
        ON f.run_id = s.run_id AND f.customer_id = s.customer_id
    LEFT JOIN segmentation.customer_segments AS v
        ON v.run_id = s.run_id AND v.method = 'clv' AND v.customer_id = s.customer_id
    WHERE s.run_id = %(run_id)s
),
totals AS (
    SELECT method, count(*) AS customers, sum(monetary) AS revenue
    FROM seg
    GROUP BY method
),
agg AS (
    SELECT
        method,
        segment,
        min(segment_id) AS segment_id,
        count(*) AS customers,
        sum(monetary) AS revenue,
        avg(recency_days) AS avg_recency_days,
        avg(frequency) AS avg_frequency,
        avg(monetary) AS avg_monetary,
        sum(gross_revenue) / nullif(sum(frequency), 0) AS avg_order_value,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY monetary) AS median_monetary,
        avg((scores ->> 'r')::numeric) AS avg_r,
        avg((scores ->> 'f')::numeric) AS avg_f,
        avg((scores ->> 'm')::numeric) AS avg_m,
        avg(clv) AS avg_clv,
        sum(clv) AS total_clv,
        avg(p_alive) AS avg_p_alive
    FROM seg
    GROUP BY method, segment
),
memberships AS (
    -- one row per customer: method -> segment of every method that labelled it
    SELECT customer_id, jsonb_object_agg(method, segment) AS segments
    FROM segmentation.customer_segments
    WHERE run_id = %(run_id)s
    GROUP BY customer_id
),
cats AS (
    -- category revenue added up once per combination of segments, then per method
    SELECT x.key AS method, x.value AS segment, c.category, sum(c.revenue) AS revenue
    FROM (
        SELECT m.segments, c.category, sum(c.revenue) AS revenue
        FROM memberships AS m
        JOIN segmentation.customer_category_revenue AS c
            ON c.run_id = %(run_id)s AND c.customer_id = m.customer_id
        GROUP BY m.segments, c.category
    ) AS c
    CROSS JOIN LATERAL jsonb_each_text(c.segments) AS x
    GROUP BY x.key, x.value, c.category
),
top AS (
    SELECT method, segment, (array_agg(category ORDER BY revenue DESC, category))[1:3] AS top
    FROM cats
    GROUP BY method, segment
),
dominant AS (
    -- the most common RFM segment of each other method's segment
    SELECT DISTINCT ON (x.key, x.value)
        x.key AS method, x.value AS segment, c.rfm_segment, sum(c.customers) AS customers
    FROM (
        SELECT segments, segments ->> 'rfm' AS rfm_segment, count(*) AS customers
        FROM memberships
        WHERE segments ? 'rfm'
        GROUP BY segments
    ) AS c
    CROSS JOIN LATERAL jsonb_each_text(c.segments) AS x
    WHERE x.key <> 'rfm'
    GROUP BY x.key, x.value, c.rfm_segment
    ORDER BY x.key, x.value, sum(c.customers) DESC, c.rfm_segment
)
SELECT
    %(run_id)s,
    a.method,
    a.segment,
    a.segment_id,
    a.customers,
    a.customers::double precision / t.customers,
    a.revenue,
    (a.revenue / nullif(t.revenue, 0))::double precision,
    a.avg_recency_days,
    a.avg_frequency,
    a.avg_monetary,
    a.avg_order_value,
    a.median_monetary,
    tp.top,
    coalesce(
        %(actions)s::jsonb -> a.method ->> a.segment,
        CASE WHEN d.rfm_segment IS NOT NULL THEN
            'Mostly ' || d.rfm_segment || ' (' || round(100.0 * d.customers / a.customers)
            || ' percent): ' || coalesce(%(actions)s::jsonb -> 'rfm' ->> d.rfm_segment, '')
        END
    ),
    jsonb_strip_nulls(jsonb_build_object(
        'avg_r', round(a.avg_r, 3), 'avg_f', round(a.avg_f, 3), 'avg_m', round(a.avg_m, 3),
        'dominant_rfm_segment', d.rfm_segment,
        'dominant_rfm_share', round(d.customers::numeric / a.customers, 4),
        'avg_predicted_clv_12m', round(a.avg_clv::numeric, 2),
        'total_predicted_clv_12m', round(a.total_clv::numeric, 2),
        'avg_p_alive', round(a.avg_p_alive::numeric, 4)
    ))
FROM agg AS a
JOIN totals AS t ON t.method = a.method
LEFT JOIN top AS tp ON tp.method = a.method AND tp.segment = a.segment
LEFT JOIN dominant AS d ON d.method = a.method AND d.segment = a.segment;
