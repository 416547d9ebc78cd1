-- parameters run_id: bound by psycopg in etl.segment.profile_sql.replace_profiles
-- Channel profiles of a run: revenue contribution and gross margin per channel, platform,
-- market, region and country, for the whole population (method 'all' / segment 'all') and
-- crossed with every method's segments. One pass over the order lines of the run's customers
-- up to the as-of date, reduced to one row per customer and value before the segments join.
-- Params: run_id (the as-of date comes from segmentation.runs).
--   customers    = customers of the segment with a sale in that value; a customer buying
--                  through two channels counts in both, so shares can add up to more than 1
--   share        = customers / customers of the segment; index_vs_all = 100 * share / share of
--                  all customers (100 = as common as in the whole population)
--   orders       = distinct orders with a sale in that value
--   revenue      = net revenue: sales minus returns (fact_order_line.amount, signed), so the
--                  values of a dimension add up to the segment's monetary; revenue_share of it
--   gross_margin = sales minus cost over sale lines with cost data (NULL where none has any);
--                  margin_pct = gross_margin / those sales. extra: list price sales (gross_amount),
--                  discounts, discount_pct, cost coverage of sales.
INSERT INTO segmentation.channel_profiles (
    run_id, method, segment, dimension, value, customers, share, index_vs_all, orders,
    revenue, revenue_share, gross_margin, margin_pct, extra
)
WITH run AS (
    SELECT as_of_date FROM segmentation.runs WHERE run_id = %(run_id)s
),
line_money AS (
    -- the one pass over order lines: what fact_order does not carry (list price, discounts
    -- and cost of sale lines), per order
    SELECT
        l.order_id,
        sum(l.gross_amount) AS list_sales,
        sum(l.discount_amount) AS discounts,
        sum(l.amount) FILTER (WHERE l.cost_amount IS NOT NULL) AS costed_sales,
        sum(l.amount - l.cost_amount) AS gross_margin
    FROM warehouse.fact_order_line AS l
    WHERE l.customer_id IS NOT NULL
      AND l.order_date <= (SELECT as_of_date FROM run)
      AND l.is_sale
    GROUP BY l.order_id
),
orders AS (
    -- fact_order: one row per order with its channel attributes, sales and returns (the same
    -- source as the features' monetary, so revenue reconciles with the segment profiles)
    SELECT
        o.customer_id,
        o.n_sale_lines > 0 AS has_sale,
        o.sales_amount - o.return_amount AS revenue,
        o.sales_amount AS sales,
        coalesce(m.list_sales, 0) AS list_sales,
        coalesce(m.discounts, 0) AS discounts,
        m.costed_sales,
        m.gross_margin,
        coalesce(nullif(btrim(o.channel), ''), 'unknown') AS channel,
        coalesce(nullif(btrim(o.platform), ''), 'unknown') AS platform,
        coalesce(nullif(btrim(o.market), ''), 'unknown') AS market,
        coalesce(nullif(btrim(o.region), ''), 'unknown') AS region,
        coalesce(nullif(btrim(o.country), ''), 'unknown') AS country
    FROM warehouse.fact_order AS o
    JOIN segmentation.customer_features AS f
        ON f.run_id = %(run_id)s AND f.customer_id = o.customer_id
    LEFT JOIN line_money AS m ON m.order_id = o.order_id
    WHERE o.order_date <= (SELECT as_of_date FROM run)
      AND (o.n_sale_lines > 0 OR o.return_amount <> 0)
),
per_customer AS (
    SELECT
        customer_id,
        CASE
            WHEN GROUPING(channel) = 0 THEN 'channel'
            WHEN GROUPING(platform) = 0 THEN 'platform'
            WHEN GROUPING(market) = 0 THEN 'market'
            WHEN GROUPING(region) = 0 THEN 'region'
            ELSE 'country'
        END AS dimension,
        coalesce(channel, platform, market, region, country) AS value,
        count(*) FILTER (WHERE has_sale) AS orders,
        sum(revenue) AS revenue,
        sum(sales) AS sales,
        sum(list_sales) AS list_sales,
        sum(discounts) AS discounts,
        sum(costed_sales) AS costed_sales,
        sum(gross_margin) AS gross_margin
    FROM orders
    GROUP BY GROUPING SETS (
        (customer_id, channel),
        (customer_id, platform),
        (customer_id, market),
        (customer_id, region),
        (customer_id, country)
    )
),
members AS (
    SELECT s.method, s.segment, s.customer_id
    FROM segmentation.customer_segments AS s
    WHERE s.run_id = %(run_id)s
    UNION ALL
    SELECT 'all', 'all', f.customer_id
    FROM segmentation.customer_features AS f
    WHERE f.run_id = %(run_id)s
),
segment_sizes AS (
    SELECT method, segment, count(*) AS customers
    FROM members
    GROUP BY method, segment
),
cells AS (
    SELECT
        m.method,
        m.segment,
        c.dimension,
        c.value,
        count(*) FILTER (WHERE c.orders > 0) AS customers,
        sum(c.orders) AS orders,
        sum(c.revenue) AS revenue,
        sum(c.sales) AS sales,
        sum(c.list_sales) AS list_sales,
        sum(c.discounts) AS discounts,
        sum(c.costed_sales) AS costed_sales,
        sum(c.gross_margin) AS gross_margin
    FROM members AS m
    JOIN per_customer AS c ON c.customer_id = m.customer_id
    GROUP BY m.method, m.segment, c.dimension, c.value
),
population AS (
    SELECT c.dimension, c.value, c.customers::double precision / z.customers AS share
    FROM cells AS c
    JOIN segment_sizes AS z ON z.method = c.method AND z.segment = c.segment
    WHERE c.method = 'all'
)
SELECT
    %(run_id)s,
    c.method,
    c.segment,
    c.dimension,
    c.value,
    c.customers,
    c.customers::double precision / z.customers,
    100 * (c.customers::double precision / z.customers) / nullif(p.share, 0),
    c.orders,
    c.revenue,
    (c.revenue / nullif(sum(c.revenue) OVER (PARTITION BY c.method, c.segment, c.dimension), 0))
        ::double precision,
    c.gross_margin,
    (c.gross_margin / nullif(c.costed_sales, 0))::double precision,
    jsonb_build_object(
        'population_share', p.share,
        'sales', c.sales,
        'returns', c.sales - c.revenue,
        'list_sales', c.list_sales,
        'discounts', c.discounts,
        'discount_pct', (c.discounts / nullif(c.list_sales, 0))::double precision,
        'costed_sales', c.costed_sales,
        'cost_coverage', (c.costed_sales / nullif(c.sales, 0))::double precision
    )
FROM cells AS c
JOIN segment_sizes AS z ON z.method = c.method AND z.segment = c.segment
JOIN population AS p ON p.dimension = c.dimension AND p.value = c.value;
