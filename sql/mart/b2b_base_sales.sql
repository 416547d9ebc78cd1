-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.b2b_base_sales: every order line with its fiscal year and the star schema's dimensions; the other b2b_* views build on it.
CREATE OR REPLACE VIEW mart.b2b_base_sales AS
WITH latest AS (
    -- the run setting fiscal_year_start_month (also behind mart.calendar); 1 for runs without it
    SELECT coalesce((params ->> 'fiscal_year_start_month')::integer, 1) AS start_month
    FROM mart.as_of AS a
    JOIN segmentation.runs AS r USING (run_id)
)
SELECT
    x.order_id,
    x.line_no,
    x.order_date,
    -- the fiscal year is named after the calendar year it ends in, as in mart.calendar (start
    -- month 9: Sep 2020 is in fiscal 2021); start month 1 = the calendar year
    extract(year FROM date_trunc('month', x.order_date)
        - make_interval(months => (extract(month FROM x.order_date)::int - l.start_month + 12) % 12)
        + interval '11 months')::integer AS fiscal_year,
    x.customer_id AS customer_code,
    coalesce(nullif(c.attributes ->> 'customer', ''), x.customer_id, 'unknown') AS customer,
    coalesce(x.platform, 'unknown') AS platform,
    coalesce(x.channel, 'unknown') AS channel,
    coalesce(x.market, 'unknown') AS market,
    coalesce(nullif(c.attributes ->> 'sub_zone', ''), 'unknown') AS sub_zone,
    coalesce(x.region, 'unknown') AS region,
    coalesce(p.category_l1, 'unknown') AS division,
    coalesce(p.category_l2, 'unknown') AS segment,
    coalesce(p.category_l3, 'unknown') AS category,
    x.product_id,
    p.product_name,
    p.attributes ->> 'variant' AS variant,
    x.quantity,
    -- money at cents per line: every b2b_* total is a sum of these
    round(x.gross_amount, 2) AS gross_sales,
    round(x.discount_amount, 2) AS pre_invoice_discount,
    round(x.amount, 2) AS net_sales,
    round(x.cost_amount, 2) AS manufacturing_cost,
    round(x.amount, 2) - round(x.cost_amount, 2) AS gross_margin
FROM warehouse.fact_order_line AS x
LEFT JOIN latest AS l ON true
LEFT JOIN warehouse.dim_customer AS c ON c.customer_id = x.customer_id
LEFT JOIN warehouse.dim_product AS p ON p.product_id = x.product_id;

COMMENT ON VIEW mart.b2b_base_sales IS
    'Every order line with its fiscal year (fiscal_year_start_month of the latest published run, '
    'the setting behind mart.calendar) and the B2B star schema''s dimensions (AtliQ layout: platform, channel, '
    'market, sub_zone, region; division, segment, category of the product).';
COMMENT ON COLUMN mart.b2b_base_sales.order_id IS 'Order key (AtliQ: customer code and month).';
COMMENT ON COLUMN mart.b2b_base_sales.line_no IS 'Line within the order.';
COMMENT ON COLUMN mart.b2b_base_sales.order_date IS 'Order date.';
COMMENT ON COLUMN mart.b2b_base_sales.fiscal_year IS
    'Fiscal year, named after the calendar year it ends in; NULL until a run is published.';
COMMENT ON COLUMN mart.b2b_base_sales.customer_code IS 'Customer code (one per platform/channel/market).';
COMMENT ON COLUMN mart.b2b_base_sales.customer IS
    'The company behind the code (dim_customer attribute ''customer''; the code when missing; '
    '''unknown'' for lines without a customer).';
COMMENT ON COLUMN mart.b2b_base_sales.platform IS 'Platform of the line (e.g. Brick & Mortar).';
COMMENT ON COLUMN mart.b2b_base_sales.channel IS 'Channel (e.g. Retailer, Direct, Distributor).';
COMMENT ON COLUMN mart.b2b_base_sales.market IS 'Market (country).';
COMMENT ON COLUMN mart.b2b_base_sales.sub_zone IS 'Sub-zone of the customer.';
COMMENT ON COLUMN mart.b2b_base_sales.region IS 'Region (e.g. APAC, EU, NA).';
COMMENT ON COLUMN mart.b2b_base_sales.division IS 'Product division (category_l1).';
COMMENT ON COLUMN mart.b2b_base_sales.segment IS 'Product segment (category_l2).';
COMMENT ON COLUMN mart.b2b_base_sales.category IS 'Product category (category_l3).';
COMMENT ON COLUMN mart.b2b_base_sales.product_id IS 'Product code.';
COMMENT ON COLUMN mart.b2b_base_sales.product_name IS 'Product name.';
COMMENT ON COLUMN mart.b2b_base_sales.variant IS 'Product variant.';
COMMENT ON COLUMN mart.b2b_base_sales.quantity IS 'Units (negative for returns).';
COMMENT ON COLUMN mart.b2b_base_sales.gross_sales IS 'quantity * gross price, rounded to cents.';
COMMENT ON COLUMN mart.b2b_base_sales.pre_invoice_discount IS 'Pre-invoice deduction, rounded to cents.';
COMMENT ON COLUMN mart.b2b_base_sales.net_sales IS 'gross_sales - pre_invoice_discount (the line''s amount, rounded to cents).';
COMMENT ON COLUMN mart.b2b_base_sales.manufacturing_cost IS
    'quantity * manufacturing cost, rounded to cents; NULL without cost data.';
COMMENT ON COLUMN mart.b2b_base_sales.gross_margin IS
    'net_sales - manufacturing_cost (the profit the data allow); NULL without cost data.';
