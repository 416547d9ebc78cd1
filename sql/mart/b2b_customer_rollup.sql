-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.b2b_customer_rollup: customer codes rolled up to the company behind them.
CREATE OR REPLACE VIEW mart.b2b_customer_rollup AS
SELECT
    s.customer,
    count(DISTINCT s.customer_code) AS customer_codes,
    array_agg(DISTINCT s.customer_code ORDER BY s.customer_code) AS codes,
    array_agg(DISTINCT s.platform ORDER BY s.platform) AS platforms,
    array_agg(DISTINCT s.channel ORDER BY s.channel) AS channels,
    array_agg(DISTINCT s.market ORDER BY s.market) AS markets,
    count(DISTINCT s.order_id) AS orders,
    sum(s.quantity) AS quantity,
    sum(s.gross_sales) AS gross_sales,
    sum(s.pre_invoice_discount) AS pre_invoice_discount,
    sum(s.net_sales) AS net_sales,
    sum(s.gross_margin) AS gross_margin,
    (sum(s.gross_margin)
        / nullif(sum(s.net_sales) FILTER (WHERE s.manufacturing_cost IS NOT NULL), 0))
        ::double precision AS gross_margin_pct,
    min(s.order_date) AS first_order_date,
    max(s.order_date) AS last_order_date
FROM mart.b2b_base_sales AS s
WHERE s.customer_code IS NOT NULL
GROUP BY s.customer;

COMMENT ON VIEW mart.b2b_customer_rollup IS
    'One row per company: its customer codes (one per platform, channel and market) rolled up, '
    'with totals over all loaded order lines.';
COMMENT ON COLUMN mart.b2b_customer_rollup.customer IS
    'Company name (dim_customer attribute ''customer''; the code when missing).';
COMMENT ON COLUMN mart.b2b_customer_rollup.customer_codes IS 'Number of customer codes.';
COMMENT ON COLUMN mart.b2b_customer_rollup.codes IS 'The customer codes.';
COMMENT ON COLUMN mart.b2b_customer_rollup.platforms IS 'Platforms the company buys through.';
COMMENT ON COLUMN mart.b2b_customer_rollup.channels IS 'Channels.';
COMMENT ON COLUMN mart.b2b_customer_rollup.markets IS 'Markets.';
COMMENT ON COLUMN mart.b2b_customer_rollup.orders IS 'Orders (AtliQ: code x month).';
COMMENT ON COLUMN mart.b2b_customer_rollup.quantity IS 'Units.';
COMMENT ON COLUMN mart.b2b_customer_rollup.gross_sales IS 'Gross sales.';
COMMENT ON COLUMN mart.b2b_customer_rollup.pre_invoice_discount IS 'Pre-invoice deductions.';
COMMENT ON COLUMN mart.b2b_customer_rollup.net_sales IS 'Net sales.';
COMMENT ON COLUMN mart.b2b_customer_rollup.gross_margin IS 'Gross margin (profit).';
COMMENT ON COLUMN mart.b2b_customer_rollup.gross_margin_pct IS
    'gross_margin / net sales of lines with cost data.';
COMMENT ON COLUMN mart.b2b_customer_rollup.first_order_date IS 'First order.';
COMMENT ON COLUMN mart.b2b_customer_rollup.last_order_date IS 'Last order.';
