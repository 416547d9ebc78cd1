-- parameters as_of, at_risk_days, dates, lapsed_days, new_days: bound by psycopg in etl.segment.lifecycle.label
-- Lifecycle stage of every customer at each of several dates (the one place the rules live):
-- the run's date for the method's labels, and each month end for the monthly counts.
-- Params: dates (date[]), as_of (date, the latest of them), new_days, at_risk_days, lapsed_days.
-- Fills pg_temp.segwise_lifecycle (as_of_date, customer_id, stage, days_since_last,
-- days_since_first, gap_before_last); run by etl.segment.lifecycle.label.
CREATE TEMP TABLE segwise_lifecycle ON COMMIT DROP AS
WITH sale_days AS (
    -- days with a sale: a customer's history as far as the stages need it (grouped in the
    -- window's order: the caller turns hash aggregation off, see etl.segment.lifecycle.label)
    SELECT customer_id, order_date
    FROM warehouse.fact_order
    WHERE customer_id IS NOT NULL AND n_sale_lines > 0 AND order_date <= %(as_of)s::date
    GROUP BY customer_id, order_date
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
    SELECT DISTINCT d AS as_of_date, date_trunc('month', d) AS month_start
    FROM unnest(%(dates)s::date[]) AS d
),
placed AS (
    -- the dates each span holds on: those in [order_date, next_date). Found through the months
    -- the span covers (one generated row per month, then an equality join), not by comparing
    -- every span with every date: 3.6M spans x 24 month ends was 87M comparisons at 10M lines.
    SELECT
        d.as_of_date,
        s.customer_id,
        d.as_of_date - s.order_date AS days_since_last,
        d.as_of_date - s.first_date AS days_since_first,
        s.order_date - s.previous_date AS gap_before_last
    FROM spans AS s
    CROSS JOIN LATERAL generate_series(
        date_trunc('month', s.order_date),
        date_trunc('month', coalesce(s.next_date - 1, %(as_of)s::date)),
        interval '1 month'
    ) AS m (month_start)
    JOIN dates AS d ON d.month_start = m.month_start
    WHERE d.as_of_date >= s.order_date
      AND (s.next_date IS NULL OR d.as_of_date < s.next_date)
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
