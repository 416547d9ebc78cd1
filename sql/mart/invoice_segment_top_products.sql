-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.invoice_segment_top_products: the top products per RFM segment of the latest published run.
CREATE OR REPLACE VIEW mart.invoice_segment_top_products AS
WITH latest AS (
    SELECT run_id, a.as_of_date, (params #>> '{use_cases,invoice,top_n}')::integer AS top_n
    FROM mart.as_of AS a
    JOIN segmentation.runs AS r USING (run_id)
),
sales AS (
    -- sale lines of the run's customers, with their RFM segment
    SELECT g.rfm_segment, x.product_id, x.customer_id, x.order_id, x.amount, x.quantity
    FROM latest AS l
    JOIN warehouse.fact_order_line AS x
        ON x.customer_id IS NOT NULL AND x.order_date <= l.as_of_date
       AND x.is_sale
    JOIN segmentation.customer_segments AS s
        ON s.run_id = l.run_id AND s.method = 'rfm' AND s.customer_id = x.customer_id
    CROSS JOIN LATERAL (VALUES ('all'), (s.segment)) AS g (rfm_segment)
),
per_product AS (
    SELECT
        rfm_segment,
        coalesce(product_id, 'unknown') AS product_id,
        sum(amount) AS revenue,
        sum(quantity) AS quantity,
        count(DISTINCT customer_id) AS customers,
        count(DISTINCT order_id) AS orders
    FROM sales
    GROUP BY 1, 2
),
shares AS (
    SELECT
        p.*,
        p.revenue / nullif(sum(p.revenue) OVER (PARTITION BY p.rfm_segment), 0) AS revenue_share,
        row_number() OVER (
            PARTITION BY p.rfm_segment ORDER BY p.revenue DESC, p.product_id
        ) AS revenue_rank
    FROM per_product AS p
)
SELECT
    l.as_of_date,
    l.run_id,
    s.rfm_segment,
    s.revenue_rank,
    s.product_id,
    d.product_name,
    d.category_l1 AS category,
    round(s.revenue, 2) AS revenue,
    s.revenue_share,
    s.revenue_share / nullif(a.revenue_share, 0) AS lift,
    s.quantity,
    s.customers,
    s.orders
FROM shares AS s
CROSS JOIN latest AS l
JOIN shares AS a ON a.rfm_segment = 'all' AND a.product_id = s.product_id
LEFT JOIN warehouse.dim_product AS d ON d.product_id = s.product_id
WHERE s.revenue_rank <= l.top_n;

COMMENT ON VIEW mart.invoice_segment_top_products IS
    'The use_cases.invoice.top_n products with the most sales per RFM segment of the latest '
    'published run (rfm_segment ''all'' = every customer), with their lift.';
COMMENT ON COLUMN mart.invoice_segment_top_products.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.invoice_segment_top_products.run_id IS 'Segmentation run (mart.runs).';
COMMENT ON COLUMN mart.invoice_segment_top_products.rfm_segment IS
    'RFM segment; ''all'' = every customer of the run.';
COMMENT ON COLUMN mart.invoice_segment_top_products.revenue_rank IS
    '1 = the product with the most sales in the segment (ties: product id).';
COMMENT ON COLUMN mart.invoice_segment_top_products.product_id IS 'Product key.';
COMMENT ON COLUMN mart.invoice_segment_top_products.product_name IS 'Product name as loaded.';
COMMENT ON COLUMN mart.invoice_segment_top_products.category IS 'Top-level category (category_l1).';
COMMENT ON COLUMN mart.invoice_segment_top_products.revenue IS
    'Sales of the product to the segment''s customers up to the as-of date.';
COMMENT ON COLUMN mart.invoice_segment_top_products.revenue_share IS
    'revenue / the segment''s sales of all products.';
COMMENT ON COLUMN mart.invoice_segment_top_products.lift IS
    'revenue_share / the product''s share of every customer''s sales (1 = as popular as overall).';
COMMENT ON COLUMN mart.invoice_segment_top_products.quantity IS 'Units sold to the segment.';
COMMENT ON COLUMN mart.invoice_segment_top_products.customers IS 'Segment customers who bought it.';
COMMENT ON COLUMN mart.invoice_segment_top_products.orders IS 'Orders of the segment with it.';
