-- parameters as_of, at_risk_days, dates, lapsed_days, new_days: bound by psycopg in etl.segment.lifecycle.label
-- Lifecycle stage of every customer at each of several dates (the one place the rules live):
-- the run's date for the method's labels, and each month end for the monthly counts.
-- Params: dates (date[]), as_of (date, the latest of them), new_days, at_risk_days, lapsed_days.
-- Fills pg_temp.segwise_lifecycle (as_of_date, customer_id, stage, days_since_last,
-- days_since_first, gap_before_last); run by etl.segment.lifecycle.label.
CREATE TEMP TABLE segwise_lifecycle ON COMMIT DROP AS
WITH sale_days AS (
    -- days with a sale: a customer's history as far as the stages need it
    SELECT DISTINCT customer_id, order_date
    FROM warehouse.fact_order
    WHERE customer_id IS NOT NULL AND n_sale_lines > 0 AND order_date <= %(as_of)s::date
),
spans AS (
    -- each sale day holds until the next one: the customer's last sale on any date in between
    SELECT
        customer_id,
        order_date,
        lag(order_date) OVER w AS previous_date,
        lead(order_date) OVER w AS next_date,
        min(order_date) OVER (PARTITION BY customer_id) AS first_date
    FROM sale_days
    WINDOW w AS (PARTITION BY customer_id ORDER BY order_date)
),
dates AS (
    SELECT DISTINCT unnest(%(dates)s::date[]) AS as_of_date
),
placed AS (
    SELECT
        d.as_of_date,
        s.customer_id,
        d.as_of_date - s.order_date AS days_since_last,
        d.as_of_date - s.first_date AS days_since_first,
        s.order_date - s.previous_date AS gap_before_last
    FROM dates AS d
    JOIN spans AS s
        ON s.order_date <= d.as_of_date
       AND (s.next_date IS NULL OR s.next_date > d.as_of_date)
)
SELECT
    as_of_date,
    customer_id,
    CASE
        WHEN days_since_last >= %(lapsed_days)s THEN 'lapsed'
        WHEN days_since_last >= %(at_risk_days)s THEN 'at risk'
        WHEN days_since_first < %(new_days)s THEN 'new'
        WHEN gap_before_last >= %(lapsed_days)s THEN 'reactivated'
        ELSE 'active'
    END AS stage,
    days_since_last,
    days_since_first,
    gap_before_last
FROM placed;
