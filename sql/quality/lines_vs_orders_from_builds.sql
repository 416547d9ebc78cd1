-- parameters none: bound by psycopg in etl.quality.run_checks
-- lines_vs_orders from the build-time record, without scanning the order lines (used when
-- etl.quality_record finds nothing unverified). Each batch compared the orders it wrote with
-- their lines when it was built (sql/warehouse/check_orders.sql) and failed on any difference;
-- other orders were unchanged by it, and nothing wrote to either table outside a checked build
-- since (staging.unchecked_writes is empty). Expected/actual here are the sums of what the
-- builds compared (an order written by two batches counts twice), not the tables' totals.
-- Returns (subject, expected, actual, passed) with sql/quality/lines_vs_orders.sql's subjects.
WITH subjects (k, subject) AS (
    VALUES (1, 'orders'), (2, 'order lines'), (3, 'sales revenue'), (4, 'net revenue')
),
recorded AS (
    SELECT r ->> 'subject' AS subject,
           (r ->> 'expected')::numeric AS expected,
           (r ->> 'actual')::numeric AS actual
    FROM staging.load_batches AS b
    CROSS JOIN LATERAL jsonb_array_elements(
        coalesce(b.quality -> 'checks' -> 'lines_vs_orders', '[]'::jsonb)
    ) AS r
    WHERE b.status = 'succeeded'
),
unverified AS (
    SELECT
        (SELECT count(*) FROM staging.unchecked_writes)
        + (
            SELECT count(*) FROM staging.load_batches
            WHERE status = 'succeeded' AND quality IS NULL
        ) AS n
)
SELECT
    s.subject,
    coalesce(sum(r.expected), 0)::text,
    coalesce(sum(r.actual), 0)::text,
    abs(coalesce(sum(r.expected), 0) - coalesce(sum(r.actual), 0)) < 0.005
        AND min(u.n) = 0
FROM subjects AS s
CROSS JOIN unverified AS u
LEFT JOIN recorded AS r ON r.subject = s.subject
GROUP BY s.k, s.subject
ORDER BY s.k;
