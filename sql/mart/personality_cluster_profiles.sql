-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.personality_cluster_profiles: per cluster of the latest personality run, its demographic mix, spend mix per category, channel mix and campaign response rates.
CREATE OR REPLACE VIEW mart.personality_cluster_profiles AS
WITH latest AS (
    SELECT run_id, (params ->> 'reference_year')::integer AS reference_year
    FROM segmentation.personality_runs
    ORDER BY run_id DESC
    LIMIT 1
),
members AS (
    SELECT p.method, p.cluster_id, p.cluster_name, c.customer_id, c.attributes,
           l.reference_year - c.birth_year AS age, c.income, c.family_status, c.n_dependants,
           count(*) OVER (PARTITION BY p.method, p.cluster_id) AS cluster_customers,
           count(*) OVER (PARTITION BY p.method) AS all_customers
    FROM latest AS l
    JOIN segmentation.personality_clusters AS p ON p.run_id = l.run_id
    JOIN warehouse.dim_customer AS c ON c.customer_id = p.customer_id
),
facts AS (
    -- one row per customer and (dimension, value): a band (customers) or an amount
    SELECT m.method, m.cluster_id, m.cluster_name, m.cluster_customers, m.all_customers,
           f.dimension, f.value, f.amount
    FROM members AS m
    CROSS JOIN LATERAL (
        VALUES
            ('age_band', CASE
                WHEN m.age IS NULL OR m.age < 0 OR m.age > 120 THEN 'unknown'
                WHEN m.age < 18 THEN 'under 18' WHEN m.age < 25 THEN '18-24'
                WHEN m.age < 35 THEN '25-34' WHEN m.age < 45 THEN '35-44'
                WHEN m.age < 55 THEN '45-54' WHEN m.age < 65 THEN '55-64'
                ELSE '65+' END, NULL::numeric),
            ('income_band', CASE
                WHEN m.income IS NULL OR m.income < 0 THEN 'unknown'
                WHEN m.income < 25000 THEN 'under 25k' WHEN m.income < 50000 THEN '25k-50k'
                WHEN m.income < 75000 THEN '50k-75k' WHEN m.income < 100000 THEN '75k-100k'
                WHEN m.income < 150000 THEN '100k-150k' ELSE '150k+' END, NULL),
            ('education', coalesce(m.attributes ->> 'education', 'unknown'), NULL),
            ('family_status', coalesce(m.family_status, 'unknown'), NULL),
            ('children', CASE WHEN m.n_dependants IS NULL THEN 'unknown'
                              WHEN m.n_dependants >= 3 THEN '3+'
                              ELSE m.n_dependants::text END, NULL)
    ) AS f (dimension, value, amount)
    UNION ALL
    SELECT m.method, m.cluster_id, m.cluster_name, m.cluster_customers, m.all_customers,
           CASE split_part(v.key, '_', 1) WHEN 'spend' THEN 'spend'
                WHEN 'purchases' THEN 'channel' ELSE 'campaign' END,
           substr(v.key, strpos(v.key, '_') + 1),
           v.value::numeric
    FROM members AS m
    CROSS JOIN LATERAL jsonb_each_text(m.attributes) AS v (key, value)
    WHERE v.key ~ '^(spend|purchases|campaign)_' AND v.value IS NOT NULL
),
cells AS (
    SELECT method, cluster_id, cluster_name, cluster_customers, all_customers, dimension, value,
           count(*) FILTER (WHERE amount IS NULL OR amount > 0) AS customers,
           sum(amount) AS amount
    FROM facts
    GROUP BY method, cluster_id, cluster_name, cluster_customers, all_customers, dimension, value
),
overall AS (
    SELECT method, dimension, value, sum(customers) AS customers, sum(amount) AS amount,
           max(all_customers) AS all_customers
    FROM cells
    GROUP BY method, dimension, value
)
SELECT
    l.run_id,
    c.method,
    c.cluster_id,
    c.cluster_name,
    c.cluster_customers,
    (c.cluster_customers::double precision / c.all_customers) AS cluster_share,
    c.dimension,
    c.value,
    c.customers,
    (c.customers::double precision / c.cluster_customers) AS share,
    c.amount,
    (c.amount / nullif(sum(c.amount) OVER (
        PARTITION BY c.method, c.cluster_id, c.dimension), 0))::double precision AS amount_share,
    (c.amount / c.cluster_customers)::double precision AS amount_per_customer,
    (100 * (c.customers::double precision / c.cluster_customers)
        / nullif(o.customers::double precision / o.all_customers, 0)) AS index_vs_all
FROM cells AS c
JOIN overall AS o ON o.method = c.method AND o.dimension = c.dimension AND o.value = c.value
CROSS JOIN latest AS l;

COMMENT ON VIEW mart.personality_cluster_profiles IS
    'Per method (kmeans, hierarchical) and cluster of the latest `segwise personality` run: the '
    'demographic mix (age_band, income_band, education, family_status, children: share of the '
    'cluster''s customers), spend mix (dimension spend: amount and share per category), channel '
    'mix (dimension channel: purchases per channel) and campaign response rates (dimension '
    'campaign: share = customers who accepted / cluster customers).';
COMMENT ON COLUMN mart.personality_cluster_profiles.run_id IS 'Personality run.';
COMMENT ON COLUMN mart.personality_cluster_profiles.method IS 'kmeans or hierarchical (Ward).';
COMMENT ON COLUMN mart.personality_cluster_profiles.cluster_id IS 'Cluster, 1 = highest mean spend.';
COMMENT ON COLUMN mart.personality_cluster_profiles.cluster_name IS 'Readable cluster name.';
COMMENT ON COLUMN mart.personality_cluster_profiles.cluster_customers IS 'Customers in the cluster.';
COMMENT ON COLUMN mart.personality_cluster_profiles.cluster_share IS
    'cluster_customers / all clustered customers.';
COMMENT ON COLUMN mart.personality_cluster_profiles.dimension IS
    'age_band, income_band, education, family_status, children, spend, channel or campaign.';
COMMENT ON COLUMN mart.personality_cluster_profiles.value IS
    'Band, category (spend), channel or campaign name.';
COMMENT ON COLUMN mart.personality_cluster_profiles.customers IS
    'Customers of the cluster in the band; for spend/channel/campaign: with an amount > 0.';
COMMENT ON COLUMN mart.personality_cluster_profiles.share IS
    'customers / cluster_customers (for campaign: the response rate).';
COMMENT ON COLUMN mart.personality_cluster_profiles.amount IS
    'Total spend (spend), purchases (channel) or acceptances (campaign); NULL for bands.';
COMMENT ON COLUMN mart.personality_cluster_profiles.amount_share IS
    'amount / the cluster''s amount over the dimension (spend mix, channel mix).';
COMMENT ON COLUMN mart.personality_cluster_profiles.amount_per_customer IS
    'amount / cluster_customers.';
COMMENT ON COLUMN mart.personality_cluster_profiles.index_vs_all IS
    '100 * share / the same share over all clustered customers.';
