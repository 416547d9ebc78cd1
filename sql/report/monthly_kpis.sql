-- parameters as_of: bound by psycopg in etl.report.data.monthly_kpis
-- Monthly net revenue, active and new customers up to the run's date (read only when the
-- mart.monthly_kpis view exists).
SELECT period_start, period_label, is_complete, net_revenue::double precision AS net_revenue,
       active_customers, new_customers
FROM mart.monthly_kpis
WHERE grain = 'month' AND dimension = 'all' AND period_start <= %(as_of)s
ORDER BY period_start
