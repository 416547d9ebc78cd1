-- template parts cell_keys, members, method, run_id, segment, sets, size_sets: filled by etl.segment.profiles_demographic.build
-- Demographic profiles of a run: every method's segments crossed with the demographic bands
-- (age_band, income_band, gender, family_status, dependants, region) that the `demographic`
-- method stored per customer in customer_segments.scores ('unknown' where data are missing).
-- Method 'all' / segment 'all' is the whole population: the baseline of index_vs_all.
-- Customer-level only (customer_features), no order lines.
--   share        = customers of the segment in the band / customers of the segment
--   index_vs_all = 100 * share / (customers in the band / all customers); 100 = same as everyone
--   revenue      = net revenue (customer_features.monetary), revenue_share within the segment
--   gross_margin = sales minus cost over lines with cost data; margin_pct over those sales
-- Reads <members> (profile_members.sql: one row per customer of the run with a segment column
-- per method and its bands) once: each row's six bands are added up per combination of segments
-- and band (<cell_keys>), and GROUPING SETS (<sets>, one set per method plus the whole
-- population; <method> and <segment> name the set a group belongs to) add the combinations into
-- every method's groups.
INSERT INTO segmentation.demographic_profiles (
    run_id, method, segment, dimension, value, customers, share, index_vs_all, orders,
    revenue, revenue_share, gross_margin, margin_pct, extra
)
WITH combos AS (
    -- one row per combination of the run's segments and band: the customers who share every
    -- method's segment and the band add up here once, so the grouping sets below add far fewer
    -- rows (the sums are exact, so adding them again gives the same totals)
    SELECT
        {cell_keys},
        count(*) AS customers,
        sum(m.frequency) AS orders,
        sum(m.monetary) AS revenue,
        sum(m.gross_revenue) AS gross_sales,
        sum(m.gross_margin) AS gross_margin,
        sum(m.costed_sales) AS costed_sales
    FROM {members} AS m
    CROSS JOIN LATERAL (
        VALUES
            ('age_band', m.age_band),
            ('income_band', m.income_band),
            ('gender', m.gender),
            ('family_status', m.family_status),
            ('dependants', m.dependants),
            ('region', m.region)
    ) AS b (dimension, value)
    GROUP BY {cell_keys}
),
grouped AS (
    SELECT
        {method} AS method,
        {segment} AS segment,
        m.dimension,
        m.value,
        sum(m.customers)::bigint AS customers,
        sum(m.orders)::bigint AS orders,
        sum(m.revenue) AS revenue,
        sum(m.gross_sales) AS gross_sales,
        sum(m.gross_margin) AS gross_margin,
        sum(m.costed_sales) AS costed_sales
    FROM combos AS m
    GROUP BY GROUPING SETS ({sets})
),
cells AS (
    SELECT * FROM grouped WHERE segment IS NOT NULL
),
segment_totals AS (
    SELECT {method} AS method, {segment} AS segment, count(*) AS customers,
           sum(m.monetary) AS revenue
    FROM {members} AS m
    GROUP BY GROUPING SETS ({size_sets})
),
population AS (
    SELECT
        c.dimension,
        c.value,
        c.customers::double precision / t.customers AS share
    FROM cells AS c
    JOIN segment_totals AS t ON t.method = c.method AND t.segment = c.segment
    WHERE c.method = 'all'
)
SELECT
    {run_id},
    c.method,
    c.segment,
    c.dimension,
    c.value,
    c.customers,
    c.customers::double precision / t.customers,
    100 * (c.customers::double precision / t.customers) / p.share,
    c.orders,
    c.revenue,
    (c.revenue / nullif(t.revenue, 0))::double precision,
    c.gross_margin,
    (c.gross_margin / nullif(c.costed_sales, 0))::double precision,
    jsonb_build_object(
        'population_share', p.share,
        'gross_sales', c.gross_sales,
        'costed_sales', c.costed_sales
    )
FROM cells AS c
JOIN segment_totals AS t ON t.method = c.method AND t.segment = c.segment
JOIN population AS p ON p.dimension = c.dimension AND p.value = c.value;
