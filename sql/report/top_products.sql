-- parameters run_id: bound by psycopg in etl.report.data.load
-- The three products with most revenue per RFM segment, from the invoice use-case view (latest
-- published run only): shown on a card when the data have no product categories.
SELECT rfm_segment AS segment, coalesce(product_name, product_id) AS product, revenue_rank
FROM mart.invoice_segment_top_products
WHERE run_id = %(run_id)s AND revenue_rank <= 3
ORDER BY rfm_segment, revenue_rank
