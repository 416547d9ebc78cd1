-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.monthly_sales_by_segment: sales per calendar month of each segment of the latest run.
CREATE OR REPLACE VIEW mart.monthly_sales_by_segment AS
WITH months AS (
    SELECT
        o.customer_id,
        date_trunc('month', o.order_date)::date AS month,
        count(*) FILTER (WHERE o.n_sale_lines > 0) AS orders,
        sum(o.sales_amount) AS sales,
        sum(o.return_amount) AS returns_value,
        sum(o.sales_amount - o.return_amount) AS revenue
    FROM mart.as_of AS l
    JOIN warehouse.fact_order AS o
        ON o.customer_id IS NOT NULL AND o.order_date <= l.as_of_date
    GROUP BY 1, 2
)
SELECT
    m.month,
    l.as_of_date,
    s.method,
    s.segment,
    p.segment_rank,
    count(*) FILTER (WHERE m.orders > 0) AS buying_customers,
    sum(m.orders)::bigint AS orders,
    round(sum(m.sales), 2) AS sales,
    round(sum(m.returns_value), 2) AS returns_value,
    round(sum(m.revenue), 2) AS revenue
FROM mart.as_of AS l
JOIN segmentation.customer_segments AS s ON s.run_id = l.run_id
JOIN months AS m ON m.customer_id = s.customer_id
JOIN mart.segment_profiles AS p ON p.method = s.method AND p.segment = s.segment
GROUP BY m.month, l.as_of_date, s.method, s.segment, p.segment_rank;

COMMENT ON VIEW mart.monthly_sales_by_segment IS
    'Sales per calendar month up to the as-of date, by the segment each customer has in the '
    'latest published run (today''s segments looking back). month is the time column; filter one '
    'method (rows of different methods count the same sales).';
COMMENT ON COLUMN mart.monthly_sales_by_segment.month IS 'First day of the calendar month.';
COMMENT ON COLUMN mart.monthly_sales_by_segment.as_of_date IS
    'Date of the run whose segments are used (inclusive).';
COMMENT ON COLUMN mart.monthly_sales_by_segment.method IS 'Segmentation method.';
COMMENT ON COLUMN mart.monthly_sales_by_segment.segment IS 'Segment label within the method.';
COMMENT ON COLUMN mart.monthly_sales_by_segment.segment_rank IS
    'Sort order of the segment within the method (mart.segment_profiles.segment_rank).';
COMMENT ON COLUMN mart.monthly_sales_by_segment.buying_customers IS
    'Customers of the segment with a sale in the month.';
COMMENT ON COLUMN mart.monthly_sales_by_segment.orders IS 'Orders with a sale in the month.';
COMMENT ON COLUMN mart.monthly_sales_by_segment.sales IS 'Sales before returns in the month.';
COMMENT ON COLUMN mart.monthly_sales_by_segment.returns_value IS
    'Value of returns and cancellations in the month (positive).';
COMMENT ON COLUMN mart.monthly_sales_by_segment.revenue IS
    'Net revenue in the month: sales minus returns; summed over months it is the segment''s '
    'revenue in mart.segment_profiles.';
