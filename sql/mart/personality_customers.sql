-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.personality_customers: customer-level customers with their clusters in the latest personality run.
CREATE OR REPLACE VIEW mart.personality_customers AS
WITH latest AS (
    SELECT run_id, (params ->> 'reference_year')::integer AS reference_year
    FROM segmentation.personality_runs
    ORDER BY run_id DESC
    LIMIT 1
),
amounts AS (
    SELECT
        c.customer_id,
        sum(v.value::numeric) FILTER (WHERE v.key LIKE 'spend\_%') AS spend_total,
        sum(v.value::numeric) FILTER (WHERE v.key LIKE 'purchases\_%') AS purchases_total,
        sum(v.value::numeric) FILTER (WHERE v.key LIKE 'campaign\_%') AS campaigns_accepted
    FROM warehouse.dim_customer AS c
    CROSS JOIN LATERAL jsonb_each_text(c.attributes) AS v (key, value)
    WHERE v.key ~ '^(spend|purchases|campaign)_'
    GROUP BY c.customer_id
)
SELECT
    l.run_id,
    k.customer_id,
    k.cluster_id AS kmeans_cluster_id,
    k.cluster_name AS kmeans_cluster,
    h.cluster_id AS hierarchical_cluster_id,
    h.cluster_name AS hierarchical_cluster,
    l.reference_year - c.birth_year AS age,
    c.attributes ->> 'education' AS education,
    c.family_status,
    c.income,
    c.n_dependants AS children,
    c.signup_date,
    a.spend_total,
    a.purchases_total,
    a.campaigns_accepted
FROM latest AS l
JOIN segmentation.personality_clusters AS k ON k.run_id = l.run_id AND k.method = 'kmeans'
LEFT JOIN segmentation.personality_clusters AS h
    ON h.run_id = l.run_id AND h.method = 'hierarchical' AND h.customer_id = k.customer_id
JOIN warehouse.dim_customer AS c ON c.customer_id = k.customer_id
LEFT JOIN amounts AS a ON a.customer_id = k.customer_id;

COMMENT ON VIEW mart.personality_customers IS
    'Customer-level customers (one row per customer, no order lines) with their k-means and '
    'Ward clusters of the latest `segwise personality` run and their main attributes.';
COMMENT ON COLUMN mart.personality_customers.run_id IS 'Personality run (segmentation.personality_runs).';
COMMENT ON COLUMN mart.personality_customers.customer_id IS 'Customer key.';
COMMENT ON COLUMN mart.personality_customers.kmeans_cluster_id IS
    'K-means cluster, 1 = highest mean total spend.';
COMMENT ON COLUMN mart.personality_customers.kmeans_cluster IS 'Readable k-means cluster name.';
COMMENT ON COLUMN mart.personality_customers.hierarchical_cluster_id IS 'Ward cluster.';
COMMENT ON COLUMN mart.personality_customers.hierarchical_cluster IS 'Readable Ward cluster name.';
COMMENT ON COLUMN mart.personality_customers.age IS
    'Reference year of the run - birth year (reference: the latest signup''s year unless set).';
COMMENT ON COLUMN mart.personality_customers.education IS 'Education as recorded.';
COMMENT ON COLUMN mart.personality_customers.family_status IS 'Family (marital) status as recorded.';
COMMENT ON COLUMN mart.personality_customers.income IS 'Yearly household income.';
COMMENT ON COLUMN mart.personality_customers.children IS 'Children at home (kids + teens).';
COMMENT ON COLUMN mart.personality_customers.signup_date IS 'Date the customer enrolled.';
COMMENT ON COLUMN mart.personality_customers.spend_total IS 'Pre-aggregated spend, all categories.';
COMMENT ON COLUMN mart.personality_customers.purchases_total IS 'Purchases over all channels.';
COMMENT ON COLUMN mart.personality_customers.campaigns_accepted IS
    'Campaigns accepted, including the last one (response).';
