-- template parts actions, cat_keys, dominant_method, dominant_segment, dominant_sets, members, method, rfm_segment, run_id, segment, segment_id, segment_ids, sets, top_sets: filled by etl.segment.pipeline.build_profiles
-- One row per method and segment of the run: size, revenue contribution, mean R/F/M, top
-- categories, predicted customer value (when the clv method ran) and a recommended action
-- (<actions>: a jsonb of method -> segment -> text, configured per segment; for methods without their own,
-- the action of the segment's dominant RFM segment when RFM ran).
-- Reads <members> (profile_members.sql: one row per customer of the run with a segment column
-- per method) once per statement part: GROUPING SETS (<sets>, one set per method; <method> and
-- <segment> name the set a group belongs to) add each customer into every method's segment.
-- <top_sets> do the same for category revenue, <dominant_sets> count each other method's
-- segment by <rfm_segment> (the members' RFM column; NULL and no set when RFM did not run).
-- A segment's id is the smallest of its members' (<segment_ids>: each method's min in every
-- set, <segment_id> picks the set's own): taken with the sizes, not by reading the run's
-- memberships again (2.5 s of 10 at 10M demo lines).
INSERT INTO segmentation.segment_profiles (
    run_id, method, segment, segment_id, customers, customer_share, revenue, revenue_share,
    avg_recency_days, avg_frequency, avg_monetary, avg_order_value, median_monetary,
    top_categories, recommended_action, extra
)
WITH grouped AS (
    SELECT
        {method} AS method,
        {segment} AS segment,
        count(*) AS customers,
        sum(m.monetary) AS revenue,
        avg(m.recency_days) AS avg_recency_days,
        avg(m.frequency) AS avg_frequency,
        avg(m.monetary) AS avg_monetary,
        sum(m.gross_revenue) / nullif(sum(m.frequency), 0) AS avg_order_value,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY m.monetary) AS median_monetary,
        avg(m.rfm_r) AS avg_r,
        avg(m.rfm_f) AS avg_f,
        avg(m.rfm_m) AS avg_m,
        avg(m.clv_12m) AS avg_clv,
        sum(m.clv_12m) AS total_clv,
        avg(m.clv_p_alive) AS avg_p_alive,
        {segment_ids}
    FROM {members} AS m
    GROUP BY GROUPING SETS ({sets})
),
agg AS (
    -- the R/F/M means are the rfm method's own scores: other methods' segments have none
    SELECT
        g.*,
        CASE WHEN g.method = 'rfm' THEN g.avg_r END AS rfm_avg_r,
        CASE WHEN g.method = 'rfm' THEN g.avg_f END AS rfm_avg_f,
        CASE WHEN g.method = 'rfm' THEN g.avg_m END AS rfm_avg_m,
        {segment_id} AS segment_id
    FROM grouped AS g
    WHERE g.segment IS NOT NULL
),
totals AS (
    SELECT method, sum(customers) AS customers, sum(revenue) AS revenue
    FROM agg
    GROUP BY method
),
cat_combos AS (
    -- category revenue per combination of the run's segments (<cat_keys>) first: the grouping
    -- sets below then add the combinations, far fewer than the customer x category rows
    SELECT {cat_keys}, sum(c.revenue) AS revenue
    FROM {members} AS m
    JOIN segmentation.customer_category_revenue AS c
        ON c.run_id = {run_id} AND c.customer_id = m.customer_id
    GROUP BY {cat_keys}
),
cats AS (
    SELECT {method} AS method, {segment} AS segment, m.category, sum(m.revenue) AS revenue
    FROM cat_combos AS m
    GROUP BY GROUPING SETS ({top_sets})
),
top AS (
    SELECT method, segment, (array_agg(category ORDER BY revenue DESC, category))[1:3] AS top
    FROM cats
    WHERE segment IS NOT NULL
    GROUP BY method, segment
),
rfm_counts AS (
    SELECT
        {dominant_method} AS method,
        {dominant_segment} AS segment,
        {rfm_segment} AS rfm_segment,
        count(*) AS customers
    FROM {members} AS m
    GROUP BY GROUPING SETS ({dominant_sets})
),
dominant AS (
    -- the most common RFM segment of each other method's segment
    SELECT DISTINCT ON (method, segment) method, segment, rfm_segment, customers
    FROM rfm_counts
    WHERE segment IS NOT NULL AND rfm_segment IS NOT NULL
    ORDER BY method, segment, customers DESC, rfm_segment
)
SELECT
    {run_id},
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
        {actions}::jsonb -> a.method ->> a.segment,
        CASE WHEN d.rfm_segment IS NOT NULL THEN
            'Mostly ' || d.rfm_segment || ' (' || round(100.0 * d.customers / a.customers)
            || ' percent): ' || coalesce({actions}::jsonb -> 'rfm' ->> d.rfm_segment, '')
        END
    ),
    jsonb_strip_nulls(jsonb_build_object(
        'avg_r', round(a.rfm_avg_r, 3), 'avg_f', round(a.rfm_avg_f, 3),
        'avg_m', round(a.rfm_avg_m, 3),
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
