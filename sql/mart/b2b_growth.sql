-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.b2b_growth: year-on-year growth per product segment and market.
CREATE OR REPLACE VIEW mart.b2b_growth AS
WITH cells AS (
    SELECT s.fiscal_year, s.segment, s.market, sum(s.net_sales) AS net_sales,
           sum(s.gross_margin) AS gross_margin
    FROM mart.b2b_base_sales AS s
    GROUP BY s.fiscal_year, s.segment, s.market
)
SELECT
    c.fiscal_year,
    c.segment,
    c.market,
    c.net_sales,
    c.gross_margin,
    p.net_sales AS previous_net_sales,
    c.net_sales - p.net_sales AS growth,
    (c.net_sales / nullif(p.net_sales, 0) - 1)::double precision AS yoy_growth,
    rank() OVER (PARTITION BY c.fiscal_year ORDER BY c.net_sales / nullif(p.net_sales, 0) DESC
                 NULLS LAST) AS growth_rank
FROM cells AS c
LEFT JOIN cells AS p
    ON p.fiscal_year = c.fiscal_year - 1 AND p.segment = c.segment AND p.market = c.market;

COMMENT ON VIEW mart.b2b_growth IS
    'Net sales per fiscal year, product segment and market with year-on-year growth: the '
    'segments and markets with high growth potential.';
COMMENT ON COLUMN mart.b2b_growth.fiscal_year IS 'Fiscal year.';
COMMENT ON COLUMN mart.b2b_growth.segment IS 'Product segment (category_l2).';
COMMENT ON COLUMN mart.b2b_growth.market IS 'Market.';
COMMENT ON COLUMN mart.b2b_growth.net_sales IS 'Net sales in the year.';
COMMENT ON COLUMN mart.b2b_growth.gross_margin IS 'Gross margin in the year.';
COMMENT ON COLUMN mart.b2b_growth.previous_net_sales IS 'Net sales in the previous fiscal year.';
COMMENT ON COLUMN mart.b2b_growth.growth IS 'net_sales - previous_net_sales.';
COMMENT ON COLUMN mart.b2b_growth.yoy_growth IS 'net_sales / previous_net_sales - 1.';
COMMENT ON COLUMN mart.b2b_growth.growth_rank IS '1 = fastest-growing cell of the year.';
