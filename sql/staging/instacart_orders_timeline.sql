-- template parts anchor_date, input, output: filled by etl.ingest.sqlgen.model
-- Instacart orders carry no dates, only order_number, order_dow, order_hour_of_day and
-- days_since_prior_order. Rebuild each user's timeline: the first order falls in the week that
-- starts on the anchor date, on its own weekday (order_dow 0 = Sunday); each later order comes
-- days_since_prior_order days after the previous one; the hour is order_hour_of_day.
-- Absolute dates are therefore synthetic (recency is relative to the anchor); weekdays, hours
-- and the gaps between a user's orders are the data's own.
-- Input: the typed orders; output: one row per good order (its _file/_line kept for tracing).
CREATE TEMP TABLE {output} ON COMMIT DROP AS
SELECT
    o.order_id,
    o.user_id,
    o.order_number,
    (
        {anchor_date}::date
        + ((7 + first_value(o.order_dow) OVER w - extract(dow FROM {anchor_date}::date)::int) % 7)
        + round(sum(coalesce(o.days_since_prior_order, 0)) OVER w)::int
    ) + make_interval(hours => o.order_hour_of_day) AS order_ts,
    o._file,
    o._line,
    NULL::integer AS _reject
FROM {input} AS o
WHERE o._reject IS NULL
WINDOW w AS (PARTITION BY o.user_id ORDER BY o.order_number ROWS UNBOUNDED PRECEDING)
