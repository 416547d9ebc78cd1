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
INSERT INTO segmentation.demographic_profiles (
    run_id, method, segment, dimension, value, customers, share, index_vs_all, orders,
    revenue, revenue_share, gross_margin, margin_pct, extra
)
WITH features AS (
    SELECT
        f.customer_id,
        f.frequency,
        f.monetary,
        f.gross_revenue,
        f.gross_margin,
        f.gross_margin + f.cost_amount AS costed_sales
    FROM segmentation.customer_features AS f
    WHERE f.run_id = %(run_id)s
),
members AS (
    SELECT s.method, s.segment, s.customer_id
    FROM segmentation.customer_segments AS s
    WHERE s.run_id = %(run_id)s
    UNION ALL
    SELECT 'all', 'all', customer_id
    FROM features
),
segment_totals AS (
    SELECT m.method, m.segment, count(*) AS customers, sum(x.monetary) AS revenue
    FROM members AS m
    JOIN features AS x ON x.customer_id = m.customer_id
    GROUP BY m.method, m.segment
),
cells AS (
    SELECT
        m.method,
        m.segment,
        b.dimension,
        -- no label or no value (customer without demographic data): band 'unknown'
        coalesce(nullif(b.value, ''), 'unknown') AS value,
        count(*) AS customers,
        sum(x.frequency) AS orders,
        sum(x.monetary) AS revenue,
        sum(x.gross_revenue) AS gross_sales,
        sum(x.gross_margin) AS gross_margin,
        sum(x.costed_sales) AS costed_sales
    FROM members AS m
    JOIN features AS x ON x.customer_id = m.customer_id
    LEFT JOIN segmentation.customer_segments AS d
        ON d.run_id = %(run_id)s AND d.method = 'demographic' AND d.customer_id = m.customer_id
    CROSS JOIN LATERAL (
        VALUES
            ('age_band', d.scores ->> 'age_band'),
            ('income_band', d.scores ->> 'income_band'),
            ('gender', d.scores ->> 'gender'),
            ('family_status', d.scores ->> 'family_status'),
            ('dependants', d.scores ->> 'dependants'),
            ('region', d.scores ->> 'region')
    ) AS b (dimension, value)
    GROUP BY m.method, m.segment, b.dimension, coalesce(nullif(b.value, ''), 'unknown')
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
