-- template parts channel_totals, first_method, members, method, run_id, segment, sets, size_sets: filled by etl.segment.profiles_channel.build
-- Channel profiles of a run: revenue contribution and gross margin per channel, platform,
-- market, region and country, for the whole population (method 'all' / segment 'all') and
-- crossed with every method's segments. Reads one row per customer and value
-- (<channel_totals>: customer_channel_totals.sql's columns, the warehouse's kept totals or a
-- temporary table computed up to the as-of date) for the run's customers.
--   customers    = customers of the segment with a sale in that value; a customer buying
--                  through two channels counts in both, so shares can add up to more than 1
--   share        = customers / customers of the segment; index_vs_all = 100 * share / share of
--                  all customers (100 = as common as in the whole population)
--   orders       = distinct orders with a sale in that value
--   revenue      = net revenue: sales minus returns, so the values of a dimension add up to the
--                  segment's monetary; revenue_share of it
--   gross_margin = sales minus cost over sale lines with cost data (NULL where none has any);
--                  margin_pct = gross_margin / those sales. extra: list price sales (gross_amount),
--                  discounts, discount_pct, cost coverage of sales.
-- Each customer row of <members> (profile_members.sql: one row per customer of the run, a
-- segment column per method) is joined to its channel rows once, and GROUPING SETS (<sets>: one
-- set per method) adds it into every method's groups in one pass; <method> and <segment> name
-- the set a group belongs to. The whole population is the sum of <first_method>'s groups, its
-- customers without a segment included (every column is a count or a sum): a set of its own
-- cost as much as a method's, 1/7 of the statement with six methods.
INSERT INTO segmentation.channel_profiles (
    run_id, method, segment, dimension, value, customers, share, index_vs_all, orders,
    revenue, revenue_share, gross_margin, margin_pct, extra
)
WITH grouped AS (
    SELECT
        {method} AS method,
        {segment} AS segment,
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
    FROM {members} AS m
    JOIN {channel_totals} AS c ON c.customer_id = m.customer_id
    GROUP BY GROUPING SETS ({sets})
),
whole AS (
    SELECT
        'all' AS method,
        'all' AS segment,
        dimension,
        value,
        sum(customers)::bigint AS customers,
        sum(orders) AS orders,
        sum(revenue) AS revenue,
        sum(sales) AS sales,
        sum(list_sales) AS list_sales,
        sum(discounts) AS discounts,
        sum(costed_sales) AS costed_sales,
        sum(gross_margin) AS gross_margin
    FROM grouped
    WHERE method = {first_method}
    GROUP BY dimension, value
),
cells AS (
    -- a customer without a segment in a method (none, when every method labelled everyone)
    SELECT * FROM grouped WHERE segment IS NOT NULL
    UNION ALL
    SELECT * FROM whole
),
segment_sizes AS (
    SELECT {method} AS method, {segment} AS segment, count(*) AS customers
    FROM {members} AS m
    GROUP BY GROUPING SETS ({size_sets})
),
population AS (
    SELECT c.dimension, c.value, c.customers::double precision / z.customers AS share
    FROM cells AS c
    JOIN segment_sizes AS z ON z.method = c.method AND z.segment = c.segment
    WHERE c.method = 'all'
)
SELECT
    {run_id},
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
