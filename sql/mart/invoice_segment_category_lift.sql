-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.invoice_segment_category_lift: categories per segment ranked by lift against all customers, latest published run.
CREATE OR REPLACE VIEW mart.invoice_segment_category_lift AS
WITH latest AS (
    SELECT
        run_id,
        a.as_of_date,
        (params #>> '{use_cases,invoice,lift_min_segment_share}')::double precision AS min_share
    FROM mart.as_of AS a
    JOIN segmentation.runs AS r USING (run_id)
),
overall AS (
    SELECT c.category, sum(c.revenue) AS revenue
    FROM latest AS l
    JOIN segmentation.customer_category_revenue AS c ON c.run_id = l.run_id
    GROUP BY c.category
),
per_segment AS (
    SELECT s.method, s.segment, c.category, sum(c.revenue) AS revenue,
           count(*) AS customers
    FROM latest AS l
    JOIN segmentation.customer_segments AS s ON s.run_id = l.run_id
    JOIN segmentation.customer_category_revenue AS c
        ON c.run_id = l.run_id AND c.customer_id = s.customer_id
    GROUP BY s.method, s.segment, c.category
),
shares AS (
    SELECT
        p.method,
        p.segment,
        p.category,
        p.revenue,
        p.customers,
        p.revenue / nullif(sum(p.revenue) OVER (PARTITION BY p.method, p.segment), 0)
            AS segment_share,
        o.revenue / nullif((SELECT sum(revenue) FROM overall), 0) AS all_share
    FROM per_segment AS p
    JOIN overall AS o ON o.category = p.category
)
SELECT
    l.as_of_date,
    l.run_id,
    s.method,
    s.segment,
    s.category,
    round(s.revenue, 2) AS revenue,
    s.customers,
    s.segment_share::double precision AS segment_share,
    s.all_share::double precision AS all_share,
    (s.segment_share / nullif(s.all_share, 0))::double precision AS lift,
    CASE WHEN s.segment_share >= l.min_share THEN
        rank() OVER (
            PARTITION BY s.method, s.segment, s.segment_share >= l.min_share
            ORDER BY s.segment_share / nullif(s.all_share, 0) DESC NULLS LAST
        )
    END AS rank_by_lift,
    rank() OVER (PARTITION BY s.method, s.segment ORDER BY s.revenue DESC) AS revenue_rank
FROM shares AS s
CROSS JOIN latest AS l;

COMMENT ON VIEW mart.invoice_segment_category_lift IS
    'Every method''s segments of the latest published run x top-level category: the segment''s '
    'share of its sales in the category against every customer''s share (lift). Rank by lift, '
    'not revenue, to see what sets a segment apart.';
COMMENT ON COLUMN mart.invoice_segment_category_lift.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.invoice_segment_category_lift.run_id IS 'Segmentation run (mart.runs).';
COMMENT ON COLUMN mart.invoice_segment_category_lift.method IS 'Segmentation method.';
COMMENT ON COLUMN mart.invoice_segment_category_lift.segment IS 'Segment label within the method.';
COMMENT ON COLUMN mart.invoice_segment_category_lift.category IS
    'Top-level category (category_l1; ''unknown'' when missing).';
COMMENT ON COLUMN mart.invoice_segment_category_lift.revenue IS
    'Gross sales of the segment''s customers in the category.';
COMMENT ON COLUMN mart.invoice_segment_category_lift.customers IS
    'Customers of the segment who bought in the category.';
COMMENT ON COLUMN mart.invoice_segment_category_lift.segment_share IS
    'revenue / the segment''s sales in all categories.';
COMMENT ON COLUMN mart.invoice_segment_category_lift.all_share IS
    'The category''s share of every customer''s sales.';
COMMENT ON COLUMN mart.invoice_segment_category_lift.lift IS
    'segment_share / all_share: 2 = the segment spends twice as much of its money here as all '
    'customers do.';
COMMENT ON COLUMN mart.invoice_segment_category_lift.rank_by_lift IS
    '1 = highest lift among the categories with segment_share >= '
    'use_cases.invoice.lift_min_segment_share; NULL for smaller ones.';
COMMENT ON COLUMN mart.invoice_segment_category_lift.revenue_rank IS
    '1 = the category with most of the segment''s sales.';
