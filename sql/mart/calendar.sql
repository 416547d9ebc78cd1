-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.calendar: one row per day over the years holding orders, with fiscal columns. Fixed SQL;
-- the fiscal year's first month is the one the KPIs were computed with (segmentation.kpi_state,
-- revision 0008_time).
DO $do$
BEGIN
    IF to_regclass('segmentation.kpi_state') IS NULL THEN
        RETURN;
    END IF;
    EXECUTE $view$
CREATE OR REPLACE VIEW mart.calendar AS
WITH settings AS (
    SELECT coalesce((SELECT fiscal_year_start_month FROM segmentation.kpi_state), 1) AS fy_start
),
bounds AS (
    SELECT date_trunc('year', min(order_date))::date AS lo,
           (date_trunc('year', max(order_date)) + interval '1 year - 1 day')::date AS hi
    FROM warehouse.fact_order
),
days AS (
    SELECT d::date AS date, (extract(month FROM d)::int - s.fy_start + 12) % 12 AS fiscal_offset
    FROM bounds AS b
    CROSS JOIN settings AS s
    CROSS JOIN generate_series(b.lo, b.hi, interval '1 day') AS d
)
SELECT
    date,
    extract(year FROM date)::int AS year,
    extract(quarter FROM date)::int AS quarter,
    extract(month FROM date)::int AS month,
    to_char(date, 'YYYY-MM') AS year_month,
    date_trunc('month', date)::date AS month_start,
    (date_trunc('month', date) + interval '1 month - 1 day')::date AS month_end,
    date_trunc('week', date)::date AS week_start,
    extract(isoyear FROM date)::int AS iso_year,
    extract(week FROM date)::int AS iso_week,
    extract(isodow FROM date)::int AS weekday,
    to_char(date, 'FMDay') AS weekday_name,
    extract(isodow FROM date) >= 6 AS is_weekend,
    (date_trunc('month', date) - make_interval(months => fiscal_offset))::date AS fiscal_year_start,
    extract(year FROM date_trunc('month', date)
        - make_interval(months => fiscal_offset) + interval '11 months')::int AS fiscal_year,
    'FY' || extract(year FROM date_trunc('month', date)
        - make_interval(months => fiscal_offset) + interval '11 months')::int AS fiscal_year_label,
    fiscal_offset / 3 + 1 AS fiscal_quarter,
    fiscal_offset + 1 AS fiscal_month
FROM days
    $view$;
    EXECUTE $c$COMMENT ON VIEW mart.calendar IS
    'Date dimension: one row per day of every year with orders. Join on date (order_date, '
    'as_of_date, month_start ...). The fiscal year starts in the month set by '
    'fiscal_year_start_month (of the latest run; 1 = calendar year).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.date IS 'The day.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.year IS 'Calendar year.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.quarter IS 'Calendar quarter 1-4.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.month IS 'Calendar month 1-12.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.year_month IS 'Month as text, YYYY-MM.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.month_start IS 'First day of the month (the month key).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.month_end IS 'Last day of the month.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.week_start IS 'Monday of the ISO week.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.iso_year IS 'ISO week-numbering year.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.iso_week IS 'ISO week 1-53.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.weekday IS 'ISO weekday, 1 = Monday .. 7 = Sunday.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.weekday_name IS 'Weekday name (English).'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.is_weekend IS 'Saturday or Sunday.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.fiscal_year_start IS 'First day of the fiscal year.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.fiscal_year IS 'Fiscal year, named after the year it ends in.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.fiscal_year_label IS 'Fiscal year as text, e.g. FY2011.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.fiscal_quarter IS 'Fiscal quarter 1-4.'$c$;
    EXECUTE $c$COMMENT ON COLUMN mart.calendar.fiscal_month IS 'Month of the fiscal year, 1-12.'$c$;
END
$do$;
