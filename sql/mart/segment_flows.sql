-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.segment_flows: from -> to customers and revenue per method between ANY two published
-- dates whose customer rows are kept (fixed SQL; filter on from_date and to_date).
CREATE OR REPLACE VIEW mart.segment_flows AS
WITH kept AS (
    SELECT run_id, as_of_date, methods
    FROM segmentation.runs
    WHERE status = 'published'
      AND NOT coalesce((metrics ->> 'customer_rows_pruned')::boolean, false)
)
SELECT
    a.as_of_date AS from_date,
    b.as_of_date AS to_date,
    a.run_id AS from_run_id,
    b.run_id AS to_run_id,
    f.method,
    f.from_segment,
    f.to_segment,
    f.customers,
    round(f.from_revenue, 2) AS from_revenue,
    round(f.to_revenue, 2) AS to_revenue
FROM kept AS a
JOIN kept AS b ON a.as_of_date < b.as_of_date
CROSS JOIN LATERAL (
    SELECT
        c.method,
        coalesce(c.from_segment, '(new)') AS from_segment,
        coalesce(c.to_segment, '(gone)') AS to_segment,
        count(*) AS customers,
        coalesce(sum(c.from_revenue), 0) AS from_revenue,
        coalesce(sum(c.to_revenue), 0) AS to_revenue
    FROM (
        SELECT
            s.method,
            s.customer_id,
            max(s.segment) FILTER (WHERE s.run_id = a.run_id) AS from_segment,
            max(s.segment) FILTER (WHERE s.run_id = b.run_id) AS to_segment,
            sum(x.monetary) FILTER (WHERE s.run_id = a.run_id) AS from_revenue,
            sum(x.monetary) FILTER (WHERE s.run_id = b.run_id) AS to_revenue
        FROM segmentation.customer_segments AS s
        JOIN segmentation.customer_features AS x
            ON x.run_id = s.run_id AND x.customer_id = s.customer_id
        WHERE s.run_id IN (a.run_id, b.run_id)
          AND s.method = ANY (a.methods) AND s.method = ANY (b.methods)
        GROUP BY s.method, s.customer_id
    ) AS c
    GROUP BY 1, 2, 3
) AS f;

COMMENT ON VIEW mart.segment_flows IS
    'Where customers went between two published dates, per method: filter on from_date and '
    'to_date (any pair whose customer rows are still kept, see keep_customer_rows_for_dates). '
    'mart.segment_migrations is the latest pair.';
COMMENT ON COLUMN mart.segment_flows.from_date IS 'Earlier as-of date.';
COMMENT ON COLUMN mart.segment_flows.to_date IS 'Later as-of date.';
COMMENT ON COLUMN mart.segment_flows.from_run_id IS 'Published run of from_date.';
COMMENT ON COLUMN mart.segment_flows.to_run_id IS 'Published run of to_date.';
COMMENT ON COLUMN mart.segment_flows.method IS 'Segmentation method (run on both dates).';
COMMENT ON COLUMN mart.segment_flows.from_segment IS
    'Segment at from_date; ''(new)'' = not yet a customer then.';
COMMENT ON COLUMN mart.segment_flows.to_segment IS
    'Segment at to_date; ''(gone)'' = no longer in the method''s results.';
COMMENT ON COLUMN mart.segment_flows.customers IS 'Customers who made this move.';
COMMENT ON COLUMN mart.segment_flows.from_revenue IS
    'Their net revenue (all time) as of from_date.';
COMMENT ON COLUMN mart.segment_flows.to_revenue IS 'Their net revenue (all time) as of to_date.';
