-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.b2b_margin: revenue, margin and profit by fiscal year and each B2B dimension, with shares, growth and margin rank.
CREATE OR REPLACE VIEW mart.b2b_margin AS
WITH grouped AS (
    -- lines added up per combination of dimensions first: the unpivot below then repeats
    -- these (far fewer) rows, not every line. Keys compared byte-wise ("C"): same groups,
    -- no locale-aware comparisons in the big sort
    SELECT
        s.fiscal_year, s.platform COLLATE "C" AS platform, s.channel COLLATE "C" AS channel,
        s.market COLLATE "C" AS market, s.sub_zone COLLATE "C" AS sub_zone,
        s.region COLLATE "C" AS region, s.division COLLATE "C" AS division,
        s.segment COLLATE "C" AS segment, s.category COLLATE "C" AS category,
        s.customer COLLATE "C" AS customer, s.customer_code COLLATE "C" AS customer_code,
        sum(s.quantity) AS quantity,
        sum(s.gross_sales) AS gross_sales,
        sum(s.pre_invoice_discount) AS pre_invoice_discount,
        sum(s.net_sales) AS net_sales,
        sum(s.manufacturing_cost) AS manufacturing_cost,
        sum(s.gross_margin) AS gross_margin,
        sum(s.net_sales) FILTER (WHERE s.manufacturing_cost IS NOT NULL) AS costed_net_sales
    FROM mart.b2b_base_sales AS s
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
),
per_value AS (
    SELECT
        s.fiscal_year,
        d.dimension,
        d.value,
        sum(s.quantity) AS quantity,
        sum(s.gross_sales) AS gross_sales,
        sum(s.pre_invoice_discount) AS pre_invoice_discount,
        sum(s.net_sales) AS net_sales,
        sum(s.manufacturing_cost) AS manufacturing_cost,
        sum(s.gross_margin) AS gross_margin,
        sum(s.costed_net_sales) AS costed_net_sales,
        count(DISTINCT s.customer_code) AS customer_codes
    FROM grouped AS s
    CROSS JOIN LATERAL (
        VALUES ('all', 'all'), ('platform', s.platform), ('channel', s.channel),
               ('market', s.market), ('sub_zone', s.sub_zone), ('region', s.region),
               ('division', s.division), ('segment', s.segment), ('category', s.category),
               ('customer', s.customer)
    ) AS d (dimension, value)
    GROUP BY s.fiscal_year, d.dimension, d.value
)
SELECT
    v.fiscal_year,
    v.dimension,
    v.value,
    v.quantity,
    v.gross_sales,
    v.pre_invoice_discount,
    v.net_sales,
    v.manufacturing_cost,
    v.gross_margin,
    (v.gross_margin / nullif(v.costed_net_sales, 0))::double precision AS gross_margin_pct,
    -- over the values with positive net sales: a value whose returns exceed its sales gets 0,
    -- so shares stay within 0..1 and add up to 1 (without negative values: the plain share)
    (greatest(v.net_sales, 0) / nullif(sum(greatest(v.net_sales, 0))
        OVER (PARTITION BY v.fiscal_year, v.dimension), 0))::double precision AS net_sales_share,
    v.customer_codes,
    prev.net_sales AS previous_net_sales,
    (v.net_sales / nullif(prev.net_sales, 0) - 1)::double precision AS yoy_growth,
    rank() OVER (
        PARTITION BY v.fiscal_year, v.dimension ORDER BY v.gross_margin DESC NULLS LAST
    ) AS margin_rank
FROM per_value AS v
LEFT JOIN per_value AS prev
    ON prev.fiscal_year = v.fiscal_year - 1
   AND prev.dimension = v.dimension AND prev.value = v.value;

COMMENT ON VIEW mart.b2b_margin IS
    'Gross sales, pre-invoice discount, net sales, manufacturing cost and gross margin (profit) '
    'per fiscal year and value of each dimension (platform, channel, market, sub_zone, region, '
    'division, segment, category, customer; ''all''), with the value''s share of the year, '
    'year-on-year growth and its margin rank: market shift and most profitable categories.';
COMMENT ON COLUMN mart.b2b_margin.fiscal_year IS 'Fiscal year (mart.b2b_base_sales).';
COMMENT ON COLUMN mart.b2b_margin.dimension IS
    'platform, channel, market, sub_zone, region, division, segment, category, customer or all.';
COMMENT ON COLUMN mart.b2b_margin.value IS 'Value within the dimension.';
COMMENT ON COLUMN mart.b2b_margin.quantity IS 'Units sold (net of returns).';
COMMENT ON COLUMN mart.b2b_margin.gross_sales IS 'quantity * gross price.';
COMMENT ON COLUMN mart.b2b_margin.pre_invoice_discount IS 'Pre-invoice deductions.';
COMMENT ON COLUMN mart.b2b_margin.net_sales IS 'gross_sales - pre_invoice_discount (revenue).';
COMMENT ON COLUMN mart.b2b_margin.manufacturing_cost IS 'Manufacturing cost of the units.';
COMMENT ON COLUMN mart.b2b_margin.gross_margin IS
    'net_sales - manufacturing_cost over lines with cost data (profit).';
COMMENT ON COLUMN mart.b2b_margin.gross_margin_pct IS
    'gross_margin / net sales of the lines with cost data.';
COMMENT ON COLUMN mart.b2b_margin.net_sales_share IS
    'The value''s net sales / the year''s net sales of the dimension''s values with positive net '
    'sales (0 when returns exceed sales, so 0..1, adding up to 1): the market shift over time.';
COMMENT ON COLUMN mart.b2b_margin.customer_codes IS 'Distinct customer codes buying.';
COMMENT ON COLUMN mart.b2b_margin.previous_net_sales IS 'Net sales in the previous fiscal year.';
COMMENT ON COLUMN mart.b2b_margin.yoy_growth IS 'net_sales / previous_net_sales - 1.';
COMMENT ON COLUMN mart.b2b_margin.margin_rank IS
    '1 = the value with the largest gross margin in the year and dimension.';
