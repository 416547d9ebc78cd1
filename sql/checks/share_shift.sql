-- Segment-share warning: each segment's share of customers against the previously published run
-- (the latest published one with an earlier as-of date), in percentage points.
-- Params: run_id, as_of, points. Rows: (subject, observed, expected, warn); none without a
-- previous run.
WITH previous AS (
    SELECT run_id
    FROM segmentation.runs
    WHERE status = 'published' AND as_of_date < %(as_of)s::date
    ORDER BY as_of_date DESC, run_id DESC
    LIMIT 1
),
cur AS (
    SELECT method, segment, customer_share
    FROM segmentation.segment_profiles
    WHERE run_id = %(run_id)s
),
prev AS (
    SELECT p.method, p.segment, p.customer_share
    FROM segmentation.segment_profiles AS p
    JOIN previous AS pr ON pr.run_id = p.run_id
    WHERE p.method IN (SELECT method FROM cur)
),
shares AS (
    SELECT
        coalesce(c.method, p.method) AS method,
        coalesce(c.segment, p.segment) AS segment,
        100 * coalesce(c.customer_share, 0) AS now_pct,
        100 * coalesce(p.customer_share, 0) AS was_pct
    FROM cur AS c
    FULL JOIN prev AS p ON p.method = c.method AND p.segment = c.segment
    WHERE EXISTS (SELECT 1 FROM previous)
)
SELECT
    method || ' / ' || segment AS subject,
    format('%%s%%%% (was %%s%%%%)', round(now_pct::numeric, 1), round(was_pct::numeric, 1))
        AS observed,
    format('a change of at most %%s points', %(points)s) AS expected,
    abs(now_pct - was_pct) > %(points)s AS warn
FROM shares
ORDER BY method, segment;
