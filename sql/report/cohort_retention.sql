-- parameters none: bound by psycopg in etl.report.data.cohorts
-- Acquisition-month cohorts x months since the first sale (read only when the view exists).
SELECT cohort_month, months_since_first, cohort_size, retention_rate
FROM mart.cohort_retention
ORDER BY cohort_month, months_since_first
