-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.b2b_cell_gaps: platform x channel x market cells where the company sells least relative to its other markets.
CREATE OR REPLACE VIEW mart.b2b_cell_gaps AS
WITH cells AS (
    SELECT s.fiscal_year, s.platform, s.channel, s.market, sum(s.net_sales) AS net_sales
    FROM mart.b2b_base_sales AS s
    GROUP BY s.fiscal_year, s.platform, s.channel, s.market
),
mixes AS (
    SELECT DISTINCT fiscal_year, platform, channel FROM cells
),
markets AS (
    SELECT DISTINCT fiscal_year, market FROM cells
),
grid AS (
    SELECT
        m.fiscal_year,
        m.platform,
        m.channel,
        k.market,
        coalesce(c.net_sales, 0) AS net_sales
    FROM mixes AS m
    JOIN markets AS k ON k.fiscal_year IS NOT DISTINCT FROM m.fiscal_year
    LEFT JOIN cells AS c
        ON c.fiscal_year IS NOT DISTINCT FROM m.fiscal_year AND c.platform = m.platform
       AND c.channel = m.channel AND c.market = k.market
),
expected AS (
    SELECT
        g.*,
        sum(g.net_sales) OVER (PARTITION BY g.fiscal_year, g.market)
            * sum(g.net_sales) OVER (PARTITION BY g.fiscal_year, g.platform, g.channel)
            / nullif(sum(g.net_sales) OVER (PARTITION BY g.fiscal_year), 0) AS expected_net_sales
    FROM grid AS g
)
SELECT
    e.fiscal_year,
    e.platform,
    e.channel,
    e.market,
    e.net_sales,
    round(e.expected_net_sales, 2) AS expected_net_sales,
    (100 * e.net_sales / nullif(e.expected_net_sales, 0))::double precision AS index_vs_expected,
    round(e.expected_net_sales - e.net_sales, 2) AS gap,
    rank() OVER (PARTITION BY e.fiscal_year ORDER BY e.expected_net_sales - e.net_sales DESC)
        AS gap_rank
FROM expected AS e;

COMMENT ON VIEW mart.b2b_cell_gaps IS
    'Per fiscal year, each platform x channel x market cell''s net sales against what the '
    'market would sell with the company''s overall platform/channel mix: low index_vs_expected '
    'and a large gap = where the company sells least relative to the others.';
COMMENT ON COLUMN mart.b2b_cell_gaps.fiscal_year IS 'Fiscal year.';
COMMENT ON COLUMN mart.b2b_cell_gaps.platform IS 'Platform.';
COMMENT ON COLUMN mart.b2b_cell_gaps.channel IS 'Channel.';
COMMENT ON COLUMN mart.b2b_cell_gaps.market IS 'Market.';
COMMENT ON COLUMN mart.b2b_cell_gaps.net_sales IS 'Net sales of the cell (0 = none).';
COMMENT ON COLUMN mart.b2b_cell_gaps.expected_net_sales IS
    'market''s net sales * the platform/channel''s share of all net sales in the year, '
    'rounded to cents.';
COMMENT ON COLUMN mart.b2b_cell_gaps.index_vs_expected IS
    '100 * net_sales / expected_net_sales (100 = as the overall mix predicts).';
COMMENT ON COLUMN mart.b2b_cell_gaps.gap IS 'expected_net_sales - net_sales (positive = shortfall).';
COMMENT ON COLUMN mart.b2b_cell_gaps.gap_rank IS '1 = the largest shortfall of the year.';
