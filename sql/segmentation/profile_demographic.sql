-- parameters run_id: bound by psycopg in etl.segment.profile_sql.replace_profiles
-- Demographic profiles of a run: every method's segments crossed with the demographic bands
-- (age_band, income_band, gender, family_status, dependants, region) that the `demographic`
-- method stored per customer in customer_segments.scores ('unknown' where data are missing).
-- Method 'all' / segment 'all' is the whole population: the baseline of index_vs_all.
-- Customer-level only (customer_features), no order lines. Params: run_id.
--   share        = customers of the segment in the band / customers of the segment
--   index_vs_all = 100 * share / (customers in the band / all customers); 100 = same as everyone
--   revenue      = net revenue (customer_features.monetary), revenue_share within the segment
--   gross_margin = sales minus cost over lines with cost data; margin_pct over those sales
-- Customers are first added up per combination of (segment in every method, band in every
-- dimension), then those combinations per method and band; this saves work only when many
-- customers share a combination (see profile_channel.sql).
INSERT INTO segmentation.demographic_profiles (
    run_id, method, segment, dimension, value, customers, share, index_vs_all, orders,
    revenue, revenue_share, gross_margin, margin_pct, extra
)
WITH customers AS (
    -- one row per customer of the run: method -> segment of every method that labelled it,
    -- its bands ('unknown' where missing) and its measures
    SELECT
        f.customer_id,
        coalesce(
            jsonb_object_agg(s.method, s.segment) FILTER (WHERE s.method IS NOT NULL), '{}'
        ) AS segments,
        min(f.frequency) AS frequency,
        min(f.monetary) AS monetary,
        min(f.gross_revenue) AS gross_revenue,
        min(f.gross_margin) AS gross_margin,
        min(f.gross_margin + f.cost_amount) AS costed_sales,
        min(coalesce(nullif(s.scores ->> 'age_band', ''), 'unknown'))
            FILTER (WHERE s.method = 'demographic') AS age_band,
        min(coalesce(nullif(s.scores ->> 'income_band', ''), 'unknown'))
            FILTER (WHERE s.method = 'demographic') AS income_band,
        min(coalesce(nullif(s.scores ->> 'gender', ''), 'unknown'))
            FILTER (WHERE s.method = 'demographic') AS gender,
        min(coalesce(nullif(s.scores ->> 'family_status', ''), 'unknown'))
            FILTER (WHERE s.method = 'demographic') AS family_status,
        min(coalesce(nullif(s.scores ->> 'dependants', ''), 'unknown'))
            FILTER (WHERE s.method = 'demographic') AS dependants,
        min(coalesce(nullif(s.scores ->> 'region', ''), 'unknown'))
            FILTER (WHERE s.method = 'demographic') AS region
    FROM segmentation.customer_features AS f
    LEFT JOIN segmentation.customer_segments AS s
        ON s.run_id = f.run_id AND s.customer_id = f.customer_id
    WHERE f.run_id = %(run_id)s
    GROUP BY f.customer_id
),
combos AS (
    SELECT
        segments,
        coalesce(age_band, 'unknown') AS age_band,
        coalesce(income_band, 'unknown') AS income_band,
        coalesce(gender, 'unknown') AS gender,
        coalesce(family_status, 'unknown') AS family_status,
        coalesce(dependants, 'unknown') AS dependants,
        coalesce(region, 'unknown') AS region,
        count(*) AS customers,
        sum(frequency) AS orders,
        sum(monetary) AS revenue,
        sum(gross_revenue) AS gross_sales,
        sum(gross_margin) AS gross_margin,
        sum(costed_sales) AS costed_sales
    FROM customers
    GROUP BY 1, 2, 3, 4, 5, 6, 7
),
labelled AS (
    SELECT x.key AS method, x.value AS segment, c.*
    FROM combos AS c
    CROSS JOIN LATERAL jsonb_each_text(c.segments) AS x
    UNION ALL
    SELECT 'all', 'all', c.*
    FROM combos AS c
),
segment_totals AS (
    SELECT method, segment, sum(customers) AS customers, sum(revenue) AS revenue
    FROM labelled
    GROUP BY method, segment
),
cells AS (
    SELECT
        l.method,
        l.segment,
        b.dimension,
        b.value,
        sum(l.customers) AS customers,
        sum(l.orders) AS orders,
        sum(l.revenue) AS revenue,
        sum(l.gross_sales) AS gross_sales,
        sum(l.gross_margin) AS gross_margin,
        sum(l.costed_sales) AS costed_sales
    FROM labelled AS l
    CROSS JOIN LATERAL (
        VALUES
            ('age_band', l.age_band),
            ('income_band', l.income_band),
            ('gender', l.gender),
            ('family_status', l.family_status),
            ('dependants', l.dependants),
            ('region', l.region)
    ) AS b (dimension, value)
    GROUP BY l.method, l.segment, b.dimension, b.value
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
    %(run_id)s,
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
