-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.personality_clusters: one row per method and cluster of the latest personality run, with the run's k and quality.
CREATE OR REPLACE VIEW mart.personality_clusters AS
WITH latest AS (
    SELECT run_id, created_at, customers, metrics, (params ->> 'reference_year')::integer AS ry
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
    l.created_at,
    p.method,
    p.cluster_id,
    p.cluster_name,
    count(*) AS customers,
    count(*)::double precision / l.customers AS customer_share,
    avg(l.ry - c.birth_year)::double precision AS avg_age,
    avg(c.income)::double precision AS avg_income,
    avg(c.n_dependants)::double precision AS avg_children,
    avg(a.spend_total)::double precision AS avg_spend,
    avg(a.purchases_total)::double precision AS avg_purchases,
    avg(a.campaigns_accepted)::double precision AS avg_campaigns_accepted,
    (l.metrics ->> 'k')::integer AS k,
    (l.metrics -> p.method ->> 'silhouette')::double precision AS silhouette,
    (l.metrics -> p.method ->> 'stability_ari')::double precision AS stability_ari
FROM latest AS l
JOIN segmentation.personality_clusters AS p ON p.run_id = l.run_id
JOIN warehouse.dim_customer AS c ON c.customer_id = p.customer_id
LEFT JOIN amounts AS a ON a.customer_id = p.customer_id
GROUP BY l.run_id, l.created_at, l.customers, l.metrics, p.method, p.cluster_id, p.cluster_name;

COMMENT ON VIEW mart.personality_clusters IS
    'One row per method (kmeans, hierarchical) and cluster of the latest `segwise personality` '
    'run: size and mean age, income, children, spend, purchases and campaigns accepted.';
COMMENT ON COLUMN mart.personality_clusters.run_id IS 'Personality run.';
COMMENT ON COLUMN mart.personality_clusters.created_at IS 'When the run was made.';
COMMENT ON COLUMN mart.personality_clusters.method IS 'kmeans or hierarchical (Ward).';
COMMENT ON COLUMN mart.personality_clusters.cluster_id IS 'Cluster, 1 = highest mean spend.';
COMMENT ON COLUMN mart.personality_clusters.cluster_name IS 'Readable cluster name.';
COMMENT ON COLUMN mart.personality_clusters.customers IS 'Customers in the cluster.';
COMMENT ON COLUMN mart.personality_clusters.customer_share IS 'customers / all clustered.';
COMMENT ON COLUMN mart.personality_clusters.avg_age IS 'Mean age.';
COMMENT ON COLUMN mart.personality_clusters.avg_income IS 'Mean income (where recorded).';
COMMENT ON COLUMN mart.personality_clusters.avg_children IS 'Mean children at home.';
COMMENT ON COLUMN mart.personality_clusters.avg_spend IS 'Mean total spend.';
COMMENT ON COLUMN mart.personality_clusters.avg_purchases IS 'Mean purchases over all channels.';
COMMENT ON COLUMN mart.personality_clusters.avg_campaigns_accepted IS 'Mean campaigns accepted.';
COMMENT ON COLUMN mart.personality_clusters.k IS 'Number of clusters of the run.';
COMMENT ON COLUMN mart.personality_clusters.silhouette IS 'Silhouette of the method''s clustering.';
COMMENT ON COLUMN mart.personality_clusters.stability_ari IS
    'Adjusted Rand index between a 70% refit and the full fit.';
