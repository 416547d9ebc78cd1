-- Freshness warning: the newest order on or before the run's as-of date, against the allowed age.
-- Params: as_of, stale_days. One row: (subject, observed, expected, warn).
WITH newest AS (
    SELECT max(order_date) AS order_date
    FROM warehouse.fact_order
    WHERE order_date <= %(as_of)s::date
)
SELECT
    'newest order' AS subject,
    coalesce(order_date::text, 'none') AS observed,
    format('at most %%s days before %%s', %(stale_days)s, %(as_of)s::date) AS expected,
    order_date IS NULL OR %(as_of)s::date - order_date > %(stale_days)s AS warn
FROM newest;
