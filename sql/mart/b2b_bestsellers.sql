-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.b2b_bestsellers: products ranked by units and net sales overall, per market, per fiscal year and both.
CREATE OR REPLACE VIEW mart.b2b_bestsellers AS
WITH per_product AS (
    SELECT
        s.fiscal_year,
        coalesce(s.market, 'all') AS market,
        GROUPING(s.fiscal_year) = 1 AS all_years,
        s.product_id,
        min(s.product_name) AS product_name,
        min(s.variant) AS variant,
        min(s.category) AS category,
        sum(s.quantity) AS quantity,
        sum(s.net_sales) AS net_sales,
        sum(s.gross_margin) AS gross_margin
    FROM mart.b2b_base_sales AS s
    GROUP BY GROUPING SETS (
        (s.product_id), (s.market, s.product_id), (s.fiscal_year, s.product_id),
        (s.fiscal_year, s.market, s.product_id)
    )
)
SELECT
    p.fiscal_year,
    p.market,
    p.product_id,
    p.product_name,
    p.variant,
    p.category,
    p.quantity,
    p.net_sales,
    p.gross_margin,
    rank() OVER w_scope_qty AS quantity_rank,
    rank() OVER w_scope_sales AS net_sales_rank
FROM per_product AS p
WINDOW
    w_scope_qty AS (PARTITION BY p.all_years, p.fiscal_year, p.market ORDER BY p.quantity DESC),
    w_scope_sales AS (
        PARTITION BY p.all_years, p.fiscal_year, p.market ORDER BY p.net_sales DESC
    );

COMMENT ON VIEW mart.b2b_bestsellers IS
    'Products ranked by units and by net sales: overall (fiscal_year NULL, market ''all''), per '
    'market, per fiscal year, and per market and fiscal year. Filter quantity_rank <= 10.';
COMMENT ON COLUMN mart.b2b_bestsellers.fiscal_year IS 'Fiscal year; NULL = all years.';
COMMENT ON COLUMN mart.b2b_bestsellers.market IS 'Market; ''all'' = every market.';
COMMENT ON COLUMN mart.b2b_bestsellers.product_id IS 'Product code.';
COMMENT ON COLUMN mart.b2b_bestsellers.product_name IS 'Product name.';
COMMENT ON COLUMN mart.b2b_bestsellers.variant IS 'Product variant.';
COMMENT ON COLUMN mart.b2b_bestsellers.category IS 'Product category.';
COMMENT ON COLUMN mart.b2b_bestsellers.quantity IS 'Units sold in the scope.';
COMMENT ON COLUMN mart.b2b_bestsellers.net_sales IS 'Net sales in the scope.';
COMMENT ON COLUMN mart.b2b_bestsellers.gross_margin IS 'Gross margin in the scope.';
COMMENT ON COLUMN mart.b2b_bestsellers.quantity_rank IS '1 = most units in the scope.';
COMMENT ON COLUMN mart.b2b_bestsellers.net_sales_rank IS '1 = most net sales in the scope.';
